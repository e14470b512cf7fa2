/**
 * Array ops that Keras records in mask computations: `ops.expand_dims`,
 * `squeeze`, `zeros_like`, `ones_like`, `concatenate` (the op, not the
 * layer: Keras tells them apart by module), and from `keras.src.ops.core`
 * `convert_to_tensor` and `cast`. Semantics are numpy's (Keras's numpy
 * backend): negative axes of expand_dims count in the output, concatenation
 * promotes dtypes (bool < int32 < float32), a cast to bool is truthiness.
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { KerasOp, kerasDtype, opSpec, promoteDtypes } from './keras_op.js';
import { nullableAxes, resolveAxes, truthy } from './logical.js';

/** A Keras dtype option ('bool', 'float32', 'int64', ...) or null. */
export const dtypeOption = () =>
  opt.custom<string | null>(
    (v, w, n) => {
      if (v === null) return null;
      if (typeof v === 'string') {
        kerasDtype(v);
        return v;
      }
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a dtype name (e.g. 'bool', 'float32') or null; received ${describe(v)}.`);
    },
    { default: null },
  );

/** An op that only reshapes its one operand (expand_dims, squeeze, reshape): the output shape is `outShape(input shape)`. */
export abstract class ShapeOnlyOp extends KerasOp {
  protected abstract outShape(shape: Shape): Shape;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    return tf.reshape(x, this.outShape(x.shape) as number[]);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(this.outShape(x.shape), x.dtype);
  }
}

export interface ExpandDimsArgs extends BaseLayerArgs {
  axis: number | number[];
}

/** The axes of the output of expand_dims for an input of `rank` (numpy: positions in the output), sorted. */
function expandedAxes(axis: number | number[], rank: number, where: string): number[] {
  const out = rank + (Array.isArray(axis) ? axis.length : 1);
  return resolveAxes(axis, out, where).sort((a, b) => a - b);
}

export class ExpandDims extends ShapeOnlyOp {
  static override readonly className = 'ExpandDims';
  static override readonly options = {
    axis: opt.custom<number | number[]>((v, w, n) => {
      if (Number.isInteger(v) || (Array.isArray(v) && v.length > 0 && v.every((a) => Number.isInteger(a)))) return Array.isArray(v) ? [...v] : (v as number);
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer or a list of integers; received ${describe(v)}.`);
    }),
  } satisfies OptionsOf<Omit<ExpandDimsArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ExpandDimsArgs, keyof BaseLayerArgs>>;

  constructor(args: ExpandDimsArgs) {
    super(args);
  }

  protected outShape(shape: Shape): Shape {
    const out = [...shape];
    for (const a of expandedAxes(this.args.axis, shape.length, `ExpandDims '${this.name}'`)) out.splice(a, 0, 1);
    return out;
  }
}

export interface SqueezeArgs extends BaseLayerArgs {
  axis?: number | number[] | null;
}

export class Squeeze extends ShapeOnlyOp {
  static override readonly className = 'Squeeze';
  static override readonly options = { axis: nullableAxes(null) } satisfies OptionsOf<Omit<SqueezeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<SqueezeArgs, keyof BaseLayerArgs>>;

  constructor(args: SqueezeArgs = {}) {
    super(args);
  }

  protected outShape(shape: Shape): Shape {
    const where = `Squeeze '${this.name}'`;
    const axes = this.args.axis === null ? shape.flatMap((d, i) => (d === 1 ? [i] : [])) : resolveAxes(this.args.axis, shape.length, where);
    for (const a of axes) {
      if (shape[a] !== 1 && shape[a] !== null) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: axis ${a} of shape ${formatShape(shape)} has size ${shape[a]}, not 1.`);
    }
    return shape.filter((_, i) => !axes.includes(i));
  }
}

export interface FillLikeArgs extends BaseLayerArgs {
  /** The output dtype (Keras name); null keeps the input's. */
  dtype?: string | null;
}

/** zeros_like / ones_like: a tensor of the input's shape filled with one value. */
abstract class FillLike extends KerasOp {
  static override readonly options = { dtype: dtypeOption() } satisfies OptionsOf<Omit<FillLikeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<FillLikeArgs, keyof BaseLayerArgs>>;
  protected abstract readonly value: number;

  constructor(args: FillLikeArgs = {}) {
    super(args);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const dtype = kerasDtype(this.args.dtype) ?? x.dtype;
    return this.value === 0 ? tf.zeros(x.shape, dtype) : tf.ones(x.shape, dtype);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(x.shape, kerasDtype(this.args.dtype) ?? x.dtype);
  }
}

export class ZerosLike extends FillLike {
  static override readonly className = 'ZerosLike';
  protected readonly value = 0;
}

export class OnesLike extends FillLike {
  static override readonly className = 'OnesLike';
  protected readonly value = 1;
}

export interface ConcatenateOpArgs extends BaseLayerArgs {
  axis?: number;
}

/** `ops.concatenate(list, axis)`: recorded under class name 'Concatenate' with module keras.src.ops.numpy. */
export class ConcatenateOp extends KerasOp {
  static override readonly className = 'Concatenate';
  static override readonly listOperand = true;
  static override readonly options = { axis: opt.int({ default: 0 }) } satisfies OptionsOf<Omit<ConcatenateOpArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ConcatenateOpArgs, keyof BaseLayerArgs>>;

  constructor(args: ConcatenateOpArgs = {}) {
    super(args);
  }

  private axisFor(rank: number): number {
    return resolveAxes(this.args.axis, rank, `Concatenate op '${this.name}'`)[0]!;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const xs = this.operands(inputs, null);
    const dtype = promoteDtypes(xs.map((x) => x.dtype));
    return tf.concat(xs.map((x) => (x.dtype === dtype ? x : tf.cast(x, dtype))), this.axisFor(xs[0]!.rank));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const xs = this.operands(inputs, null);
    const a = this.axisFor(xs[0]!.shape.length);
    const shape = xs[0]!.shape.map((d, i) => (i !== a ? d : xs.some((x) => x.shape[a] === null) ? null : xs.reduce((n, x) => n + (x.shape[a] as number), 0)));
    return opSpec(shape, promoteDtypes(xs.map((x) => x.dtype)));
  }
}

export interface CastArgs extends BaseLayerArgs {
  dtype?: string | null;
}

/** `ops.cast(x, dtype)`: float -> bool is truthiness, float -> int truncates toward zero. */
export class Cast extends KerasOp {
  static override readonly className: string = 'Cast';
  static override readonly kerasModule = 'keras.src.ops.core';
  static override readonly options: OptionTable = { dtype: dtypeOption() } satisfies OptionsOf<Omit<CastArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<CastArgs, keyof BaseLayerArgs>>;

  constructor(args: CastArgs = {}) {
    super(args);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const dtype = kerasDtype(this.args.dtype) ?? x.dtype;
    return x.dtype === dtype ? tf.clone(x) : dtype === 'bool' ? truthy(x) : tf.cast(x, dtype);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(x.shape, kerasDtype(this.args.dtype) ?? x.dtype);
  }
}

export interface ConvertToTensorArgs extends CastArgs {
  sparse?: boolean | null;
  ragged?: boolean | null;
}

/** `ops.convert_to_tensor(x, dtype)`: the identity, or a cast when a dtype is given. */
export class ConvertToTensor extends Cast {
  static override readonly className: string = 'ConvertToTensor';
  static override readonly options: OptionTable = {
    dtype: dtypeOption(),
    sparse: opt.oneOf([null, false] as const, null),
    ragged: opt.oneOf([null, false] as const, null),
  } satisfies OptionsOf<Omit<ConvertToTensorArgs, keyof BaseLayerArgs>>;

  constructor(args: ConvertToTensorArgs = {}) {
    super(args);
  }
}
