/**
 * TimeDistributed: applies a layer to every time slice of a [batch, time,
 * ...] input (weights shared across steps; paths `time_distributed/dense/kernel`).
 *
 * Masks as in Keras 3.15.1: the output mask is the input mask, unchanged.
 * The inner layer sees the slice of the mask that describes one step only
 * when that slice is itself a mask of the step (a mask of rank 3 or more,
 * e.g. [batch, time, tokens] for an inner RNN) and the inner layer supports
 * masking; a [batch, time] mask only says which slices are valid, so the
 * inner layer gets none, and it passes through to the output.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer, MaskedOutputs } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, MaskSpec, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface TimeDistributedArgs extends BaseLayerArgs {
  /** The layer applied to each time slice. */
  layer: Layer<CallArgs, boolean>;
}

type Own = Omit<TimeDistributedArgs, keyof BaseLayerArgs>;

export class TimeDistributed extends Layer<CallArgs> {
  static override readonly className = 'TimeDistributed';
  // The wrapped layer decides what it takes (token ids for an inner Embedding).
  static override readonly floatInputs = false;
  static override readonly options = {
    layer: opt.custom<Layer<CallArgs, boolean>>(
      (v, w, n) => {
        if (v instanceof Layer) return v as Layer<CallArgs, boolean>;
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a Masque layer; received ${describe(v)}.`);
      },
      { kerasKind: 'layer' },
    ),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;

  /** `new TimeDistributed({ layer })`, or as in Keras `new TimeDistributed(layer)`. */
  constructor(args: TimeDistributedArgs);
  constructor(layer: Layer<CallArgs, boolean>, options?: Omit<TimeDistributedArgs, 'layer'>);
  constructor(args: TimeDistributedArgs | Layer<CallArgs, boolean>, options?: Omit<TimeDistributedArgs, 'layer'>) {
    super(args instanceof Layer ? { ...options, layer: args } : args);
    this.trackLayer(this.args.layer, 'layer');
    this.supportsMasking = true;
  }

  /** The wrapped layer. */
  get layer(): Layer<CallArgs, boolean> {
    return this.args.layer;
  }

  private get where(): string {
    return `TimeDistributed '${this.name}'`;
  }

  private checkRank(shape: Shape): void {
    if (shape.length < 3) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: expected an input of rank 3 or more, [batch, time, ...]; received ${formatShape(shape)}.`);
    }
  }

  private checkMaskRank(mask: Shape, b: number | null, t: number | null): void {
    if (mask.length < 2) {
      throw new MasqueError('MASK_SHAPE_MISMATCH', `${this.where}: the mask must be at least [batch, time] = ${formatShape([b, t])}; received ${formatShape(mask)}.`);
    }
  }

  private singleOutputError(n: number): MasqueError {
    return new MasqueError('INVALID_ARGUMENT', `${this.where}: the inner layer '${this.layer.name}' returns ${n} tensors; TimeDistributed needs a layer with one output.`);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    this.checkRank(shape);
    if (!this.layer.built) {
      const b = shape[0] === null || shape[1] === null ? null : shape[0]! * shape[1]!;
      this.layer.build([b, ...shape.slice(2)]);
      this.layer.built = true;
    }
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    if (Array.isArray(x)) {
      throw new MasqueError('INVALID_INPUT', `${this.where}: expected one tensor [batch, time, ...]; received a list of ${(x as tf.Tensor[]).length} tensors.`);
    }
    this.checkRank(x.shape);
    const [b, t] = x.shape as [number, number];
    const mask = Array.isArray(args.mask) ? (args.mask[0] ?? null) : (args.mask ?? null);
    if (mask !== null) this.checkMaskRank(mask.shape, b, t);
    const flat = tf.reshape(x, [b * t, ...x.shape.slice(2)]);
    const innerMask = mask !== null && mask.rank >= 3 && this.layer.supportsMasking ? tf.reshape(mask, [b * t, ...mask.shape.slice(2)]) : null;
    const r = this.layer.call(flat, { training: args.training, mask: innerMask });
    const y = r instanceof MaskedOutputs ? r.outputs : r;
    if (Array.isArray(y)) throw this.singleOutputError(y.length);
    return tf.reshape(y, [b, t, ...y.shape.slice(1)]);
  }

  /** The inner layer's spec on one slice, with [batch, time] in front; the input mask passes through. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const x = oneSpec(inputs, this.where);
    this.checkRank(x.shape);
    const [b, t] = x.shape as [number | null, number | null];
    const mask = firstMask(args.mask);
    if (mask !== null) this.checkMaskRank(mask.shape, b, t);
    const bt = b === null || t === null ? null : b * t;
    const innerMask: MaskSpec | null = mask !== null && mask.shape.length >= 3 && this.layer.supportsMasking ? { ...mask, shape: [bt, ...mask.shape.slice(2)] } : null;
    const r = this.layer.outputSpecs({ shape: [bt, ...x.shape.slice(2)], dtype: x.dtype, mask: innerMask }, { mask: innerMask });
    if (r.multi) throw this.singleOutputError(r.outputs.length);
    const y = r.outputs[0]!;
    return { shape: [b, t, ...y.shape.slice(1)], dtype: y.dtype, mask };
  }
}
