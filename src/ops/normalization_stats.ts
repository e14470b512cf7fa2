/**
 * Statistics of data on the host, for Normalization.adapt: the mean and
 * population variance over every axis but the kept ones, counting valid
 * positions only, accumulated in float64 over any number of chunks (a
 * padded batch with its mask, or one sequence at a time).
 */
import { MasqueError } from '../errors.js';

/** A block of data: values in C order, its shape, and an optional mask over its leading dims (1 = valid). */
export interface DataChunk {
  values: ArrayLike<number>;
  shape: number[];
  /** Over the first `maskShape.length` dims of `shape`; null: all valid. */
  mask: ArrayLike<number | boolean> | null;
  maskShape?: number[];
}

export interface HostMoments {
  mean: Float64Array;
  variance: Float64Array;
  /** Valid values seen per kept index. */
  count: Float64Array;
}

const product = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

/** Calls `visit(keptIndex, value)` for every valid value of `c`. */
function forEachValid(c: DataChunk, keep: number[], visit: (k: number, v: number) => void): void {
  const rank = c.shape.length;
  const inner = c.mask === null ? 1 : product(c.shape.slice((c.maskShape ?? []).length));
  // Strides of the kept index: the kept dims in order, C order.
  const keptStride = new Array<number>(rank).fill(0);
  let s = 1;
  for (let j = keep.length - 1; j >= 0; j--) {
    keptStride[keep[j]!] = s;
    s *= c.shape[keep[j]!]!;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0, n = c.values.length; i < n; i++) {
    if (c.mask === null || Number(c.mask[Math.floor(i / inner)])) {
      let k = 0;
      for (const a of keep) k += idx[a]! * keptStride[a]!;
      visit(k, Number(c.values[i]));
    }
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a]! < c.shape[a]!) break;
      idx[a] = 0;
    }
  }
}

/**
 * Mean and variance per kept index (`keep`: positive axes of every chunk,
 * whose sizes `keptShape` all chunks share), over the valid values of all
 * chunks. Two passes in float64: the mean, then the squared deviations.
 * Raises INVALID_INPUT, naming `where`, when a kept index has no valid value.
 */
export function validMoments(chunks: DataChunk[], keep: number[], keptShape: number[], where: string): HostMoments {
  const size = product(keptShape);
  const sum = new Float64Array(size);
  const count = new Float64Array(size);
  for (const c of chunks) {
    if (keep.some((a, j) => c.shape[a] !== keptShape[j])) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: data of shape [${c.shape}] does not have the kept sizes [${keptShape}] on axes [${keep}].`);
    }
    forEachValid(c, keep, (k, v) => {
      if (!Number.isFinite(v)) throw new MasqueError('INVALID_INPUT', `${where}: the data holds ${v} at a valid position; adapt needs finite values (mask or drop the others).`);
      sum[k]! += v;
      count[k]! += 1;
    });
  }
  const empty = count.findIndex((n) => n === 0);
  if (empty >= 0) throw new MasqueError('INVALID_INPUT', `${where}: the data has no valid value${size > 1 ? ` for kept index ${empty}` : ''}; adapt needs at least one.`);
  const mean = sum.map((v, k) => v / count[k]!);
  const sq = new Float64Array(size);
  for (const c of chunks) forEachValid(c, keep, (k, v) => (sq[k]! += (v - mean[k]!) ** 2));
  return { mean, variance: sq.map((v, k) => v / count[k]!), count };
}

/** Nested number arrays: a number, or a list of them. */
export type NestedNumbers = number | NestedNumbers[];

/** The shape of a regular nested array, or null when it is ragged or holds a non-number. */
function shapeOf(v: unknown, depth = 0): number[] | null {
  if (typeof v === 'number') return [];
  if (!Array.isArray(v) || depth > 16) return null;
  if (v.length === 0) return [0];
  const first = shapeOf(v[0], depth + 1);
  if (first === null) return null;
  for (let i = 1; i < v.length; i++) {
    const s = shapeOf(v[i], depth + 1);
    if (s === null || s.length !== first.length || s.some((d, j) => d !== first[j])) return null;
  }
  return [v.length, ...first];
}

/**
 * Host data for `validMoments` from nested arrays: a regular array is one
 * chunk; a list of sequences of different lengths (each regular, all with
 * the same step shape) is one chunk per sequence, of shape [1, T_i, ...],
 * so only real steps count. Raises INVALID_INPUT naming `where` otherwise.
 */
export function chunksOfArrays(data: unknown, where: string): DataChunk[] {
  const regular = shapeOf(data);
  if (regular !== null && regular.length > 0) return [{ values: (data as unknown[]).flat(Infinity) as number[], shape: regular, mask: null }];
  const rows = Array.isArray(data) ? data.map((r) => shapeOf(r)) : [];
  const step = rows.find((r) => r !== null && r.length > 0 && r[0]! > 0)?.slice(1);
  if (!Array.isArray(data) || rows.length === 0 || step === undefined || rows.some((r) => r === null || r.length !== step.length + 1 || r.slice(1).some((d, j) => d !== step[j]))) {
    throw new MasqueError('INVALID_INPUT', `${where}: expected a tensor, a regular nested array of numbers, or a list of sequences (arrays of steps of one shape); received something else.`);
  }
  return (data as NestedNumbers[][]).flatMap((row, i) => (rows[i]![0] === 0 ? [] : [{ values: (row as unknown[]).flat(Infinity) as number[], shape: [1, ...rows[i]!], mask: null }]));
}
