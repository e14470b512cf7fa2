/** Cropping1D: removes steps from the start and end of the time axis. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface Cropping1DArgs extends BaseLayerArgs {
  /** Steps to remove: one number for both ends, or [start, end] (default [1, 1]). */
  cropping?: number | [number, number];
}

/** An option that takes a non-negative integer or a pair of them, and stores the pair. */
export function intPairOption(dflt: number | [number, number]) {
  const check = (v: unknown, w: string, n: string): [number, number] => {
    const p = typeof v === 'number' ? [v, v] : v;
    if (!Array.isArray(p) || p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < 0)) {
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a non-negative integer or a pair of them; received ${describe(v)}.`);
    }
    return [p[0], p[1]];
  };
  return opt.custom<[number, number]>(check, { default: check(dflt, '', '') });
}

export class Cropping1D extends Layer<CallArgs> {
  static override readonly className = 'Cropping1D';
  static override readonly options = {
    cropping: intPairOption([1, 1]),
  } satisfies OptionsOf<Omit<Cropping1DArgs, keyof BaseLayerArgs>>;
  declare readonly args: { cropping: [number, number] };

  get cropping(): [number, number] {
    return this.args.cropping;
  }

  override build(inputShape: Shape): void {
    if (inputShape.length !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `Cropping1D '${this.name}' expects a 3-D input; received ${formatShape(inputShape)}.`);
  }

  private outLength(t: number | null, shape: Shape): number | null {
    const [a, b] = this.args.cropping;
    if (t !== null && a + b >= t) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Cropping1D '${this.name}': cropping [${a}, ${b}] must leave at least one step of an input of length ${t} (shape ${formatShape(shape)}).`);
    }
    return t === null ? null : t - a - b;
  }

  call(x: tf.Tensor): tf.Tensor {
    const t = this.outLength(x.shape[1]!, x.shape)!;
    return tf.slice(x, [0, this.args.cropping[0], 0], [-1, t, -1]);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `Cropping1D '${this.name}'`);
    return { shape: [x.shape[0] ?? null, this.outLength(x.shape[1] ?? null, x.shape), x.shape[2] ?? null], dtype: x.dtype, mask: null };
  }
}
