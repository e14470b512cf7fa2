/**
 * Concatenate along `axis` (rule 20). Output mask: an unmasked input counts
 * as all true; masks are broadcast to the inputs, concatenated along `axis`
 * and reduced with any() over the last axis. Along features this is an OR
 * (masked + unmasked gives all true); along time the masks are concatenated.
 */
import { tf } from '../../runtime/tfjs.js';
import type { MaskArg, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { concatMask } from '../../ops/merge_ops.js';
import { Merge, type MergeArgs } from './base_merge.js';

export interface ConcatenateArgs extends MergeArgs {
  /** Axis to concatenate along (default -1, the features). */
  axis?: number;
}

export class Concatenate extends Merge {
  readonly axis: number;

  constructor(args: ConcatenateArgs = {}) {
    super(args, 'Concatenate');
    const axis = args.axis ?? -1;
    if (!Number.isInteger(axis)) throw new MasqueError('INVALID_ARGUMENT', `Concatenate '${this.name}': axis must be an integer; received ${describe(args.axis)}.`);
    this.axis = axis;
  }

  private norm(rank: number): number {
    const a = this.axis < 0 ? this.axis + rank : this.axis;
    if (a < 1 || a >= rank) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: axis ${this.axis} is out of range for inputs of rank ${rank} (the batch axis cannot be concatenated).`);
    return a;
  }

  protected override checkShapes(shapes: Shape[]): void {
    const rank = shapes[0]!.length;
    const axis = this.norm(rank);
    const bad = shapes.some((s) => s.length !== rank || s.some((d, i) => i !== 0 && i !== axis && d !== null && shapes[0]![i] !== null && d !== shapes[0]![i]));
    if (bad) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where} needs inputs with matching shapes except on axis ${this.axis}; received ${shapes.map(formatShape).join(', ')}.`);
    }
  }

  protected merge(xs: tf.Tensor[]): tf.Tensor {
    return tf.concat(xs, this.norm(xs[0]!.rank));
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask: MaskArg | undefined): tf.Tensor | null {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    return concatMask(xs, this.masksOf(mask, xs.length), this.norm(xs[0]!.rank));
  }

  override getConfig(): ConcatenateArgs {
    return { ...super.getConfig(), axis: this.axis };
  }
}
