/**
 * Keras operations (`keras.ops.not_equal`, `logical_or`, `expand_dims`, ...)
 * as they appear in Functional configs: graph nodes between layers, often
 * making the explicit `mask=` a consumer receives, and the operations on
 * data (math_ops.ts). Masque runs them as layers. As in Keras, no output
 * carries a mask; a masked input is accepted by the mask ops and follows the
 * mask policy in the operations on data (`onData`).
 * Keras saves an op with its module, a config of its name and its own
 * arguments, and its operands as positional arguments of the call.
 */
import type { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { OptionTable } from '../../engine/options.js';
import type { CallArgs, MaskArg, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';

export abstract class KerasOp extends Layer<CallArgs> {
  static override readonly options: OptionTable = {};
  static override readonly isOperation = true;
  static override readonly floatInputs = false;
  /** The Python module Keras records for the op. */
  static readonly kerasModule: string = 'keras.src.ops.numpy';
  /** True when Keras passes the operands as one positional list (ops.concatenate) rather than one argument each. */
  static readonly listOperand: boolean = false;
  /**
   * True for the operations on data (arithmetic, reductions, reshape, ...):
   * Keras drops a mask reaching them without a word, so in Masque it follows
   * the mask policy, as for a layer that cannot use a mask. The mask ops
   * (not_equal, any, ...) only read values: they accept a masked input.
   */
  static readonly onData: boolean = false;

  constructor(args: object = {}) {
    super(args);
    // Ops never pass a mask on; the mask ops accept one, the ops on data leave it to the mask policy.
    this.supportsMasking = !(this.constructor as typeof KerasOp).onData;
  }

  override maskNotSupportedError(from: string): MasqueError {
    return new MasqueError(
      'MASK_NOT_SUPPORTED',
      `Operation '${this.name}' (${this.className}) received ${from}, but Keras's operations never take or pass on a mask (Keras drops it here without a word). ` +
        `Consume the mask before the operation (an RNN, GlobalAveragePooling1D), or load the model with maskPolicy 'warn' (drop it, as Keras does, with a warning) or 'ignore'.`,
    );
  }

  get kerasModule(): string {
    return (this.constructor as typeof KerasOp).kerasModule;
  }

  /** Non-tensor operands that follow the tensor inputs in the call (a comparison's scalar). */
  extraOperands(): unknown[] {
    return [];
  }

  /** Keras's positional arguments of the call, given its tensor inputs in order. */
  kerasArgs(tensors: unknown[]): unknown[] {
    return [...tensors, ...this.extraOperands()];
  }

  override computeMask(_inputs?: tf.Tensor | tf.Tensor[], _mask?: MaskArg): null {
    return null;
  }

  /** The input tensors as a list of `count` (or any number when null), checked. */
  protected operands<T>(inputs: T | T[], count: number | null): T[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (count !== null && list.length !== count) {
      throw new MasqueError('INVALID_INPUT', `${this.className} '${this.name}' takes ${count} operand(s); received ${list.length}.`);
    }
    return list;
  }
}

/** Numpy broadcasting of shapes (aligned on the right; null is unknown). */
export function broadcastShapes(shapes: Shape[], where: string): Shape {
  const n = Math.max(...shapes.map((s) => s.length));
  const padded = shapes.map((s) => [...new Array<number>(n - s.length).fill(1), ...s]);
  return Array.from({ length: n }, (_, i) => {
    let out: number | null = 1;
    for (const s of padded) {
      const d = s[i]!;
      if (d === 1 || d === out) continue;
      if (out === 1) out = d;
      else if (d === null || out === null) out = out ?? d;
      else throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the operands' shapes ${shapes.map(formatShape).join(', ')} do not broadcast.`);
    }
    return out;
  });
}

/** Masque's dtype for a Keras dtype name ('int64' -> int32, 'float64' -> float32), or null for none. */
export function kerasDtype(d: string | null): tf.DataType | null {
  if (d === null) return null;
  if (d === 'bool') return 'bool';
  if (/^u?int\d*$/.test(d)) return 'int32';
  if (/^(b?float\d*|half|double)$/.test(d)) return 'float32';
  if (d === 'string') return 'string';
  throw new MasqueError('UNSUPPORTED_CONFIG', `dtype '${d}' is not supported; Masque computes in float32, int32 and bool.`);
}

/** numpy's result dtype of combining `dtypes` (bool < int32 < float32). */
export function promoteDtypes(dtypes: tf.DataType[]): tf.DataType {
  if (dtypes.includes('float32')) return 'float32';
  if (dtypes.includes('int32')) return 'int32';
  return dtypes[0] ?? 'float32';
}

/** The shape of a tensor of `shape` flattened: its size, or unknown when any axis is. */
export function flatShape(shape: Shape): Shape {
  return [shape.some((d) => d === null) ? null : shape.reduce<number>((a, d) => a * (d as number), 1)];
}

/** Refuses a string tensor where numbers or bools are taken, naming the operation (`where`). */
export function refuseStrings(dtype: tf.DataType, where: string): void {
  if (dtype === 'string') throw new MasqueError('INVALID_INPUT', `${where} takes numbers or bools; received a string tensor.`);
}

/** Spec of an op output: `shape`, `dtype`, no mask. */
export function opSpec(shape: Shape, dtype: tf.DataType): TensorSpec {
  return { shape, dtype, mask: null };
}
