/**
 * Concatenate along `axis` (rule 20). Output mask: an unmasked input counts
 * as all true; masks are broadcast to the inputs, concatenated along `axis`
 * and reduced with any() over the last axis. Along features this is an OR
 * (masked + unmasked gives all true); along time the masks are concatenated.
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, MaskArg, MaskSpec, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';
import { concatMask } from '../../ops/merge_ops.js';
import { Merge, type MergeArgs } from './base_merge.js';
import { checkBatchSizes } from '../../engine/specs.js';

export interface ConcatenateArgs extends MergeArgs {
  /** Axis to concatenate along (default -1, the features). */
  axis?: number;
}

type Own = Omit<ConcatenateArgs, keyof BaseLayerArgs>;

export class Concatenate extends Merge {
  static override readonly className = 'Concatenate';
  static override readonly options = {
    axis: opt.int({ default: -1 }),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  protected override readonly alignRanks = false;

  constructor(args: ConcatenateArgs = {}) {
    super(args);
  }

  get axis(): number {
    return this.args.axis;
  }

  private norm(rank: number): number {
    const a = this.axis < 0 ? this.axis + rank : this.axis;
    if (a < 1 || a >= rank) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: axis ${this.axis} is out of range for inputs of rank ${rank} (the batch axis cannot be concatenated).`);
    return a;
  }

  protected override checkShapes(shapes: Shape[]): void {
    checkBatchSizes(shapes, this.where);
    const rank = shapes[0]!.length;
    const axis = this.norm(rank);
    const bad = shapes.some((s) => s.length !== rank || s.some((d, i) => i !== 0 && i !== axis && d !== null && shapes[0]![i] !== null && d !== shapes[0]![i]));
    if (bad) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where} needs inputs with matching shapes except on axis ${this.axis}; received ${shapes.map(formatShape).join(', ')}.`);
    }
  }

  /** Each input's mask is broadcast to it: masks of any rank up to the input's combine. */
  protected override checkMaskShapes(): void {}

  protected merge(xs: tf.Tensor[]): tf.Tensor {
    return tf.concat(xs, this.norm(xs[0]!.rank));
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): tf.Tensor | null {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    return concatMask(xs, this.masksOf(mask, xs.length), this.norm(xs[0]!.rank));
  }

  /** Keras's shape: the first input's, with the sizes along `axis` summed (unknown if one is). */
  protected override outputShape(shapes: Shape[]): Shape {
    const axis = this.norm(shapes[0]!.length);
    const out = [...shapes[0]!];
    out[axis] = shapes.some((s) => s[axis] === null) ? null : shapes.reduce((n, s) => n + s[axis]!, 0);
    return out;
  }

  /** The concatenated masks reduced over the last axis: the output shape without its last axis (origin: the first input mask's). */
  protected override outputMaskSpec(specs: TensorSpec[], masks: (MaskSpec | null)[]): MaskSpec | null {
    const first = masks.find((m) => m !== null);
    if (first === undefined || first === null) return null;
    const shape = this.outputShape(specs.map((s) => s.shape)).slice(0, -1);
    return first.origin === undefined ? { shape } : { shape, origin: first.origin };
  }
}
