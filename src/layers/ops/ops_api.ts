/**
 * `ops`: Keras's operations (`keras.ops`) for Masque models. Called on
 * symbolic tensors (from `Input`), each adds to the graph the operation Keras
 * records for it, so a Functional model can compute between layers as a
 * Keras one does (`ops.sum(ops.multiply(e, m), { axis: 1 })`), and saves as
 * Keras's operations (Keras loads the file). Called on tensors, each computes
 * at once, with Keras's numpy semantics (weak numbers, truthy casts to bool).
 *
 * As in Keras, an operation passes no mask on; a masked tensor reaching one
 * follows the mask policy (MASK_NOT_SUPPORTED by default: consume the mask
 * first, or apply it yourself and set maskPolicy 'ignore').
 */
import type { tf } from '../../runtime/tfjs.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import { MasqueError, describe } from '../../errors.js';
import type { KerasOp } from './keras_op.js';
import { Equal, Greater, GreaterEqual, Less, LessEqual, NotEqual, type Comparison } from './comparison.js';
import { All, Any, LogicalAnd, LogicalNot, LogicalOr, LogicalXor } from './logical.js';
import { Cast, ConcatenateOp, ExpandDims, OnesLike, Squeeze, ZerosLike } from './array_ops.js';
import {
  Absolute, AddOp, Divide, Exp, GetItem, Log, LogSoftmax, Matmul, Max, MaximumOp, Mean, Min, MinimumOp, MultiplyOp, Negative, Power, ReluOp, ReshapeOp,
  SigmoidOp, SoftmaxOp, Sqrt, Square, SubtractOp, Sum, Tanh, TransposeOp, TrueDivide, Where,
} from './math_ops.js';
import {
  Ceil, Clip, Cos, EluOp, Erf, Expm1, Floor, FloorDivide, Gelu, HardSigmoid, HardSilu, LeakyReluOp, Log1p, LogSigmoid, Mod, Reciprocal, Relu6, Round, Rsqrt, Sign, Silu, Sin,
  Softplus, Softsign, Log2, Log10, Exp2, Tan, Arcsin, Arccos, Arctan, Sinh, Cosh, Isnan, Isinf, Isfinite, NanToNum, StopGradient,
} from './elementwise_ops.js';
import { Argmax, Argmin, CountNonzero, Cumsum, Logsumexp, Normalize, Prod, Std, Var } from './statistics_ops.js';
import { Flip, Moveaxis, OneHot, Pad, Repeat, Roll, Stack, Swapaxes, Take, Tile, Tril, Triu } from './gather_ops.js';
import { Einsum } from './einsum_ops.js';
import { Argsort, Cumprod, Sort, Split, TakeAlongAxis, TopK, Unstack } from './order_ops.js';
import { Diagonal, DotOp, Outer, Tensordot, Trace } from './product_ops.js';

/** A tensor, or a symbolic tensor of a model being built. */
type T = tf.Tensor | SymbolicTensor;

/** What an op returns: a symbolic tensor for symbolic operands, else a tensor. */
type Out<A> = A extends SymbolicTensor ? SymbolicTensor : tf.Tensor;

function run<R>(op: KerasOp, inputs: unknown): R {
  return op.apply(inputs as never) as R;
}

function binary<A extends T>(cls: new () => KerasOp, a: A | number, b: A | number): Out<A> {
  return run(new cls(), [a, b]);
}

function unary<A extends T>(cls: new () => KerasOp, x: A): Out<A> {
  return run(new cls(), x);
}

export interface AxisOptions {
  /** The axis (negative counts from the end), several taken together, or null for all. Default -1. */
  axis?: number | number[] | null;
}

export interface ReduceOptions {
  /** An axis, a list of axes, or null for all (the default). */
  axis?: number | number[] | null;
  /** Keep the reduced axes with size 1. Default false. */
  keepdims?: boolean;
}

/** One entry of an index: an integer, `slice(...)`, `null` (a new axis) or `'...'`. */
export type IndexEntry = number | null | '...' | { readonly class_name: '__slice__'; readonly config: { start: number | null; stop: number | null; step: number | null } };

/** Python's `start:stop:step` for `getItem` (null or omitted: Python's None). */
export function slice(start: number | null = null, stop: number | null = null, step: number | null = null): IndexEntry {
  return { class_name: '__slice__', config: { start, stop, step } };
}

/** A comparison with a number on the left is the mirrored one with the number on the right (`0 < x` is `x > 0`). */
function compare<A extends T>(cls: new () => Comparison, mirrored: new () => Comparison, a: A | number, b: A | number): Out<A> {
  if (typeof a === 'number' && typeof b !== 'number') return run(new mirrored(), [b, a]);
  return run(new cls(), [a, b]);
}

/** Keras's operations, camelCased (`ops.logSoftmax`, `ops.getItem`), for symbolic tensors and tensors. */
export const ops = {
  add: <A extends T>(a: A | number, b: A | number): Out<A> => binary(AddOp, a, b),
  subtract: <A extends T>(a: A | number, b: A | number): Out<A> => binary(SubtractOp, a, b),
  multiply: <A extends T>(a: A | number, b: A | number): Out<A> => binary(MultiplyOp, a, b),
  /** `a / b`, always float32. */
  divide: <A extends T>(a: A | number, b: A | number): Out<A> => binary(Divide, a, b),
  trueDivide: <A extends T>(a: A | number, b: A | number): Out<A> => binary(TrueDivide, a, b),
  maximum: <A extends T>(a: A | number, b: A | number): Out<A> => binary(MaximumOp, a, b),
  minimum: <A extends T>(a: A | number, b: A | number): Out<A> => binary(MinimumOp, a, b),
  power: <A extends T>(a: A | number, b: A | number): Out<A> => binary(Power, a, b),
  negative: <A extends T>(x: A): Out<A> => unary(Negative, x),
  abs: <A extends T>(x: A): Out<A> => unary(Absolute, x),
  square: <A extends T>(x: A): Out<A> => unary(Square, x),
  sqrt: <A extends T>(x: A): Out<A> => unary(Sqrt, x),
  exp: <A extends T>(x: A): Out<A> => unary(Exp, x),
  log: <A extends T>(x: A): Out<A> => unary(Log, x),
  tanh: <A extends T>(x: A): Out<A> => unary(Tanh, x),
  sigmoid: <A extends T>(x: A): Out<A> => unary(SigmoidOp, x),
  relu: <A extends T>(x: A): Out<A> => unary(ReluOp, x),
  /** Over `axis` (default -1); several axes are taken together, null takes all. */
  softmax: <A extends T>(x: A, options: AxisOptions = {}): Out<A> => run(new SoftmaxOp(options), x),
  logSoftmax: <A extends T>(x: A, options: AxisOptions = {}): Out<A> => run(new LogSoftmax(options), x),
  sum: <A extends T>(x: A, options: ReduceOptions = {}): Out<A> => run(new Sum(options), x),
  mean: <A extends T>(x: A, options: ReduceOptions = {}): Out<A> => run(new Mean(options), x),
  max: <A extends T>(x: A, options: ReduceOptions & { initial?: number | null } = {}): Out<A> => run(new Max(options), x),
  min: <A extends T>(x: A, options: ReduceOptions & { initial?: number | null } = {}): Out<A> => run(new Min(options), x),
  any: <A extends T>(x: A, options: ReduceOptions = {}): Out<A> => run(new Any(options), x),
  all: <A extends T>(x: A, options: ReduceOptions = {}): Out<A> => run(new All(options), x),
  /** Permutes the axes (null or omitted: reverses them). */
  transpose: <A extends T>(x: A, axes: number[] | null = null): Out<A> => run(new TransposeOp({ axes }), x),
  /** One entry of `newshape` may be -1 (inferred); the batch axis is part of it. */
  reshape: <A extends T>(x: A, newshape: number[]): Out<A> => run(new ReshapeOp({ newshape }), x),
  expandDims: <A extends T>(x: A, axis: number | number[]): Out<A> => run(new ExpandDims({ axis }), x),
  squeeze: <A extends T>(x: A, axis: number | number[] | null = null): Out<A> => run(new Squeeze({ axis }), x),
  concatenate: <A extends T>(xs: A[], options: { axis?: number } = {}): Out<A> => run(new ConcatenateOp({ axis: options.axis ?? 0 }), xs),
  matmul: <A extends T>(a: A, b: A): Out<A> => run(new Matmul(), [a, b]),
  /** `x` where `condition` holds, else `y` (numbers allowed; broadcast). */
  where: <A extends T>(condition: A, x: A | number, y: A | number): Out<A> => run(new Where(), [condition, x, y]),
  /** A cast by Keras's dtype name ('float32', 'int32', 'bool', ...); to bool is truthiness. */
  cast: <A extends T>(x: A, dtype: string): Out<A> => run(new Cast({ dtype }), x),
  notEqual: <A extends T>(a: A | number, b: A | number): Out<A> => compare(NotEqual, NotEqual, a, b),
  equal: <A extends T>(a: A | number, b: A | number): Out<A> => compare(Equal, Equal, a, b),
  greater: <A extends T>(a: A | number, b: A | number): Out<A> => compare(Greater, Less, a, b),
  greaterEqual: <A extends T>(a: A | number, b: A | number): Out<A> => compare(GreaterEqual, LessEqual, a, b),
  less: <A extends T>(a: A | number, b: A | number): Out<A> => compare(Less, Greater, a, b),
  lessEqual: <A extends T>(a: A | number, b: A | number): Out<A> => compare(LessEqual, GreaterEqual, a, b),
  logicalAnd: <A extends T>(a: A, b: A): Out<A> => run(new LogicalAnd(), [a, b]),
  logicalOr: <A extends T>(a: A, b: A): Out<A> => run(new LogicalOr(), [a, b]),
  logicalXor: <A extends T>(a: A, b: A): Out<A> => run(new LogicalXor(), [a, b]),
  logicalNot: <A extends T>(x: A): Out<A> => run(new LogicalNot(), x),
  zerosLike: <A extends T>(x: A, dtype: string | null = null): Out<A> => run(new ZerosLike({ dtype }), x),
  onesLike: <A extends T>(x: A, dtype: string | null = null): Out<A> => run(new OnesLike({ dtype }), x),
  /** `x[key]` as numpy indexes: `ops.getItem(x, [ops.slice(), -1])` is `x[:, -1]`. */
  getItem: <A extends T>(x: A, key: IndexEntry | IndexEntry[]): Out<A> => {
    const toKeras = (e: unknown): unknown => {
      if (e === '...') return { class_name: '__ellipsis__', config: {} };
      if (e === null || Number.isInteger(e) || (typeof e === 'object' && (e as { class_name?: unknown }).class_name === '__slice__')) return e;
      throw new MasqueError('INVALID_ARGUMENT', `ops.getItem: an index entry must be an integer, ops.slice(start, stop, step), null (a new axis) or '...'; received ${describe(e)}.`);
    };
    return run(new GetItem(), [x, Array.isArray(key) ? key.map(toKeras) : toKeras(key)]);
  },
  slice,
  // the second set
  log1p: <A extends T>(x: A): Out<A> => unary(Log1p, x),
  expm1: <A extends T>(x: A): Out<A> => unary(Expm1, x),
  sin: <A extends T>(x: A): Out<A> => unary(Sin, x),
  cos: <A extends T>(x: A): Out<A> => unary(Cos, x),
  floor: <A extends T>(x: A): Out<A> => unary(Floor, x),
  ceil: <A extends T>(x: A): Out<A> => unary(Ceil, x),
  sign: <A extends T>(x: A): Out<A> => unary(Sign, x),
  /** Halves to even, as numpy's; `decimals` may be negative. */
  round: <A extends T>(x: A, decimals = 0): Out<A> => run(new Round({ decimals }), x),
  /** Bounds may be null (none); an int tensor stays int32. */
  clip: <A extends T>(x: A, xMin: number | null, xMax: number | null): Out<A> => run(new Clip({ xMin, xMax }), x),
  floorDivide: <A extends T>(a: A | number, b: A | number): Out<A> => binary(FloorDivide, a, b),
  /** The remainder with the divisor's sign, as Python's `%`. */
  mod: <A extends T>(a: A | number, b: A | number): Out<A> => binary(Mod, a, b),
  /** These take float32 tensors (Keras computes them in the input's dtype). */
  reciprocal: <A extends T>(x: A): Out<A> => unary(Reciprocal, x),
  erf: <A extends T>(x: A): Out<A> => unary(Erf, x),
  rsqrt: <A extends T>(x: A): Out<A> => unary(Rsqrt, x),
  silu: <A extends T>(x: A): Out<A> => unary(Silu, x),
  softplus: <A extends T>(x: A): Out<A> => unary(Softplus, x),
  logSigmoid: <A extends T>(x: A): Out<A> => unary(LogSigmoid, x),
  softsign: <A extends T>(x: A): Out<A> => unary(Softsign, x),
  relu6: <A extends T>(x: A): Out<A> => unary(Relu6, x),
  hardSigmoid: <A extends T>(x: A): Out<A> => unary(HardSigmoid, x),
  hardSilu: <A extends T>(x: A): Out<A> => unary(HardSilu, x),
  /** The tanh approximation unless `approximate: false`. */
  gelu: <A extends T>(x: A, options: { approximate?: boolean } = {}): Out<A> => run(new Gelu(options), x),
  elu: <A extends T>(x: A, options: { alpha?: number } = {}): Out<A> => run(new EluOp(options), x),
  leakyRelu: <A extends T>(x: A, options: { negativeSlope?: number } = {}): Out<A> => run(new LeakyReluOp(options), x),
  prod: <A extends T>(x: A, options: ReduceOptions & { dtype?: string | null } = {}): Out<A> => run(new Prod(options), x),
  var: <A extends T>(x: A, options: ReduceOptions = {}): Out<A> => run(new Var(options), x),
  std: <A extends T>(x: A, options: ReduceOptions = {}): Out<A> => run(new Std(options), x),
  logsumexp: <A extends T>(x: A, options: ReduceOptions = {}): Out<A> => run(new Logsumexp(options), x),
  /** int32 indices; `axis` null (the default) searches the flattened tensor. */
  argmax: <A extends T>(x: A, options: { axis?: number | null; keepdims?: boolean } = {}): Out<A> => run(new Argmax(options), x),
  argmin: <A extends T>(x: A, options: { axis?: number | null; keepdims?: boolean } = {}): Out<A> => run(new Argmin(options), x),
  /** `axis` null (the default) sums the flattened tensor. */
  cumsum: <A extends T>(x: A, options: { axis?: number | null; dtype?: string | null } = {}): Out<A> => run(new Cumsum(options), x),
  /** x over its norm along `axis` (default -1; `order` 2, `epsilon` 1e-7). */
  normalize: <A extends T>(x: A, options: { axis?: number | number[] | null; order?: number; epsilon?: number | null } = {}): Out<A> => run(new Normalize(options), x),
  stack: <A extends T>(xs: A[], options: { axis?: number } = {}): Out<A> => run(new Stack(options), xs),
  tile: <A extends T>(x: A, repeats: number | number[]): Out<A> => run(new Tile({ repeats }), x),
  repeat: <A extends T>(x: A, repeats: number | number[], options: { axis?: number | null } = {}): Out<A> => run(new Repeat({ repeats, ...options }), x),
  /** `indices`: an int32 tensor, an integer or a nested list of them; `axis` null (the default) takes from the flattened tensor. */
  take: <A extends T>(x: A, indices: T | number | unknown[], options: { axis?: number | null } = {}): Out<A> => run(new Take(options), [x, indices]),
  swapaxes: <A extends T>(x: A, axis1: number, axis2: number): Out<A> => run(new Swapaxes({ axis1, axis2 }), x),
  /** Reverses the order along `axis` (null, the default: every axis). */
  flip: <A extends T>(x: A, options: { axis?: number | number[] | null } = {}): Out<A> => run(new Flip(options), x),
  /** Zeros above the `k`-th diagonal of the last two axes (a causal mask is `tril` of ones). */
  tril: <A extends T>(x: A, k = 0): Out<A> => run(new Tril({ k }), x),
  /** Zeros below the `k`-th diagonal of the last two axes. */
  triu: <A extends T>(x: A, k = 0): Out<A> => run(new Triu({ k }), x),
  /** numpy's pad: `padWidth` an int, one [before, after] pair, or one pair per axis; mode 'constant' (with `constantValues`), 'reflect', 'symmetric', 'edge' or 'wrap'. */
  pad: <A extends T>(x: A, padWidth: number | number[] | number[][], options: { mode?: 'constant' | 'reflect' | 'symmetric' | 'edge' | 'wrap'; constantValues?: number | null } = {}): Out<A> =>
    (new Pad({ padWidth, ...(options.mode !== undefined ? { mode: options.mode } : {}) }).apply(x as never, { constantValues: options.constantValues ?? null } as never) as unknown) as Out<A>,
  /** numpy's einsum of one or more operands: `ops.einsum('bqd,bkd->bqk', q, k)`. */
  einsum: <A extends T>(subscripts: string, first: A, ...rest: T[]): Out<A> => run(new Einsum({ subscripts }), rest.length === 0 ? first : [first, ...rest]),
  /** float32 unless `dtype`; negative ids give zeros. */
  oneHot: <A extends T>(x: A, numClasses: number, options: { axis?: number; dtype?: string | null } = {}): Out<A> => run(new OneHot({ numClasses, ...options }), x),
  /** Ascending along `axis` (default -1; null: the flattened tensor), NaN last. */
  sort: <A extends T>(x: A, options: { axis?: number | null } = {}): Out<A> => run(new Sort(options), x),
  /** int32 positions that sort `x` (ties keep their order). */
  argsort: <A extends T>(x: A, options: { axis?: number | null } = {}): Out<A> => run(new Argsort(options), x),
  /** The `k` largest values of the last axis and their int32 positions, largest first (ties: the later position first, as Keras's numpy backend). */
  topK: <A extends T>(x: A, k: number, options: { sorted?: boolean } = {}): [Out<A>, Out<A>] => run(new TopK({ k, ...options }), x),
  /** numpy's take_along_axis: int32 `indices` of x's rank pick along `axis` (null, the default: the flattened tensor), the other axes broadcast. */
  takeAlongAxis: <A extends T>(x: A, indices: T, options: { axis?: number | null } = {}): Out<A> => run(new TakeAlongAxis(options), [x, indices]),
  /** Running products along `axis` (null, the default: the flattened tensor). */
  cumprod: <A extends T>(x: A, options: { axis?: number | null; dtype?: string | null } = {}): Out<A> => run(new Cumprod(options), x),
  /** numpy's split: `indicesOrSections` N equal parts or a list of positions; one output per part. */
  split: <A extends T>(x: A, indicesOrSections: number | number[], options: { axis?: number } = {}): Out<A>[] => run(new Split({ indicesOrSections, ...options }), x),
  /** One output per position along `axis` (default 0), the axis removed; `num` is needed when its length is unknown. */
  unstack: <A extends T>(x: A, options: { num?: number | null; axis?: number } = {}): Out<A>[] => run(new Unstack(options), x),
  // The fourth set.
  log2: <A extends T>(x: A): Out<A> => unary(Log2, x),
  log10: <A extends T>(x: A): Out<A> => unary(Log10, x),
  exp2: <A extends T>(x: A): Out<A> => unary(Exp2, x),
  tan: <A extends T>(x: A): Out<A> => unary(Tan, x),
  arcsin: <A extends T>(x: A): Out<A> => unary(Arcsin, x),
  arccos: <A extends T>(x: A): Out<A> => unary(Arccos, x),
  arctan: <A extends T>(x: A): Out<A> => unary(Arctan, x),
  sinh: <A extends T>(x: A): Out<A> => unary(Sinh, x),
  cosh: <A extends T>(x: A): Out<A> => unary(Cosh, x),
  /** Bools: NaN; +-inf; neither (integers are finite). */
  isnan: <A extends T>(x: A): Out<A> => unary(Isnan, x),
  isinf: <A extends T>(x: A): Out<A> => unary(Isinf, x),
  isfinite: <A extends T>(x: A): Out<A> => unary(Isfinite, x),
  /** NaN, +inf and -inf replaced (by 0 and the largest float32s unless given). */
  nanToNum: <A extends T>(x: A, options: { nan?: number; posinf?: number | null; neginf?: number | null } = {}): Out<A> => run(new NanToNum(options), x),
  /** x, through which no gradient flows. */
  stopGradient: <A extends T>(x: A): Out<A> => unary(StopGradient, x),
  moveaxis: <A extends T>(x: A, source: number | number[], destination: number | number[]): Out<A> => run(new Moveaxis({ source, destination }), x),
  /** Values moved `shift` places along `axis` (null, the default: the flattened tensor), wrapping around. */
  roll: <A extends T>(x: A, shift: number | number[], options: { axis?: number | number[] | null } = {}): Out<A> => run(new Roll({ shift, ...options }), x),
  /** int32 counts of the values other than 0 over `axis` (null, the default: all). */
  countNonzero: <A extends T>(x: A, options: { axis?: number | number[] | null } = {}): Out<A> => run(new CountNonzero(options), x),
  // The fifth set: products and diagonals.
  /** numpy's dot: a scalar multiplies; otherwise a's last axis against b's only axis, or its second to last. */
  dot: <A extends T>(a: A, b: T | number | unknown[]): Out<A> => run(new DotOp(), [a, b]),
  /** numpy's tensordot: `axes` N (a's last N against b's first N; default 2) or [a's axes, b's axes]. */
  tensordot: <A extends T>(a: A, b: T | number | unknown[], options: { axes?: number | (number | number[])[] } = {}): Out<A> => run(new Tensordot(options), [a, b]),
  /** The outer product of the flattened operands. */
  outer: <A extends T>(a: A, b: T | number | unknown[]): Out<A> => run(new Outer(), [a, b]),
  /** numpy's diagonal of `axis1` and `axis2` (defaults 0 and 1), moved to the last axis; `offset` above (positive) or below. */
  diagonal: <A extends T>(x: A, options: { offset?: number; axis1?: number; axis2?: number } = {}): Out<A> => run(new Diagonal(options), x),
  /** The diagonal's sum (bools and ints in int32). */
  trace: <A extends T>(x: A, options: { offset?: number; axis1?: number; axis2?: number } = {}): Out<A> => run(new Trace(options), x),
};
