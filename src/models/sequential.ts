/**
 * Sequential: a stack of single-input, single-output layers. It builds a
 * functional graph as soon as the input shape is known (from a first layer's
 * `inputShape`, an added `InputLayer`, or the first call), so it runs through
 * exactly the same path as a functional model.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { Layer, type LayerWeight } from '../engine/layer.js';
import { Input, InputLayer } from '../engine/input_layer.js';
import type { SymbolicTensor } from '../engine/symbolic.js';
import type { MaskPolicy } from '../engine/mask_policy.js';
import type { CallArgs, Shape } from '../engine/types.js';
import { Model } from './functional.js';
import type { InputData } from '../data/input_data.js';

export interface SequentialArgs {
  layers?: Layer<CallArgs, boolean>[];
  name?: string;
  trainable?: boolean;
  maskPolicy?: MaskPolicy;
}

export class Sequential extends Model {
  private stack: Layer<CallArgs, boolean>[] = [];
  private inputLayer: InputLayer | null = null;

  constructor(args: SequentialArgs = {}) {
    super({ name: args.name, trainable: args.trainable, maskPolicy: args.maskPolicy } as never, 'Sequential');
    this.built = false;
    for (const l of args.layers ?? []) this.add(l);
  }

  /** Appends a layer (or an InputLayer that fixes the input shape). */
  add(layer: Layer<CallArgs, boolean>): void {
    if (!(layer instanceof Layer)) {
      throw new MasqueError('INVALID_ARGUMENT', `Sequential '${this.name}': add() expects a layer; received ${describe(layer)}.`);
    }
    if (layer instanceof InputLayer) {
      if (this.stack.length > 0 || this.inputLayer) {
        throw new MasqueError('INVALID_ARGUMENT', `Sequential '${this.name}': an InputLayer must come first.`);
      }
      this.inputLayer = layer;
    } else {
      this.stack.push(layer);
    }
    if (this.built) this.rebuild(this.inputs[0]!);
    else if (this.inputLayer) this.rebuild(this.inputLayer.output);
    else if (this.stack.length === 1 && layer.batchInputShape) {
      this.rebuild(Input({ shape: layer.batchInputShape.slice(1), batchSize: layer.batchInputShape[0], dtype: layer.inputDtype ?? defaultDtype(layer) }));
    }
  }

  /** The layers added so far (without the input layer). */
  get sequentialLayers(): Layer<CallArgs, boolean>[] {
    return [...this.stack];
  }

  override build(inputShape: Shape | Shape[]): void {
    if (this.built) return;
    let shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    // Built from data (the first call or fit/predict): the sequence length of
    // that first batch must not become fixed, since later batches (dynamic
    // padding) have other lengths. Time axes are those between the batch and
    // the feature axis, or axis 1 of integer token ids.
    if (this.pendingDtype !== undefined) {
      const ids = this.pendingDtype === 'int32' && shape.length === 2;
      shape = shape.map((d, i) => (i > 0 && (ids || i < shape.length - 1) ? null : d));
    }
    this.inferredInput = true;
    this.rebuild(Input({ shape: shape.slice(1), dtype: this.pendingDtype ?? 'float32' }));
  }

  private pendingDtype: 'float32' | 'int32' | 'bool' | 'string' | undefined;

  protected override beforeFirstCall(inputs: tf.Tensor[]): void {
    const d = inputs[0]!.dtype;
    this.pendingDtype = d === 'int32' || d === 'bool' || d === 'string' ? d : 'float32';
  }

  protected override ensureBuiltFor(x: InputData): void {
    const t = Array.isArray(x) ? x[0] : x;
    if (t instanceof tf.Tensor) {
      this.pendingDtype = t.dtype === 'int32' ? 'int32' : 'float32';
      this.build([null, ...t.shape.slice(1)]);
    } else if (Array.isArray(x)) {
      const shape: number[] = [];
      let v: unknown = x;
      while (Array.isArray(v)) {
        shape.push(v.length);
        v = v[0];
      }
      this.pendingDtype = this.stack[0] && defaultDtype(this.stack[0]) === 'int32' ? 'int32' : 'float32';
      this.build([null, ...shape.slice(1)]);
    }
  }

  private rebuild(input: SymbolicTensor): void {
    if (this.stack.length === 0) {
      this.inputs = [input];
      return;
    }
    // As in Keras, a layer that returns several tensors (an RNN with
    // returnState) hands the whole list to the next layer, and when it is
    // the last layer the model has several outputs.
    let x: SymbolicTensor | SymbolicTensor[] = input;
    for (const l of this.stack) x = l.apply(x);
    this.setGraph(input, x);
  }

  override get weights(): LayerWeight[] {
    return super.weights;
  }

  /** Keras prefixes a Sequential model's weight paths with its name (`sequential/lstm/lstm_cell/kernel`). */
  override weightPaths(): string[] {
    return this.weights.map((w) => `${this.name}/${w.path}`);
  }
}

function defaultDtype(layer: Layer<CallArgs, boolean>): 'float32' | 'int32' {
  return layer.className === 'Embedding' ? 'int32' : 'float32';
}
