/** Reading conformance case files: arrays to tensors, and tolerant comparison. */
import { parseKerasJson } from '../../src/io/keras_json.js';
import { readFileSync, readdirSync } from 'node:fs';
import { tf } from '../../src/index.js';

export interface CaseArray {
  shape: number[];
  dtype: string;
  data: (number | string | boolean)[];
}

// Case files are data whose schema is documented in the conformance README.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Case = Record<string, any>;

/** The case files of a folder: every *.json but index.json, sorted by name. */
export function caseFileNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .sort();
}

export function loadCase(path: string): Case {
  // Keras's JSON as Keras reads it: an operation's 2.0 stays a float (src/io/keras_json.ts).
  const text = readFileSync(path, 'utf8');
  try {
    return parseKerasJson(text) as Case;
  } catch (e) {
    throw new SyntaxError(`invalid JSON (${(e as Error).message})`);
  }
}

export function decodeValue(v: number | string | boolean): number {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return Number(v);
}

export function decodeNumbers(a: CaseArray): Float64Array {
  return Float64Array.from(a.data, decodeValue);
}

export function tensorDtype(dtype: string): 'float32' | 'int32' | 'bool' | 'string' {
  if (dtype === 'bool') return 'bool';
  if (dtype.startsWith('int') || dtype.startsWith('uint')) return 'int32';
  if (dtype === 'object' || dtype === 'string' || dtype.startsWith('<U') || dtype === 'str') return 'string';
  return 'float32';
}

export function toTensor(a: CaseArray): tf.Tensor {
  const dtype = tensorDtype(a.dtype);
  if (dtype === 'string') return tf.tensor(a.data as string[], a.shape, 'string');
  if (dtype === 'bool') return tf.tensor(a.data.map((v) => v === true || v === 1), a.shape, 'bool');
  return tf.tensor(Array.from(decodeNumbers(a)), a.shape, dtype);
}

/** A nested list of booleans (as in call_kwargs) to a bool tensor. */
export function nestedToTensor(v: unknown, dtype: 'bool' | 'float32' | 'int32'): tf.Tensor {
  return tf.tensor(v as number[], undefined, dtype);
}

export interface Diff {
  ok: boolean;
  maxDiff: number;
  message: string;
}

/** Compares a tensor with a case array: shape equal, |got-want| <= tol*max(1,|want|), NaN == NaN. */
export function compare(got: tf.Tensor | null, want: CaseArray | null, tol: number, what: string): Diff {
  if (want === null || want === undefined) {
    return got === null ? { ok: true, maxDiff: 0, message: '' } : { ok: false, maxDiff: Infinity, message: `${what}: expected no mask/value (null) but got shape [${got.shape}]` };
  }
  if (got === null) return { ok: false, maxDiff: Infinity, message: `${what}: expected shape [${want.shape}] but got null` };
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    return { ok: false, maxDiff: Infinity, message: `${what}: shape [${got.shape}] != expected [${want.shape}]` };
  }
  const g = got.dtype === 'string' ? (got.dataSync() as unknown as string[]) : Array.from(got.dataSync() as ArrayLike<number>);
  if (got.dtype === 'string' || want.dtype === 'object' || want.dtype === 'string') {
    const bad = (g as unknown[]).findIndex((v, i) => String(v) !== String(want.data[i]));
    return bad < 0 ? { ok: true, maxDiff: 0, message: '' } : { ok: false, maxDiff: Infinity, message: `${what}: element ${bad} is ${JSON.stringify(g[bad])}, expected ${JSON.stringify(want.data[bad])}` };
  }
  const w = decodeNumbers(want);
  let maxDiff = 0;
  let worst = -1;
  for (let i = 0; i < w.length; i++) {
    const a = Number(g[i]);
    const b = w[i]!;
    if (Number.isNaN(b) || Number.isNaN(a)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) return { ok: false, maxDiff: Infinity, message: `${what}: element ${i} is ${a}, expected ${b}` };
      continue;
    }
    if (a === b) continue;
    const d = Math.abs(a - b) / Math.max(1, Math.abs(b));
    if (d > maxDiff || Number.isNaN(d)) {
      maxDiff = d;
      worst = i;
    }
  }
  if (maxDiff > tol) return { ok: false, maxDiff, message: `${what}: max relative difference ${maxDiff.toExponential(3)} at element ${worst} (got ${g[worst]}, expected ${w[worst]})` };
  return { ok: true, maxDiff, message: '' };
}

/** Runs `fn` in a tfjs scope: tensors it creates are freed when it returns (any result type). */
export function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}
