/** `Input` and `InputLayer`: the entry points of a functional model. */
import type { tf } from '../runtime/tfjs.js';
import { Layer } from './layer.js';
import { opt, type Filled, type OptionsOf } from './options.js';
import { SymbolicTensor, type Node } from './symbolic.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from './types.js';

export interface InputArgs {
  /** Shape of one sample, without the batch dimension; `null` for unknown (e.g. time). */
  shape: Shape;
  batchSize?: number | null;
  dtype?: 'float32' | 'int32' | 'bool' | 'string';
  name?: string;
}

/** The layer behind `Input`: passes its input through. */
export class InputLayer extends Layer<CallArgs> {
  static override readonly className = 'InputLayer';
  static override readonly floatInputs = false;
  static override readonly options = {
    shape: opt.shape(),
    batchSize: opt.nullableInt({ min: 1, default: null }),
    dtype: opt.oneOf(['float32', 'int32', 'bool', 'string'] as const, 'float32'),
  } satisfies OptionsOf<Omit<InputArgs, 'name'>>;
  declare readonly args: Filled<Omit<InputArgs, 'name'>>;
  readonly output: SymbolicTensor;

  constructor(args: InputArgs) {
    super(args);
    this.supportsMasking = true;
    this.built = true;
    const node: Node = { layer: this, inputs: [], args: {}, outputs: [], multiOutput: false, dropsMask: null };
    this.output = new SymbolicTensor([this.args.batchSize, ...this.args.shape], this.args.dtype, node, 0, null, this.name);
    node.outputs = [this.output];
    this.inboundNodes.push(node);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return inputs;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec | TensorSpec[] {
    return inputs;
  }

  override getConfig(): BaseLayerArgs & Record<string, unknown> {
    return { name: this.name, shape: this.args.shape, batchSize: this.args.batchSize, dtype: this.args.dtype };
  }
}

/** A symbolic input for a functional model: `Input({ shape: [null], dtype: 'int32' })`. */
export function Input(args: InputArgs): SymbolicTensor {
  return new InputLayer(args).output;
}
