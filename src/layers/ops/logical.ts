/**
 * Logical ops (`ops.logical_or`, `logical_and`, `logical_xor`,
 * `logical_not`, `any`, `all`): non-bool operands count by truthiness
 * (non-zero, NaN included, is true), as in numpy; results are bool.
 */
import { tf, toBool } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { KerasOp, broadcastShapes, opSpec } from './keras_op.js';

/** Truthiness as bool (numpy's rule: non-zero and NaN are true). */
export function truthy(x: tf.Tensor): tf.Tensor {
  return toBool(x);
}

abstract class BinaryLogical extends KerasOp {
  protected abstract combine(a: tf.Tensor, b: tf.Tensor): tf.Tensor;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = this.operands(inputs, 2) as [tf.Tensor, tf.Tensor];
    return this.combine(truthy(a), truthy(b));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    return opSpec(broadcastShapes(this.operands(inputs, 2).map((o) => o.shape), `${this.className} '${this.name}'`), 'bool');
  }
}

export class LogicalOr extends BinaryLogical {
  static override readonly className = 'LogicalOr';
  protected combine(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.logicalOr(a, b);
  }
}

export class LogicalAnd extends BinaryLogical {
  static override readonly className = 'LogicalAnd';
  protected combine(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.logicalAnd(a, b);
  }
}

export class LogicalXor extends BinaryLogical {
  static override readonly className = 'LogicalXor';
  protected combine(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.logicalXor(a, b);
  }
}

export class LogicalNot extends KerasOp {
  static override readonly className = 'LogicalNot';

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.logicalNot(truthy(this.operands(inputs, 1)[0]!));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    return opSpec(this.operands(inputs, 1)[0]!.shape, 'bool');
  }
}

export interface ReduceArgs extends BaseLayerArgs {
  axis?: number | number[] | null;
  keepdims?: boolean;
}

type ReduceOwn = Omit<ReduceArgs, keyof BaseLayerArgs>;

/** An axis option: an integer, a list of integers, or null (all axes). */
export const nullableAxes = (dflt: number | number[] | null) =>
  opt.custom<number | number[] | null>(
    (v, w, n) => {
      if (v === null || Number.isInteger(v) || (Array.isArray(v) && v.every((a) => Number.isInteger(a)))) return Array.isArray(v) ? [...v] : (v as number | null);
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer, a list of integers or null; received ${describe(v)}.`);
    },
    { default: dflt },
  );

/** The axes `axis` names in a tensor of `rank` (all for null), non-negative and checked. */
export function resolveAxes(axis: number | number[] | null, rank: number, where: string): number[] {
  const list = axis === null ? Array.from({ length: rank }, (_, i) => i) : Array.isArray(axis) ? axis : [axis];
  return list.map((a) => {
    const r = a < 0 ? a + rank : a;
    if (r < 0 || r >= rank) throw new MasqueError('INVALID_ARGUMENT', `${where}: axis ${a} is out of range for a tensor of rank ${rank}.`);
    return r;
  });
}

/** `axis` of a reduction resolved in a tensor of `rank`; an axis named twice is refused, as numpy refuses it. */
export function distinctAxes(axis: number | number[] | null, rank: number, where: string): number[] {
  const axes = resolveAxes(axis, rank, where);
  if (new Set(axes).size !== axes.length) throw new MasqueError('INVALID_ARGUMENT', `${where}: axis ${JSON.stringify(axis)} names an axis twice (numpy: duplicate value in 'axis').`);
  return axes;
}

/** Logical reduction over `axis` (`ops.any` / `ops.all`). */
abstract class LogicalReduce extends KerasOp {
  static override readonly options = {
    axis: nullableAxes(null),
    keepdims: opt.bool(false),
  } satisfies OptionsOf<ReduceOwn>;
  declare readonly args: Filled<ReduceOwn>;

  protected abstract reduce(x: tf.Tensor, axis: number[], keepdims: boolean): tf.Tensor;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = this.operands(inputs, 1)[0]!;
    return this.reduce(truthy(x), distinctAxes(this.args.axis, x.rank, `${this.className} '${this.name}'`), this.args.keepdims);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = this.operands(inputs, 1)[0]!;
    const axes = distinctAxes(this.args.axis, x.shape.length, `${this.className} '${this.name}'`);
    const shape = this.args.keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return opSpec(shape, 'bool');
  }
}

export class Any extends LogicalReduce {
  static override readonly className = 'Any';
  protected reduce(x: tf.Tensor, axis: number[], keepdims: boolean): tf.Tensor {
    return tf.any(x, axis, keepdims);
  }
}

export class All extends LogicalReduce {
  static override readonly className = 'All';
  protected reduce(x: tf.Tensor, axis: number[], keepdims: boolean): tf.Tensor {
    return tf.all(x, axis, keepdims);
  }
}
