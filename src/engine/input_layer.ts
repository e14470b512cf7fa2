/** `Input` and `InputLayer`: the entry points of a functional model. */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { Layer } from './layer.js';
import { SymbolicTensor, type Node } from './symbolic.js';
import type { BaseLayerArgs, CallArgs, Shape } from './types.js';

export interface InputArgs {
  /** Shape of one sample, without the batch dimension; `null` for unknown (e.g. time). */
  shape: Shape;
  batchSize?: number | null;
  dtype?: 'float32' | 'int32' | 'bool' | 'string';
  name?: string;
}

/** The layer behind `Input`: passes its input through. */
export class InputLayer extends Layer<CallArgs> {
  readonly args: Required<Pick<InputArgs, 'shape' | 'dtype'>> & InputArgs;
  readonly output: SymbolicTensor;

  constructor(args: InputArgs) {
    super({ name: args.name }, 'InputLayer');
    if (!Array.isArray(args.shape) || args.shape.some((d) => d !== null && !(Number.isInteger(d) && d >= 0))) {
      throw new MasqueError('INVALID_ARGUMENT', `Input: shape must be a list of non-negative integers or null (one sample, no batch dim); received ${describe(args.shape)}.`);
    }
    this.args = { ...args, dtype: args.dtype ?? 'float32' };
    this.supportsMasking = true;
    this.built = true;
    const node: Node = { layer: this, inputs: [], args: {}, outputs: [], multiOutput: false, dropsMask: null };
    this.output = new SymbolicTensor([args.batchSize ?? null, ...args.shape], this.args.dtype, node, 0, null, this.name);
    node.outputs = [this.output];
    this.inboundNodes.push(node);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return inputs;
  }

  override getConfig(): BaseLayerArgs & Record<string, unknown> {
    return { name: this.name, shape: this.args.shape, batchSize: this.args.batchSize ?? null, dtype: this.args.dtype };
  }
}

/** A symbolic input for a functional model: `Input({ shape: [null], dtype: 'int32' })`. */
export function Input(args: InputArgs): SymbolicTensor {
  return new InputLayer(args).output;
}
