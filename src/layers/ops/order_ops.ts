/**
 * The third set of Keras 3 operations: ordering and splitting. numpy's
 * `sort`, `argsort`, `take_along_axis`, `cumprod`, `split`, `top_k` of
 * keras.src.ops.math and `unstack` of keras.src.ops.core, with the numpy
 * backend's semantics.
 *
 * Order: ascending, NaN last (numpy's order), and ties in their original
 * order (a stable sort; numpy's default sort is stable for axes of up to 16
 * values and leaves ties in an unspecified order past that). `top_k` is
 * Keras's numpy backend's reversed argsort: the largest first, NaN before
 * every number, and ties with the later index first (TensorFlow and JAX
 * put the earlier index first).
 *
 * `split`, `unstack` and `top_k` have several outputs; a config refers to
 * each by its tensor index, as to a layer's.
 */
import { tf } from '../../runtime/tfjs.js';
import { isTapeOn } from '../../runtime/internals.js';
import { heapView, writeTensor } from '../../ops/heap_view.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { flatShape, opSpec, refuseStrings } from './keras_op.js';
import { DataOp } from './math_ops.js';
import { resolveAxes } from './logical.js';
import { IndexedOp, boolsAsInt32, stridedOffsets } from './gather_ops.js';
import { Cumulative } from './statistics_ops.js';

/** A tensor's shape seen around `axis`: `outer` rows before it, `n` along it, `inner` after it. */
interface AxisLayout {
  outer: number;
  n: number;
  inner: number;
}

function layoutOf(shape: readonly number[], axis: number): AxisLayout {
  return { outer: tf.util.sizeFromShape(shape.slice(0, axis)), n: shape[axis]!, inner: tf.util.sizeFromShape(shape.slice(axis + 1)) };
}

/**
 * For each line along the axis, the positions in ascending order (NaN last,
 * ties in their order), in the tensor's own layout: entry (o, i, k) is the
 * position along the axis of the i-th smallest of line (o, k).
 */
function ascendingPositions(x: tf.Tensor, { outer, n, inner }: AxisLayout): Int32Array {
  const v = heapView(x);
  const out = new Int32Array(outer * n * inner);
  const idx = Array.from({ length: n }, (_, i) => i);
  const line = new Float64Array(n);
  const cmp = (a: number, b: number): number => {
    const va = line[a]!;
    const vb = line[b]!;
    if (va < vb) return -1;
    if (va > vb) return 1;
    const na = Number.isNaN(va);
    const nb = Number.isNaN(vb);
    return na === nb ? a - b : na ? 1 : -1;
  };
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) {
      const base = o * n * inner + k;
      for (let i = 0; i < n; i++) {
        line[i] = v[base + i * inner]!;
        idx[i] = i;
      }
      idx.sort(cmp);
      for (let i = 0; i < n; i++) out[base + i * inner] = idx[i]!;
    }
  }
  return out;
}

/**
 * numpy's take_along_axis: `x`'s values at `positions` (in the layout of
 * `shape`, which is x's shape with `m` along the axis), through tf.gather, so
 * the gradient goes back to where each value came from.
 */
function takeAlongAxis(x: tf.Tensor, positions: Int32Array, axis: number, m: number): tf.Tensor {
  const { outer, n, inner } = layoutOf(x.shape, axis);
  const flat = new Int32Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < inner; k++) {
        const at = (o * m + i) * inner + k;
        flat[at] = (o * n + positions[at]!) * inner + k;
      }
    }
  }
  const shape = x.shape.map((d, i) => (i === axis ? m : d));
  if (flat.length === 0) return tf.reshape(tf.slice(tf.reshape(x, [-1]), 0, 0), shape); // empty, and reachable by a gradient
  return boolsAsInt32(x, (v) => tf.reshape(tf.gather(tf.reshape(v, [-1]), tf.tensor1d(flat, 'int32')), shape));
}

/** `axis` of a sort: null flattens the tensor (axis 0 of the flat one). */
function flatOrAxis(x: tf.Tensor, axis: number | null, where: string): { v: tf.Tensor; axis: number } {
  if (axis === null) return { v: tf.reshape(x, [-1]), axis: 0 };
  if (x.rank === 0) throw new MasqueError('INVALID_INPUT', `${where}: a scalar has no axis ${axis}; give a tensor of rank >= 1 or axis null.`);
  return { v: x, axis: resolveAxes(axis, x.rank, where)[0]! };
}

/** The output shape of a sort (and x's shape as take_along_axis sees it): the input's, or its flat length for axis null. */
function flatOrAxisShape(shape: Shape, axis: number | null, where: string): Shape {
  if (axis === null) return flatShape(shape);
  if (shape.length === 0) throw new MasqueError('INVALID_INPUT', `${where}: a scalar has no axis ${axis}; give a tensor of rank >= 1 or axis null.`);
  resolveAxes(axis, shape.length, where);
  return shape;
}

export interface SortArgs extends BaseLayerArgs {
  /** The axis to sort along (null: the flattened tensor). Default -1. */
  axis?: number | null;
}

/** Sort and Argsort: the ascending order along one axis. */
abstract class OrderOp extends DataOp {
  static override readonly options: OptionTable = { axis: opt.nullableInt({ default: -1 }) } satisfies OptionsOf<Omit<SortArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<SortArgs, keyof BaseLayerArgs>>;

  constructor(args: SortArgs = {}) {
    super(args);
  }

  protected abstract result(v: tf.Tensor, order: Int32Array, axis: number): tf.Tensor;
  protected abstract outDtype(d: tf.DataType): tf.DataType;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const { v, axis } = flatOrAxis(x, this.args.axis, `${this.className} '${this.name}'`);
    refuseStrings(x.dtype, `${this.className} '${this.name}'`);
    return this.result(v, ascendingPositions(v, layoutOf(v.shape, axis)), axis);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(flatOrAxisShape(x.shape, this.args.axis, `${this.className} '${this.name}'`), this.outDtype(x.dtype));
  }
}

/** `ops.sort(x, axis=-1)`: ascending, NaN last; the gradient goes back to each value's place. */
export class Sort extends OrderOp {
  static override readonly className = 'Sort';
  protected result(v: tf.Tensor, order: Int32Array, axis: number): tf.Tensor {
    return takeAlongAxis(v, order, axis, v.shape[axis]!);
  }
  protected outDtype(d: tf.DataType): tf.DataType {
    return d;
  }
}

/** `ops.argsort(x, axis=-1)`: the int32 positions that sort `x` (ties in their order). */
export class Argsort extends OrderOp {
  static override readonly className = 'Argsort';
  protected result(v: tf.Tensor, order: Int32Array): tf.Tensor {
    return tf.tensor(order, v.shape, 'int32');
  }
  protected outDtype(): tf.DataType {
    return 'int32';
  }
}

export interface TopKArgs extends BaseLayerArgs {
  /** How many of the largest values of the last axis. */
  k: number;
  /**
   * Keras's `sorted`: true gives them largest first. False lets Keras's
   * backends give them in any order (numpy's argpartition); Masque gives
   * them largest first either way.
   */
  sorted?: boolean;
}

/** `ops.top_k(x, k, sorted=True)`: the k largest values of the last axis and their int32 positions (two outputs). */
export class TopK extends DataOp {
  static override readonly className = 'TopK';
  static override readonly kerasModule = 'keras.src.ops.math';
  static override readonly options: OptionTable = { k: opt.int({ min: 0 }), sorted: opt.bool(true) } satisfies OptionsOf<Omit<TopKArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<TopKArgs, keyof BaseLayerArgs>>;

  constructor(args: TopKArgs) {
    super(args);
  }

  private check(shape: Shape): void {
    const where = `TopK '${this.name}'`;
    if (shape.length === 0) throw new MasqueError('INVALID_INPUT', `${where}: a scalar has no last axis; give a tensor of rank >= 1.`);
    const n = shape[shape.length - 1]!;
    if (n !== null && this.args.k > n) {
      // numpy's backend would give n values where Keras declares k.
      throw new MasqueError('INVALID_INPUT', `${where}: k = ${this.args.k} is more than the ${n} values of the last axis (shape ${formatShape(shape)}).`);
    }
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const x = this.operands(inputs, 1)[0]!;
    this.check(x.shape);
    refuseStrings(x.dtype, `TopK '${this.name}'`);
    const axis = x.rank - 1;
    const layout = layoutOf(x.shape, axis);
    const asc = ascendingPositions(x, layout);
    const { k } = this.args;
    // numpy's reversed argsort: the line read from its end.
    const top = new Int32Array(layout.outer * k);
    for (let o = 0; o < layout.outer; o++) for (let i = 0; i < k; i++) top[o * k + i] = asc[o * layout.n + layout.n - 1 - i]!;
    const shape = x.shape.map((d, i) => (i === axis ? k : d));
    return [takeAlongAxis(x, top, axis, k), tf.tensor(top, shape, 'int32')];
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec[] {
    const x = this.operands(inputs, 1)[0]!;
    this.check(x.shape);
    const shape = [...x.shape.slice(0, -1), this.args.k];
    return [opSpec(shape, x.dtype), opSpec(shape, 'int32')];
  }
}

/**
 * The running products of a [outer, n, inner] layout, each step rounded as
 * `dtype` multiplies (float32: a double product of two float32s is exact, so
 * one rounding gives numpy's; int32 wraps as numpy's does).
 */
function runningProducts(x: tf.Tensor, layout: AxisLayout): tf.Tensor {
  const { outer, n, inner } = layout;
  const int = x.dtype === 'int32';
  return writeTensor(x.shape, int ? 'int32' : 'float32', (out) => {
    const v = heapView(x);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        let at = o * n * inner + k;
        let p = v[at]!;
        out[at] = p;
        for (let i = 1; i < n; i++) {
          at += inner;
          p = int ? Math.imul(p, v[at]!) : Math.fround(p * v[at]!);
          out[at] = p;
        }
      }
    }
  });
}

/**
 * The gradient of running products: with y the products and g the incoming
 * gradient along one line, dx_i = y_{i-1} R_i where R_{n-1} = g_{n-1} and
 * R_i = g_i + x_{i+1} R_{i+1}, in double: no division, so zeros in x are
 * fine.
 */
function runningProductsGrad(x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor, { outer, n, inner }: AxisLayout): tf.Tensor {
  return writeTensor(x.shape, 'float32', (out) => {
    const xv = heapView(x);
    const yv = heapView(y);
    const g = heapView(dy);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const base = o * n * inner + k;
        let r = 0;
        for (let i = n - 1; i >= 0; i--) {
          const at = base + i * inner;
          r = i === n - 1 ? g[at]! : g[at]! + xv[at + inner]! * r;
          out[at] = i === 0 ? r : yv[at - inner]! * r;
        }
      }
    }
  });
}

/** `ops.cumprod(x, axis=None, dtype=None)`: numpy's running product (axis null: of the flattened tensor). */
export class Cumprod extends Cumulative {
  static override readonly className = 'Cumprod';
  protected readonly what = 'product';

  protected accumulate(v: tf.Tensor, axis: number): tf.Tensor {
    const layout = layoutOf(v.shape, axis);
    if (v.dtype !== 'float32' || !isTapeOn()) return runningProducts(v, layout);
    return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xx, save] = args as [tf.Tensor, tf.GradSaveFunc];
      const y = runningProducts(xx, layout);
      save([xx, y]);
      return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runningProductsGrad(saved[0]!, saved[1]!, dy, layout) };
    })(v);
  }
}

/**
 * `ops.take_along_axis(x, indices, axis=None)`: numpy's take_along_axis, the
 * companion of argsort and top_k: `indices` (int32, of x's rank; a tensor
 * or constants, as Keras records a numpy array) pick along `axis`; the
 * other axes broadcast against each other. Negative indices count from the
 * end; an index out of range raises, as numpy's does.
 */
export class TakeAlongAxis extends IndexedOp {
  static override readonly className = 'TakeAlongAxis';

  /** The axis, and the output's shape for `x` (flattened when axis is null) and indices of `indices`' shape, as Keras computes it. */
  private plan(x: Shape, indices: Shape): { axis: number; shape: Shape } {
    const where = `TakeAlongAxis '${this.name}'`;
    const xs = this.args.axis === null ? flatOrAxisShape(x, null, where) : x;
    if (xs.length !== indices.length) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: x${this.args.axis === null ? ' (flattened)' : ''} and indices must have the same rank; received shapes ${formatShape(xs)} and ${formatShape(indices)}.`);
    }
    const axis = this.args.axis === null ? 0 : resolveAxes(this.args.axis, xs.length, where)[0]!;
    const shape = xs.map((d, i) => {
      const j = indices[i]!;
      if (i === axis) return j;
      if (d === 1 || d === j) return j;
      if (j === 1) return d;
      if (d === null || j === null) return d ?? j ?? null;
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: x${this.args.axis === null ? ' (flattened)' : ''} of shape ${formatShape(xs)} and indices of shape ${formatShape(indices)} do not broadcast outside axis ${axis}.`);
    });
    return { axis, shape };
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const { x: x0, indices, indexShape } = this.split(inputs);
    const { axis, shape } = this.plan(x0.shape, indexShape);
    const x = this.args.axis === null ? tf.reshape(x0, [-1]) : x0;
    const out = shape as number[];
    // Nothing to take (tfjs's broadcastTo leaves a size-1 axis that should become 0 as it is): an empty slice of x, which a gradient can reach.
    if (out.some((d) => d === 0)) return tf.reshape(tf.slice(tf.reshape(x, [-1]), 0, 0), out);
    const n = x.shape[axis]!;
    const given = this.indexValues(indices);
    // The indices broadcast to the output's shape here (a size-1 axis repeats), each checked as a number first.
    const strides = indexShape.map((_, i) => (indexShape[i] === 1 ? 0 : (indexShape as number[]).slice(i + 1).reduce((p, d) => p * d, 1)));
    const at = stridedOffsets(out, strides);
    const positions = new Int32Array(at.length);
    for (let k = 0; k < at.length; k++) {
      const p = given[at[k]!]!;
      if (p >= n || p < -n) throw new MasqueError('INVALID_INPUT', `TakeAlongAxis '${this.name}': index ${p} is out of range for axis ${axis} of size ${n}.`);
      positions[k] = p < 0 ? p + n : p;
    }
    const xb = x.shape.every((d, i) => i === axis || d === out[i]) ? x : tf.broadcastTo(x, out.map((d, i) => (i === axis ? n : d)));
    return takeAlongAxis(xb, positions, axis, out[axis]!);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const { x, indexShape } = this.split(inputs);
    return opSpec(this.plan(x.shape, indexShape).shape, x.dtype);
  }
}

export interface SplitArgs extends BaseLayerArgs {
  /** N equal parts, or the positions where the parts after the first start (in order, from 0; past the axis's length, the parts are empty). */
  indicesOrSections: number | number[];
  /** The axis to split. Default 0. */
  axis?: number;
}

/** `ops.split(x, indices_or_sections, axis=0)`: numpy's split, one output per part. */
export class Split extends DataOp {
  static override readonly className = 'Split';
  static override readonly options: OptionTable = {
    indicesOrSections: opt.custom<number | number[]>((v, w, n) => {
      if (Number.isInteger(v) && (v as number) >= 1) return v as number;
      if (Array.isArray(v) && v.every((d) => Number.isInteger(d))) return [...(v as number[])];
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a positive integer (equal parts) or a list of integer positions; received ${describe(v)}.`);
    }),
    axis: opt.int({ default: 0 }),
  } satisfies OptionsOf<Omit<SplitArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<SplitArgs, keyof BaseLayerArgs>>;

  constructor(args: SplitArgs) {
    super(args);
  }

  /** N equal parts of an axis of `n` values (null: unknown), each [start, end); numpy refuses an axis that does not divide. */
  private equalParts(s: number, n: number | null): [number | null, number | null][] {
    if (n === null) return Array.from({ length: s }, () => [null, null]);
    if (n % s !== 0) {
      throw new MasqueError('INVALID_INPUT', `Split '${this.name}': ${n} values along axis ${this.args.axis} do not split into ${s} equal parts (numpy: array split does not result in an equal division).`);
    }
    return Array.from({ length: s }, (_, i) => [(i * n) / s, ((i + 1) * n) / s]);
  }

  /** The parts numpy makes of an axis of `n` values between the positions (in order and not negative, as declaredSizes checked): past the end, empty. */
  private slices(n: number): [number, number][] {
    const s = this.args.indicesOrSections;
    if (typeof s === 'number') return this.equalParts(s, n) as [number, number][];
    const bounds = [0, ...s.map((b) => Math.min(b, n)), n];
    return bounds.slice(0, -1).map((start, i) => [start, Math.max(start, bounds[i + 1]!)]);
  }

  /**
   * The parts' sizes for an axis of `n` values (null: unknown): the
   * positions' differences, as Keras declares them, with positions past a
   * known length cut there, as numpy's slices are (a model Keras built with
   * the axis unknown meets its length only when it runs). A negative size
   * (positions out of order, or negative) is refused, as Keras refuses it.
   */
  private declaredSizes(n: number | null): (number | null)[] {
    const s = this.args.indicesOrSections;
    if (typeof s === 'number') return this.equalParts(s, n).map(([a, b]) => (a === null ? null : b! - a));
    const bounds: (number | null)[] = [0, ...s.map((b) => (n !== null && b > n ? n : b)), n];
    const sizes = bounds.slice(0, -1).map((start, i) => (start === null || bounds[i + 1] === null ? null : bounds[i + 1]! - start));
    if (sizes.some((d) => d !== null && d < 0)) {
      throw new MasqueError('INVALID_ARGUMENT', `Split '${this.name}': positions ${JSON.stringify(s)} along axis ${this.args.axis} (${n ?? 'unknown'} values) give a part of negative size, which Keras cannot build in a model (numpy's split would slice it empty); give positions in order, from 0 to the axis's length.`);
    }
    return sizes;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const x = this.operands(inputs, 1)[0]!;
    const where = `Split '${this.name}'`;
    if (x.rank === 0) throw new MasqueError('INVALID_INPUT', `${where}: a scalar cannot be split; give a tensor of rank >= 1.`);
    const axis = resolveAxes(this.args.axis, x.rank, where)[0]!;
    return this.slices(x.shape[axis]!).map(([start, end]) => {
      const shape = x.shape.map((d, i) => (i === axis ? end - start : d));
      if (end === start || x.size === 0) return tf.zeros(shape, x.dtype);
      const begin = x.shape.map((_, i) => (i === axis ? start : 0));
      return boolsAsInt32(x, (v) => tf.slice(v, begin, shape));
    });
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec[] {
    const x = this.operands(inputs, 1)[0]!;
    const where = `Split '${this.name}'`;
    if (x.shape.length === 0) throw new MasqueError('INVALID_INPUT', `${where}: a scalar cannot be split; give a tensor of rank >= 1.`);
    const axis = resolveAxes(this.args.axis, x.shape.length, where)[0]!;
    return this.declaredSizes(x.shape[axis]!).map((size) => opSpec(x.shape.map((d, i) => (i === axis ? size : d)), x.dtype));
  }
}

export interface UnstackArgs extends BaseLayerArgs {
  /** How many outputs (null: the axis's length, which must then be known). */
  num?: number | null;
  /** The axis to unstack. Default 0. */
  axis?: number;
}

/** `ops.unstack(x, num=None, axis=0)`: one output per position along the axis, the axis removed. */
export class Unstack extends DataOp {
  static override readonly className = 'Unstack';
  static override readonly kerasModule = 'keras.src.ops.core';
  static override readonly options: OptionTable = { num: opt.nullableInt({ min: 1, default: null }), axis: opt.int({ default: 0 }) } satisfies OptionsOf<Omit<UnstackArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<UnstackArgs, keyof BaseLayerArgs>>;

  constructor(args: UnstackArgs = {}) {
    super(args);
  }

  /** The axis and the number of outputs for an input of `shape`. */
  private plan(shape: Shape): { axis: number; count: number } {
    const where = `Unstack '${this.name}'`;
    if (shape.length === 0) throw new MasqueError('INVALID_INPUT', `${where}: a scalar cannot be unstacked; give a tensor of rank >= 1.`);
    const axis = resolveAxes(this.args.axis, shape.length, where)[0]!;
    const n = shape[axis]!;
    const count = this.args.num ?? n;
    if (count === null) {
      throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: the length of axis ${this.args.axis} is unknown (shape ${formatShape(shape)}); give num, as Keras asks.`);
    }
    if (count === 0) throw new MasqueError('INVALID_INPUT', `${where}: axis ${this.args.axis} has no values (shape ${formatShape(shape)}), so there is nothing to unstack.`);
    if (n !== null && n < count) {
      // Keras builds such a model and fails only when an output past the axis is used; Masque makes every output it declares.
      throw new MasqueError('INVALID_INPUT', `${where}: num = ${count} but axis ${this.args.axis} has ${n} values (shape ${formatShape(shape)}); Masque makes every one of the num outputs, so num must not exceed the axis's length.`);
    }
    return { axis, count };
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const x = this.operands(inputs, 1)[0]!;
    const { axis, count } = this.plan(x.shape);
    const shape = x.shape.filter((_, i) => i !== axis);
    return Array.from({ length: count }, (_, p) => {
      if (x.size === 0) return tf.zeros(shape, x.dtype);
      const begin = x.shape.map((_, i) => (i === axis ? p : 0));
      const size = x.shape.map((d, i) => (i === axis ? 1 : d));
      return boolsAsInt32(x, (v) => tf.reshape(tf.slice(v, begin, size), shape));
    });
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec[] {
    const x = this.operands(inputs, 1)[0]!;
    const { axis, count } = this.plan(x.shape);
    return Array.from({ length: count }, () => opSpec(x.shape.filter((_, i) => i !== axis), x.dtype));
  }
}
