/**
 * Dot: the batchwise dot product of two inputs along `axes`, optionally of
 * L2-normalised inputs (cosine proximity). As in Keras it takes masked
 * inputs and its output has no mask. Contracting the feature axis (e.g.
 * `axes: 2`, attention-like scores [batch, Tq, Tv]) gives Keras's numbers.
 *
 * Departure (docs/keras.md): when a contracted axis is the time axis of a
 * masked input (`axes: 1`), Keras sums (and normalises) over the padded
 * steps too, so the answer depends on the padding; Masque contracts over
 * the valid steps only: a step masked in either input counts as 0 in both,
 * before normalising.
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, MaskArg, MaskSpec, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { Merge, type MergeArgs } from './base_merge.js';
import { checkBatchSizes } from '../../engine/specs.js';
import { dotValidSteps } from '../../ops/merge_ops.js';
import { matMul } from '../../ops/matmul.js';

export interface DotArgs extends MergeArgs {
  /** One axis for both inputs, or [axis of input 0, axis of input 1]. */
  axes: number | [number, number];
  normalize?: boolean;
}

type Own = Omit<DotArgs, keyof BaseLayerArgs>;

export class Dot extends Merge {
  static override readonly className = 'Dot';
  static override readonly options = {
    axes: opt.custom<number | [number, number]>((v, w, n) => {
      if (Number.isInteger(v)) return v as number;
      if (Array.isArray(v) && v.length === 2 && v.every((a) => Number.isInteger(a))) return [v[0], v[1]] as [number, number];
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer or a pair of integers; received ${describe(v)}.`);
    }),
    normalize: opt.bool(false),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  protected override readonly arity = 2;
  protected override readonly alignRanks = false;

  constructor(args: DotArgs) {
    super(args);
    this.supportsMasking = true;
  }

  private axesFor(r0: number, r1: number): [number, number] {
    const ax = this.args.axes;
    const [a, b] = typeof ax === 'number' ? [ax, ax] : ax;
    const res: [number, number] = [a < 0 ? a + r0 : a, b < 0 ? b + r1 : b];
    if (res[0] < 1 || res[0] >= r0 || res[1] < 1 || res[1] >= r1) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.where}: axes ${describe(ax)} are out of range for inputs of ranks ${r0} and ${r1} (the batch axis cannot be reduced).`);
    }
    return res;
  }

  protected override checkShapes(shapes: Shape[]): void {
    checkBatchSizes(shapes, this.where);
    const [s0, s1] = shapes as [Shape, Shape];
    if (s0.length < 2 || s1.length < 2) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where} needs inputs of rank >= 2; received ${formatShape(s0)}, ${formatShape(s1)}.`);
    const [a0, a1] = this.axesFor(s0.length, s1.length);
    if (s0[a0] !== null && s1[a1] !== null && s0[a0] !== s1[a1]) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: axis ${a0} of input 0 (${s0[a0]}) and axis ${a1} of input 1 (${s1[a1]}) must have the same size; received ${formatShape(s0)}, ${formatShape(s1)}.`);
    }
  }

  protected merge(xs: tf.Tensor[], masks: (tf.Tensor | null)[]): tf.Tensor {
    let [x, y] = xs as [tf.Tensor, tf.Tensor];
    const r0 = x.rank;
    const r1 = y.rank;
    let [a0, a1] = this.axesFor(r0, r1);
    [x, y] = dotValidSteps([x, y], [a0, a1], masks);
    if (this.args.normalize) {
      x = l2Normalize(x, a0);
      y = l2Normalize(y, a1);
    }
    if (r0 === 2) {
      x = tf.expandDims(x, 1);
      a0 += 1;
    }
    if (r1 === 2) y = tf.expandDims(y, 2);
    // Reduced axis of x last, of y at 1; then [B, m, d] x [B, d, n].
    const px = [...Array(x.rank).keys()].filter((i) => i !== a0);
    x = tf.transpose(x, [...px, a0]);
    const py = [...Array(y.rank).keys()].filter((i) => i !== 0 && i !== a1);
    y = tf.transpose(y, [0, a1, ...py]);
    const mid = x.shape.slice(1, -1);
    const trail = y.shape.slice(2);
    const b = x.shape[0]!;
    const d = x.shape[x.rank - 1]!;
    let out = tf.reshape(matMul(tf.reshape(x, [b, prod(mid), d]), tf.reshape(y, [b, d, prod(trail)])), [b, ...mid, ...trail]);
    if (r0 === 2) out = tf.squeeze(out, [1]);
    else if (r1 === 2) out = tf.squeeze(out, [out.rank - 1]);
    return out.rank === 1 ? tf.expandDims(out, 1) : out;
  }

  override computeMask(_inputs?: tf.Tensor | tf.Tensor[], _mask?: MaskArg): null {
    return null;
  }

  /** Dot's output has no mask, so its inputs' masks need not combine. */
  protected override checkMaskShapes(): void {}

  /** [batch, ...input 0 without its axis, ...input 1 without batch and its axis], at least [batch, 1] (Keras's shape). */
  protected override outputShape(shapes: Shape[]): Shape {
    const [s0, s1] = shapes as [Shape, Shape];
    const [a0, a1] = this.axesFor(s0.length, s1.length);
    const out = [...s0.filter((_, i) => i !== a0), ...s1.filter((_, i) => i !== 0 && i !== a1)];
    return out.length === 1 ? [...out, 1] : out;
  }

  protected override outputMaskSpec(): MaskSpec | null {
    return null;
  }
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);


/**
 * Keras's L2 normalisation, `x * min(rsqrt(sum(x^2)), 1 / 1e-7)` along
 * `axis`, computed as `x * rsqrt(max(sum(x^2), 1e-14))`: the same values,
 * and a zero vector (a row with no valid step) gets gradient 0, not NaN.
 */
function l2Normalize(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), axis, true), 1e-14)));
}
