/**
 * `padSequences`: Keras 3.15.1 `keras.utils.pad_sequences`, returning a tfjs
 * tensor. Given the same arguments it gives Keras's values, including numpy's
 * casts and Keras's lazy checks of `padding` / `truncating`.
 *
 * Departures (all documented in the conformance README, departure 6):
 * - Where Keras crashes inside numpy, Masque returns the sensible result or
 *   raises its own clear `MasqueError`: `maxlen: 0` gives shape `[n, 0, ...]`
 *   whatever `truncating` is (Keras: `s[-0:]` keeps everything and numpy fails
 *   to broadcast; with feature samples and `truncating: 'post'` Keras raises
 *   "Shape of sample ()..."), an empty list gives shape `[0, maxlen ?? 0]`,
 *   and a negative or non-integer `maxlen`, ragged steps inside a sample, a
 *   bare string, string items, and string tokens with a numeric dtype raise
 *   `INVALID_ARGUMENT` / `INVALID_SEQUENCES`. numpy would parse numeric
 *   strings ('5' -> 5); Masque does not.
 * - dtypes: `'string'` is Masque's name for Python's `dtype=object` (a string
 *   tensor). The string `'object'` is not a Masque dtype: it is rejected, as
 *   Keras rejects `dtype='object'` (a string) with a string `value`. With
 *   dtype `'string'` the default `value` is `''` (a tfjs string tensor cannot
 *   hold Keras's default `0`), and tokens and `value` must be strings.
 * - tfjs has no int8/int16/uint8/uint16 tensors: values are computed with
 *   numpy's cast (integers wrap modulo 2^bits: int8 300 -> 44; floats
 *   truncate toward zero; NaN, ±Infinity and floats outside int32 become
 *   -2147483648 before narrowing, as numpy does on x86) and returned in an
 *   int32 tensor. Integer-valued numbers are treated as Python ints (they
 *   wrap); other numbers as Python floats. `bool` gives a bool tensor
 *   (non-zero and NaN are true).
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { opt, readOptions } from '../engine/options.js';

/** Output dtypes of `padSequences`. */
export type PadSequencesDtype = 'int32' | 'int16' | 'int8' | 'uint16' | 'uint8' | 'float32' | 'bool' | 'string';
export const PAD_SEQUENCES_DTYPES: readonly PadSequencesDtype[] = ['int32', 'int16', 'int8', 'uint16', 'uint8', 'float32', 'bool', 'string'];

/** One sequence: an array or typed array of tokens, or of feature vectors (nested arrays). */
export type SequenceLike = ArrayLike<unknown>;

export interface PadSequencesOptions {
  /** Length of every row; default: the longest sequence (0 for an empty list). */
  maxlen?: number | null;
  /** Default 'int32'. */
  dtype?: PadSequencesDtype;
  /** Where to pad: 'pre' (default) or 'post'. Checked only while copying a non-empty sequence, as Keras does. */
  padding?: 'pre' | 'post';
  /** Which end to cut when a sequence is longer than maxlen: 'pre' (default, keeps the last items) or 'post'. */
  truncating?: 'pre' | 'post';
  /** Padding value, cast to dtype; default 0 ('' for dtype 'string'). */
  value?: number | string | boolean;
  /** Also return the valid length of each row after truncation. */
  returnLengths?: boolean;
}

export interface PaddedSequences {
  padded: tf.Tensor;
  /** Valid (copied) length of each row after truncation. */
  lengths: Int32Array;
}

/** The most values a padded result may hold (512 MiB of float32): a larger one is refused before anything is allocated. */
export const MAX_PADDED_ELEMENTS = 2 ** 27;
/** The deepest nesting of one step's features (deeper is not data, usually an array that contains itself). */
const MAX_STEP_RANK = 16;

const PAD_OPTIONS = {
  maxlen: opt.custom<number | null | undefined>((v) => v as number | null, { default: undefined }),
  dtype: opt.custom<PadSequencesDtype | undefined>((v) => v as PadSequencesDtype, { default: undefined }),
  padding: opt.custom<string | undefined>((v) => v as string, { default: undefined }),
  truncating: opt.custom<string | undefined>((v) => v as string, { default: undefined }),
  value: opt.custom<unknown>((v) => v, { default: undefined }),
  returnLengths: opt.custom<unknown>((v) => v, { default: undefined }),
};

const WIDTH: Partial<Record<PadSequencesDtype, (i: number) => number>> = {
  int32: (i) => i | 0,
  int16: (i) => (i << 16) >> 16,
  int8: (i) => (i << 24) >> 24,
  uint16: (i) => i & 0xffff,
  uint8: (i) => i & 0xff,
};

/** numpy's cast of one Python number (int if integer-valued, else float) to `dtype`. */
export function castNumber(v: number, dtype: PadSequencesDtype): number {
  if (dtype === 'float32') return v;
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  let i: number;
  if (Number.isInteger(v)) i = v | 0; // ToInt32: exact wrap modulo 2^32
  else {
    const t = Math.trunc(v);
    i = Number.isFinite(t) && t >= -2147483648 && t <= 2147483647 ? t : -2147483648;
  }
  return WIDTH[dtype]!(i);
}

/**
 * Pads (and truncates) sequences to one length, as `keras.utils.pad_sequences`.
 * Returns a tensor of shape `[sequences.length, maxlen, ...featureShape]`.
 * With `returnLengths: true` returns `{ padded, lengths }`.
 */
export function padSequences(sequences: Iterable<SequenceLike>, options: PadSequencesOptions & { returnLengths: true }): PaddedSequences;
export function padSequences(sequences: Iterable<SequenceLike>, options?: PadSequencesOptions & { returnLengths?: false }): tf.Tensor;
export function padSequences(sequences: Iterable<SequenceLike>, options?: PadSequencesOptions): tf.Tensor | PaddedSequences;
export function padSequences(sequences: Iterable<SequenceLike>, options: PadSequencesOptions = {}): tf.Tensor | PaddedSequences {
  options = readOptions(PAD_OPTIONS, options, 'padSequences') as PadSequencesOptions;
  const seqs = checkContainer(sequences);
  // Keras: lengths of every item, feature shape from the first non-empty one.
  const lengths: number[] = [];
  let sampleShape: number[] | null = null;
  seqs.forEach((s, idx) => {
    if (typeof s === 'string') {
      throw new MasqueError('INVALID_SEQUENCES', `padSequences: the sequence at position ${idx} is a string (${describe(s)}); expected an array of tokens, e.g. text.split(' ').`);
    }
    if (!isArrayLike(s)) {
      throw new MasqueError('INVALID_SEQUENCES', `padSequences: sequences must be a list of sequences (arrays or typed arrays); found a non-iterable item at position ${idx}: ${describe(s)}.`);
    }
    lengths.push(s.length);
    if (sampleShape === null && s.length > 0) sampleShape = stepShapeOf(s, idx, s.length, null);
  });
  const featureShape: number[] = sampleShape ?? [];
  const featureSize = featureShape.reduce((a, b) => a * b, 1);

  const { maxlen: maxlenOpt = null, dtype = 'int32', padding = 'pre', truncating = 'pre' } = options;
  const value = checkDtypeAndValue(dtype, options.value); // Keras checks dtype/value before numpy sees maxlen
  if (maxlenOpt !== null && maxlenOpt !== undefined && !(Number.isInteger(maxlenOpt) && maxlenOpt >= 0)) {
    throw new MasqueError('INVALID_ARGUMENT', `padSequences: maxlen must be null or a non-negative integer; received ${describe(maxlenOpt)}.`);
  }
  const maxlen = maxlenOpt ?? lengths.reduce((a, b) => Math.max(a, b), 0);

  const n = seqs.length;
  const rowSize = maxlen * featureSize;
  if (n * rowSize > MAX_PADDED_ELEMENTS) {
    throw new MasqueError(
      'INVALID_ARGUMENT',
      `padSequences: the padded result would hold ${n} x ${maxlen}${featureSize > 1 ? ` x ${featureSize}` : ''} = ${n * rowSize} values (${((n * rowSize * 4) / 2 ** 20).toFixed(0)} MiB), more than the limit of ${MAX_PADDED_ELEMENTS} values; nothing was allocated. Use a smaller maxlen, or pad per batch (fit({ sequences }) pads each batch to its own longest sequence).`,
    );
  }
  const out: Int32Array | Float32Array | Uint8Array | string[] =
    dtype === 'string' ? new Array<string>(n * rowSize).fill(value as string)
    : dtype === 'float32' ? new Float32Array(n * rowSize).fill(value as number)
    : dtype === 'bool' ? new Uint8Array(n * rowSize).fill(value as number)
    : new Int32Array(n * rowSize).fill(value as number);
  const kept = new Int32Array(n);

  seqs.forEach((s, idx) => {
    if (s.length === 0) return; // Keras skips empty sequences before any check
    if (truncating !== 'pre' && truncating !== 'post') {
      throw new MasqueError('INVALID_ARGUMENT', `padSequences: unknown truncating type ${describe(truncating)}; expected "pre" or "post".`);
    }
    const len = Math.min(s.length, maxlen);
    const start = truncating === 'pre' ? s.length - len : 0;
    stepShapeOf(s, idx, len, featureShape, start);
    // Keras casts the kept steps (numpy errors) before it checks `padding`.
    let offset = idx * rowSize + (padding === 'pre' ? (maxlen - len) * featureSize : 0);
    for (let t = start; t < start + len; t++) {
      offset = writeStep(s[t], out, offset, dtype, idx, t);
    }
    if (padding !== 'pre' && padding !== 'post') {
      throw new MasqueError('INVALID_ARGUMENT', `padSequences: unknown padding type ${describe(padding)}; expected "pre" or "post".`);
    }
    kept[idx] = len;
  });

  const shape = [n, maxlen, ...featureShape];
  const tfDtype = dtype === 'string' ? 'string' : dtype === 'float32' ? 'float32' : dtype === 'bool' ? 'bool' : 'int32';
  const padded = tf.tensor(out as never, shape, tfDtype);
  return options.returnLengths === true ? { padded, lengths: kept } : padded;
}

/** An array or a typed array (not a DataView): what the padding helpers index into. */
export function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function checkContainer(sequences: unknown): ArrayLike<unknown>[] {
  if (typeof sequences === 'string') {
    throw new MasqueError('INVALID_SEQUENCES', `padSequences: sequences must be an array of sequences; received a string (${describe(sequences)}). Split text into tokens and wrap it in an array.`);
  }
  if (Array.isArray(sequences)) return sequences as ArrayLike<unknown>[];
  if (sequences !== null && typeof sequences === 'object' && Symbol.iterator in sequences) {
    return Array.from(sequences as Iterable<ArrayLike<unknown>>);
  }
  throw new MasqueError('INVALID_SEQUENCES', `padSequences: sequences must be iterable (an array of sequences); received ${describe(sequences)}.`);
}

/**
 * Checks that steps [start, start+count) of sequence `idx` all have one shape
 * (or `expected`, if given) and returns it. Strings, numbers, booleans are scalars.
 */
function stepShapeOf(s: ArrayLike<unknown>, idx: number, count: number, expected: number[] | null, start = 0): number[] {
  let first: number[] | null = expected;
  // Every step of a typed array is a number: the first step tells them all.
  const end = ArrayBuffer.isView(s) ? Math.min(start + count, start + 1) : start + count;
  for (let t = start; t < end; t++) {
    const shape = valueShape(s[t], idx, t);
    if (first === null) first = shape;
    else if (!sameShape(shape, first)) {
      const what = expected === null
        ? `the sequence at position ${idx} is ragged: step ${t} has shape ${formatShape(shape)} but step ${start} has shape ${formatShape(first)}`
        : `Shape of sample ${formatShape(shape)} of sequence at position ${idx} is different from expected shape ${formatShape(first)}, the step shape of the first non-empty sequence (step ${t} differs)`;
      throw new MasqueError('INVALID_SEQUENCES', `padSequences: ${what}. Every step of every sequence must have the same shape.`);
    }
  }
  return first ?? [];
}

/** The shape of a scalar step (shared: shapes are never modified). */
const SCALAR_SHAPE: number[] = [];

function valueShape(v: unknown, idx: number, t: number, depth = 0): number[] {
  if (!isArrayLike(v) || v.length === 0) return isArrayLike(v) ? [0] : SCALAR_SHAPE;
  if (depth >= MAX_STEP_RANK) {
    throw new MasqueError('INVALID_SEQUENCES', `padSequences: step ${t} of the sequence at position ${idx} is nested more than ${MAX_STEP_RANK} levels deep (an array that contains itself?); expected a number, a string, or a rectangular array.`);
  }
  const inner = valueShape(v[0], idx, t, depth + 1);
  for (let i = 1; i < v.length; i++) {
    if (!sameShape(valueShape(v[i], idx, t, depth + 1), inner)) {
      throw new MasqueError('INVALID_SEQUENCES', `padSequences: step ${t} of the sequence at position ${idx} is a ragged nested array (its entries have different shapes); expected a number, a string, or a rectangular array.`);
    }
  }
  return [v.length, ...inner];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function writeStep(v: unknown, out: Int32Array | Float32Array | Uint8Array | string[], offset: number, dtype: PadSequencesDtype, idx: number, t: number): number {
  if (isArrayLike(v)) {
    for (let i = 0; i < v.length; i++) offset = writeStep(v[i], out, offset, dtype, idx, t);
    return offset;
  }
  if (dtype === 'string') {
    if (typeof v !== 'string') {
      throw new MasqueError('INVALID_SEQUENCES', `padSequences: dtype 'string' needs string tokens, but step ${t} of the sequence at position ${idx} is ${describe(v)}.`);
    }
    (out as string[])[offset] = v;
  } else {
    if (typeof v !== 'number' && typeof v !== 'boolean') {
      const hint = typeof v === 'string' ? ` Use dtype 'string' for string tokens.` : '';
      throw new MasqueError('INVALID_SEQUENCES', `padSequences: dtype '${dtype}' needs numeric tokens, but step ${t} of the sequence at position ${idx} is ${describe(v)}.${hint}`);
    }
    (out as Int32Array)[offset] = castNumber(Number(v), dtype);
  }
  return offset + 1;
}

function checkDtypeAndValue(dtype: unknown, value: unknown): number | string {
  if (!PAD_SEQUENCES_DTYPES.includes(dtype as PadSequencesDtype)) {
    const clash = typeof value === 'string' ? ` It is not compatible with the string value ${describe(value)} either: string padding needs dtype 'string'.` : '';
    const hint = dtype === 'object' ? ` Use 'string', Masque's name for Python's dtype=object (Keras also rejects dtype='object' given as a string with a string value).` : '';
    throw new MasqueError('INVALID_ARGUMENT', `padSequences: unknown dtype ${describe(dtype)}; expected one of ${PAD_SEQUENCES_DTYPES.map((d) => `'${d}'`).join(', ')}.${hint}${clash}`);
  }
  const d = dtype as PadSequencesDtype;
  if (d === 'string') {
    if (value === undefined) return '';
    if (typeof value !== 'string') {
      throw new MasqueError('INVALID_ARGUMENT', `padSequences: dtype 'string' needs a string value; received ${describe(value)}.`);
    }
    return value;
  }
  if (value === undefined) return 0;
  if (typeof value === 'string') {
    throw new MasqueError('INVALID_ARGUMENT', `padSequences: dtype '${d}' is not compatible with the string value ${describe(value)}. Set dtype 'string' (Keras's dtype=object) to pad string tokens.`);
  }
  if (typeof value !== 'number' && typeof value !== 'boolean') {
    throw new MasqueError('INVALID_ARGUMENT', `padSequences: value must be a number, boolean or string; received ${describe(value)}.`);
  }
  return castNumber(Number(value), d);
}
