/**
 * Comparison ops (`ops.not_equal`, `equal`, `greater`, ...): elementwise, with
 * numpy broadcasting, giving bool. A scalar operand (Keras records it among
 * the positional arguments: `[x, 0]`) may be given in the inputs list:
 * `notEqual.apply([x, 0])`. As in numpy, a Python scalar is weak: a float
 * tensor is compared in float32, an integer tensor with an integral scalar
 * in int32, and with a non-integral one in float (int vs 0.5).
 */
import { tf } from '../../runtime/tfjs.js';
import type { SymbolicArgs } from '../../engine/layer.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import type { BaseLayerArgs, CallArgs, TensorSpec } from '../../engine/types.js';
import { KerasOp, broadcastShapes, opSpec } from './keras_op.js';
import { PyFloat, asPyFloat } from '../../engine/py_float.js';

/** Elementwise comparison of two tensors, or of a tensor with a scalar. */
export abstract class Comparison extends KerasOp {
  /** The scalar operand, when the call gave one (a PyFloat when Keras recorded a float, `0.0`, written back so). */
  other: number | PyFloat | null = null;

  constructor(args: BaseLayerArgs = {}) {
    super(args);
  }

  override apply(inputs: SymbolicTensor | SymbolicTensor[] | (SymbolicTensor | number)[], args?: SymbolicArgs<CallArgs>): SymbolicTensor;
  override apply(inputs: tf.Tensor | tf.Tensor[] | (tf.Tensor | number)[], args?: CallArgs): tf.Tensor;
  override apply(inputs: unknown, args?: unknown): unknown {
    const float = Array.isArray(inputs) && inputs.length === 2 ? asPyFloat(inputs[1]) : null;
    if (Array.isArray(inputs) && inputs.length === 2 && (typeof inputs[1] === 'number' || float !== null)) {
      this.other = float ?? (inputs[1] as number);
      return super.apply(inputs[0] as never, args as never);
    }
    return super.apply(inputs as never, args as never);
  }

  override extraOperands(): unknown[] {
    return this.other === null ? [] : [this.other];
  }

  protected abstract compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const ops = this.operands(inputs, this.other === null ? 2 : 1);
    if (ops.length === 2) return this.compare(ops[0]!, ops[1]!);
    const x = ops[0]!;
    const s = this.other instanceof PyFloat ? this.other.value : this.other!;
    // numpy's weak scalar: the tensor's own type, unless an integer tensor meets a float.
    const asFloat = x.dtype === 'float32' || !Number.isInteger(s) || this.other instanceof PyFloat;
    const a = asFloat && x.dtype !== 'float32' ? tf.cast(x, 'float32') : x.dtype === 'bool' ? tf.cast(x, 'int32') : x;
    return this.compare(a, tf.scalar(s, asFloat ? 'float32' : 'int32'));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const ops = this.operands(inputs, this.other === null ? 2 : 1);
    return opSpec(broadcastShapes(ops.map((o) => o.shape), `${this.className} '${this.name}'`), 'bool');
  }
}

/** `x != y`. */
export class NotEqual extends Comparison {
  static override readonly className = 'NotEqual';
  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.notEqual(a, b);
  }
}

/** `x == y`. */
export class Equal extends Comparison {
  static override readonly className = 'Equal';
  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.equal(a, b);
  }
}

/** `x > y`. */
export class Greater extends Comparison {
  static override readonly className = 'Greater';
  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.greater(a, b);
  }
}

/** `x >= y`. */
export class GreaterEqual extends Comparison {
  static override readonly className = 'GreaterEqual';
  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.greaterEqual(a, b);
  }
}

/** `x < y`. */
export class Less extends Comparison {
  static override readonly className = 'Less';
  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.less(a, b);
  }
}

/** `x <= y`. */
export class LessEqual extends Comparison {
  static override readonly className = 'LessEqual';
  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.lessEqual(a, b);
  }
}
