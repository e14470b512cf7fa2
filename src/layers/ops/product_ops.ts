/**
 * numpy's products and diagonals among Keras 3's operations (the fifth
 * set): `dot`, `tensordot`, `outer`, `diagonal` and `trace`, with the numpy
 * backend's semantics: the operands promoted to one dtype (bools multiply
 * as logical and, sum as logical or), integers multiplied exactly
 * (math_ops.ts's int matmul), floats by tfjs's matMul (so they train).
 */
import { tf } from '../../runtime/tfjs.js';
import { isTapeOn } from '../../runtime/internals.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { flatShape, opSpec } from './keras_op.js';
import { DataOp, asTensor, intMatmul, kindOf, resultDtype, specOf, type Scalar } from './math_ops.js';
import { resolveAxes, truthy } from './logical.js';
import { boolsAsInt32 } from './gather_ops.js';

const size = (s: readonly number[]) => tf.util.sizeFromShape(s as number[]);

/**
 * Zeros of `shape` (an empty sum, or an empty result) that a gradient can
 * reach from `inputs` (zero gradients), as numpy's would be: a fresh
 * tf.zeros is not on the tape, so tf.grad would fail.
 */
function zerosFrom(shape: number[], dtype: tf.DataType, inputs: tf.Tensor[]): tf.Tensor {
  if (!isTapeOn() || dtype !== 'float32') return tf.zeros(shape, dtype);
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    return { value: tf.zeros(shape, dtype), gradFunc: () => xs.map((x) => tf.zerosLike(x)) };
  })(...inputs);
}

/**
 * numpy's tensordot of `a` and `b` over the axes `axesA` of a and `axesB` of
 * b (same sizes): a's other axes, then b's, in their order. The operands
 * are in `dtype` already (bools as int32, made bools again by the caller).
 */
function contract(a: tf.Tensor, b: tf.Tensor, axesA: number[], axesB: number[]): tf.Tensor {
  const freeA = a.shape.map((_, i) => i).filter((i) => !axesA.includes(i));
  const freeB = b.shape.map((_, i) => i).filter((i) => !axesB.includes(i));
  const outShape = [...freeA.map((i) => a.shape[i]!), ...freeB.map((i) => b.shape[i]!)];
  const m = size(freeA.map((i) => a.shape[i]!));
  const n = size(freeB.map((i) => b.shape[i]!));
  const k = size(axesA.map((i) => a.shape[i]!));
  if (m * n === 0 || k === 0) return zerosFrom(outShape, a.dtype, [a, b]); // an empty sum is 0
  const A = tf.reshape(tf.transpose(a, [...freeA, ...axesA]), [m, k]);
  const B = tf.reshape(tf.transpose(b, [...axesB, ...freeB]), [k, n]);
  return tf.reshape(a.dtype === 'int32' ? intMatmul(A, B) : tf.matMul(A, B), outShape);
}

/** The shape numpy's tensordot gives for shapes (null: unknown), checking the contracted sizes. */
function contractedShape(a: Shape, b: Shape, axesA: number[], axesB: number[], where: string): Shape {
  axesA.forEach((i, j) => {
    const [p, q] = [a[i]!, b[axesB[j]!]!];
    if (p !== null && q !== null && p !== q) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: axis ${i} of the first operand (size ${p}) and axis ${axesB[j]} of the second (size ${q}) must have one size; received shapes ${formatShape(a)} and ${formatShape(b)}.`);
    }
  });
  return [...a.filter((_, i) => !axesA.includes(i)), ...b.filter((_, i) => !axesB.includes(i))];
}

/**
 * The dot, tensordot and outer products: two operands (tensors, or a
 * constant array or number as Keras records them), promoted as numpy
 * promotes them, contracted over the axes `plan` names.
 */
abstract class ProductOp extends DataOp {
  static override readonly takesNumbers = true;

  /** The contracted axes of each operand for operands of these ranks. */
  protected abstract plan(rankA: number, rankB: number): { axesA: number[]; axesB: number[] };

  /** The operands as this product takes them (outer flattens them). */
  protected prepare(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return [a, b];
  }

  /** The operands' shapes as `prepare` makes them (null: unknown). */
  protected preparedShapes(a: Shape, b: Shape): [Shape, Shape] {
    return [a, b];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, y] = this.mixed(inputs, 2) as [tf.Tensor | Scalar, tf.Tensor | Scalar];
    const dtype = resultDtype([kindOf(x), kindOf(y)]);
    const work = dtype === 'bool' ? 'int32' : dtype;
    const [a, b] = this.prepare(asTensor(x, work), asTensor(y, work));
    const { axesA, axesB } = this.plan(a.rank, b.rank);
    contractedShape(a.shape, b.shape, axesA, axesB, `${this.className} '${this.name}'`);
    const out = a.rank === 0 || b.rank === 0 ? tf.mul(a, b) : contract(a, b, axesA, axesB);
    return dtype === 'bool' ? truthy(out) : out;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const [x, y] = this.mixed(inputs, 2) as (TensorSpec | Scalar)[];
    const [a, b] = this.preparedShapes(specOf(x!).shape, specOf(y!).shape);
    const { axesA, axesB } = this.plan(a.length, b.length);
    const shape = a.length === 0 || b.length === 0 ? (a.length === 0 ? b : a) : contractedShape(a, b, axesA, axesB, `${this.className} '${this.name}'`);
    return opSpec(shape, resultDtype([kindOf(x!), kindOf(y!)]));
  }
}

/** `ops.dot(a, b)`: numpy's dot (a scalar multiplies; otherwise a's last axis against b's only axis, or its second to last). */
export class DotOp extends ProductOp {
  static override readonly className = 'Dot';
  protected plan(rankA: number, rankB: number): { axesA: number[]; axesB: number[] } {
    if (rankA === 0 || rankB === 0) return { axesA: [], axesB: [] };
    return { axesA: [rankA - 1], axesB: [rankB === 1 ? 0 : rankB - 2] };
  }
}

export interface TensordotArgs extends BaseLayerArgs {
  /** N: a's last N axes against b's first N; or [a's axes, b's axes] (an axis or a list each). Default 2. */
  axes?: number | (number | number[])[];
}

/** `ops.tensordot(a, b, axes=2)`: numpy's tensordot. */
export class Tensordot extends ProductOp {
  static override readonly className = 'Tensordot';
  static override readonly options: OptionTable = {
    axes: opt.custom<number | (number | number[])[]>(
      (v, w, n) => {
        const axisList = (p: unknown) => Number.isInteger(p) || (Array.isArray(p) && p.every((d) => Number.isInteger(d)));
        // numpy takes a negative count as none (the outer product), as Keras's symbolic shape does.
        if (Number.isInteger(v)) return Math.max(0, v as number);
        if (Array.isArray(v) && v.length === 2 && v.every(axisList)) return v.map((p) => (Array.isArray(p) ? [...(p as number[])] : (p as number)));
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer or a pair of axes (an axis or a list each); received ${describe(v)}.`);
      },
      { default: 2 },
    ),
  } satisfies OptionsOf<Omit<TensordotArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<TensordotArgs, keyof BaseLayerArgs>>;

  constructor(args: TensordotArgs = {}) {
    super(args);
  }

  protected plan(rankA: number, rankB: number): { axesA: number[]; axesB: number[] } {
    const where = `Tensordot '${this.name}'`;
    const axes = this.args.axes;
    if (typeof axes === 'number') {
      if (axes > rankA || axes > rankB) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: axes=${axes} is more than the operands' ranks (${rankA} and ${rankB}).`);
      return { axesA: Array.from({ length: axes }, (_, i) => rankA - axes + i), axesB: Array.from({ length: axes }, (_, i) => i) };
    }
    const list = (p: number | number[]) => (Array.isArray(p) ? p : [p]);
    const axesA = resolveAxes(list(axes[0]!), rankA, where);
    const axesB = resolveAxes(list(axes[1]!), rankB, where);
    if (axesA.length !== axesB.length) throw new MasqueError('INVALID_ARGUMENT', `${where}: axes name ${axesA.length} axes of the first operand and ${axesB.length} of the second; they must pair up.`);
    if (new Set(axesA).size !== axesA.length || new Set(axesB).size !== axesB.length) throw new MasqueError('INVALID_ARGUMENT', `${where}: axes ${JSON.stringify(axes)} name an axis twice.`);
    return { axesA, axesB };
  }
}

/** `ops.outer(a, b)`: numpy's outer product of the flattened operands. */
export class Outer extends ProductOp {
  static override readonly className = 'Outer';
  protected plan(): { axesA: number[]; axesB: number[] } {
    return { axesA: [], axesB: [] };
  }
  protected override prepare(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return [tf.reshape(a, [-1]), tf.reshape(b, [-1])];
  }
  protected override preparedShapes(a: Shape, b: Shape): [Shape, Shape] {
    return [flatShape(a), flatShape(b)];
  }
}

export interface DiagonalArgs extends BaseLayerArgs {
  /** The diagonal: 0 the main one, above it positive, below negative. Default 0. */
  offset?: number;
  /** The two axes whose diagonal is taken. Defaults 0 and 1. */
  axis1?: number;
  axis2?: number;
}

/** Diagonal and Trace: the values x[..., i, ..., i + offset, ...] of two axes. */
abstract class DiagonalOp extends DataOp {
  static override readonly options: OptionTable = { offset: opt.int({ default: 0 }), axis1: opt.int({ default: 0 }), axis2: opt.int({ default: 1 }) } satisfies OptionsOf<Omit<DiagonalArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<DiagonalArgs, keyof BaseLayerArgs>>;

  constructor(args: DiagonalArgs = {}) {
    super(args);
  }

  /** The two axes, checked, and the diagonal's length for their sizes (null: unknown). */
  protected axes(shape: Shape): { a1: number; a2: number; length: number | null } {
    const where = `${this.className} '${this.name}'`;
    if (shape.length < 2) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where} takes a tensor of rank 2 or more; received shape ${formatShape(shape)}.`);
    const [a1, a2] = resolveAxes([this.args.axis1, this.args.axis2], shape.length, where) as [number, number];
    if (a1 === a2) throw new MasqueError('INVALID_ARGUMENT', `${where}: axis1 and axis2 name the same axis (${a1}); numpy refuses it.`);
    const [n1, n2] = [shape[a1]!, shape[a2]!];
    const { offset } = this.args;
    const length = n1 === null || n2 === null ? null : Math.max(0, offset >= 0 ? Math.min(n1, n2 - offset) : Math.min(n1 + offset, n2));
    return { a1, a2, length };
  }

  /** The diagonal as numpy's: the other axes in their order, then the diagonal. */
  protected diagonalOf(x: tf.Tensor): tf.Tensor {
    const { a1, a2, length } = this.axes(x.shape);
    const others = x.shape.map((_, i) => i).filter((i) => i !== a1 && i !== a2);
    const outShape = [...others.map((i) => x.shape[i]!), length!];
    const [n1, n2] = [x.shape[a1]!, x.shape[a2]!];
    if (size(outShape) === 0) return tf.reshape(tf.slice(tf.reshape(x, [-1]), 0, 0), outShape); // empty, reachable by a gradient
    const { offset } = this.args;
    const idx = new Int32Array(length!);
    for (let i = 0; i < length!; i++) idx[i] = (offset >= 0 ? i : i - offset) * n2 + (offset >= 0 ? i + offset : i);
    return boolsAsInt32(x, (v) => {
      const moved = tf.reshape(tf.transpose(v, [...others, a1, a2]), [size(others.map((i) => x.shape[i]!)), n1 * n2]);
      return tf.reshape(tf.gather(moved, tf.tensor1d(idx, 'int32'), 1), outShape);
    });
  }
}

/** `ops.diagonal(x, offset=0, axis1=0, axis2=1)`: numpy's diagonal (the diagonal becomes the last axis). */
export class Diagonal extends DiagonalOp {
  static override readonly className = 'Diagonal';

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.diagonalOf(this.operands(inputs, 1)[0]!);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    const { a1, a2, length } = this.axes(x.shape);
    return opSpec([...x.shape.filter((_, i) => i !== a1 && i !== a2), length], x.dtype);
  }
}

/** `ops.trace(x, offset=0, axis1=0, axis2=1)`: the diagonal's sum (bools and ints in int32, as Keras's numpy backend). */
export class Trace extends DiagonalOp {
  static override readonly className = 'Trace';

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const d = this.diagonalOf(x.dtype === 'bool' ? tf.cast(x, 'int32') : x);
    return d.shape[d.rank - 1] === 0 || d.size === 0 ? zerosFrom(d.shape.slice(0, -1), d.dtype, [x]) : tf.sum(d, -1);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    const { a1, a2 } = this.axes(x.shape);
    return opSpec(x.shape.filter((_, i) => i !== a1 && i !== a2), x.dtype === 'bool' ? 'int32' : x.dtype);
  }
}
