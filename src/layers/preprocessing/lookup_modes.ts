/**
 * The output modes of Keras 3.15.1's lookup layers (`StringLookup`,
 * `IntegerLookup`, `TextVectorization`) other than 'int': what
 * `IndexLookup.call` does after the lookup (`encode_categorical_inputs`,
 * through TensorFlow's `bincount` for rank-2 ids), and the tf-idf weights
 * that `adapt` learns or `setVocabulary` takes.
 *
 * - 'one_hot': one row of `depth` per id; a trailing axis of 1 is replaced
 *   ([batch, 1] -> [batch, depth]), any other shape gains an axis.
 * - 'multi_hot' ('binary' is its old name), 'count', 'tf_idf' ('tf-idf'):
 *   one vector of `depth` per row of a [batch, k] input: 1 for each id
 *   present, the number of times it occurs, or that number times the id's
 *   idf weight.
 * - The mask token is dropped (Keras maps it to int64's maximum, which
 *   `bincount` and `one_hot` ignore); OOV tokens count at their OOV id.
 * - `depth` is `maxTokens` with `padToMaxTokens`, else the vocabulary size
 *   (special tokens included).
 * - Outputs are float32, the dtype Keras declares for these modes (its
 *   one_hot/multi_hot/count tensors hold int64 values; the numbers are
 *   the same).
 */
import { MasqueError, describe, formatShape } from '../../errors.js';
import { opt } from '../../engine/options.js';
import type { Shape } from '../../engine/types.js';
import { MAX_ENCODED_VALUES, encodedShape } from './category_encoding.js';

export type LookupOutputMode = 'int' | 'one_hot' | 'multi_hot' | 'count' | 'tf_idf';
export const LOOKUP_OUTPUT_MODES: readonly LookupOutputMode[] = ['int', 'one_hot', 'multi_hot', 'count', 'tf_idf'];

/** Keras's old names of two modes, read as the new ones (its configs keep the new name). */
const OLD_NAMES: Record<string, LookupOutputMode> = { binary: 'multi_hot', 'tf-idf': 'tf_idf' };

/** Reads an `outputMode` option: one of the five modes or an old name. */
export function readOutputMode(v: unknown, where: string, name: string): LookupOutputMode {
  if (typeof v === 'string' && v in OLD_NAMES) return OLD_NAMES[v]!;
  if ((LOOKUP_OUTPUT_MODES as readonly unknown[]).includes(v)) return v as LookupOutputMode;
  throw new MasqueError('INVALID_ARGUMENT', `${where}: ${name} must be one of ${LOOKUP_OUTPUT_MODES.map((m) => `'${m}'`).join(', ')} (or Keras's old names 'binary', 'tf-idf'); received ${describe(v)}.`);
}

/** Reads an `idfWeights` option (and `setVocabulary`'s argument): null or a list of finite numbers. */
export function readIdfWeights(v: unknown, where: string, name: string): readonly number[] | null {
  if (v === null) return null;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return [...v] as number[];
  throw new MasqueError('INVALID_ARGUMENT', `${where}: ${name} must be a list of finite numbers (one per vocabulary entry) or null; received ${describe(v)}.`);
}

/** Keras's inverse document frequency: log(1 + documents / (1 + documents holding the token)), in double, stored as float32. */
export function inverseDocumentFrequency(documentCount: number, documents: number): number {
  return Math.fround(Math.log(1 + documents / (1 + documentCount)));
}

/**
 * Pads idf weights to the full id range as Keras does: `front` ids (the OOV
 * ids, when the vocabulary came without them) get `mean`, and `back` ids
 * (up to maxTokens, with padToMaxTokens) get 0.
 */
export function padIdfWeights(weights: ArrayLike<number>, front: number, back: number, mean: number): Float32Array {
  const out = new Float32Array(front + weights.length + back);
  out.fill(mean, 0, front);
  out.set(weights, front);
  return out;
}

/** The front value for given weights: numpy's `np.average` of the given numbers (double), as float32. */
export function givenIdfMean(weights: readonly number[]): number {
  return Math.fround(weights.reduce((s, w) => s + w, 0) / weights.length);
}

/** The front value after adapt: TensorFlow's `reduce_mean` of the float32 weights (a float32 sum, divided in float32). */
export function learnedIdfMean(weights: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum = Math.fround(sum + weights[i]!);
  return Math.fround(sum / weights.length);
}

/**
 * The output shape of `mode` for ids of `shape` (null when the mode cannot
 * take that shape: see `encodingShapeError`): CategoryEncoding's shapes,
 * the counting modes on [batch, k] ids only.
 */
export function lookupOutputShape(shape: Shape, mode: Exclude<LookupOutputMode, 'int'>, depth: number | null): Shape | null {
  if (mode !== 'one_hot' && shape.length !== 2) return null;
  return encodedShape(shape, mode === 'one_hot' ? 'one_hot' : 'count', depth);
}

/** The rows `encodeIds` takes for ids of `shape`: all of them as one row for 'one_hot', else the rows of a [batch, k] input. */
export function idRows(ids: Int32Array, shape: Shape, mode: Exclude<LookupOutputMode, 'int'>): Int32Array[] {
  if (mode === 'one_hot') return [ids];
  const n = shape[0]!;
  const k = n === 0 ? 0 : ids.length / n;
  return Array.from({ length: n }, (_, i) => ids.subarray(i * k, (i + 1) * k));
}

/** The `sparse` option of the lookup and hashing layers: only false. */
export const NO_SPARSE = opt.custom<boolean>((v, w, n) => {
  if (v === false) return false;
  throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be false (Masque has no sparse tensors; its outputs are dense and hold the same numbers); received ${describe(v)}.`);
}, { default: false });

/** The error for ids of a shape that `mode` does not take. */
export function encodingShapeError(where: string, mode: LookupOutputMode, shape: Shape): MasqueError {
  const why = shape.length < 2
    ? 'Keras would count a [batch] input as one sample and return a single vector for the whole batch; give [batch, 1] (one token a row) or [batch, k]'
    : 'Keras counts over axis 1 and returns [batch, k, depth] where it declares [batch, time, depth]; flatten the tokens of each sample to [batch, k]';
  return new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: outputMode '${mode}' encodes the tokens of each row of a [batch, k] input; received ${formatShape(shape)}. ${why}.`);
}

/**
 * Encodes looked-up ids (`-1` for the dropped mask token) into float32:
 * `rows` for 'multi_hot', 'count' and 'tf_idf' (one output row of `depth`
 * per id row), or one row per id for 'one_hot'.
 */
export function encodeIds(rows: readonly ArrayLike<number>[], mode: Exclude<LookupOutputMode, 'int'>, depth: number, idf: Float32Array | null, where = 'encoding'): Float32Array {
  const allocate = (n: number): Float32Array => {
    if (n > MAX_ENCODED_VALUES) {
      throw new MasqueError('INVALID_INPUT', `${where}: outputMode '${mode}' would need ${n} output values (${n / depth} rows of ${depth}), more than a tensor holds here (${MAX_ENCODED_VALUES}, 1 GiB of float32); use fewer bins or tokens, or outputMode 'int'.`);
    }
    return new Float32Array(n);
  };
  if (mode === 'one_hot') {
    const ids = rows.length === 1 ? rows[0]! : rows.flatMap((r) => Array.from(r));
    const out = allocate(ids.length * depth);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= 0 && id < depth) out[i * depth + id] = 1;
    }
    return out;
  }
  const out = allocate(rows.length * depth);
  rows.forEach((row, r) => {
    const base = r * depth;
    for (let i = 0; i < row.length; i++) {
      const id = row[i]!;
      if (id < 0 || id >= depth) continue;
      out[base + id] = mode === 'multi_hot' ? 1 : out[base + id]! + 1;
    }
    if (mode === 'tf_idf') for (let k = 0; k < depth; k++) out[base + k] = Math.fround(out[base + k]! * idf![k]!);
  });
  return out;
}
