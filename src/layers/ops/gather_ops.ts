/**
 * Keras 3 operations that build, pick or rearrange along axes: numpy's
 * `stack`, `tile`, `repeat`, `take`, `swapaxes`, `flip`, `tril` and `triu`,
 * and `one_hot` of keras.src.ops.nn.
 *
 * `take(x, indices, axis)` takes its indices as a tensor (ids from an
 * input), or as constants recorded in the config (an integer, a nested list,
 * a constant array); negative indices count from the end, and an index out
 * of range raises, as numpy's `take` does.
 */
import { tf, toBool } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { SymbolicArgs } from '../../engine/layer.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { flatShape, kerasDtype, opSpec, promoteDtypes } from './keras_op.js';
import { ConstArray, DataOp, PermutingOp, isTensorLike } from './math_ops.js';
import { distinctAxes, nullableAxes, resolveAxes } from './logical.js';

/** The most values an output of these operations may hold (2^28, 1 GiB of float32): past it the wasm heap or a JavaScript array fails. */
export const MAX_OUTPUT_VALUES = 2 ** 28;

/**
 * `f` of `x`, a bool tensor taken as int32 and made bool again: wasm's
 * kernels write 4-byte elements into bool outputs (Select) or take no bools.
 */
export function boolsAsInt32(x: tf.Tensor, f: (v: tf.Tensor) => tf.Tensor): tf.Tensor {
  return x.dtype === 'bool' ? toBool(f(tf.cast(x, 'int32'))) : f(x);
}

/** Refuses an output of `shape` holding more than MAX_OUTPUT_VALUES values, naming the operation. */
function checkOutputSize(shape: readonly number[], where: string): void {
  const n = shape.reduce((a, d) => a * d, 1);
  if (n > MAX_OUTPUT_VALUES) throw new MasqueError('INVALID_INPUT', `${where}: the output would hold ${n} values (shape ${JSON.stringify(shape)}); Masque takes at most 2^28 in one tensor.`);
}

export interface StackArgs extends BaseLayerArgs {
  /** Where the new axis goes (in the output). Default 0. */
  axis?: number;
}

/** `ops.stack([a, b, ...], axis)`: same-shaped tensors along a new axis, dtypes promoted. */
export class Stack extends DataOp {
  static override readonly className = 'Stack';
  static override readonly listOperand = true;
  static override readonly options: OptionTable = { axis: opt.int({ default: 0 }) } satisfies OptionsOf<Omit<StackArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<StackArgs, keyof BaseLayerArgs>>;

  constructor(args: StackArgs = {}) {
    super(args);
  }

  private plan(shapes: Shape[]): { shape: Shape; axis: number } {
    const where = `Stack '${this.name}'`;
    const first = shapes[0]!;
    for (const s of shapes) {
      if (s.length !== first.length || s.some((d, i) => d !== null && first[i] !== null && d !== first[i])) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: every tensor must have the same shape; received ${shapes.map(formatShape).join(', ')}.`);
      }
    }
    const axis = resolveAxes(this.args.axis, first.length + 1, where)[0]!;
    const shape = [...first];
    shape.splice(axis, 0, shapes.length);
    return { shape, axis };
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const xs = this.operands(inputs, null);
    const { axis } = this.plan(xs.map((x) => x.shape));
    const dtype = promoteDtypes(xs.map((x) => x.dtype));
    return tf.stack(xs.map((x) => (x.dtype === dtype ? x : tf.cast(x, dtype))), axis);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const xs = this.operands(inputs, null);
    return opSpec(this.plan(xs.map((x) => x.shape)).shape, promoteDtypes(xs.map((x) => x.dtype)));
  }
}

/** A `repeats` option: a non-negative integer or a list of them. */
const repeatsOption = () =>
  opt.custom<number | number[]>((v, w, n) => {
    const ok = (d: unknown) => Number.isInteger(d) && (d as number) >= 0;
    if (ok(v)) return v as number;
    if (Array.isArray(v) && v.every(ok)) return [...(v as number[])];
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a non-negative integer or a list of them; received ${describe(v)}.`);
  });

export interface TileArgs extends BaseLayerArgs {
  /** How many copies along each axis (aligned on the right, as numpy's). */
  repeats: number | number[];
}

/** `ops.tile(x, repeats)`: numpy's tile (a longer `repeats` adds leading axes). */
export class Tile extends DataOp {
  static override readonly className = 'Tile';
  static override readonly options: OptionTable = { repeats: repeatsOption() } satisfies OptionsOf<Omit<TileArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<TileArgs, keyof BaseLayerArgs>>;

  constructor(args: TileArgs) {
    super(args);
  }

  /** The input's shape with leading 1s and the repeats, both of the same length. */
  private aligned(shape: Shape): { shape: Shape; reps: number[] } {
    const reps = Array.isArray(this.args.repeats) ? this.args.repeats : [this.args.repeats];
    const n = Math.max(reps.length, shape.length);
    return { shape: [...new Array<number>(n - shape.length).fill(1), ...shape], reps: [...new Array<number>(n - reps.length).fill(1), ...reps] };
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const { shape, reps } = this.aligned(x.shape);
    checkOutputSize(shape.map((d, i) => (d as number) * reps[i]!), `Tile '${this.name}'`);
    const full = tf.reshape(x, shape as number[]);
    if (reps.some((r) => r === 0) || full.size === 0) return tf.zeros(shape.map((d, i) => (d as number) * reps[i]!), x.dtype);
    return boolsAsInt32(full, (v) => tf.tile(v, reps));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    const { shape, reps } = this.aligned(x.shape);
    return opSpec(shape.map((d, i) => (d === null ? null : d * reps[i]!)), x.dtype);
  }
}

export interface RepeatArgs extends BaseLayerArgs {
  /** Copies of each element: one count for all, or one per element along the axis. */
  repeats: number | number[];
  /** The axis, or null: over the flattened tensor. */
  axis?: number | null;
}

/** `ops.repeat(x, repeats, axis)`: each element repeated in place, as numpy's repeat. */
export class Repeat extends DataOp {
  static override readonly className = 'Repeat';
  static override readonly options: OptionTable = { repeats: repeatsOption(), axis: opt.nullableInt({ default: null }) } satisfies OptionsOf<Omit<RepeatArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<RepeatArgs, keyof BaseLayerArgs>>;

  constructor(args: RepeatArgs) {
    super(args);
  }

  /** The axis in the (flattened, for null) input, and the input's length along it. */
  private counts(n: number | null): number[] | null {
    const r = this.args.repeats;
    const list = Array.isArray(r) ? r : [r];
    if (list.length === 1) return n === null ? null : new Array<number>(n).fill(list[0]!);
    if (n !== null && list.length !== n) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Repeat '${this.name}': ${list.length} repeats for an axis of size ${n}; give one count, or one per element.`);
    }
    return list;
  }

  private axisOf(rank: number): number {
    return this.args.axis === null ? 0 : resolveAxes(this.args.axis, rank, `Repeat '${this.name}'`)[0]!;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x0 = this.operands(inputs, 1)[0]!;
    const x = this.args.axis === null ? tf.reshape(x0, [-1]) : x0;
    const axis = this.axisOf(x.rank);
    const counts = this.counts(x.shape[axis]!)!;
    checkOutputSize(x.shape.map((d, i) => (i === axis ? counts.reduce((a, b) => a + b, 0) : d)), `Repeat '${this.name}'`);
    const idx: number[] = [];
    counts.forEach((c, i) => {
      for (let k = 0; k < c; k++) idx.push(i);
    });
    if (idx.length === 0 || x.size === 0) return tf.zeros(x.shape.map((d, i) => (i === axis ? idx.length : d)), x.dtype);
    return boolsAsInt32(x, (v) => tf.gather(v, tf.tensor1d(idx, 'int32'), axis));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    const shape = this.args.axis === null ? flatShape(x.shape) : [...x.shape];
    const axis = this.axisOf(shape.length);
    const counts = this.counts(shape[axis]!);
    shape[axis] = counts === null ? null : counts.reduce((a, b) => a + b, 0);
    return opSpec(shape, x.dtype);
  }
}

export interface TakeArgs extends BaseLayerArgs {
  /** The axis to pick along, or null: from the flattened tensor. */
  axis?: number | null;
}

/** Constant indices: their values and shape, checked to be integers. */
function constantIndices(v: unknown, where: string): ConstArray {
  const c = ConstArray.fromKeras(v, where) ?? ConstArray.fromNested(v, null, where);
  if (c.values.some((n) => !Number.isInteger(n)) || (c.dtype !== null && c.dtype !== 'int32')) {
    throw new MasqueError('INVALID_CONFIG', `${where}: indices must be integers; received ${describe(v)}.`);
  }
  return c;
}

/**
 * For each position of a tensor of `shape` (in order), the sum of its
 * coordinates times `strides`: the flat offsets of a strided view (a
 * diagonal, an axis broadcast with stride 0).
 */
export function stridedOffsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  const count = shape.reduce((p, d) => p * d, 1);
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    let rest = k;
    let at = 0;
    for (let i = shape.length - 1; i >= 0; i--) {
      at += (rest % shape[i]!) * strides[i]!;
      rest = Math.floor(rest / shape[i]!);
    }
    out[k] = at;
  }
  return out;
}

/**
 * An operation of data and indices along an axis (take, take_along_axis;
 * axis null: the flattened tensor), the indices an int32 tensor or
 * constants that the call gives (kept as Keras recorded them, and written
 * back so).
 */
export abstract class IndexedOp extends DataOp {
  static override readonly options: OptionTable = { axis: opt.nullableInt({ default: null }) } satisfies OptionsOf<Omit<TakeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<TakeArgs, keyof BaseLayerArgs>>;

  constructor(args: TakeArgs = {}) {
    super(args);
  }

  /** Constant indices as the call gave them (null when they are a tensor). */
  protected constant: { raw: unknown; value: ConstArray } | null = null;

  override apply(inputs: SymbolicTensor | SymbolicTensor[] | unknown[], args?: SymbolicArgs<CallArgs>): SymbolicTensor;
  override apply(inputs: tf.Tensor | tf.Tensor[] | unknown[], args?: CallArgs): tf.Tensor;
  override apply(inputs: unknown, args?: unknown): unknown {
    if (Array.isArray(inputs) && inputs.length === 2 && !isTensorLike(inputs[1])) {
      const value = constantIndices(inputs[1], `${this.className} '${this.name}'`);
      this.recordCall([inputs[0]], JSON.stringify(inputs[1]));
      this.constant = { raw: inputs[1], value };
      return super.apply(inputs[0] as never, args as never);
    }
    return super.apply(inputs as never, args as never);
  }

  override kerasArgs(tensors: unknown[]): unknown[] {
    return this.constant === null ? [...tensors] : [tensors[0], this.constant.raw];
  }

  /** The data and the indices' shape (and the indices, when they are a tensor). */
  protected split<T extends { shape: Shape; dtype: tf.DataType }>(inputs: T | T[]): { x: T; indices: T | null; indexShape: Shape } {
    const list = this.operands(inputs, this.constant === null ? 2 : 1);
    const indices = this.constant === null ? list[1]! : null;
    if (indices !== null && indices.dtype !== 'int32') {
      throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}': indices must be an int32 tensor; received ${indices.dtype}.`);
    }
    return { x: list[0]!, indices, indexShape: indices !== null ? indices.shape : this.constant!.value.shape };
  }

  /** The index values: the tensor's (read at once, before any other tfjs op) or the constants. */
  protected indexValues(indices: tf.Tensor | null): ArrayLike<number> {
    return indices !== null ? indices.dataSync() : this.constant!.value.values;
  }
}

/** `ops.take(x, indices, axis)`: numpy's take; the indices a tensor or constants. */
export class Take extends IndexedOp {
  static override readonly className = 'Take';

  private outShape(xShape: Shape, indexShape: Shape): Shape {
    if (this.args.axis === null) return [...indexShape];
    const a = resolveAxes(this.args.axis, xShape.length, `Take '${this.name}'`)[0]!;
    return [...xShape.slice(0, a), ...indexShape, ...xShape.slice(a + 1)];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const { x: x0, indices, indexShape } = this.split(inputs);
    const x = this.args.axis === null ? tf.reshape(x0, [-1]) : x0;
    const axis = this.args.axis === null ? 0 : resolveAxes(this.args.axis, x.rank, `Take '${this.name}'`)[0]!;
    const n = x.shape[axis]!;
    // Constant indices are checked as numbers, before an Int32Array could wrap one past 2^31.
    const values = this.indexValues(indices);
    const fixed = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v >= n || v < -n) throw new MasqueError('INVALID_INPUT', `Take '${this.name}': index ${v} is out of range for axis ${this.args.axis === null ? 'of the flattened input' : axis} of size ${n} (numpy raises).`);
      fixed[i] = v < 0 ? v + n : v;
    }
    const out = this.outShape(x0.shape, indexShape) as number[];
    if (fixed.length === 0 || x.size === 0) return tf.zeros(out, x.dtype);
    return boolsAsInt32(x, (v) => tf.reshape(tf.gather(v, tf.tensor1d(fixed, 'int32'), axis), out));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const { x, indexShape } = this.split(inputs);
    return opSpec(this.outShape(x.shape, indexShape), x.dtype);
  }
}

export interface OneHotArgs extends BaseLayerArgs {
  numClasses: number;
  /** Where the classes axis goes: -1 (last) or an axis of the input. */
  axis?: number;
  /** The output dtype (null: float32). */
  dtype?: string | null;
  /** Only false: Masque has no sparse tensors. */
  sparse?: boolean;
}

/** `ops.one_hot(x, num_classes, axis, dtype)`: negative ids give a row of zeros; an id >= num_classes raises, as in Keras's numpy backend. */
export class OneHot extends DataOp {
  static override readonly className = 'OneHot';
  static override readonly kerasModule = 'keras.src.ops.nn';
  static override readonly options: OptionTable = {
    numClasses: opt.int({ min: 1 }),
    axis: opt.int({ default: -1 }),
    dtype: opt.custom<string | null>((v, w, n) => {
      if (v === null || (typeof v === 'string' && kerasDtype(v) !== 'string')) return v as string | null;
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a numeric dtype name or null; received ${describe(v)}.`);
    }, { default: null }),
    sparse: opt.oneOf([false] as const, false),
  } satisfies OptionsOf<Omit<OneHotArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<OneHotArgs, keyof BaseLayerArgs>>;

  constructor(args: OneHotArgs) {
    super(args);
  }

  private plan(shape: Shape, dtype: tf.DataType): { shape: Shape; axis: number; dtype: tf.DataType } {
    const where = `OneHot '${this.name}'`;
    if (dtype !== 'int32') throw new MasqueError('INVALID_INPUT', `${where} takes int32 ids; received ${dtype}.`);
    const a = this.args.axis;
    if (a !== -1 && (a < 0 || a >= shape.length)) throw new MasqueError('INVALID_ARGUMENT', `${where}: axis must be -1 or in [0, ${shape.length}); received ${a}.`);
    const axis = a === -1 ? shape.length : a;
    checkOutputSize([...shape.map((d) => d ?? 1), this.args.numClasses], `OneHot '${this.name}'`);
    const out = [...shape];
    out.splice(axis, 0, this.args.numClasses);
    return { shape: out, axis, dtype: kerasDtype(this.args.dtype) ?? 'float32' };
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const { axis, dtype } = this.plan(x.shape, x.dtype);
    const ids = x.dataSync();
    const n = this.args.numClasses;
    for (const v of ids) {
      if (v >= n) throw new MasqueError('INVALID_INPUT', `OneHot '${this.name}': id ${v} is out of range for ${n} classes (Keras raises; negative ids give zeros).`);
    }
    // tfjs's oneHot gives a row of zeros for negative ids, as Keras does. It is made in int32 and cast:
    // wasm's OneHot writes int32 bits whatever the dtype asked (a float32 1 read as 1.4e-45).
    let r = tf.oneHot(tf.reshape(x, [-1]), n, 1, 0, 'int32');
    if (dtype === 'float32') r = tf.cast(r, 'float32');
    r = tf.reshape(r, [...x.shape, n]);
    if (axis !== x.rank) {
      const perm = Array.from({ length: x.rank + 1 }, (_, i) => i);
      perm.splice(x.rank, 1);
      perm.splice(axis, 0, x.rank);
      r = tf.transpose(r, perm);
    }
    return dtype === 'bool' ? toBool(r) : r;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    const p = this.plan(x.shape, x.dtype);
    return opSpec(p.shape, p.dtype);
  }
}

export interface SwapaxesArgs extends BaseLayerArgs {
  axis1: number;
  axis2: number;
}

/** `ops.swapaxes(x, axis1, axis2)` (also what tf.linalg.matmul's `transpose_a`/`transpose_b` become: the last two axes swapped). */
export class Swapaxes extends PermutingOp {
  static override readonly className = 'Swapaxes';
  static override readonly options: OptionTable = { axis1: opt.int(), axis2: opt.int() } satisfies OptionsOf<Omit<SwapaxesArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<SwapaxesArgs, keyof BaseLayerArgs>>;

  constructor(args: SwapaxesArgs) {
    super(args);
  }

  protected perm(rank: number): number[] {
    const [a, b] = resolveAxes([this.args.axis1, this.args.axis2], rank, `Swapaxes '${this.name}'`) as [number, number];
    const p = Array.from({ length: rank }, (_, i) => i);
    [p[a], p[b]] = [b, a];
    return p;
  }
}

export interface AxesArgs extends BaseLayerArgs {
  /** An axis, several, or null (the default): every axis. */
  axis?: number | number[] | null;
}

/** An operation over an axis, several, or (null, the default) every axis: Flip, CountNonzero. */
export abstract class OverAxes extends DataOp {
  static override readonly options: OptionTable = { axis: nullableAxes(null) } satisfies OptionsOf<Omit<AxesArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<AxesArgs, keyof BaseLayerArgs>>;

  constructor(args: AxesArgs = {}) {
    super(args);
  }

  /** The axes of a tensor of `rank`, each named once. */
  protected axes(rank: number): number[] {
    return distinctAxes(this.args.axis, rank, `${this.className} '${this.name}'`);
  }
}

/** `ops.flip(x, axis)`: the order of the values along the axes reversed (a sequence read backwards). */
export class Flip extends OverAxes {
  static override readonly className = 'Flip';

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const axes = this.axes(x.rank);
    if (axes.length === 0 || x.size === 0) return tf.clone(x);
    return boolsAsInt32(x, (v) => tf.reverse(v, axes));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    distinctAxes(this.args.axis, x.shape.length, `Flip '${this.name}'`);
    return opSpec(x.shape, x.dtype);
  }
}

export interface TriangleArgs extends BaseLayerArgs {
  /** The diagonal: 0 the main one, 1 above it, -1 below. */
  k?: number;
}

/** `ops.tril` / `ops.triu`: zeros above (below) the k-th diagonal of the last two axes, as numpy's. */
abstract class Triangle extends DataOp {
  static override readonly options: OptionTable = { k: opt.int({ default: 0 }) } satisfies OptionsOf<Omit<TriangleArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<TriangleArgs, keyof BaseLayerArgs>>;
  /** Whether the value at row i, column j is kept. */
  protected abstract keeps(i: number, j: number): boolean;

  constructor(args: TriangleArgs = {}) {
    super(args);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    if (x.rank < 2) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' takes a tensor of rank 2 or more; received shape ${formatShape(x.shape)}.`);
    if (x.size === 0) return tf.clone(x); // (tfjs's broadcastTo cannot make an empty mask)
    const [m, n] = x.shape.slice(-2) as [number, number];
    const keep = new Uint8Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) keep[i * n + j] = this.keeps(i, j) ? 1 : 0;
    const mask = tf.broadcastTo(tf.tensor(keep, [m, n], 'bool'), x.shape);
    return boolsAsInt32(x, (v) => tf.where(mask, v, tf.zerosLike(v)));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    if (x.shape.length < 2) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' takes a tensor of rank 2 or more; received shape ${formatShape(x.shape)}.`);
    return opSpec(x.shape, x.dtype);
  }
}

export class Tril extends Triangle {
  static override readonly className = 'Tril';
  protected keeps(i: number, j: number): boolean {
    return j - i <= this.args.k;
  }
}

export class Triu extends Triangle {
  static override readonly className = 'Triu';
  protected keeps(i: number, j: number): boolean {
    return j - i >= this.args.k;
  }
}

export interface PadArgs extends BaseLayerArgs {
  /** numpy's pad_width: an int, one [before, after] pair for every axis, or one pair per axis. */
  padWidth: number | number[] | number[][];
  /** 'constant' (the default), 'reflect', 'symmetric', 'edge' or 'wrap'. */
  mode?: PadMode;
}

export interface PadCallArgs extends CallArgs {
  /** The value padded in (constant mode; default 0), cast to the input's dtype as numpy does. */
  constantValues?: number | null;
}

/** numpy's pad_width, checked: a list of [before, after] pairs (one pair: every axis). */
const padWidthOption = () =>
  opt.custom<number[][]>((v, w, n) => {
    const nat = (d: unknown): d is number => Number.isInteger(d) && (d as number) >= 0;
    if (nat(v)) return [[v, v]];
    if (Array.isArray(v) && v.length === 2 && v.every(nat)) return [[v[0], v[1]]];
    // One or two values per pair, the same in every pair (Keras refuses a mix).
    if (Array.isArray(v) && v.length > 0 && v.every((p) => Array.isArray(p) && (p.length === 1 || p.length === 2) && p.length === (v[0] as unknown[]).length && p.every(nat))) {
      return (v as number[][]).map((p) => (p.length === 1 ? [p[0]!, p[0]!] : [p[0]!, p[1]!]));
    }
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a non-negative integer, a [before, after] pair, or one pair per axis; received ${describe(v)}.`);
  });

/** numpy's pad modes that Masque reads. */
type PadMode = 'constant' | 'reflect' | 'symmetric' | 'edge' | 'wrap';
const PAD_MODES: readonly PadMode[] = ['constant', 'reflect', 'symmetric', 'edge', 'wrap'];

/**
 * The position of an axis of size n that numpy's pad puts at position k
 * (k < 0 before the axis, k >= n after it): reflection about the edge value
 * (reflect: period 2(n - 1), the edge once) or about the edge itself
 * (symmetric: period 2n, the edge twice), repeated for pads wider than the
 * axis; the edge value itself (edge); the axis repeated (wrap).
 */
function paddedPosition(k: number, n: number, mode: Exclude<PadMode, 'constant'>): number {
  if (mode === 'edge') return Math.min(Math.max(k, 0), n - 1);
  if (mode === 'wrap') return ((k % n) + n) % n;
  if (mode === 'reflect') {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    const m = ((k % period) + period) % period;
    return m < n ? m : period - m;
  }
  const period = 2 * n;
  const m = ((k % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/**
 * A pad that repeats values of the tensor (every mode but constant), axis by
 * axis, as a gather of the positions it repeats. tfjs's mirrorPad computes
 * reflect and symmetric for pads narrower than the axis, but its gradient
 * only slices (the mirrored copies' gradients were lost); a gather's
 * gradient sums them.
 */
function padByGather(x: tf.Tensor, pairs: [number, number][], mode: Exclude<PadMode, 'constant'>): tf.Tensor {
  let r = x;
  pairs.forEach(([b, a], axis) => {
    if (b === 0 && a === 0) return;
    const n = x.shape[axis]!;
    const idx = new Int32Array(b + n + a);
    for (let k = 0; k < idx.length; k++) idx[k] = paddedPosition(k - b, n, mode);
    r = tf.gather(r, tf.tensor1d(idx, 'int32'), axis);
  });
  return r;
}

/**
 * `ops.pad(x, pad_width, mode, constant_values)`: numpy's pad in 'constant'
 * mode (the value is a call argument, as Keras records it), 'reflect',
 * 'symmetric', 'edge' or 'wrap' (pads wider than the axis repeat, as
 * numpy's do). numpy's other modes (the statistics, linear_ramp, empty) are
 * refused by name.
 */
export class Pad extends DataOp {
  static override readonly className = 'Pad';
  static readonly callArgNames: readonly string[] = ['training', 'mask', 'constantValues'];
  static override readonly options: OptionTable = {
    padWidth: padWidthOption(),
    mode: opt.custom<PadMode>((v, w, n) => {
      if (PAD_MODES.includes(v as PadMode)) return v as PadMode;
      throw new MasqueError('UNSUPPORTED_CONFIG', `${w}: ${n} ${describe(v)} is not read; Masque pads in 'constant', 'reflect', 'symmetric', 'edge' or 'wrap' mode.`);
    }, { default: 'constant' }),
  } satisfies OptionsOf<Omit<PadArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<PadArgs, keyof BaseLayerArgs>> & { padWidth: number[][] };

  constructor(args: PadArgs) {
    super(args);
  }

  /** One [before, after] pair per axis of a tensor of `rank`. */
  private pairs(rank: number): [number, number][] {
    const p = this.args.padWidth;
    if (p.length !== 1 && p.length !== rank) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Pad '${this.name}': pad_width has ${p.length} pairs for a tensor of rank ${rank}; give one pair, or one per axis.`);
    }
    return Array.from({ length: rank }, (_, i) => (p.length === 1 ? p[0]! : p[i]!) as [number, number]);
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: PadCallArgs = {}): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const pairs = this.pairs(x.rank);
    const where = `Pad '${this.name}'`;
    const value = args.constantValues ?? null;
    if (value !== null && typeof value !== 'number') throw new MasqueError('INVALID_ARGUMENT', `${where}: constant_values must be a number or null; received ${describe(value)}.`);
    if (value !== null && x.dtype === 'int32' && !(Number.isFinite(value) && Math.trunc(value) >= -(2 ** 31) && Math.trunc(value) < 2 ** 31)) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: constant_values ${value} cannot pad an int32 tensor (outside int32: numpy 2 raises; older numpy wrapped it around).`);
    }
    if (this.args.mode !== 'constant') {
      if (value !== null) throw new MasqueError('INVALID_ARGUMENT', `${where}: constant_values is only taken in 'constant' mode (mode is '${this.args.mode}').`);
      pairs.forEach(([b, a], i) => {
        if (x.shape[i] === 0 && b + a > 0) throw new MasqueError('INVALID_INPUT', `${where}: cannot ${this.args.mode}-pad axis ${i}, which is empty (numpy raises too).`);
      });
    }
    // numpy returns a 0-d array as it is.
    if (x.rank === 0) return tf.clone(x);
    checkOutputSize(x.shape.map((d, i) => d + pairs[i]![0] + pairs[i]![1]), where);
    // numpy casts the value to the array's dtype: 0.5 pads an int tensor with 0, a bool one with True.
    const fill = x.dtype === 'float32' ? (value ?? 0) : x.dtype === 'bool' ? Number((value ?? 0) !== 0) : Math.trunc(value ?? 0);
    const outShape = x.shape.map((d, i) => d + pairs[i]![0] + pairs[i]![1]);
    const mode = this.args.mode;
    return boolsAsInt32(x, (v) => {
      if (mode !== 'constant') return padByGather(v, pairs, mode);
      if (v.size === 0) return tf.fill(outShape, fill, v.dtype); // tfjs's wasm pad of nothing
      if (!Number.isNaN(fill)) return tf.pad(v, pairs, fill);
      // wasm's pad kernel is cached by its value, and NaN finds another one's: pad 0, then put NaN where the padding is.
      const inside = toBool(tf.pad(tf.onesLike(v), pairs, 0));
      return tf.where(inside, tf.pad(v, pairs, 0), tf.fill(outShape, NaN));
    });
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    if (x.shape.length === 0) return opSpec([], x.dtype);
    const pairs = this.pairs(x.shape.length);
    return opSpec(x.shape.map((d, i) => (d === null ? null : d + pairs[i]![0] + pairs[i]![1])), x.dtype);
  }
}

export interface MoveaxisArgs extends BaseLayerArgs {
  /** The axis or axes to move. */
  source: number | number[];
  /** Where each goes (as many as `source`). */
  destination: number | number[];
}

/** An axis or a list of them, for moveaxis and roll. */
const axisList = () =>
  opt.custom<number | number[]>((v, w, n) => {
    if (Number.isInteger(v)) return v as number;
    if (Array.isArray(v) && v.every((a) => Number.isInteger(a))) return [...(v as number[])];
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer or a list of integers; received ${describe(v)}.`);
  });

/** `ops.moveaxis(x, source, destination)`: numpy's, the other axes kept in their order. */
export class Moveaxis extends PermutingOp {
  static override readonly className = 'Moveaxis';
  static override readonly options: OptionTable = { source: axisList(), destination: axisList() } satisfies OptionsOf<Omit<MoveaxisArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<MoveaxisArgs, keyof BaseLayerArgs>>;

  constructor(args: MoveaxisArgs) {
    super(args);
  }

  protected perm(rank: number): number[] {
    const where = `Moveaxis '${this.name}'`;
    const source = distinctAxes(this.args.source, rank, where);
    const destination = distinctAxes(this.args.destination, rank, where);
    if (source.length !== destination.length) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: source and destination must name as many axes; received ${JSON.stringify(this.args.source)} and ${JSON.stringify(this.args.destination)}.`);
    }
    const order = Array.from({ length: rank }, (_, i) => i).filter((a) => !source.includes(a));
    for (const [d, s] of destination.map((d, i) => [d, source[i]!] as const).sort((a, b) => a[0] - b[0])) order.splice(d, 0, s);
    return order;
  }
}

export interface RollArgs extends BaseLayerArgs {
  /** How far each value moves forward (one shift, or one per axis). */
  shift: number | number[];
  /** The axis or axes (null: the flattened tensor). Default null. */
  axis?: number | number[] | null;
}

/** `ops.roll(x, shift, axis)`: numpy's, values that move past the end come back at the start (a gather, so gradients follow them). */
export class Roll extends DataOp {
  static override readonly className = 'Roll';
  static override readonly options: OptionTable = { shift: axisList(), axis: nullableAxes(null) } satisfies OptionsOf<Omit<RollArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<RollArgs, keyof BaseLayerArgs>>;

  constructor(args: RollArgs) {
    super(args);
  }

  /** [axis, shift] pairs for a tensor of `rank` (numpy broadcasts one shift to several axes, or one axis to several shifts, which add up). */
  private shifts(rank: number): [number, number][] {
    const where = `Roll '${this.name}'`;
    const shift = Array.isArray(this.args.shift) ? this.args.shift : [this.args.shift];
    const axes = resolveAxes(this.args.axis === null ? 0 : this.args.axis, this.args.axis === null ? 1 : rank, where);
    if (shift.length !== axes.length && shift.length !== 1 && axes.length !== 1) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: ${shift.length} shifts for ${axes.length} axes; give one shift, one axis, or as many of each.`);
    }
    // numpy broadcasts an empty list of shifts or axes against one to no roll at all.
    if (shift.length === 0 || axes.length === 0) return [];
    const n = Math.max(shift.length, axes.length);
    return Array.from({ length: n }, (_, i) => [axes[axes.length === 1 ? 0 : i]!, shift[shift.length === 1 ? 0 : i]!]);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    if (x.rank === 0) {
      if (this.args.axis !== null) throw new MasqueError('INVALID_INPUT', `Roll '${this.name}': a scalar has no axis ${JSON.stringify(this.args.axis)} (numpy raises); give axis null.`);
      return tf.clone(x);
    }
    const v = this.args.axis === null ? tf.reshape(x, [-1]) : x;
    // Each axis's total shift, kept below its length as it adds up (a shift past 2^53 stays exact).
    const total = new Map<number, number>();
    for (const [a, s] of this.shifts(v.rank)) {
      const n = v.shape[a]!;
      if (n > 0) total.set(a, ((total.get(a) ?? 0) + (s % n) + n) % n);
    }
    let r = v;
    for (const [a, s] of total) {
      const n = v.shape[a]!;
      if (s === 0) continue;
      const idx = new Int32Array(n);
      for (let k = 0; k < n; k++) idx[k] = (((k - s) % n) + n) % n;
      r = boolsAsInt32(r, (t) => tf.gather(t, tf.tensor1d(idx, 'int32'), a));
    }
    return r === x ? tf.clone(x) : tf.reshape(r, x.shape);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    if (x.shape.length > 0) this.shifts(this.args.axis === null ? 1 : x.shape.length);
    return opSpec(x.shape, x.dtype);
  }
}
