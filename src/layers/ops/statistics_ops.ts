/**
 * More reductions of Keras 3 (after math_ops.ts's sum, mean, max and min):
 * numpy's `prod`, `var`, `std`, `argmax`, `argmin` and `cumsum`,
 * `logsumexp` of keras.src.ops.math, and `normalize` of keras.src.ops.nn,
 * with the numpy backend's dtypes: prod and cumsum keep the input's dtype
 * (bools give int32; `dtype` overrides), var, std, logsumexp and normalize
 * give float32, argmax and argmin int32.
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { flatShape, kerasDtype, opSpec } from './keras_op.js';
import { DataOp, NumericReduce, asTensor, type NumericReduceArgs } from './math_ops.js';
import { distinctAxes, nullableAxes, resolveAxes } from './logical.js';
import { dtypeOption } from './array_ops.js';
import { OverAxes } from './gather_ops.js';

export interface ProdArgs extends NumericReduceArgs {
  /** The dtype to multiply in (null: the input's, bools as int32). */
  dtype?: string | null;
}

/** `ops.prod(x, axis, keepdims, dtype)`. */
export class Prod extends NumericReduce {
  static override readonly className = 'Prod';
  static override readonly options: OptionTable = { axis: nullableAxes(null), keepdims: opt.bool(false), dtype: dtypeOption() } satisfies OptionsOf<Omit<ProdArgs, keyof BaseLayerArgs | 'initial'>>;
  declare readonly args: Filled<Omit<ProdArgs, keyof BaseLayerArgs | 'initial'>> & { initial: null };

  constructor(args: ProdArgs = {}) {
    super(args);
  }

  protected reduce(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return tf.prod(x, axes, keepdims);
  }

  protected outDtype(d: tf.DataType): tf.DataType {
    const given = kerasDtype(this.args.dtype);
    if (given === 'bool') throw new MasqueError('INVALID_ARGUMENT', `Prod '${this.name}': dtype 'bool' is not a product's dtype; use 'int32'.`);
    if (given === 'string') throw new MasqueError('INVALID_ARGUMENT', `Prod '${this.name}': dtype 'string' is not a product's dtype.`);
    return given ?? (d === 'bool' ? 'int32' : d);
  }
}

/** The mean over `axes` with the axes kept, and the mean squared deviation from it (numpy's var, in float32). */
function variance(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
  const mean = tf.mean(x, axes, true);
  return tf.mean(tf.square(tf.sub(x, mean)), axes, keepdims);
}

export class Var extends NumericReduce {
  static override readonly className = 'Var';
  protected reduce(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return variance(x, axes, keepdims);
  }
  protected outDtype(): tf.DataType {
    return 'float32';
  }
}

export class Std extends NumericReduce {
  static override readonly className = 'Std';
  protected reduce(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return tf.sqrt(variance(x, axes, keepdims));
  }
  protected outDtype(): tf.DataType {
    return 'float32';
  }
}

/**
 * `ops.logsumexp` (keras.src.ops.math, scipy's): log(sum(exp(x - m))) + m
 * with m the largest value where it is finite and 0 where not, so a row of
 * -inf gives -inf and a row holding inf gives inf. Integers are summed as
 * float32.
 */
export class Logsumexp extends NumericReduce {
  static override readonly className = 'Logsumexp';
  static override readonly kerasModule = 'keras.src.ops.math';
  protected reduce(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    if (axes.some((a) => x.shape[a] === 0)) {
      throw new MasqueError('INVALID_INPUT', `Logsumexp '${this.name}': cannot reduce an empty axis of shape ${JSON.stringify(x.shape)} (scipy raises here too).`);
    }
    const m0 = tf.max(x, axes, true);
    // The shift's gradient cancels (its two paths sum to zero), so it needs no stop.
    const m = tf.where(tf.isFinite(m0), m0, tf.zerosLike(m0));
    const r = tf.add(tf.log(tf.sum(tf.exp(tf.sub(x, m)), axes, true)), m);
    return keepdims ? r : tf.squeeze(r, axes);
  }
  protected outDtype(): tf.DataType {
    return 'float32';
  }
}

export interface ArgExtremeArgs extends BaseLayerArgs {
  /** One axis, or null: over the flattened tensor. */
  axis?: number | null;
  keepdims?: boolean;
}

/**
 * `ops.argmax` / `ops.argmin`: the first index of the largest (smallest)
 * value, int32. As Keras's numpy backend, -0.0 counts as below 0.0, and a
 * NaN wins (numpy returns the first NaN).
 */
abstract class ArgExtreme extends DataOp {
  static override readonly options: OptionTable = { axis: opt.nullableInt({ default: null }), keepdims: opt.bool(false) } satisfies OptionsOf<Omit<ArgExtremeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ArgExtremeArgs, keyof BaseLayerArgs>>;
  protected abstract find(x: tf.Tensor, axis: number): tf.Tensor;

  constructor(args: ArgExtremeArgs = {}) {
    super(args);
  }

  private where(): string {
    return `${this.className} '${this.name}'`;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x0 = this.operands(inputs, 1)[0]!;
    const shape = this.outShape(x0.shape) as number[];
    const flat = this.args.axis === null;
    const x1 = flat ? tf.reshape(x0, [-1]) : x0;
    const axis = flat ? 0 : resolveAxes(this.args.axis, x0.rank, this.where())[0]!;
    if (x1.shape[axis] === 0) throw new MasqueError('INVALID_INPUT', `${this.where()}: an empty axis has no ${this.className.toLowerCase()} (numpy raises); input shape ${JSON.stringify(x0.shape)}.`);
    let x = x1.dtype === 'bool' ? tf.cast(x1, 'int32') : x1;
    if (x.dtype === 'float32') {
      // -0.0 by atan2's sign (-pi against pi): 1 / x would send 0 * Inf = NaN back to x under a tape.
      const negZero = tf.logicalAnd(tf.equal(x, 0), tf.less(tf.atan2(x, tf.scalar(-1)), 0));
      x = tf.where(negZero, tf.fill(x.shape, -1.1754943508222875e-38), x);
      const nan = tf.isNaN(x);
      // The NaN indicator in float32: tfjs's gradient of argMax (zeros) fails for an int input under a tape.
      const firstNaN = tf.argMax(tf.cast(nan, 'float32'), axis);
      return tf.reshape(tf.where(tf.any(nan, axis), firstNaN, this.find(x, axis)), shape);
    }
    return tf.reshape(this.find(x, axis), shape);
  }

  private outShape(shape: Shape): Shape {
    if (this.args.axis === null) return this.args.keepdims ? shape.map(() => 1) : [];
    const a = resolveAxes(this.args.axis, shape.length, this.where())[0]!;
    return this.args.keepdims ? shape.map((d, i) => (i === a ? 1 : d)) : shape.filter((_, i) => i !== a);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    return opSpec(this.outShape(this.operands(inputs, 1)[0]!.shape), 'int32');
  }
}

export class Argmax extends ArgExtreme {
  static override readonly className = 'Argmax';
  protected find(x: tf.Tensor, axis: number): tf.Tensor {
    return tf.argMax(x, axis);
  }
}

export class Argmin extends ArgExtreme {
  static override readonly className = 'Argmin';
  protected find(x: tf.Tensor, axis: number): tf.Tensor {
    return tf.argMin(x, axis);
  }
}

export interface CumulativeArgs extends BaseLayerArgs {
  /** The axis, or null: over the flattened tensor. */
  axis?: number | null;
  /** The dtype to accumulate in (null: the input's, bools as int32). */
  dtype?: string | null;
}

/** Cumsum and Cumprod: running sums or products along an axis (null: of the flattened tensor), in the input's dtype (bools in int32) or `dtype`. */
export abstract class Cumulative extends DataOp {
  static override readonly options: OptionTable = { axis: opt.nullableInt({ default: null }), dtype: dtypeOption() } satisfies OptionsOf<Omit<CumulativeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<CumulativeArgs, keyof BaseLayerArgs>>;
  /** 'sum' or 'product', for messages. */
  protected abstract readonly what: string;

  constructor(args: CumulativeArgs = {}) {
    super(args);
  }

  /** The running values of `v` (already in the output's dtype, not empty) along `axis`. */
  protected abstract accumulate(v: tf.Tensor, axis: number): tf.Tensor;

  private outDtype(d: tf.DataType): tf.DataType {
    const given = kerasDtype(this.args.dtype) ?? d;
    if (given === 'string') throw new MasqueError('INVALID_ARGUMENT', `${this.className} '${this.name}': dtype 'string' is not a ${this.what}'s dtype.`);
    return given === 'bool' ? 'int32' : given;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const v = asTensor(this.args.axis === null ? tf.reshape(x, [-1]) : x, this.outDtype(x.dtype));
    const axis = this.args.axis === null ? 0 : resolveAxes(this.args.axis, x.rank, `${this.className} '${this.name}'`)[0]!;
    if (v.size === 0) return tf.clone(v);
    return this.accumulate(v, axis);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    if (this.args.axis !== null) resolveAxes(this.args.axis, x.shape.length, `${this.className} '${this.name}'`);
    const shape = this.args.axis !== null ? x.shape : flatShape(x.shape);
    return opSpec(shape, this.outDtype(x.dtype));
  }
}

/** `ops.cumsum(x, axis, dtype)`. */
export class Cumsum extends Cumulative {
  static override readonly className = 'Cumsum';
  protected readonly what = 'sum';

  protected accumulate(v: tf.Tensor, axis: number): tf.Tensor {
    if (axis === v.rank - 1) return tf.cumsum(v, axis);
    // Over the last axis and back: tfjs's gradient of cumsum over another axis transposes its result twice (a wrong shape).
    const perm = Array.from({ length: v.rank }, (_, i) => i);
    perm[axis] = v.rank - 1;
    perm[v.rank - 1] = axis;
    return tf.transpose(tf.cumsum(tf.transpose(v, perm), v.rank - 1), perm);
  }
}

export interface NormalizeArgs extends BaseLayerArgs {
  /** The axis or axes of each norm (null: all). Default -1. */
  axis?: number | number[] | null;
  /** The norm's order: an integer >= 1. Default 2. */
  order?: number;
  /** The smallest norm divided by (null: Keras's epsilon, 1e-7). */
  epsilon?: number | null;
}

/**
 * `ops.normalize(x, axis, order, epsilon)` (keras.src.ops.nn): x divided by
 * its norm over `axis`, the norm no smaller than epsilon. Order 2 is Keras's
 * `x * min(rsqrt(sum(x^2)), 1 / epsilon)`; other orders are numpy's vector
 * norms, over one axis.
 */
export class Normalize extends DataOp {
  static override readonly className = 'Normalize';
  static override readonly kerasModule = 'keras.src.ops.nn';
  static override readonly options: OptionTable = {
    axis: nullableAxes(-1),
    order: opt.int({ default: 2, min: 1 }),
    epsilon: opt.nullableNumber({ default: null, min: 0, minOpen: true }),
  } satisfies OptionsOf<Omit<NormalizeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<NormalizeArgs, keyof BaseLayerArgs>>;

  constructor(args: NormalizeArgs = {}) {
    super(args);
  }

  private axes(rank: number): number[] {
    const where = `Normalize '${this.name}'`;
    const axes = distinctAxes(this.args.axis, Math.max(rank, 1), where);
    if (this.args.order !== 2 && (this.args.axis === null || axes.length !== 1)) {
      throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: order ${this.args.order} is a vector norm over one axis; received axis ${describe(this.args.axis)} (numpy takes a matrix norm over two).`);
    }
    return axes;
  }

  /**
   * Order 2 is Keras's x * rsqrt(sum(x^2)) in the input's dtype, so of an int
   * tensor Keras gives zeros (rsqrt truncated): float32 only, as for the
   * other functions Keras computes in the input's dtype.
   */
  private checkDtype(dtype: tf.DataType): void {
    if (this.args.order === 2 && dtype !== 'float32') {
      throw new MasqueError('INVALID_INPUT', `Normalize '${this.name}' of order 2 takes a float32 tensor; received ${dtype} (Keras takes its rsqrt in the input's dtype: zeros for ints). Cast the input to float32 first.`);
    }
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x0 = this.operands(inputs, 1)[0]!;
    this.checkDtype(x0.dtype);
    const x = asTensor(x0.rank === 0 ? tf.reshape(x0, [1]) : x0, 'float32');
    const axes = this.axes(x0.rank);
    const eps = this.args.epsilon ?? 1e-7;
    if (this.args.order === 2) {
      // Keras: x * min(rsqrt(s), 1 / eps), rsqrt(0) being inf. Selected rather than taken as a minimum, so a zero
      // row's rsqrt (taken of 1 instead) sends back no 0 * Inf.
      const s = tf.sum(tf.square(x), axes, true);
      const cap = tf.scalar(1 / eps);
      const root = tf.rsqrt(tf.where(tf.greater(s, 0), s, tf.onesLike(s)));
      return tf.mul(x, tf.where(tf.logicalAnd(tf.greater(s, 0), tf.less(root, cap)), root, tf.broadcastTo(cap, s.shape)));
    }
    const p = this.args.order;
    const abs = tf.abs(x);
    const norm = p === 1 ? tf.sum(abs, axes, true) : tf.pow(tf.sum(tf.pow(abs, p), axes, true), 1 / p);
    return tf.div(x, tf.maximum(norm, eps));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    this.checkDtype(x.dtype);
    this.axes(x.shape.length);
    return opSpec(x.shape.length === 0 ? [1] : x.shape, 'float32');
  }
}

/** `ops.count_nonzero(x, axis=None)`: int32 counts of the values other than 0 (False); NaN counts. */
export class CountNonzero extends OverAxes {
  static override readonly className = 'CountNonzero';

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const axes = this.axes(x.rank);
    const nonzero = tf.cast(x.dtype === 'bool' ? x : tf.notEqual(x, tf.scalar(0, x.dtype)), 'int32');
    return x.size === 0 ? tf.zeros(x.shape.filter((_, i) => !axes.includes(i)), 'int32') : tf.sum(nonzero, axes);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    const axes = this.axes(x.shape.length);
    return opSpec(x.shape.filter((_, i) => !axes.includes(i)), 'int32');
  }
}
