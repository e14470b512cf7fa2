/**
 * Helpers for `computeOutputSpec`: the common cases of an output spec
 * computed from input specs.
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape } from '../errors.js';
import type { MaskSpec, MaskSpecArg, Shape, TensorSpec } from './types.js';

/** The first mask spec of a mask argument (a layer with one input gets one), or null. */
export function firstMask(mask: MaskSpecArg | undefined): MaskSpec | null {
  if (mask === undefined || mask === null) return null;
  return Array.isArray(mask) ? (mask.find((m) => m !== null) ?? null) : mask;
}

/** One input spec (for single-input layers); a list raises INVALID_INPUT naming `where`. */
export function oneSpec(inputs: TensorSpec | TensorSpec[], where: string): TensorSpec {
  if (!Array.isArray(inputs)) return inputs;
  throw new MasqueError('INVALID_INPUT', `${where} expects one input tensor; received a list of ${inputs.length}: ${inputs.map((s) => formatShape(s.shape)).join(', ')}.`);
}

/** A list of input specs (for multi-input layers); one spec raises INVALID_INPUT naming `where`. */
export function specList(inputs: TensorSpec | TensorSpec[], where: string): TensorSpec[] {
  if (Array.isArray(inputs)) return inputs;
  throw new MasqueError('INVALID_INPUT', `${where} must be called on a list of tensors; received one input of shape ${formatShape(inputs.shape)}.`);
}

/** A spec of the input's shape (or `shape`) and dtype (or `dtype`), with `mask`. */
export function specLike(x: TensorSpec, mask: MaskSpec | null, shape: Shape = x.shape, dtype: tf.DataType = x.dtype): TensorSpec {
  return { shape, dtype, mask };
}

/** The product of known dims, or null when one is unknown. */
export function knownSize(dims: Shape): number | null {
  let n = 1;
  for (const d of dims) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

/** Keras's rule for layers that combine several inputs: their batch sizes agree (unknown ones aside). */
export function checkBatchSizes(shapes: Shape[], where: string): void {
  const sizes = new Set(shapes.map((s) => s[0]).filter((d) => d !== null && d !== undefined));
  if (sizes.size > 1) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the inputs have different batch sizes; received ${shapes.map(formatShape).join(', ')}.`);
}
