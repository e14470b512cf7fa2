/** Turning what users pass to predict/fit (tensors or nested arrays) into tensors. */
import { tf } from '../runtime/tfjs.js';
import { sliceRowsFast } from '../ops/heap_view.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { attachMask, cloneMask, getMask } from '../engine/masks.js';
import type { SymbolicTensor } from '../engine/symbolic.js';

export type ArrayData = number | boolean | string | ArrayData[];
export type InputData = tf.Tensor | ArrayData[] | (tf.Tensor | ArrayData[])[];

/** Nesting deeper than this is not data (a tensor has at most a handful of axes); it is usually an array that contains itself. */
const MAX_RANK = 16;

function inferShape(x: ArrayData, where: string, path = '', depth = 0): number[] {
  if (!Array.isArray(x)) return [];
  if (depth >= MAX_RANK) throw new MasqueError('INVALID_INPUT', `${where}: the nested arrays are more than ${MAX_RANK} levels deep at ${path || 'the top'} (an array that contains itself?); expected data of rank at most ${MAX_RANK}.`);
  if (x.length === 0) return [0];
  const first = inferShape(x[0]!, where, `${path}[0]`, depth + 1);
  for (let i = 1; i < x.length; i++) {
    const s = inferShape(x[i]!, where, `${path}[${i}]`, depth + 1);
    if (s.length !== first.length || s.some((d, k) => d !== first[k])) {
      throw new MasqueError(
        'INVALID_INPUT',
        `${where}: nested arrays must be rectangular, but element ${path}[${i}] has shape ${formatShape(s)} while ${path}[0] has shape ${formatShape(first)}. Pad variable-length sequences with padSequences first.`,
      );
    }
  }
  return [x.length, ...first];
}

/** Converts one model input to a tensor of the input's dtype (checking rank). */
export function toInputTensor(x: tf.Tensor | ArrayData[], spec: SymbolicTensor | undefined, where: string): tf.Tensor {
  const dtype = (spec?.dtype ?? 'float32') as tf.DataType;
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) throw new MasqueError('INVALID_INPUT', `${where}: the tensor of shape ${formatShape(x.shape)} has been disposed.`);
    if (x.dtype === 'string' && dtype !== 'string') throw new MasqueError('INVALID_INPUT', `${where}: expected a ${dtype} tensor; received a string tensor of shape ${formatShape(x.shape)}. Map text to ids first (TextVectorization, StringLookup).`);
    if (x.rank === 0) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: expected a batch of samples (a tensor with a batch axis); received a scalar.`);
    return x;
  }
  if (!Array.isArray(x)) throw new MasqueError('INVALID_INPUT', `${where}: expected a tensor or a nested array; received ${describe(x)}.`);
  const shape = inferShape(x, where);
  const flat = (x as unknown[]).flat(Infinity) as (number | boolean | string)[];
  if (dtype !== 'string' && flat.some((v) => typeof v !== 'number' && typeof v !== 'boolean')) {
    throw new MasqueError('INVALID_INPUT', `${where}: expected numbers for a ${dtype} input; found ${describe(flat.find((v) => typeof v !== 'number' && typeof v !== 'boolean'))}.`);
  }
  return tf.tensor(flat as number[], shape, dtype);
}

/**
 * Splits data for `count` model inputs (`kind` 'input', checked against
 * `specs`) or outputs (`kind` 'target') into one tensor each; `owned` marks
 * tensors made here, which the caller disposes.
 */
export function toTensorList(
  x: InputData,
  count: number,
  where: string,
  kind: 'input' | 'target',
  specs: readonly (SymbolicTensor | undefined)[] = [],
): { tensors: tf.Tensor[]; owned: boolean[] } {
  const items: (tf.Tensor | ArrayData[])[] = count > 1 ? (Array.isArray(x) ? (x as (tf.Tensor | ArrayData[])[]) : [x as tf.Tensor]) : [x as tf.Tensor | ArrayData[]];
  if (items.length !== count) {
    throw kind === 'input'
      ? new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the model has ${count} inputs but received ${items.length}.`)
      : new MasqueError('INVALID_INPUT', `${where}: the model has ${count} outputs but received ${items.length} targets.`);
  }
  const tensors: tf.Tensor[] = [];
  try {
    items.forEach((it, i) => tensors.push(toInputTensor(it, specs[i], `${where}, ${kind} ${i}`)));
  } catch (e) {
    // Nothing converted before the bad item outlives the error.
    tensors.forEach((t, i) => t !== items[i] && t.dispose());
    throw e;
  }
  return { tensors, owned: tensors.map((t, i) => t !== items[i]) };
}

/** Slices rows [start, start+size) of `t`, slicing its mask too. */
export function sliceRows(t: tf.Tensor, start: number, size: number): tf.Tensor {
  const out = sliceRowsFast(t, start, size);
  const m = getMask(t);
  if (m !== null) attachMask(out, sliceRowsFast(m, start, size));
  return out;
}

/** Concatenates batches along axis 0, concatenating their masks when all have one. */
export function concatRows(parts: tf.Tensor[]): tf.Tensor {
  if (parts.length === 1) {
    const out = tf.clone(parts[0]!);
    const m = getMask(parts[0]!);
    if (m) attachMask(out, cloneMask(m));
    return out;
  }
  if (parts[0]!.rank === 0) {
    throw new MasqueError(
      'UNSUPPORTED_CONFIG',
      `predict: an output is a scalar (shape []) for each batch, so the ${parts.length} batches' outputs cannot be joined along a batch axis (Keras's predict refuses such an output too). Keep the batch axis in the model (reduce over the other axes, or keepdims), or call the model on all the rows at once.`,
    );
  }
  const out = tf.concat(parts, 0);
  const masks = parts.map(getMask);
  if (masks.every((m) => m !== null)) attachMask(out, tf.concat(masks as tf.Tensor[], 0));
  return out;
}
