/**
 * More elementwise operations of Keras 3 (the second set after math_ops.ts):
 * numpy's `log1p`, `expm1`, `sin`, `cos`, `floor`, `ceil`, `round`, `sign`,
 * `reciprocal`, `clip`, `floor_divide` and `mod`; `erf` and `rsqrt` of
 * keras.src.ops.math; and the activations of keras.src.ops.nn (`gelu`,
 * `silu`, `softplus`, `softsign`, `elu`, `leaky_relu`, `relu6`,
 * `hard_sigmoid`, `hard_silu`, `log_sigmoid`); and (the fourth set) `log2`,
 * `log10`, `exp2`, `tan`, `arcsin`, `arccos`, `arctan`, `sinh`, `cosh`,
 * `isnan`, `isinf`, `isfinite` and `nan_to_num`, and `stop_gradient` of
 * keras.src.ops.core.
 *
 * Dtypes are those of Keras's numpy backend: floor, ceil, log1p, expm1, sin
 * and cos of integers or bools give float32; sign, round and clip keep the
 * input's dtype (clip turns bools into int32); floor_divide and mod follow
 * numpy's promotion with weak numbers, as the arithmetic does. Keras's numpy
 * backend computes the nn activations, erf, rsqrt and reciprocal with their
 * constants cast to the input's dtype, so of an int tensor they follow
 * neither the formula nor the int32 dtype Keras declares (gelu of ints is all
 * zeros in float64, elu's alpha 0.5 becomes 0, rsqrt(0) is INT_MIN): Masque
 * takes float32 tensors there and refuses others (`floatOnly`).
 */
import { tf } from '../../runtime/tfjs.js';
import { isTapeOn } from '../../runtime/internals.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { opSpec, refuseStrings } from './keras_op.js';
import { heapView } from '../../ops/heap_view.js';
import { Binary, DataOp, Unary, nanPropagating } from './math_ops.js';

const NN = 'keras.src.ops.nn';
const MATH = 'keras.src.ops.math';

/** NaN stays NaN (wasm's kernels for clipping turn it into a number). */
const keepNaN = (f: (x: tf.Tensor) => tf.Tensor) => (x: tf.Tensor): tf.Tensor => (x.dtype === 'float32' ? tf.where(tf.isNaN(x), x, f(x)) : f(x));

/**
 * numpy's sign by comparisons: wasm's `Sign` gives 0 for every |x| up to
 * float32's epsilon (1.2e-7) and for NaN. NaN and zeros come back as they are.
 */
function sign(x: tf.Tensor): tf.Tensor {
  return tf.where(tf.greater(x, 0), tf.onesLike(x), tf.where(tf.less(x, 0), tf.neg(tf.onesLike(x)), x));
}

/**
 * log1p accurate near 0 (wasm's is log(1 + x), so log1p(1e-8) was 0):
 * log(u) * x / (u - 1) with u = 1 + x, and x itself where u rounds to 1.
 * The division is kept finite there, so the branch not taken has a finite
 * gradient.
 */
function log1p(x: tf.Tensor): tf.Tensor {
  const u = tf.add(x, 1);
  const exact = tf.equal(u, 1);
  const d = tf.where(exact, tf.onesLike(u), tf.sub(u, 1));
  const r = tf.where(exact, x, tf.div(tf.mul(tf.log(u), x), d));
  // inf stays inf (inf / inf would be NaN); -1 gives -inf and below it NaN, as log does.
  return tf.where(tf.equal(x, Infinity), x, r);
}

// numpy's float functions: integer and bool inputs give float32 (toFloat).
export class Log1p extends Unary {
  static override readonly className = 'Log1p';
  static override readonly compute = log1p;
}

export class Expm1 extends Unary {
  static override readonly className = 'Expm1';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.expm1(x);
}

export class Sin extends Unary {
  static override readonly className = 'Sin';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.sin(x);
}

export class Cos extends Unary {
  static override readonly className = 'Cos';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.cos(x);
}

export class Floor extends Unary {
  static override readonly className = 'Floor';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.floor(x);
}

export class Ceil extends Unary {
  static override readonly className = 'Ceil';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.ceil(x);
}

/** `ops.sign`: -1, 0 or 1 in the input's dtype (NaN stays NaN); numpy refuses bools. */
export class Sign extends Unary {
  static override readonly className = 'Sign';
  static override readonly compute = sign;
  static override readonly toFloat = false;
  static override readonly onBool = 'error';
}

// The functions Keras computes in the input's dtype: float32 inputs only (floatOnly).
export class Reciprocal extends Unary {
  static override readonly className = 'Reciprocal';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.reciprocal(x);
  static override readonly floatOnly = true;
}

export class Erf extends Unary {
  static override readonly className = 'Erf';
  static override readonly kerasModule = MATH;
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.erf(x);
  static override readonly floatOnly = true;
}

export class Rsqrt extends Unary {
  static override readonly className = 'Rsqrt';
  static override readonly kerasModule = MATH;
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.rsqrt(x);
  static override readonly floatOnly = true;
}

/** An activation of keras.src.ops.nn: float32 in, float32 out. */
abstract class Activation extends Unary {
  static override readonly kerasModule = NN;
  static override readonly floatOnly = true;
}

export class Silu extends Activation {
  static override readonly className = 'Silu';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));
}

/** numpy's logaddexp(x, 0); tfjs's softplus is the same to float32 rounding, with the gradient sigmoid(x). */
export class Softplus extends Activation {
  static override readonly className = 'Softplus';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.softplus(x);
}

export class LogSigmoid extends Activation {
  static override readonly className = 'LogSigmoid';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.neg(tf.softplus(tf.neg(x)));
}

export class Softsign extends Activation {
  static override readonly className = 'Softsign';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.div(x, tf.add(1, tf.abs(x)));
}

export class Relu6 extends Activation {
  static override readonly className = 'Relu6';
  static override readonly compute = keepNaN((x) => tf.minimum(tf.maximum(x, 0), 6));
}

/** Keras's hard sigmoid, `x / 6 + 0.5` clipped to [0, 1] (NaN stays NaN, as in its two where's). */
function hardSigmoid(x: tf.Tensor): tf.Tensor {
  const y = tf.add(tf.div(x, 6), 0.5);
  return tf.where(tf.lessEqual(y, 0), tf.zerosLike(y), tf.where(tf.greaterEqual(y, 1), tf.onesLike(y), y));
}

export class HardSigmoid extends Activation {
  static override readonly className = 'HardSigmoid';
  static override readonly compute = hardSigmoid;
}

export class HardSilu extends Activation {
  static override readonly className = 'HardSilu';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.mul(x, hardSigmoid(x));
}

export interface GeluArgs extends BaseLayerArgs {
  /** The tanh approximation (Keras's default, true) or the exact erf form. */
  approximate?: boolean;
}

/** `ops.gelu(x, approximate)`, in Keras's float32 steps. */
export class Gelu extends Activation {
  static override readonly className = 'Gelu';
  static override readonly options: OptionTable = { approximate: opt.bool(true) } satisfies OptionsOf<Omit<GeluArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<GeluArgs, keyof BaseLayerArgs>>;

  constructor(args: GeluArgs = {}) {
    super(args);
  }

  protected override run(x: tf.Tensor): tf.Tensor {
    if (!this.args.approximate) return tf.div(tf.mul(x, tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1)), 2);
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(x, tf.mul(0.5, tf.add(1, tf.tanh(inner))));
  }
}

export interface EluArgs extends BaseLayerArgs {
  alpha?: number;
}

/** `ops.elu(x, alpha)`: x where x >= 0, else alpha * expm1(x). */
export class EluOp extends Activation {
  static override readonly className = 'Elu';
  static override readonly options: OptionTable = { alpha: opt.number({ default: 1 }) } satisfies OptionsOf<Omit<EluArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<EluArgs, keyof BaseLayerArgs>>;

  constructor(args: EluArgs = {}) {
    super(args);
  }

  protected override run(x: tf.Tensor): tf.Tensor {
    // expm1 of min(x, 0): the branch not taken stays finite, so its zero gradient is not 0 * Inf.
    return tf.where(tf.greaterEqual(x, 0), x, tf.mul(this.args.alpha, tf.expm1(tf.minimum(x, 0))));
  }
}

export interface LeakyReluArgs extends BaseLayerArgs {
  negativeSlope?: number;
}

/** `ops.leaky_relu(x, negative_slope)`: numpy's maximum(x, slope * x). */
export class LeakyReluOp extends Activation {
  static override readonly className = 'LeakyRelu';
  static override readonly options: OptionTable = { negativeSlope: opt.number({ default: 0.2 }) } satisfies OptionsOf<Omit<LeakyReluArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<LeakyReluArgs, keyof BaseLayerArgs>>;

  constructor(args: LeakyReluArgs = {}) {
    super(args);
  }

  protected override run(x: tf.Tensor): tf.Tensor {
    return nanPropagating((a, b) => tf.maximum(a, b))(x, tf.mul(this.args.negativeSlope, x));
  }
}

export interface RoundArgs extends BaseLayerArgs {
  /** Decimal places (negative: tens, hundreds, ...). */
  decimals?: number;
}

/** `ops.round(x, decimals)`: numpy's, halves to even, in the input's dtype (numpy refuses bools). */
export class Round extends Unary {
  static override readonly className = 'Round';
  static override readonly toFloat = false;
  static override readonly onBool = 'error';
  static override readonly options: OptionTable = { decimals: opt.int({ default: 0, min: -9, max: 9 }) } satisfies OptionsOf<Omit<RoundArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<RoundArgs, keyof BaseLayerArgs>>;

  constructor(args: RoundArgs = {}) {
    super(args);
  }

  protected override outDtype(d: tf.DataType): tf.DataType {
    if (d === 'bool') throw new MasqueError('INVALID_INPUT', `Round '${this.name}': of booleans numpy gives float16 where Keras declares bool; cast to int32 or float32 first.`);
    return super.outDtype(d);
  }

  protected override run(x: tf.Tensor): tf.Tensor {
    const d = this.args.decimals;
    if (x.dtype === 'int32') {
      if (d >= 0) return tf.clone(x);
      // numpy rounds ints to tens, hundreds, ... halves to even, in integers: q = x // f, and r = x - q f decides.
      const f = tf.scalar(10 ** -d, 'int32');
      const q = tf.floorDiv(x, f);
      const twice = tf.mul(tf.sub(x, tf.mul(q, f)), 2);
      const up = tf.logicalOr(tf.greater(twice, f), tf.logicalAnd(tf.equal(twice, f), tf.equal(tf.mod(q, 2), 1)));
      return tf.mul(tf.add(q, tf.cast(up, 'int32')), f);
    }
    // numpy: rint(x * 10^d) / 10^d, or rint(x / 10^-d) * 10^-d, each step in float32.
    return d >= 0 ? tf.div(tf.round(tf.mul(x, 10 ** d)), 10 ** d) : tf.mul(tf.round(tf.div(x, 10 ** -d)), 10 ** -d);
  }
}

export interface ClipArgs extends BaseLayerArgs {
  /** The lower bound (null: none). */
  xMin: number | null;
  /** The upper bound (null: none). */
  xMax: number | null;
}

/** A clip bound: a number (infinities too: Keras writes float('-inf') as -Infinity) or null, not NaN. */
const bound = () =>
  opt.custom<number | null>((v, w, n) => {
    if (v === null || (typeof v === 'number' && !Number.isNaN(v))) return v as number | null;
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a number (or an infinity) or null; received ${describe(v)}.`);
  }, { default: null });

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const toInt32 = (v: number): number => Math.min(Math.max(Math.trunc(v), INT32_MIN), INT32_MAX);

/**
 * `ops.clip(x, x_min, x_max)`: numpy's minimum(maximum(x, x_min), x_max)
 * (x_max wins where the bounds cross; NaN stays NaN), in the input's dtype:
 * bools become int32, and an integer tensor clipped to a fractional bound is
 * clipped in floats and truncated back (numpy 2's astype), so clip(0, 0.5, 2)
 * is 0.
 */
export class Clip extends Unary {
  static override readonly className = 'Clip';
  static override readonly toFloat = false;
  static override readonly onBool = 'int32';
  static override readonly options: OptionTable = {
    xMin: bound(),
    xMax: bound(),
  } satisfies OptionsOf<Omit<ClipArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ClipArgs, keyof BaseLayerArgs>>;

  constructor(args: ClipArgs) {
    super(args);
    if (this.args.xMin === null && this.args.xMax === null) {
      throw new MasqueError('INVALID_ARGUMENT', `Clip '${this.name}': x_min and x_max cannot both be null (numpy: one bound is required).`);
    }
  }

  protected override run(x: tf.Tensor): tf.Tensor {
    const { xMin, xMax } = this.args;
    if (x.dtype === 'int32') return this.clipInts(x, xMin, xMax);
    return keepNaN((v) => {
      let r = v;
      if (xMin !== null) r = tf.maximum(r, xMin);
      if (xMax !== null) r = tf.minimum(r, xMax);
      return r;
    })(x);
  }

  /**
   * numpy's clip of integers by any bounds, in integers (exact for every
   * int32, where float32 is not above 2^24): numpy computes maximum then
   * minimum in float64 and truncates back, so x below x_min becomes
   * trunc(x_min) (or trunc(x_max) when the bounds cross), x above x_max
   * trunc(x_max). Bounds past the int32 range are clamped to it.
   */
  private clipInts(x: tf.Tensor, lo: number | null, hi: number | null): tf.Tensor {
    let r = x;
    if (hi !== null) r = tf.where(tf.greater(x, tf.scalar(toInt32(Math.floor(hi)), 'int32')), tf.fill(x.shape, toInt32(hi), 'int32'), r);
    if (lo !== null) {
      const below = tf.less(x, tf.scalar(toInt32(Math.ceil(lo)), 'int32'));
      r = tf.where(below, tf.fill(x.shape, toInt32(hi !== null && lo > hi ? hi : lo), 'int32'), r);
    }
    return r;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(x.shape, this.outDtype(x.dtype));
  }
}

/**
 * numpy's divmod of floats (npy_divmod), step by step: fmod(a, b) (exact:
 * tfjs's mod of |a| by |b|, given a's sign); where it is nonzero and its sign
 * is not b's, the remainder is fmod + b and the quotient (a - fmod) / b less
 * one; the quotient is then rounded to the nearest integer at or below. So
 * 7 // 0.1 is 69, -1e-9 // 1 is -1 with remainder 1.0 (tfjs's mod gave 0
 * there: fmod + b rounds to b, and it takes that modulo b again), and a
 * finite a by an infinite b is 0 or -1 with a or b as the remainder. A zero
 * divisor gives a / b and NaN.
 */
function floatDivmod(a: tf.Tensor, b: tf.Tensor): { div: tf.Tensor; mod: tf.Tensor } {
  const fmAbs = tf.mod(tf.abs(a), tf.abs(b));
  const fm = tf.where(tf.less(a, 0), tf.neg(fmAbs), fmAbs);
  const adjust = tf.logicalAnd(tf.notEqual(fm, 0), tf.notEqual(tf.less(b, 0), tf.less(fm, 0)));
  const mod = tf.where(adjust, tf.add(fm, b), fm);
  const q = tf.div(tf.sub(a, fm), b);
  const div = tf.where(adjust, tf.sub(q, 1), q);
  const fl = tf.floor(div);
  const rounded = tf.add(fl, tf.cast(tf.greater(tf.sub(div, fl), 0.5), 'float32'));
  return { div: tf.where(tf.equal(b, 0), tf.div(a, b), tf.where(tf.equal(div, 0), div, rounded)), mod };
}

/** An integer division `op` of a by b, 0 where b is 0 (numpy's result, with its warning). */
function byNonzeroInts(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const zero = tf.equal(b, 0);
  return tf.where(zero, tf.zerosLike(tf.add(a, b)), op(a, tf.where(zero, tf.onesLike(b), b)));
}

/** Floor division: numpy's divmod for floats; for integers, floor division. */
function floorDivide(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return a.dtype === 'int32' ? byNonzeroInts(tf.floorDiv, a, b) : floatDivmod(a, b).div;
}

/** Python's remainder (the divisor's sign). */
function pythonMod(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return a.dtype === 'int32' ? byNonzeroInts(tf.mod, a, b) : floatDivmod(a, b).mod;
}

/** `x // y` (`ops.floor_divide`): numpy's promotion with weak numbers; two bools give int32 (numpy: int8). */
export class FloorDivide extends Binary {
  static override readonly className = 'FloorDivide';
  static override readonly compute = floorDivide;
  static override readonly onBools = 'int32';
}

/** `x % y` (`ops.mod`): the remainder with the divisor's sign, as Python's. */
export class Mod extends Binary {
  static override readonly className = 'Mod';
  static override readonly compute = pythonMod;
  static override readonly onBools = 'int32';
}

// The fourth set (twentieth round): more of numpy's float functions (integer and bool inputs give float32).
/**
 * log(x) / log(base), exact where x is a power of the base that float32
 * holds (numpy's log2(8192) is 13; the quotient gave 12.999999): there the
 * integer is added as a correction made outside the tape, so the gradient
 * stays the quotient's.
 */
function logBase(x: tf.Tensor, base: number): tf.Tensor {
  const r = tf.div(tf.log(x), Math.log(base));
  const rv = r.dataSync();
  const xv = heapView(x);
  let exact = false;
  const delta = new Float32Array(rv.length);
  for (let i = 0; i < rv.length; i++) {
    const k = Math.round(rv[i]!);
    if (Number.isFinite(k) && Math.fround(base ** k) === xv[i] && k !== rv[i]) {
      delta[i] = k - rv[i]!;
      exact = true;
    }
  }
  return exact ? tf.add(r, tf.tensor(delta, r.shape, 'float32')) : r;
}

export class Log2 extends Unary {
  static override readonly className = 'Log2';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => logBase(x, 2);
}

export class Log10 extends Unary {
  static override readonly className = 'Log10';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => logBase(x, 10);
}

/** 2^x by tfjs's pow (exp(x ln 2) lost up to 64 ulp near 128; pow is exact at the integers, as numpy's exp2). */
export class Exp2 extends Unary {
  static override readonly className = 'Exp2';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.pow(tf.scalar(2), x);
}

export class Tan extends Unary {
  static override readonly className = 'Tan';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.tan(x);
}

export class Arcsin extends Unary {
  static override readonly className = 'Arcsin';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.asin(x);
}

export class Arccos extends Unary {
  static override readonly className = 'Arccos';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.acos(x);
}

export class Arctan extends Unary {
  static override readonly className = 'Arctan';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.atan(x);
}

export class Sinh extends Unary {
  static override readonly className = 'Sinh';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.sinh(x);
}

export class Cosh extends Unary {
  static override readonly className = 'Cosh';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.cosh(x);
}

/** isnan, isinf and isfinite: a bool per value (integers and bools are finite numbers). */
abstract class ValueTest extends DataOp {
  /** The test on a float32 tensor. */
  protected abstract test(x: tf.Tensor): tf.Tensor;
  /** The answer for every integer or bool. */
  protected abstract readonly forIntegers: boolean;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    refuseStrings(x.dtype, `${this.className} '${this.name}'`);
    return x.dtype === 'float32' ? this.test(x) : tf.fill(x.shape, this.forIntegers ? 1 : 0, 'bool');
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    return opSpec(this.operands(inputs, 1)[0]!.shape, 'bool');
  }
}

export class Isnan extends ValueTest {
  static override readonly className = 'Isnan';
  protected readonly forIntegers = false;
  protected test(x: tf.Tensor): tf.Tensor {
    return tf.isNaN(x);
  }
}

export class Isinf extends ValueTest {
  static override readonly className = 'Isinf';
  protected readonly forIntegers = false;
  protected test(x: tf.Tensor): tf.Tensor {
    return tf.equal(tf.abs(x), Infinity);
  }
}

export class Isfinite extends ValueTest {
  static override readonly className = 'Isfinite';
  protected readonly forIntegers = true;
  protected test(x: tf.Tensor): tf.Tensor {
    return tf.less(tf.abs(x), Infinity); // NaN compares false
  }
}

export interface NanToNumArgs extends BaseLayerArgs {
  /** What NaN becomes. Default 0. */
  nan?: number;
  /** What +inf becomes (null: the largest float32). */
  posinf?: number | null;
  /** What -inf becomes (null: the most negative float32). */
  neginf?: number | null;
}

/** Any number (infinities and NaN too) or null. */
const anyNumberOrNull = () =>
  opt.custom<number | null>((v, w, n) => {
    if (v === null || typeof v === 'number') return v;
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a number or null; received ${describe(v)}.`);
  }, { default: null });

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** `ops.nan_to_num(x, nan=0.0, posinf=None, neginf=None)`: numpy's; integers and bools come back as they are. */
export class NanToNum extends DataOp {
  static override readonly className = 'NanToNum';
  static override readonly options: OptionTable = {
    // Any number, as numpy takes (nan=np.inf, even NaN for an infinity).
    nan: opt.anyNumber({ default: 0 }),
    posinf: anyNumberOrNull(),
    neginf: anyNumberOrNull(),
  } satisfies OptionsOf<Omit<NanToNumArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<NanToNumArgs, keyof BaseLayerArgs>>;

  constructor(args: NanToNumArgs = {}) {
    super(args);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    if (x.dtype !== 'float32') return tf.clone(x);
    const { nan, posinf, neginf } = this.args;
    const fill = (v: number) => tf.fill(x.shape, Math.fround(v));
    return tf.where(tf.isNaN(x), fill(nan), tf.where(tf.equal(x, Infinity), fill(posinf ?? FLOAT32_MAX), tf.where(tf.equal(x, -Infinity), fill(neginf ?? -FLOAT32_MAX), x)));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(x.shape, x.dtype);
  }
}

/**
 * `ops.stop_gradient(x)` of keras.src.ops.core: x itself, through which no
 * gradient flows (a straight-through estimator's `x + stop_gradient(q - x)`).
 */
export class StopGradient extends DataOp {
  static override readonly className = 'StopGradient';
  static override readonly kerasModule = 'keras.src.ops.core';

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    if (!isTapeOn()) return tf.clone(x);
    // Integers and bools too (tfjs passes gradients through casts to int and back, TensorFlow and JAX do not):
    // a tensor made from the values is not on the tape.
    if (x.dtype !== 'float32') return tf.tensor(x.dataSync() as Int32Array | Uint8Array, x.shape, x.dtype);
    return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const v = args[0] as tf.Tensor;
      return { value: tf.clone(v), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
    })(x);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(x.shape, x.dtype);
  }
}
