/** Pieces shared by the normalization layers: axis options and checks, the one mask of a call. */
import type { tf } from '../../runtime/tfjs.js';
import { opt } from '../../engine/options.js';
import type { MaskArg, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

/** The mask of a one-input call (a list holds one mask), or null. */
export function oneMask(mask: MaskArg | undefined): tf.Tensor | null {
  if (mask === undefined || mask === null) return null;
  return Array.isArray(mask) ? (mask.find((m) => m !== null && m !== undefined) ?? null) : mask;
}

/** An integer axis option. */
export const intAxis = (dflt: number) =>
  opt.custom<number>(
    (v, w, n) => {
      if (Number.isInteger(v)) return v as number;
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer; received ${describe(v)}.`);
    },
    { default: dflt },
  );

/**
 * `axis` resolved against an input of `rank` dims: in [1, rank) (the batch
 * axis cannot be normalized over by channel), with a known size when
 * `needSize`; raises INPUT_SHAPE_MISMATCH naming `where` otherwise.
 */
export function channelAxis(axis: number, shape: Shape, where: string, needSize = true): number {
  const rank = shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 1 || a >= rank || (needSize && typeof shape[a] !== 'number')) {
    throw new MasqueError(
      'INPUT_SHAPE_MISMATCH',
      `${where}: axis ${axis} must name a ${needSize ? 'known, ' : ''}non-batch dimension of the input; received input shape ${formatShape(shape)}.`,
    );
  }
  return a;
}

/**
 * Several axes resolved against `shape` (each in [-rank, rank) as Keras
 * takes them, no repeats; with `needSize`, of known size), or
 * INPUT_SHAPE_MISMATCH naming `where`.
 */
export function resolveAxes(axes: number[], shape: Shape, where: string, needSize: boolean): number[] {
  const rank = shape.length;
  const out = axes.map((a) => (a < 0 ? a + rank : a));
  if (out.some((a) => a < 0 || a >= rank || (needSize && typeof shape[a] !== 'number')) || new Set(out).size !== out.length) {
    throw new MasqueError(
      'INPUT_SHAPE_MISMATCH',
      `${where}: axis ${JSON.stringify(axes.length === 1 ? axes[0] : axes)} must name ${needSize ? 'known ' : ''}dimensions of the input, each once; received input shape ${formatShape(shape)}.`,
    );
  }
  return out;
}

/** Raises INPUT_SHAPE_MISMATCH when the built sizes of `axes` differ from `shape`'s. */
export function checkBuiltSizes(axes: number[], sizes: number[], shape: Shape, where: string): void {
  if (axes.some((a, i) => a >= shape.length || (shape[a] !== null && shape[a] !== sizes[i]))) {
    throw new MasqueError(
      'INPUT_SHAPE_MISMATCH',
      `${where}: the normalized axes ${JSON.stringify(axes)} must have sizes ${formatShape(sizes)} (as when the layer was built); received input shape ${formatShape(shape)}.`,
    );
  }
}
