/**
 * The Keras operations people write between layers of a Functional model:
 * arithmetic (`x * m`, `1.0 - x`, `ops.divide`, `ops.maximum`, `ops.power`),
 * elementwise functions (`ops.exp`, `log`, `sqrt`, `tanh`, `abs`, `square`,
 * `negative`; `ops.sigmoid`, `relu`, `softmax`, `log_softmax` of
 * keras.src.ops.nn), reductions (`ops.sum`, `mean`, `max`, `min`), and
 * `ops.transpose`, `reshape`, `matmul`, `where` and indexing (`x[:, -1]`,
 * Keras's `GetItem`). Keras records them in Functional configs, and tf.keras 2
 * records the same computations as `TFOpLambda` layers (translated in
 * src/io/keras_legacy_ops.ts).
 *
 * Semantics are Keras's numpy backend: numpy broadcasting; a Python number
 * among the operands is weak (an int32 tensor times 2 stays int32, times 2.0
 * or 2.5 is float32: a config's `2.0` arrives as a PyFloat); bool operands of
 * arithmetic count as 0 and 1; division and the float functions of integers
 * give float32; the sum of bools is int32; what numpy refuses is refused.
 *
 * Unlike the mask ops beside them (not_equal, any, ...), which only build
 * masks, these compute on data, and Keras passes no mask through them: a
 * masked input reaching one is dropped by Keras without a word. In Masque
 * that is the mask policy's business, as for any layer that cannot use a
 * mask: 'error' (the default) raises MASK_NOT_SUPPORTED, 'warn' drops it as
 * Keras does, with a warning, 'ignore' drops it silently.
 */
import { tf, toBool } from '../../runtime/tfjs.js';
import { PyFloat, asPyFloat } from '../../engine/py_float.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { SymbolicArgs } from '../../engine/layer.js';
import { SymbolicTensor } from '../../engine/symbolic.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { KerasOp, broadcastShapes, kerasDtype, opSpec, promoteDtypes } from './keras_op.js';
import { ShapeOnlyOp } from './array_ops.js';
import { distinctAxes, nullableAxes, resolveAxes, truthy } from './logical.js';
import { onCommonShape } from '../../ops/merge_ops.js';
import { broadcastFast, select } from '../../ops/attention_ops.js';
import { extremeSplittingTies } from '../../ops/pooling_ops.js';

/** What numpy sees of an operand: a tensor's dtype, or a Python scalar's kind (weak: it follows the tensors). */
export type Kind = tf.DataType | 'py-bool' | 'py-int' | 'py-float';

/**
 * A constant array among an op's operands, as Keras 3 records one
 * (`{class_name: '__tensor__', config: {value, dtype}}`, from `x * np.array(...)`):
 * it has its dtype. One read from tf.keras 2 (a nested list, dtype null
 * here) is weak: TensorFlow converted it to its tensor operand's dtype, so
 * it follows the tensors as a Python number does.
 */
export class ConstArray {
  private constructor(
    readonly values: number[],
    readonly shape: number[],
    /** Its dtype; null when weak. */
    readonly dtype: tf.DataType | null,
    /** The nested list, as given. */
    readonly value: unknown,
    /** A weak constant's kind: 'py-float' when a value is written as a float. */
    private readonly weakKind: 'py-int' | 'py-float',
    /** How Keras recorded it ('__tensor__' or, from the TensorFlow and JAX backends, '__numpy__', with its dtype name: 'int64' stays 'int64'), to write it back so. */
    private readonly recorded: { className: string; dtypeName: string } | null = null,
  ) {}

  /** A nested list of numbers (with its Keras dtype name, or null for a weak one) as a constant, checked: rectangular, numbers. */
  static fromNested(value: unknown, dtypeName: string | null, where: string, className = '__tensor__'): ConstArray {
    const dtype = kerasDtype(dtypeName);
    if (dtype === 'string') throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: a constant of dtype '${dtypeName}' is not supported.`);
    const shape: number[] = [];
    for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length);
    const values: number[] = [];
    let float = false;
    const walk = (v: unknown, depth: number): void => {
      if (depth === shape.length) {
        const f = asPyFloat(v);
        const n = typeof v === 'boolean' ? Number(v) : f !== null ? f.value : v;
        if (typeof n !== 'number') throw new MasqueError('INVALID_CONFIG', `${where}: a constant operand must hold numbers; found ${describe(v)}.`);
        float ||= f !== null || !Number.isInteger(n);
        values.push(n);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[depth]) throw new MasqueError('INVALID_CONFIG', `${where}: a constant operand must be a rectangular nested list (shape ${JSON.stringify(shape)}); received ${describe(value)}.`);
      for (const x of v) walk(x, depth + 1);
    };
    walk(value, 0);
    return new ConstArray(values, shape, dtype, value, float ? 'py-float' : 'py-int', dtypeName === null ? null : { className, dtypeName });
  }

  /** How numpy sees it among other operands. */
  get kind(): Kind {
    return this.dtype ?? this.weakKind;
  }

  /** As Keras 3 records it; a weak constant with the dtype it takes beside tensors of `dtypes`. */
  toKeras(dtypes: tf.DataType[]): Record<string, unknown> {
    const floats = (v: unknown): unknown => (Array.isArray(v) ? v.map(floats) : (asPyFloat(v) ?? v)); // 2.0 written 2.0
    return { class_name: this.recorded?.className ?? '__tensor__', config: { value: floats(this.value), dtype: this.recorded?.dtypeName ?? resultDtype([...dtypes, this.kind]) } };
  }

  /** Keras 3's record of a constant, or null when `v` is not one. */
  static fromKeras(v: unknown, where: string): ConstArray | null {
    const className = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)['class_name'] : undefined;
    if (className !== '__tensor__' && className !== '__numpy__') return null;
    const c = (v as Record<string, unknown>)['config'];
    const d = c !== null && typeof c === 'object' ? (c as Record<string, unknown>)['dtype'] : undefined;
    if (typeof d !== 'string' && d !== null) {
      throw new MasqueError('INVALID_CONFIG', `${where}: a constant operand needs { value, dtype }; received ${describe(v)}.`);
    }
    return ConstArray.fromNested((c as Record<string, unknown>)['value'], d, where, className);
  }

  /** As a tensor of `dtype` (a weak one's), or of its own dtype. */
  tensor(dtype: tf.DataType): tf.Tensor {
    return tf.tensor(this.values, this.shape, this.dtype ?? (dtype === 'bool' ? 'int32' : dtype));
  }
}

/**
 * An operand that is not a tensor: a Python number as Keras recorded it (a
 * JavaScript number is an int when integral, else a float; PyFloat is a
 * float written `2.0`; a boolean is Python's bool; all weak), or a constant
 * array.
 */
export type Scalar = number | PyFloat | boolean | ConstArray;

/** A Python scalar's numeric value. */
function valueOf(s: number | PyFloat | boolean): number {
  return s instanceof PyFloat ? s.value : typeof s === 'boolean' ? Number(s) : s;
}

/** An op on data: masks are the policy's business (see the file comment). */
export abstract class DataOp extends KerasOp {
  static override readonly onData = true;
  /** True for the ops whose operands may be numbers or constants (arithmetic, where). */
  static readonly takesNumbers: boolean = false;
  /**
   * Keras's positional arguments with the tensors left out (null): `[null, 2]`
   * for `x * 2`, `[1, null]` for `1 - x`; null when every operand is a tensor.
   */
  scalars: (Scalar | null)[] | null = null;
  /** The non-tensor arguments of the first call on symbolic tensors, to refuse a later call that gives others. */
  private recorded: string | undefined;


  /**
   * Keeps one set of non-tensor arguments per op: Keras records them per
   * call, Masque per operation, so a second call on symbolic tensors that
   * gives others (a shared op of a config, `mul(x, 2.0)` then `mul(x, 3.0)`)
   * is refused rather than computed with the last.
   */
  protected recordCall(tensors: unknown[], signature: string): void {
    if (!tensors.some((t) => t instanceof SymbolicTensor)) return;
    if (this.recorded !== undefined && this.recorded !== signature) {
      throw new MasqueError('UNSUPPORTED_CONFIG', `${this.className} '${this.name}' is called twice with different numbers, constants or keys (${this.recorded} and ${signature}); Masque keeps one per operation. Give each call its own operation.`);
    }
    this.recorded = signature;
  }

  override apply(inputs: SymbolicTensor | SymbolicTensor[] | (SymbolicTensor | number)[], args?: SymbolicArgs<CallArgs>): SymbolicTensor;
  override apply(inputs: tf.Tensor | tf.Tensor[] | (tf.Tensor | number)[], args?: CallArgs): tf.Tensor;
  override apply(inputs: unknown, args?: unknown): unknown {
    const where = `${this.className} '${this.name}'`;
    if (Array.isArray(inputs)) inputs = inputs.map((v) => asPyFloat(v) ?? v); // a config's 2.0
    if (Array.isArray(inputs) && inputs.some((v) => !isTensorLike(v))) {
      const tensors = inputs.filter(isTensorLike);
      if (!(this.constructor as typeof DataOp).takesNumbers || tensors.length === 0) {
        throw new MasqueError('INVALID_INPUT', `${where}: ${tensors.length === 0 ? 'at least one operand must be a tensor' : 'its operands must be tensors'}; received ${describe(inputs)}.`);
      }
      const scalars = inputs.map((v): Scalar | null => {
        if (isTensorLike(v)) return null;
        // NaN and infinities too: Keras records float('-inf') (where(mask, scores, -inf)).
        if (typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat) return v;
        const c = ConstArray.fromKeras(v, where);
        if (c !== null) return c;
        throw new MasqueError('INVALID_INPUT', `${where}: an operand must be a tensor, a number, a boolean or a constant array; received ${describe(v)}.`);
      });
      this.recordCall(tensors, JSON.stringify(scalars.map((s) => (s === null ? null : s instanceof ConstArray ? { constant: s.value } : s instanceof PyFloat ? `${s.value}.0` : s))));
      this.scalars = scalars;
      return super.apply((tensors.length === 1 ? tensors[0] : tensors) as never, args as never);
    }
    return super.apply(inputs as never, args as never);
  }

  /** Keras's positional arguments: the tensors in their places among the numbers and constants. */
  override kerasArgs(tensors: unknown[]): unknown[] {
    if (this.scalars === null) return [...tensors];
    const dtypes = tensors.map((t) => (t as { dtype: tf.DataType }).dtype);
    let k = 0;
    return this.scalars.map((s) => (s === null ? tensors[k++] : s instanceof ConstArray ? s.toKeras(dtypes) : s));
  }

  /** The operands in Keras's order, numbers and constants where the call gave them; `count` of them in all. */
  protected mixed<T>(inputs: T | T[], count: number): (T | Scalar)[] {
    if (this.scalars !== null && this.scalars.length !== count) {
      throw new MasqueError('INVALID_CONFIG', `${this.className} '${this.name}' takes ${count} operand(s); the call gave ${this.scalars.length}.`);
    }
    const list = this.operands(inputs, this.scalars === null ? count : this.scalars.filter((s) => s === null).length);
    if (this.scalars === null) return list;
    let k = 0;
    return this.scalars.map((s) => (s === null ? list[k++]! : s));
  }
}

/** A tensor or a symbolic tensor (an object with a shape and a dtype), as against a number, a constant or a key. */
export function isTensorLike(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'shape' in v && 'dtype' in v && !(v instanceof ConstArray) && !(v instanceof PyFloat);
}

/** What numpy sees of an operand. */
export function kindOf(v: { dtype: tf.DataType } | Scalar): Kind {
  if (typeof v === 'boolean') return 'py-bool';
  if (v instanceof PyFloat) return 'py-float';
  if (typeof v === 'number') return Number.isInteger(v) ? 'py-int' : 'py-float';
  return v instanceof ConstArray ? v.kind : v.dtype;
}

/**
 * The dtype Keras's result_type gives to combining these operands: the
 * tensors' dtypes promote (bool < int32 < float32); a Python scalar is weak,
 * and only a float lifts integer or bool tensors to float32, an int lifts bool
 * tensors to int32. Scalars alone: float32 with a float, else int32 with an
 * int, else bool.
 */
export function resultDtype(kinds: Kind[]): tf.DataType {
  const strong = kinds.filter((k): k is tf.DataType => !k.startsWith('py-'));
  const weak = kinds.filter((k) => k.startsWith('py-'));
  if (strong.length === 0) return weak.includes('py-float') ? 'float32' : weak.includes('py-int') ? 'int32' : 'bool';
  const base = promoteDtypes(strong);
  if (base === 'float32' || weak.includes('py-float')) return 'float32';
  if (base === 'int32') return 'int32';
  return weak.includes('py-int') ? 'int32' : 'bool';
}

/** A tensor, a number or a constant as a tensor of `dtype`. */
export function asTensor(v: tf.Tensor | Scalar, dtype: tf.DataType): tf.Tensor {
  if (typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat) return dtype === 'bool' ? tf.scalar(valueOf(v) !== 0, 'bool') : tf.scalar(valueOf(v), dtype);
  const t = v instanceof ConstArray ? v.tensor(dtype) : v;
  return t.dtype === dtype ? t : dtype === 'bool' ? toBool(t) : tf.cast(t, dtype);
}

export function specOf(v: { shape: Shape; dtype: tf.DataType } | Scalar): { shape: Shape; kind: Kind } {
  return { shape: v instanceof ConstArray || isTensorLike(v) ? (v as { shape: Shape }).shape : [], kind: kindOf(v) };
}

/** Elementwise arithmetic of two operands (one may be a number), with broadcasting. */
export abstract class Binary extends DataOp {
  static override readonly takesNumbers = true;
  /** The computation, on operands of the result's dtype (int32 for bools). */
  static readonly compute: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  /** What bool with bool gives: bool (numpy's add, multiply, maximum, minimum), int32 (power), or an error (subtract). */
  static readonly onBools: 'bool' | 'int32' | 'error' = 'int32';
  /** The result is float32 whatever the operands (true division). */
  static readonly floatResult: boolean = false;

  protected outDtype(kinds: Kind[]): tf.DataType {
    const cls = this.constructor as typeof Binary;
    if (cls.floatResult) return 'float32';
    const d = resultDtype(kinds);
    if (d !== 'bool') return d;
    if (cls.onBools === 'error') throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}': numpy does not ${this.className.toLowerCase()} booleans (use logicalXor, or cast to int32 first).`);
    return cls.onBools;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = this.mixed(inputs, 2) as [tf.Tensor | Scalar, tf.Tensor | Scalar];
    const out = this.outDtype([a, b].map(kindOf));
    const work = out === 'bool' ? 'int32' : out;
    const r = (this.constructor as typeof Binary).compute(asTensor(a, work), asTensor(b, work));
    return out === 'bool' ? truthy(r) : r;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const ops = (this.mixed(inputs, 2) as (TensorSpec | Scalar)[]).map(specOf);
    return opSpec(broadcastShapes(ops.map((o) => o.shape), `${this.className} '${this.name}'`), this.outDtype(ops.map((o) => o.kind)));
  }
}

// Each op names its computation (on operands of the result's dtype) and what it makes of two bools.
export class AddOp extends Binary {
  static override readonly className = 'Add';
  static override readonly compute = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.add(a, b);
  static override readonly onBools = 'bool';
}

export class SubtractOp extends Binary {
  static override readonly className = 'Subtract';
  static override readonly compute = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.sub(a, b);
  static override readonly onBools = 'error';
}

export class MultiplyOp extends Binary {
  static override readonly className = 'Multiply';
  static override readonly compute = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.mul(a, b);
  static override readonly onBools = 'bool';
}

/**
 * numpy's maximum and minimum: NaN in either operand gives NaN (wasm's
 * kernels return the first operand when the second is NaN). tfjs's
 * gradients of both do not sum over broadcast axes, so the operands are
 * broadcast first.
 */
export function nanPropagating(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return onCommonShape((a, b) => (a.dtype !== 'float32' ? op(a, b) : tf.where(tf.logicalOr(tf.isNaN(a), tf.isNaN(b)), tf.add(a, b), op(a, b))));
}

export class MaximumOp extends Binary {
  static override readonly className = 'Maximum';
  static override readonly compute = nanPropagating((a, b) => tf.maximum(a, b));
  static override readonly onBools = 'bool';
}

export class MinimumOp extends Binary {
  static override readonly className = 'Minimum';
  static override readonly compute = nanPropagating((a, b) => tf.minimum(a, b));
  static override readonly onBools = 'bool';
}

/** `ops.power`: integers stay integers (numpy), floats in float32. */
export class Power extends Binary {
  static override readonly className = 'Power';
  static override readonly compute = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    if (a.dtype === 'int32' && tf.any(tf.less(b, 0)).dataSync()[0]) {
      throw new MasqueError('INVALID_INPUT', 'Power: integers to negative integer powers are not allowed (numpy raises); cast the base to float32 first.');
    }
    return tf.pow(a, b);
  };
}

/** `ops.true_divide` (`x / y`): always float32. */
export class TrueDivide extends Binary {
  static override readonly className: string = 'TrueDivide';
  static override readonly compute = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.div(a, b);
  static override readonly floatResult = true;
}

/** `ops.divide`: the same as true_divide. */
export class Divide extends TrueDivide {
  static override readonly className: string = 'Divide';
}

/** An elementwise function of one operand. */
export abstract class Unary extends DataOp {
  /** The function, on the operand in the result's dtype. */
  static readonly compute: (x: tf.Tensor) => tf.Tensor;
  /** True for the functions numpy computes in float (exp, log, ...): integer and bool inputs give float32. */
  static readonly toFloat: boolean = true;
  /** Otherwise, what a bool input gives: bool (abs, relu), int32 (square), or an error (negative). */
  static readonly onBool: 'bool' | 'int32' | 'error' = 'int32';
  /**
   * True for the functions Keras's numpy backend computes with their
   * constants cast to the input's dtype (the activations of keras.src.ops.nn,
   * erf, rsqrt, reciprocal): of an int tensor they follow neither the formula
   * nor the dtype Keras declares, so Masque takes float tensors only and
   * refuses others, naming the cast to add.
   */
  static readonly floatOnly: boolean = false;

  protected outDtype(d: tf.DataType): tf.DataType {
    const cls = this.constructor as typeof Unary;
    if (cls.floatOnly && d !== 'float32') {
      throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}' takes a float32 tensor; received ${d} (Keras's numpy backend casts its constants to the input's dtype, so for ${d} it follows neither the formula nor its own declared dtype). Cast the input to float32 first.`);
    }
    if (cls.toFloat) return 'float32';
    if (d !== 'bool') return d;
    if (cls.onBool === 'error') {
      const hint = this.className === 'Negative' ? 'use logicalNot, or cast to int32 first' : 'cast to int32 first';
      throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}': numpy does not take the ${this.className.toLowerCase()} of booleans (${hint}).`);
    }
    return cls.onBool;
  }

  /** The op on its operand (SoftmaxLike runs it over its axis). */
  protected run(x: tf.Tensor): tf.Tensor {
    return (this.constructor as typeof Unary).compute(x);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const out = this.outDtype(x.dtype);
    const r = this.run(asTensor(x, out === 'bool' ? 'int32' : out));
    return out === 'bool' ? truthy(r) : r;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(x.shape, this.outDtype(x.dtype));
  }
}

// Each op names its function; `toFloat` for numpy's float functions (integer inputs give float32).
export class Negative extends Unary {
  static override readonly className = 'Negative';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.neg(x);
  static override readonly toFloat = false;
  static override readonly onBool = 'error';
}

/** `ops.abs` / `ops.absolute` (Keras records 'Absolute'). */
export class Absolute extends Unary {
  static override readonly className = 'Absolute';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.abs(x);
  static override readonly toFloat = false;
  static override readonly onBool = 'bool';
}

export class Square extends Unary {
  static override readonly className = 'Square';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.mul(x, x);
  static override readonly toFloat = false;
}

export class Sqrt extends Unary {
  static override readonly className = 'Sqrt';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.sqrt(x);
}

export class Exp extends Unary {
  static override readonly className = 'Exp';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.exp(x);
}

export class Log extends Unary {
  static override readonly className = 'Log';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.log(x);
}

export class Tanh extends Unary {
  static override readonly className = 'Tanh';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.tanh(x);
}

/** `ops.sigmoid` and `ops.relu` are in keras.src.ops.nn. */
export class SigmoidOp extends Unary {
  static override readonly className = 'Sigmoid';
  static override readonly kerasModule = 'keras.src.ops.nn';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.sigmoid(x);
}

export class ReluOp extends Unary {
  static override readonly className = 'Relu';
  static override readonly kerasModule = 'keras.src.ops.nn';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.relu(x);
  static override readonly toFloat = false;
  static override readonly onBool = 'bool';
}

export interface SoftmaxArgs extends BaseLayerArgs {
  /** An axis, several (taken as one: the softmax of their values together), or null for all. Default -1. */
  axis?: number | number[] | null;
}

/** `ops.softmax` / `ops.log_softmax` over one axis or several (keras.src.ops.nn). */
abstract class SoftmaxLike extends Unary {
  static override readonly kerasModule = 'keras.src.ops.nn';
  static override readonly options: OptionTable = { axis: nullableAxes(-1) } satisfies OptionsOf<Omit<SoftmaxArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<SoftmaxArgs, keyof BaseLayerArgs>>;

  constructor(args: SoftmaxArgs = {}) {
    super(args);
  }

  /** The axes as non-negative indices, in a tensor of `rank`, each named once. */
  protected axesOf(rank: number): number[] {
    return distinctAxes(this.args.axis, rank, `${this.className} '${this.name}'`);
  }

  /**
   * The function over the last axis, applied to the op's axes moved last
   * and merged into one (Keras's own way for several axes), then moved back.
   */
  protected override run(x: tf.Tensor): tf.Tensor {
    const fn = (this.constructor as typeof SoftmaxLike).compute;
    const axes = this.axesOf(x.rank);
    const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
    if (n === 0) throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}': the axes ${JSON.stringify(this.args.axis)} of shape ${formatShape(x.shape)} hold no values (numpy raises: a zero-size maximum).`);
    if (axes.length === 1 && axes[0] === x.rank - 1) return fn(x);
    const keep = Array.from({ length: x.rank }, (_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...keep, ...axes];
    const moved = tf.transpose(x, perm);
    const merged = tf.reshape(moved, [...keep.map((i) => x.shape[i]!), n]);
    const back = perm.map((_, i) => perm.indexOf(i));
    return tf.transpose(tf.reshape(fn(merged), moved.shape), back);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const spec = super.computeOutputSpec(inputs);
    this.axesOf(spec.shape.length);
    return spec;
  }
}

export class SoftmaxOp extends SoftmaxLike {
  static override readonly className = 'Softmax';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.softmax(x);
}

export class LogSoftmax extends SoftmaxLike {
  static override readonly className = 'LogSoftmax';
  static override readonly compute = (x: tf.Tensor): tf.Tensor => tf.logSoftmax(x);
}

export interface NumericReduceArgs extends BaseLayerArgs {
  axis?: number | number[] | null;
  keepdims?: boolean;
  /** `ops.max` / `ops.min`'s `initial`: a bound the result cannot pass (null for none). */
  initial?: number | null;
}

type NumericReduceOwn = Omit<NumericReduceArgs, keyof BaseLayerArgs>;

/** `ops.sum` / `mean` / `max` / `min` over `axis` (null: every axis). */
export abstract class NumericReduce extends DataOp {
  static override readonly options: OptionTable = {
    axis: nullableAxes(null),
    keepdims: opt.bool(false),
  } satisfies OptionsOf<Omit<NumericReduceOwn, 'initial'>>;
  declare readonly args: Filled<NumericReduceOwn>;

  constructor(args: NumericReduceArgs = {}) {
    super(args);
  }

  protected abstract reduce(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor;
  protected abstract outDtype(d: tf.DataType): tf.DataType;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const axes = distinctAxes(this.args.axis, x.rank, `${this.className} '${this.name}'`);
    const out = this.outDtype(x.dtype);
    const r = this.reduce(asTensor(x, out === 'bool' ? 'int32' : out), axes, this.args.keepdims);
    return out === 'bool' ? truthy(r) : r;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    const axes = distinctAxes(this.args.axis, x.shape.length, `${this.className} '${this.name}'`);
    const shape = this.args.keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return opSpec(shape, this.outDtype(x.dtype));
  }
}

export class Sum extends NumericReduce {
  static override readonly className = 'Sum';
  protected reduce(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return tf.sum(x, axes, keepdims);
  }
  protected outDtype(d: tf.DataType): tf.DataType {
    return d === 'bool' ? 'int32' : d;
  }
}

export class Mean extends NumericReduce {
  static override readonly className = 'Mean';
  protected reduce(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return tf.mean(x, axes, keepdims);
  }
  protected outDtype(): tf.DataType {
    return 'float32';
  }
}

/** Max and Min: `initial` (a number or null) bounds the result, as numpy's; tied positions share the gradient, as in TensorFlow and JAX. */
abstract class Extreme extends NumericReduce {
  static override readonly options: OptionTable = {
    axis: nullableAxes(null),
    keepdims: opt.bool(false),
    initial: opt.nullableNumber({ default: null }),
  } satisfies OptionsOf<NumericReduceOwn>;

  protected abstract extreme(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor;
  protected abstract bound(a: tf.Tensor, b: tf.Tensor): tf.Tensor;

  protected reduce(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    if (axes.some((a) => x.shape[a] === 0) && this.args.initial === null) {
      throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}': cannot reduce an empty axis of shape ${formatShape(x.shape)} without 'initial' (numpy raises here too).`);
    }
    const r = this.extreme(x, axes, keepdims);
    // numpy casts `initial` to the input's dtype (0.5 is 0 for ints).
    return this.args.initial === null ? r : this.bound(r, tf.scalar(r.dtype === 'float32' ? this.args.initial : Math.trunc(this.args.initial), r.dtype));
  }

  /** The input's dtype (numpy keeps bools bool, ints int, whatever `initial` is). */
  protected outDtype(d: tf.DataType): tf.DataType {
    return d;
  }
}

export class Max extends Extreme {
  static override readonly className = 'Max';
  protected extreme(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return extremeSplittingTies(x, axes, keepdims, 'max');
  }
  protected bound(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.maximum(a, b);
  }
}

export class Min extends Extreme {
  static override readonly className = 'Min';
  protected extreme(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return extremeSplittingTies(x, axes, keepdims, 'min');
  }
  protected bound(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.minimum(a, b);
  }
}

export interface TransposeArgs extends BaseLayerArgs {
  /** A permutation of the axes; null reverses them. */
  axes?: number[] | null;
}

/** An operation that permutes the axes (transpose, swapaxes): each gives its permutation for a rank. */
export abstract class PermutingOp extends DataOp {
  protected abstract perm(rank: number): number[];

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    return tf.transpose(x, this.perm(x.rank));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(this.perm(x.shape.length).map((a) => x.shape[a]!), x.dtype);
  }
}

/** `ops.transpose(x, axes)`. */
export class TransposeOp extends PermutingOp {
  static override readonly className = 'Transpose';
  static override readonly options: OptionTable = {
    axes: opt.custom<number[] | null>(
      (v, w, n) => {
        if (v === null || (Array.isArray(v) && v.every((a) => Number.isInteger(a)))) return v === null ? null : [...(v as number[])];
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a list of axes or null; received ${describe(v)}.`);
      },
      { default: null },
    ),
  } satisfies OptionsOf<Omit<TransposeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<TransposeArgs, keyof BaseLayerArgs>>;

  constructor(args: TransposeArgs = {}) {
    super(args);
  }

  protected perm(rank: number): number[] {
    if (this.args.axes === null) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const where = `Transpose '${this.name}'`;
    if (this.args.axes.length !== rank) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: axes ${JSON.stringify(this.args.axes)} do not fit a tensor of rank ${rank}.`);
    const p = resolveAxes(this.args.axes, rank, where);
    if (new Set(p).size !== rank) throw new MasqueError('INVALID_ARGUMENT', `${where}: axes ${JSON.stringify(this.args.axes)} repeat an axis.`);
    return p;
  }
}

export interface ReshapeOpArgs extends BaseLayerArgs {
  /** The new shape; one entry may be -1 (inferred). */
  newshape: number[];
}

/** `ops.reshape(x, newshape)` (the op; Keras tells it from the Reshape layer by module). */
export class ReshapeOp extends ShapeOnlyOp {
  static override readonly className = 'Reshape';
  static override readonly onData = true;
  static override readonly options: OptionTable = {
    newshape: opt.custom<number[]>((v, w, n) => {
      const list = Number.isInteger(v) ? [v as number] : v;
      if (Array.isArray(list) && list.every((d) => Number.isInteger(d) && d >= -1) && list.filter((d) => d === -1).length <= 1) return [...(list as number[])];
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a list of sizes (at most one -1); received ${describe(v)}.`);
    }),
  } satisfies OptionsOf<Omit<ReshapeOpArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ReshapeOpArgs, keyof BaseLayerArgs>>;

  constructor(args: ReshapeOpArgs) {
    super(args);
  }

  /** The output shape for an input of this shape (a -1 unknown while a size is), checked as numpy checks it. */
  protected outShape(inputShape: Shape): Shape {
    const total = inputShape.every((d) => d !== null) ? (inputShape as number[]).reduce((a, b) => a * b, 1) : null;
    const known = this.args.newshape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const inferred = this.args.newshape.includes(-1);
    if (total !== null) {
      const fits = inferred ? known > 0 && total % known === 0 : known === total;
      if (!fits) {
        const why = inferred && known === 0 ? ' (the -1 cannot be inferred beside a 0)' : '';
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `Reshape '${this.name}': cannot reshape a tensor of shape ${formatShape(inputShape)} (${total} values) to ${JSON.stringify(this.args.newshape)}${why}.`);
      }
    }
    return this.args.newshape.map((d) => (d !== -1 ? d : total !== null ? total / known : null));
  }
}

/** `ops.matmul(a, b)`: numpy's matmul (batch axes broadcast; a 1-D operand is a vector). */
export class Matmul extends DataOp {
  static override readonly className = 'Matmul';
  /** A constant array may be either operand (`ops.matmul(x, np.array(...))`); a number is refused, as numpy refuses it. */
  static override readonly takesNumbers = true;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a0, b0] = this.mixed(inputs, 2) as [tf.Tensor | Scalar, tf.Tensor | Scalar];
    const dtype = this.dtypeOf([a0, b0]);
    const [a, b] = [asTensor(a0, dtype), asTensor(b0, dtype)];
    const shape = this.outShape(a.shape, b.shape);
    const work = dtype === 'bool' ? 'int32' : dtype;
    let a2 = a.rank === 1 ? tf.reshape(a, [1, a.shape[0]!]) : a;
    let b2 = b.rank === 1 ? tf.reshape(b, [b.shape[0]!, 1]) : b;
    // The batch axes broadcast first: tfjs's BatchMatMul gradient does not sum over broadcast batch axes.
    const batch = tf.broadcast_util.assertAndGetBroadcastShape(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
    if (batch.length > 0) {
      a2 = broadcastFast(a2, [...batch, ...a2.shape.slice(-2)]);
      b2 = broadcastFast(b2, [...batch, ...b2.shape.slice(-2)]);
    }
    let r = work === 'int32' ? intMatmul(a2, b2) : tf.matMul(a2, b2);
    r = tf.reshape(r, shape as number[]);
    return dtype === 'bool' ? truthy(r) : r;
  }

  private outShape(sa: Shape, sb: Shape): Shape {
    const where = `Matmul '${this.name}'`;
    if (sa.length === 0 || sb.length === 0) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: matmul takes no scalars; received shapes ${formatShape(sa)} and ${formatShape(sb)}.`);
    const a = sa.length === 1 ? [1, sa[0]!] : sa;
    const b = sb.length === 1 ? [sb[0]!, 1] : sb;
    const ka = a[a.length - 1]!;
    const kb = b[b.length - 2]!;
    if (ka !== null && kb !== null && ka !== kb) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the inner sizes of ${formatShape(sa)} and ${formatShape(sb)} differ (${ka} and ${kb}).`);
    }
    const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)], where);
    return [...batch, ...(sa.length === 1 ? [] : [a[a.length - 2]!]), ...(sb.length === 1 ? [] : [b[b.length - 1]!])];
  }

  /** numpy's result type of the operands (a weak constant follows the tensor); a Python number is refused. */
  private dtypeOf(operands: ({ dtype: tf.DataType } | Scalar)[]): tf.DataType {
    if (operands.some((v) => !(v instanceof ConstArray) && !isTensorLike(v))) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Matmul '${this.name}': matmul takes no scalars; received ${describe(operands.find((v) => !(v instanceof ConstArray) && !isTensorLike(v)))}.`);
    }
    return resultDtype(operands.map(kindOf));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const ops = this.mixed(inputs, 2) as (TensorSpec | Scalar)[];
    const dtype = this.dtypeOf(ops);
    const [a, b] = ops.map(specOf) as unknown as [{ shape: Shape }, { shape: Shape }];
    return opSpec(this.outShape(a.shape, b.shape), dtype);
  }
}

/**
 * numpy's matmul of int32 (or bool as int32) operands of shapes [..., m, k]
 * and [..., k, n] with the same batch axes: exact, and wrapping around as
 * numpy's int32 does (float32 products lose digits past 2^24). Integer
 * products are rare between layers; this runs in JavaScript.
 */
export function intMatmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.rank - 1]!;
  const batch = a.shape.slice(0, -2);
  const count = batch.reduce((p, d) => p * d, 1);
  const av = (a.dtype === 'int32' ? a : tf.cast(a, 'int32')).dataSync();
  const bv = (b.dtype === 'int32' ? b : tf.cast(b, 'int32')).dataSync();
  const out = new Int32Array(count * m * n);
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc = (acc + Math.imul(av[t * m * k + i * k + p]!, bv[t * k * n + p * n + j]!)) | 0;
        out[t * m * n + i * n + j] = acc;
      }
    }
  }
  return tf.tensor(out, [...batch, m, n], 'int32');
}

/** `ops.where(condition, x, y)`: x where the condition holds, else y (numbers allowed, broadcast). */
export class Where extends DataOp {
  static override readonly className = 'Where';
  static override readonly takesNumbers = true;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [c, x, y] = this.mixed(inputs, 3) as [tf.Tensor | Scalar, tf.Tensor | Scalar, tf.Tensor | Scalar];
    const dtype = resultDtype([x, y].map(kindOf));
    broadcastShapes([c, x, y].map((v) => specOf(v).shape), `Where '${this.name}'`);
    // A bool result is selected in int32: wasm's Select writes 4-byte elements into a bool output (past its end).
    const work = dtype === 'bool' ? 'int32' : dtype;
    const r = select(asTensor(c, 'bool'), asTensor(x, work), asTensor(y, work));
    return dtype === 'bool' ? truthy(r) : r;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const [c, x, y] = (this.mixed(inputs, 3) as (TensorSpec | Scalar)[]).map(specOf) as [ReturnType<typeof specOf>, ReturnType<typeof specOf>, ReturnType<typeof specOf>];
    return opSpec(broadcastShapes([c.shape, x.shape, y.shape], `Where '${this.name}'`), resultDtype([x.kind, y.kind]));
  }
}

/** A slice of an indexing key: start, stop, step (null for Python's None). */
export interface Slice {
  readonly slice: [number | null, number | null, number | null];
}

/** One entry of an indexing key: an index, a slice, a new axis (null) or the ellipsis. */
export type KeyEntry = number | null | Slice | 'ellipsis';

/** Keras's serialized key (`[{class_name: '__slice__', config: {...}}, 0, null]`, or one entry alone) as KeyEntry[], checked. */
export function parseKey(raw: unknown, where: string): { entries: KeyEntry[] } {
  const one = (v: unknown): KeyEntry => {
    if (v === null || Number.isInteger(v)) return v as number | null;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (o['class_name'] === '__ellipsis__') return 'ellipsis';
      const c = o['config'];
      if (o['class_name'] === '__slice__' && c !== null && typeof c === 'object') {
        const cfg = c as Record<string, unknown>;
        const part = (k: string): number | null => {
          const p = cfg[k] ?? null;
          if (p === null || Number.isInteger(p)) return p as number | null;
          throw new MasqueError('INVALID_CONFIG', `${where}: a slice's ${k} must be an integer or null; received ${describe(p)}.`);
        };
        const step = part('step');
        if (step === 0) throw new MasqueError('INVALID_CONFIG', `${where}: a slice step cannot be zero.`);
        return { slice: [part('start'), part('stop'), step] };
      }
    }
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: Masque indexes with integers, slices, None and Ellipsis; received ${describe(v)} (indexing with tensors is not supported).`);
  };
  const entries = (Array.isArray(raw) ? raw : [raw]).map(one);
  if (entries.filter((e) => e === 'ellipsis').length > 1) throw new MasqueError('INVALID_CONFIG', `${where}: an index can have only one Ellipsis.`);
  return { entries };
}

/** Python's `slice.indices(n)` and the selected positions. */
function slicePositions(s: [number | null, number | null, number | null], n: number): number[] {
  const step = s[2] ?? 1;
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let start: number;
  let stop: number;
  if (step > 0) {
    start = s[0] === null ? 0 : clamp(s[0] < 0 ? s[0] + n : s[0], 0, n);
    stop = s[1] === null ? n : clamp(s[1] < 0 ? s[1] + n : s[1], 0, n);
  } else {
    start = s[0] === null ? n - 1 : clamp(s[0] < 0 ? s[0] + n : s[0], -1, n - 1);
    stop = s[1] === null ? -1 : clamp(s[1] < 0 ? s[1] + n : s[1], -1, n - 1);
  }
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

export interface GetItemArgs extends BaseLayerArgs {}

/** `x[key]` (Keras's GetItem): numpy's basic indexing with integers, slices, None and Ellipsis. */
export class GetItem extends DataOp {
  static override readonly className = 'GetItem';
  /** The key as Keras serialized it (kept to write it back). */
  key: unknown = null;
  /** True once a call has given the key (a model's later runs pass the tensor alone). */
  private hasKey = false;

  override apply(inputs: SymbolicTensor | SymbolicTensor[] | unknown[], args?: SymbolicArgs<CallArgs>): SymbolicTensor;
  override apply(inputs: tf.Tensor | tf.Tensor[] | unknown[], args?: CallArgs): tf.Tensor;
  override apply(inputs: unknown, args?: unknown): unknown {
    if (Array.isArray(inputs) && inputs.length === 2 && !isTensorLike(inputs[1])) {
      parseKey(inputs[1], `GetItem '${this.name}'`);
      this.recordCall([inputs[0]], JSON.stringify(inputs[1]));
      this.key = inputs[1];
      this.hasKey = true;
      return super.apply(inputs[0] as never, args as never);
    }
    if (!this.hasKey || Array.isArray(inputs)) {
      throw new MasqueError('INVALID_INPUT', `GetItem '${this.name}': expected [tensor, key]${this.hasKey ? ' or the tensor alone' : ''}; received ${describe(inputs)}.`);
    }
    return super.apply(inputs as never, args as never);
  }

  override kerasArgs(tensors: unknown[]): unknown[] {
    return [tensors[0], this.key];
  }

  /**
   * The key laid over an input of `shape`: the output shape, the steps (an
   * axis and its index or slice; full slices need none), and the layout of
   * the output (new axes, kept axes, dropped ones).
   */
  private plan(shape: Shape): { out: Shape; steps: { axis: number; entry: number | Slice }[]; layout: ('new' | 'keep' | 'drop')[] } {
    const where = `GetItem '${this.name}'`;
    const { entries } = parseKey(this.key, where);
    const consuming = entries.filter((e) => e !== null && e !== 'ellipsis').length;
    if (consuming > shape.length) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the index has ${consuming} entries for a tensor of rank ${shape.length} (shape ${formatShape(shape)}).`);
    const fill = new Array<KeyEntry>(shape.length - consuming).fill({ slice: [null, null, null] });
    const ell = entries.indexOf('ellipsis');
    const expanded = ell < 0 ? [...entries, ...fill] : [...entries.slice(0, ell), ...fill, ...entries.slice(ell + 1)];
    const out: Shape = [];
    const steps: { axis: number; entry: number | Slice }[] = [];
    const layout: ('new' | 'keep' | 'drop')[] = [];
    let axis = 0;
    for (const e of expanded) {
      if (e === null) {
        out.push(1);
        layout.push('new');
        continue;
      }
      if (e === 'ellipsis') continue;
      const n = shape[axis]!;
      if (typeof e === 'number') {
        if (n !== null && (e >= n || e < -n)) throw new MasqueError('INVALID_INPUT', `${where}: index ${e} is out of range for axis ${axis} of size ${n}.`);
        steps.push({ axis, entry: e });
        layout.push('drop');
      } else {
        const s = e.slice;
        const all = s[0] === null && s[1] === null && (s[2] ?? 1) === 1;
        if (!all) steps.push({ axis, entry: e });
        out.push(all ? n : n === null ? null : slicePositions(s, n).length);
        layout.push('keep');
      }
      axis++;
    }
    return { out, steps, layout };
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    const { steps, layout } = this.plan(x.shape);
    let t = x;
    for (const { axis, entry } of steps) {
      const n = x.shape[axis]!;
      const positions = typeof entry === 'number' ? [entry < 0 ? entry + n : entry] : slicePositions(entry.slice, n);
      const contiguous = positions.every((p, i) => i === 0 || p === positions[i - 1]! + 1);
      if (positions.length === 0) {
        // An empty selection (x[:, 2:1]): tfjs's gather of no indices loses the other axes' sizes.
        t = tf.zeros(t.shape.map((d, i) => (i === axis ? 0 : d)), t.dtype);
      } else if (contiguous) {
        const begin = t.shape.map((_, i) => (i === axis ? positions[0]! : 0));
        const size = t.shape.map((d, i) => (i === axis ? positions.length : d));
        t = tf.slice(t, begin, size);
      } else {
        t = tf.gather(t, tf.tensor1d(positions, 'int32'), axis);
      }
    }
    const shape: number[] = [];
    let k = 0;
    for (const l of layout) {
      if (l === 'new') shape.push(1);
      else if (l === 'keep') shape.push(t.shape[k++]!);
      else k++;
    }
    return tf.reshape(t, shape);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    return opSpec(this.plan(x.shape).out, x.dtype);
  }
}
