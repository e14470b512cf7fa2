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
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

/**
 * A Keras operation recorded as a layer. Keras saves it with module
 * `keras.src.ops.numpy`, a config of its name and its own arguments only,
 * and its operands as separate positional arguments of the call.
 */
export abstract class KerasOp extends Layer<CallArgs> {
  static override readonly options = {} satisfies OptionsOf<Record<never, never>>;
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

  /** The operands' count, checked: two tensors, or one tensor and the scalar. */
  private checkOperands<T>(inputs: T | T[]): T[] {
    if (Array.isArray(inputs)) {
      if (inputs.length !== 2) throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}' compares two tensors; received ${inputs.length}.`);
      return inputs;
    }
    if (this.other === null) throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}' needs two operands: [x, y] or [x, scalar].`);
    return [inputs];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = this.checkOperands(inputs) as [tf.Tensor, tf.Tensor | undefined];
    return this.compare(a, b ?? tf.scalar(this.other!, a.dtype === 'bool' ? 'float32' : a.dtype));
  }

  /** A bool tensor of the operands' broadcast shape. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const [a, b] = this.checkOperands(inputs) as [TensorSpec, TensorSpec | undefined];
    return { shape: b === undefined ? a.shape : broadcastShapes(a.shape, b.shape, `${this.className} '${this.name}'`), dtype: 'bool', mask: null };
  }
}

/** Numpy broadcasting of two shapes (aligned on the right; null is unknown). */
function broadcastShapes(a: Shape, b: Shape, where: string): Shape {
  const n = Math.max(a.length, b.length);
  const pa = [...new Array<number>(n - a.length).fill(1), ...a];
  const pb = [...new Array<number>(n - b.length).fill(1), ...b];
  return pa.map((x, i) => {
    const y = pb[i]!;
    if (x === y || y === 1) return x;
    if (x === 1) return y;
    if (x === null || y === null) return x ?? y;
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the operands' shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast.`);
  });
}

/** `x != y` (Keras's `ops.not_equal`). */
export class NotEqual extends Comparison {
  static override readonly className = 'NotEqual';

  constructor(args: BaseLayerArgs = {}) {
    super(args);
  }

  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.notEqual(a, b);
  }
}

/** `x == y` (Keras's `ops.equal`). */
export class Equal extends Comparison {
  static override readonly className = 'Equal';

  constructor(args: BaseLayerArgs = {}) {
    super(args);
  }

  protected compare(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.equal(a, b);
  }
}

export interface ReduceArgs extends BaseLayerArgs {
  axis?: number | number[] | null;
  keepdims?: boolean;
}

type ReduceOwn = Omit<ReduceArgs, keyof BaseLayerArgs>;

/** Logical reduction (Keras's `ops.any` / `ops.all`). */
abstract class LogicalReduce extends KerasOp {
  static override readonly options = {
    axis: opt.custom<number | number[] | null>(
      (v, w, n) => {
        if (v === null || Number.isInteger(v)) return v as number | null;
        if (Array.isArray(v) && v.every((a) => Number.isInteger(a))) return [...(v as number[])];
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer, a list of integers or null; received ${describe(v)}.`);
      },
      { default: null },
    ),
    keepdims: opt.bool(false),
  } satisfies OptionsOf<ReduceOwn>;
  declare readonly args: Filled<ReduceOwn>;

  constructor(args: ReduceArgs = {}) {
    super(args);
  }

  protected abstract reduce(x: tf.Tensor, axis: number | number[] | undefined, keepdims: boolean): tf.Tensor;

  /** The reduced axes for an input of this shape, checked. */
  private axes(shape: Shape): number[] {
    const given = this.args.axis;
    const axes = given === null ? shape.map((_, i) => i) : (Array.isArray(given) ? given : [given]).map((a) => (a < 0 ? a + shape.length : a));
    if (axes.some((a) => a < 0 || a >= shape.length)) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.className} '${this.name}': axis ${describe(given)} is out of range for an input of shape ${formatShape(shape)}.`);
    }
    return axes;
  }

  call(x: tf.Tensor): tf.Tensor {
    this.axes(x.shape);
    const b = x.dtype === 'bool' ? x : tf.notEqual(x, tf.scalar(0, x.dtype));
    return this.reduce(b, this.args.axis ?? undefined, this.args.keepdims);
  }

  /** A bool tensor without the reduced axes (or with them as 1 with keepdims). */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `${this.className} '${this.name}'`);
    const axes = this.axes(x.shape);
    const shape = this.args.keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return { shape, dtype: 'bool', mask: null };
  }

  override opConfig(): Record<string, unknown> {
    return { axis: this.args.axis, keepdims: this.args.keepdims };
  }
}

export class Any extends LogicalReduce {
  static override readonly className = 'Any';

  protected reduce(x: tf.Tensor, axis: number | number[] | undefined, keepdims: boolean): tf.Tensor {
    return tf.any(x, axis, keepdims);
  }
}

export class All extends LogicalReduce {
  static override readonly className = 'All';

  protected reduce(x: tf.Tensor, axis: number | number[] | undefined, keepdims: boolean): tf.Tensor {
    return tf.all(x, axis, keepdims);
  }
}
