/**
 * Sequential: a stack of single-input, single-output layers. It builds its
 * functional graph as soon as the input shape is known (from a first layer's
 * `inputShape`, an `Input` or `InputLayer` at the start, or the first data),
 * so it runs through exactly the same path as a functional model.
 *
 * Keras spellings work: `new Sequential([a, b])` and
 * `new Sequential([Input({ shape: [null] }), a, b])` as well as
 * `new Sequential({ layers: [...] })` and `add()`.
 */
import { MasqueError, describe } from '../errors.js';
import { Layer } from '../engine/layer.js';
import { Input, InputLayer } from '../engine/input_layer.js';
import { SymbolicTensor } from '../engine/symbolic.js';
import type { CallArgs, Shape } from '../engine/types.js';
import { Graph, type AnyLayer } from './graph.js';
import { Model, type ModelOptions } from './functional.js';

/** What a Sequential's layer list may hold: layers, and first an Input (or its InputLayer). */
export type SequentialEntry = Layer<CallArgs, boolean> | SymbolicTensor;

export interface SequentialArgs extends ModelOptions {
  layers?: SequentialEntry[];
}

export class Sequential extends Model {
  static override readonly className: string = 'Sequential';
  private readonly stack: AnyLayer[] = [];
  private inputLayer: InputLayer | null = null;

  /** `new Sequential([layers])` or `new Sequential({ layers, name, maskPolicy })`. */
  constructor(args: SequentialArgs | SequentialEntry[] = {}) {
    const opts: SequentialArgs = Array.isArray(args) ? { layers: args } : (args ?? {});
    if (typeof opts !== 'object' || opts instanceof Layer || opts instanceof SymbolicTensor) {
      throw new MasqueError('INVALID_ARGUMENT', `Sequential: expected a list of layers or { layers, name, maskPolicy }; received ${describeEntry(opts)}.`);
    }
    const { layers, ...options } = opts;
    super(options, 'deferred');
    if (layers !== undefined && !Array.isArray(layers)) {
      throw new MasqueError('INVALID_ARGUMENT', `Sequential '${this.name}': layers must be a list of layers; received ${describeEntry(layers)}.`);
    }
    for (const l of layers ?? []) this.add(l);
  }

  /** Appends a layer (or, first, an Input / InputLayer that fixes the input shape). */
  add(entry: SequentialEntry): void {
    const layer = entry instanceof SymbolicTensor && entry.node?.layer instanceof InputLayer ? entry.node.layer : entry;
    if (!(layer instanceof Layer)) {
      throw new MasqueError('INVALID_ARGUMENT', `Sequential '${this.name}': add() expects a layer (or, first, an Input); received ${describeEntry(entry)}.`);
    }
    if (layer instanceof InputLayer) {
      if (this.stack.length > 0 || this.inputLayer) {
        throw new MasqueError('INVALID_ARGUMENT', `Sequential '${this.name}': an Input or InputLayer must come first.`);
      }
      this.inputLayer = layer;
    } else {
      this.stack.push(layer);
    }
    if (this.graph !== null) this.rebuild(this.graph.inputs[0]!);
    else if (this.inputLayer) this.rebuild(this.inputLayer.output);
    else if (this.stack.length === 1 && layer.batchInputShape) {
      this.rebuild(Input({ shape: layer.batchInputShape.slice(1), batchSize: layer.batchInputShape[0], dtype: layer.inputDtype ?? 'float32' }));
    }
  }

  /** The layers added so far (without the input layer). */
  get sequentialLayers(): AnyLayer[] {
    return [...this.stack];
  }

  /** As in Keras, a Sequential's `layers` leave out its InputLayer. */
  override get layers(): AnyLayer[] {
    return this.graph === null ? [...this.stack] : this.graph.layers.filter((l) => !(l instanceof InputLayer));
  }

  /**
   * Builds the graph for inputs of `inputShape`. The time axes (those between
   * the batch and the feature axis, and axis 1 of integer token ids) stay
   * unknown, since later batches (dynamic padding) have other lengths. The
   * input dtype is the first layer's (int32 for Embedding).
   */
  override build(inputShape: Shape | Shape[]): void {
    if (this.graph !== null) return;
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const dtype = this.stack[0]?.inputDtype ?? 'float32';
    const ids = dtype === 'int32' && shape.length === 2;
    const general = shape.map((d, i) => (i > 0 && (ids || i < shape.length - 1) ? null : d));
    this.rebuild(Input({ shape: general.slice(1), dtype }));
  }

  private rebuild(input: SymbolicTensor): void {
    if (this.stack.length === 0) return;
    // As in Keras, a layer that returns several tensors (an RNN with
    // returnState) hands the whole list to the next layer, and when it is
    // the last layer the model has several outputs.
    let x: SymbolicTensor | SymbolicTensor[] = input;
    for (const l of this.stack) x = l.apply(x);
    this.setGraph(new Graph(input, x, `Sequential '${this.name}'`));
  }

  /** Keras prefixes a Sequential model's weight paths with its name (`sequential/lstm/lstm_cell/kernel`). */
  override weightPaths(): string[] {
    return this.weights.map((w) => `${this.name}/${w.path}`);
  }
}

function describeEntry(v: unknown): string {
  if (v instanceof Layer) return `${v.className} '${v.name}'`;
  if (v instanceof SymbolicTensor) return v.toString();
  return describe(v);
}
