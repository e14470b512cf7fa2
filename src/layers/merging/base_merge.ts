/**
 * The base of the merge layers (Add, Subtract, Multiply, Average, Maximum,
 * Minimum, Concatenate, Dot). Inputs are a list of tensors with one mask (or
 * null) each. Output mask (rule 18): the OR of the input masks, but only if
 * every input has one. Non-finite values at masked positions are read as 0,
 * so NaN in padding cannot reach a valid output; finite values are used as
 * Keras uses them.
 *
 * Inputs of different ranks (a [batch, time, dim] sequence and a [batch,
 * dim] vector) are merged as Keras 3.15.1 merges them: each lower-rank input
 * is expanded at axis 1 until the ranks match, so the vector is broadcast
 * over time. An expanded input loses its mask inside the merge (Keras's
 * `expand_dims` makes a tensor without one), so Multiply, Maximum and
 * Minimum see only the masks of the highest-rank inputs. The output mask is
 * still Keras's `compute_mask`: none unless every input is masked; when all
 * are, the OR of the masks, which Masque requires to line up (masks of
 * different ranks raise MASK_SHAPE_MISMATCH; Keras broadcasts them from the
 * right, pairing one mask's batch axis with the other's time axis).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { OptionsOf } from '../../engine/options.js';
import { checkBatchSizes, specList } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, MaskArg, MaskSpec, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';
import { finiteAtMaskedFast } from '../../ops/attention_ops.js';
import { orMasksIfAll } from '../../ops/merge_ops.js';

export type MergeArgs = BaseLayerArgs;

/** One mask (or null) per input, from a mask argument of tensors or specs. */
function masksOf<M>(mask: M | null | undefined | (M | null | undefined)[], n: number): (M | null)[] {
  if (mask === null || mask === undefined) return new Array<M | null>(n).fill(null);
  return Array.isArray(mask) ? mask.map((m) => m ?? null) : [mask];
}

/** The shape of the OR of masks of these shapes (null dims unknown), or null when they do not line up. */
function orShape(shapes: Shape[]): Shape | null {
  const rank = shapes[0]!.length;
  if (shapes.some((s) => s.length !== rank)) return null;
  const out: Shape = [...shapes[0]!];
  for (const s of shapes.slice(1)) {
    for (let i = 0; i < rank; i++) {
      const [a, b] = [out[i]!, s[i]!];
      if (a === b || b === 1) continue;
      if (a === 1) out[i] = b;
      else if (a === null || b === null) out[i] = a ?? b;
      else return null;
    }
  }
  return out;
}

export abstract class Merge extends Layer<CallArgs> {
  static override readonly options = {} satisfies OptionsOf<Omit<MergeArgs, keyof BaseLayerArgs>>;
  /** Exact number of inputs, when the layer needs one (Subtract, Dot). */
  protected readonly arity: number | null = null;
  /** Expand lower-rank inputs at axis 1 to the highest rank (Keras's `_reshape_required`; not for Dot and Concatenate). */
  protected readonly alignRanks: boolean = true;

  constructor(args: MergeArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  protected get where(): string {
    return `${this.className} '${this.name}'`;
  }

  override build(inputShape: Shape | Shape[]): void {
    if (!Array.isArray(inputShape[0])) {
      throw new MasqueError('INVALID_INPUT', `${this.where} must be called on a list of tensors; received one input of shape ${formatShape(inputShape as Shape)}.`);
    }
    this.checkInputs(inputShape as Shape[]);
  }

  /** The number of inputs and their shapes. */
  protected checkInputs(shapes: Shape[]): void {
    if (this.arity !== null && shapes.length !== this.arity) {
      throw new MasqueError('INVALID_INPUT', `${this.where} must be called on exactly ${this.arity} inputs; received ${shapes.length}.`);
    }
    this.checkShapes(shapes);
  }

  /** Elementwise layers: shapes must broadcast (after aligning ranks at axis 1). */
  protected checkShapes(shapes: Shape[]): void {
    checkBatchSizes(shapes, this.where);
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
    return masksOf(mask, n);
  }

  /** Raises when every input is masked and the masks cannot be ORed (different ranks, or sizes that differ). */
  protected checkMaskShapes(masks: ({ shape: Shape } | null)[], inputShapes: Shape[]): void {
    if (masks.length === 0 || masks.some((m) => m === null)) return;
    if (orShape(masks.map((m) => m!.shape)) !== null) return;
    throw new MasqueError(
      'MASK_SHAPE_MISMATCH',
      `${this.where}: the input masks (${masks.map((m) => formatShape(m!.shape)).join(', ')}) of inputs ${inputShapes.map(formatShape).join(', ')} cannot be combined: ` +
        `the output mask is the OR of the masks when every input is masked, and these do not line up. Give the lower-rank input no mask (its mask is not used in the merge).`,
    );
  }

  call(inputs: tf.Tensor[], args: CallArgs): tf.Tensor {
    if (!Array.isArray(inputs)) {
      throw new MasqueError('INVALID_INPUT', `${this.where} must be called on a list of tensors; received one tensor of shape ${formatShape((inputs as tf.Tensor).shape)}.`);
    }
    const masks = this.masksOf(args.mask, inputs.length);
    this.checkMaskShapes(masks, inputs.map((x) => x.shape));
    let xs = inputs.map((x, i) => finiteAtMaskedFast(x, masks[i] ?? null));
    const rank = Math.max(...xs.map((x) => x.rank));
    if (this.alignRanks && xs.some((x) => x.rank !== rank)) {
      // Keras: expand lower-rank inputs at axis 1; the expanded tensors carry no mask.
      xs = xs.map((x) => {
        let y = x;
        while (y.rank < rank) y = tf.expandDims(y, 1);
        return y;
      });
      return this.merge(xs, masks.map((m, i) => (inputs[i]!.rank === rank ? m : null)));
    }
    return this.merge(xs, masks);
  }

  /** The merge itself, on inputs of equal rank with the masks Keras uses in it. */
  protected abstract merge(xs: tf.Tensor[], masks: (tf.Tensor | null)[]): tf.Tensor;

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): tf.Tensor | null {
    const n = Array.isArray(inputs) ? inputs.length : 1;
    return orMasksIfAll(this.masksOf(mask, n));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const specs = specList(inputs, this.where);
    const shapes = specs.map((s) => s.shape);
    this.checkInputs(shapes);
    const masks = masksOf<MaskSpec>(args.mask, specs.length);
    this.checkMaskShapes(masks, shapes);
    return { shape: this.outputShape(shapes), dtype: this.outputDtype(specs), mask: this.outputMaskSpec(specs, masks) };
  }

  /** Keras's elementwise output shape: the batch size the inputs agree on, then the other axes broadcast from the right (unknown if either is). */
  protected outputShape(shapes: Shape[]): Shape {
    const batches = new Set(shapes.map((s) => s[0]).filter((d) => d !== null && d !== undefined));
    let out: Shape = shapes[0]!.slice(1);
    for (const s of shapes.slice(1)) {
      const other = s.slice(1);
      const [long, short] = out.length >= other.length ? [out, other] : [other, out];
      const lead = long.slice(0, long.length - short.length);
      const tail = long.slice(long.length - short.length).map((i, k) => {
        const j = short[k]!;
        return i === null || j === null ? null : i === 1 ? j : i;
      });
      out = [...lead, ...tail];
    }
    return [batches.size === 1 ? [...batches][0]! : null, ...out];
  }

  /** The dtype of the result (tfjs upcasts mixed inputs). */
  protected outputDtype(specs: TensorSpec[]): tf.DataType {
    return specs.map((s) => s.dtype).reduce((a, b) => tf.upcastType(a, b));
  }

  /** The OR of the mask specs when every input has one (origin: the first input's mask), else null. */
  protected outputMaskSpec(_specs: TensorSpec[], masks: (MaskSpec | null)[]): MaskSpec | null {
    if (masks.length === 0 || masks.some((m) => m === null)) return null;
    const shape = orShape(masks.map((m) => m!.shape))!;
    const origin = masks[0]!.origin;
    return origin === undefined ? { shape } : { shape, origin };
  }
}

