/**
 * Keras operations that appear as nodes of Functional configs
 * (`keras.ops.not_equal(x, 0.0)`, `keras.ops.any(m, axis=-1)`), as layers.
 * They make tensors, not masks: they do not support masking, so a masked
 * input raises MASK_NOT_SUPPORTED under the default policy. A scalar
 * operand (Keras records it among the call's positional arguments) may be
 * given in the inputs list: `notEqual.apply([x, 0])`.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer, type SymbolicArgs } from '../../engine/layer.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';

/**
 * A Keras operation recorded as a layer. Keras saves it with module
 * `keras.src.ops.numpy`, a config of its name and its own arguments only,
 * and its operands as separate positional arguments of the call.
 */
export abstract class KerasOp extends Layer<CallArgs> {
  readonly kerasModule = 'keras.src.ops.numpy';

  /** The operation's own arguments (Keras names in camelCase), without name. */
  opConfig(): Record<string, unknown> {
    return {};
  }

  /** Non-tensor operands that follow the tensor inputs in the call (a scalar). */
  extraOperands(): unknown[] {
    return [];
  }
}

/** Elementwise comparison of two tensors, or of a tensor with a scalar. */
abstract class Comparison extends KerasOp {
  /** The scalar operand, when the call gave one. */
  other: number | null = null;

  override apply(inputs: SymbolicTensor | SymbolicTensor[] | (SymbolicTensor | number)[], args?: SymbolicArgs<CallArgs>): SymbolicTensor;
  override apply(inputs: tf.Tensor | tf.Tensor[] | (tf.Tensor | number)[], args?: CallArgs): tf.Tensor;
  override apply(inputs: unknown, args?: unknown): unknown {
    if (Array.isArray(inputs) && inputs.length === 2 && typeof inputs[1] === 'number') {
      this.other = inputs[1];
      return super.apply(inputs[0] as never, args as never);
    }
    return super.apply(inputs as never, args as never);
  }

  override extraOperands(): unknown[] {
    return this.other === null ? [] : [this.other];
  }

  protected abstract compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (Array.isArray(inputs)) {
      if (inputs.length !== 2) throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}' compares two tensors; received ${inputs.length}.`);
      return this.compare(inputs[0]!, inputs[1]!);
    }
    if (this.other === null) throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}' needs two operands: [x, y] or [x, scalar].`);
    return this.compare(inputs, tf.scalar(this.other, inputs.dtype === 'bool' ? 'float32' : inputs.dtype));
  }
}

/** `x != y` (Keras's `ops.not_equal`). */
export class NotEqual extends Comparison {
  constructor(args: BaseLayerArgs = {}) {
    super(args, 'NotEqual');
  }

  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.notEqual(a, b);
  }
}

/** `x == y` (Keras's `ops.equal`). */
export class Equal extends Comparison {
  constructor(args: BaseLayerArgs = {}) {
    super(args, 'Equal');
  }

  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.equal(a, b);
  }
}

export interface ReduceArgs extends BaseLayerArgs {
  axis?: number | number[] | null;
  keepdims?: boolean;
}

/** Logical reduction (Keras's `ops.any` / `ops.all`). */
abstract class LogicalReduce extends KerasOp {
  readonly args: ReduceArgs;

  constructor(args: ReduceArgs, className: string) {
    super(args, className);
    const ax = args.axis ?? null;
    if (ax !== null && !(Number.isInteger(ax) || (Array.isArray(ax) && ax.every((a) => Number.isInteger(a))))) {
      throw new MasqueError('INVALID_ARGUMENT', `${className} '${this.name}': axis must be an integer, a list of integers or null; received ${describe(args.axis)}.`);
    }
    this.args = { ...args, axis: ax, keepdims: args.keepdims ?? false };
  }

  protected abstract reduce(x: tf.Tensor, axis: number | number[] | undefined, keepdims: boolean): tf.Tensor;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputs as tf.Tensor;
    const b = x.dtype === 'bool' ? x : tf.notEqual(x, tf.scalar(0, x.dtype));
    return this.reduce(b, this.args.axis ?? undefined, this.args.keepdims!);
  }

  override getConfig(): ReduceArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }

  override opConfig(): Record<string, unknown> {
    return { axis: this.args.axis, keepdims: this.args.keepdims };
  }
}

export class Any extends LogicalReduce {
  constructor(args: ReduceArgs = {}) {
    super(args, 'Any');
  }

  protected reduce(x: tf.Tensor, axis: number | number[] | undefined, keepdims: boolean): tf.Tensor {
    return tf.any(x, axis, keepdims);
  }
}

export class All extends LogicalReduce {
  constructor(args: ReduceArgs = {}) {
    super(args, 'All');
  }

  protected reduce(x: tf.Tensor, axis: number | number[] | undefined, keepdims: boolean): tf.Tensor {
    return tf.all(x, axis, keepdims);
  }
}
