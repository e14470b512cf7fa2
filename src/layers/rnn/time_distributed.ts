/**
 * TimeDistributed: applies a layer to every time slice of a [batch, time,
 * ...] input (weights shared across steps; paths `time_distributed/dense/kernel`).
 *
 * Masks. The inner layer sees the slice of the mask that describes one step
 * when that slice is itself a mask of the step: a mask of rank 3 or more,
 * e.g. [batch, sentences, words] for an inner LSTM. A [batch, time] mask
 * only says which slices are valid, so the inner layer gets none.
 *
 * The output mask is the inner layer's own output mask, slice by slice, as
 * tf.keras 2 gave it (Keras 3.15.1 never asks the inner layer, so it loses
 * these masks; a documented departure):
 * - the inner layer makes or keeps a mask (Embedding with maskZero, Masking,
 *   an RNN with returnSequences): that mask with [batch, time] in front
 *   ([batch, sentences, words]), limited to the valid slices of a [batch,
 *   time] input mask;
 * - it makes none (an LSTM without returnSequences, a pooling layer): a
 *   [batch, time] mask where a slice is valid when any of its positions was
 *   (a sentence with one valid word); a [batch, time] input mask passes
 *   through unchanged, as in Keras.
 * With these, documents of sentences of words give the same answers at valid
 * positions however many padding words and padding sentences they carry.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer, MaskedOutputs, withMasks, type LayerClass, type SpecResult } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec } from '../../engine/specs.js';
import { maskOrigin, setMaskOrigin, type MaskOrigin } from '../../engine/masks.js';
import type { BaseLayerArgs, CallArgs, MaskArg, MaskSpec, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { andStepMask, anyValidPerStep } from '../../ops/mask_ops.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface TimeDistributedArgs extends BaseLayerArgs {
  /** The layer applied to each time slice. */
  layer: Layer<CallArgs, boolean>;
}

type Own = Omit<TimeDistributedArgs, keyof BaseLayerArgs>;

function firstOf(m: MaskArg | undefined): tf.Tensor | null {
  return Array.isArray(m) ? (m.find((x) => x !== null && x !== undefined) ?? null) : (m ?? null);
}

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
  /** The mask the inner layer could not use in the last spec computation (described), or null. */
  private innerDrop: string | null = null;

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

  /** Where a mask made by the inner layer comes from, for messages ('embedding' (Embedding, maskZero)). */
  private get innerOrigin(): MaskOrigin {
    const inner = this.layer;
    const detail = (inner.constructor as unknown as LayerClass).maskDetail?.(inner);
    return detail === undefined ? { layerName: inner.name, className: inner.className } : { layerName: inner.name, className: inner.className, detail };
  }

  private checkRank(shape: Shape): void {
    if (shape.length < 3) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: expected an input of rank 3 or more, [batch, time, ...]; received ${formatShape(shape)}.`);
    }
  }

  /** A mask's first two dims must be the input's [batch, time] exactly (no broadcasting over them), as Keras checks. */
  private checkMaskShape(mask: Shape, b: number | null, t: number | null): void {
    if (mask.length < 2) {
      throw new MasqueError('MASK_SHAPE_MISMATCH', `${this.where}: the mask must be at least [batch, time] = ${formatShape([b, t])}; received ${formatShape(mask)}.`);
    }
    const differs = (d: number | null, want: number | null) => d !== null && want !== null && d !== want;
    if (differs(mask[0]!, b) || differs(mask[1]!, t)) {
      throw new MasqueError('MASK_SHAPE_MISMATCH', `${this.where}: the mask's first two dims must be the input's [batch, time] = ${formatShape([b, t])}; received a mask of shape ${formatShape(mask)}.`);
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

  call(x: tf.Tensor, args: CallArgs): MaskedOutputs {
    if (Array.isArray(x)) {
      throw new MasqueError('INVALID_INPUT', `${this.where}: expected one tensor [batch, time, ...]; received a list of ${(x as tf.Tensor[]).length} tensors.`);
    }
    this.checkRank(x.shape);
    const [b, t] = x.shape as [number, number];
    const mask = firstOf(args.mask);
    if (mask !== null) this.checkMaskShape(mask.shape, b, t);
    const deep = mask !== null && mask.rank >= 3;
    const flat = tf.reshape(x, [b * t, ...x.shape.slice(2)]);
    let innerMask: tf.Tensor | null = null;
    if (deep && this.layer.supportsMasking) {
      innerMask = tf.reshape(mask, [b * t, ...mask.shape.slice(2)]);
      const o = maskOrigin(mask);
      if (o !== undefined) setMaskOrigin(innerMask, o);
    }
    const r = this.layer.call(flat, { training: args.training, mask: innerMask });
    const y = r instanceof MaskedOutputs ? r.outputs : r;
    if (Array.isArray(y)) throw this.singleOutputError(y.length);
    const innerOut = firstOf(r instanceof MaskedOutputs ? r.masks : this.layer.computeMask(flat, innerMask));
    const out = tf.reshape(y, [b, t, ...y.shape.slice(1)]);
    if (innerOut !== null) {
      let m = tf.reshape(innerOut, [b, t, ...innerOut.shape.slice(1)]);
      if (mask !== null && !deep) m = andStepMask(m, mask);
      setMaskOrigin(m, maskOrigin(innerOut) ?? this.innerOrigin);
      return withMasks(out, m);
    }
    return withMasks(out, mask === null ? null : anyValidPerStep(mask));
  }

  /**
   * Records on this layer's graph node a mask the inner layer cannot use (a
   * word mask reaching Conv1D), so a model applies its mask policy when it
   * is built, as for any layer.
   */
  override outputSpecs(inputs: TensorSpec | TensorSpec[], args: Record<string, unknown>): SpecResult {
    this.innerDrop = null;
    const r = super.outputSpecs(inputs, args);
    return this.innerDrop !== null && r.dropsMask === null ? { ...r, dropsMask: this.innerDrop } : r;
  }

  /** TimeDistributed takes every mask: a mask that cannot be used is the inner layer's, and the error names it. */
  override maskNotSupportedError(from: string): MasqueError {
    return this.layer.maskNotSupportedError(from);
  }

  /** The inner layer's spec on one slice, with [batch, time] in front; the mask as described at the top of the file. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const x = oneSpec(inputs, this.where);
    this.checkRank(x.shape);
    const [b, t] = x.shape as [number | null, number | null];
    const mask = firstMask(args.mask);
    if (mask !== null) this.checkMaskShape(mask.shape, b, t);
    const deep = mask !== null && mask.shape.length >= 3;
    const bt = b === null || t === null ? null : b * t;
    // A deep mask goes to the inner layer's spec even when it cannot use it, so the mask policy applies there.
    const innerMask: MaskSpec | null = deep ? { ...mask, shape: [bt, ...mask.shape.slice(2)] } : null;
    const r = this.layer.outputSpecs({ shape: [bt, ...x.shape.slice(2)], dtype: x.dtype, mask: innerMask }, { mask: innerMask });
    if (r.multi) throw this.singleOutputError(r.outputs.length);
    if (r.dropsMask !== null) this.innerDrop = r.dropsMask;
    const y = r.outputs[0]!;
    const shape = [b, t, ...y.shape.slice(1)];
    if (y.mask !== null) {
      const inner = y.mask.origin ?? this.innerOrigin;
      return { shape, dtype: y.dtype, mask: { shape: [b, t, ...y.mask.shape.slice(1)], origin: inner } };
    }
    if (mask === null) return { shape, dtype: y.dtype, mask: null };
    return { shape, dtype: y.dtype, mask: deep ? { shape: [b, t] } : mask };
  }
}
