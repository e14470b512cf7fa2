/**
 * The base of the merge layers (Add, Subtract, Multiply, Average, Maximum,
 * Minimum, Concatenate, Dot). Inputs are a list of tensors with one mask (or
 * null) each. Output mask (rule 18): the OR of the input masks, but only if
 * every input has one. Non-finite values at masked positions are read as 0,
 * so NaN in padding cannot reach a valid output; finite values are used as
 * Keras uses them.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';
import { finiteAtMasked } from '../../ops/attention_ops.js';
import { orMasksIfAll } from '../../ops/merge_ops.js';

export type MergeArgs = BaseLayerArgs;

export abstract class Merge extends Layer<CallArgs> {
  /** Exact number of inputs, when the layer needs one (Subtract, Dot). */
  protected readonly arity: number | null = null;

  constructor(args: MergeArgs, className: string) {
    super(args, className);
    this.supportsMasking = true;
  }

  protected get where(): string {
    return `${this.className} '${this.name}'`;
  }

  override build(inputShape: Shape | Shape[]): void {
    if (!Array.isArray(inputShape[0])) {
      throw new MasqueError('INVALID_INPUT', `${this.where} must be called on a list of tensors; received one input of shape ${formatShape(inputShape as Shape)}.`);
    }
    const shapes = inputShape as Shape[];
    if (this.arity !== null && shapes.length !== this.arity) {
      throw new MasqueError('INVALID_INPUT', `${this.where} must be called on exactly ${this.arity} inputs; received ${shapes.length}.`);
    }
    this.checkShapes(shapes);
  }

  /** Elementwise layers: shapes must broadcast (after aligning ranks at axis 1). */
  protected checkShapes(shapes: Shape[]): void {
    const rank = Math.max(...shapes.map((s) => s.length));
    const aligned = shapes.map((s) => [s[0] ?? null, ...new Array<number>(rank - s.length).fill(1), ...s.slice(1)]);
    for (let d = 1; d < rank; d++) {
      const sizes = new Set(aligned.map((s) => s[d]).filter((x) => x !== null && x !== 1));
      if (sizes.size > 1) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: the inputs' shapes are not compatible for an elementwise merge; received ${shapes.map(formatShape).join(', ')}.`);
      }
    }
  }

  /** One mask (or null) per input. */
  protected masksOf(mask: MaskArg | undefined, n: number): (tf.Tensor | null)[] {
    if (mask === null || mask === undefined) return new Array<tf.Tensor | null>(n).fill(null);
    return Array.isArray(mask) ? mask.map((m) => m ?? null) : [mask];
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor {
    if (!Array.isArray(inputs)) {
      throw new MasqueError('INVALID_INPUT', `${this.where} must be called on a list of tensors; received one tensor of shape ${formatShape(inputs.shape)}.`);
    }
    const masks = this.masksOf(args.mask, inputs.length);
    let xs = inputs.map((x, i) => finiteAtMasked(x, masks[i] ?? null));
    const rank = Math.max(...xs.map((x) => x.rank));
    if (xs.some((x) => x.rank !== rank)) {
      if (masks.some((m) => m !== null)) {
        throw new MasqueError('MASK_SHAPE_MISMATCH', `${this.where}: inputs of different ranks (${inputs.map((x) => formatShape(x.shape)).join(', ')}) cannot be merged with masks.`);
      }
      xs = xs.map((x) => {
        let y = x;
        while (y.rank < rank) y = tf.expandDims(y, 1);
        return y;
      });
    }
    return this.merge(xs, masks);
  }

  /** The merge itself, on inputs of equal rank with their masks. */
  protected abstract merge(xs: tf.Tensor[], masks: (tf.Tensor | null)[]): tf.Tensor;

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask: MaskArg | undefined): tf.Tensor | null {
    const n = Array.isArray(inputs) ? inputs.length : 1;
    return orMasksIfAll(this.masksOf(mask, n));
  }

  override getConfig(): MergeArgs {
    return { ...super.getConfig(), name: this.name };
  }
}
