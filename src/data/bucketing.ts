/**
 * Batch planning for dynamic padding: which samples go in which batch, so
 * that each batch is padded only to its own longest sequence. Bucketing puts
 * sequences of similar length together (the idea of torchtext's
 * BucketIterator / tf.data's bucket_by_sequence_length): shuffle, take pools
 * of `poolBatches * batchSize` samples, sort each pool by length, cut it into
 * batches, shuffle the batch order. Pure index arithmetic, deterministic
 * given `seed`; `padBatch` then builds each batch's tensor.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { isArrayLike, padSequences } from './pad_sequences.js';
import { checkKeys } from '../option_keys.js';

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place with the given PRNG. */
export function shuffleInPlace<T>(items: { length: number; [i: number]: T }, rng: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
}

export const DEFAULT_POOL_BATCHES = 50;

export interface PlanBatchesOptions {
  /** Samples per batch; every batch is full except at most one. */
  batchSize: number;
  /** Shuffle the samples and the batch order (default false). */
  shuffle?: boolean;
  /** PRNG seed (default: a random seed). Same seed and lengths give the same plan. */
  seed?: number;
  /** Group samples of similar length; `poolBatches` (default 50) batches are sorted together. */
  bucketing?: boolean | { poolBatches?: number };
}

const positiveInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;

/**
 * Splits the sample indices `0 .. lengths.length-1` into batches; each index
 * appears exactly once. Without bucketing the batches are consecutive runs of
 * the (shuffled) order. With bucketing, each pool is sorted by length and cut
 * so that its padded area (sum of batch size x longest length) is minimal;
 * the total padded area is then never larger than without bucketing for the
 * same seed. The remainder batch of a pool is placed where it saves most.
 */
export function planBatches(lengths: ArrayLike<number>, options: PlanBatchesOptions): Int32Array[] {
  if (!isArrayLike(lengths)) throw new MasqueError('INVALID_ARGUMENT', `planBatches: lengths must be an array of sequence lengths; received ${describe(lengths)}.`);
  // checkKeys refuses what is not an object, and reads null as no options; here batchSize is required.
  if (options === null || options === undefined) throw new MasqueError('INVALID_ARGUMENT', `planBatches: options must be an object ({ batchSize, shuffle?, bucketing?, seed? }); received ${describe(options)}.`);
  checkKeys(options, ['batchSize', 'shuffle', 'seed', 'bucketing'], 'planBatches');
  if (typeof options.bucketing === 'object' && options.bucketing !== null) checkKeys(options.bucketing, ['poolBatches'], 'planBatches: bucketing');
  const { batchSize, shuffle = false, bucketing = false } = options;
  if (!positiveInt(batchSize)) throw new MasqueError('INVALID_ARGUMENT', `planBatches: batchSize must be a positive integer; received ${describe(batchSize)}.`);
  const poolBatches = typeof bucketing === 'object' && bucketing !== null ? bucketing.poolBatches ?? DEFAULT_POOL_BATCHES : DEFAULT_POOL_BATCHES;
  if (!positiveInt(poolBatches)) throw new MasqueError('INVALID_ARGUMENT', `planBatches: bucketing.poolBatches must be a positive integer; received ${describe(poolBatches)}.`);
  const n = lengths.length;
  for (let i = 0; i < n; i++) {
    const l = lengths[i];
    if (!(typeof l === 'number' && Number.isInteger(l) && l >= 0)) {
      throw new MasqueError('INVALID_ARGUMENT', `planBatches: lengths must be non-negative integers; lengths[${i}] is ${describe(l)}.`);
    }
  }
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const rng = mulberry32(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (shuffle) shuffleInPlace(order, rng);

  const batches: Int32Array[] = [];
  if (!bucketing) {
    for (let s = 0; s < n; s += batchSize) batches.push(order.slice(s, Math.min(n, s + batchSize)));
  } else {
    const poolSize = poolBatches * batchSize;
    for (let s = 0; s < n; s += poolSize) {
      const pool = Array.from(order.subarray(s, Math.min(n, s + poolSize)));
      pool.sort((a, b) => lengths[a]! - lengths[b]!); // stable: ties keep the shuffled order
      for (const [start, end] of cutSorted(pool.map((i) => lengths[i]!), batchSize)) batches.push(Int32Array.from(pool.slice(start, end)));
    }
    if (shuffle) shuffleInPlace(batches, rng);
  }
  return batches;
}

/**
 * Cuts ascending lengths into runs of `batchSize` plus one shorter run, at the
 * position that minimises the padded area. Returns [start, end) pairs.
 */
function cutSorted(sorted: number[], batchSize: number): [number, number][] {
  const full = Math.floor(sorted.length / batchSize);
  const rest = sorted.length - full * batchSize;
  const sizesWithRestAt = (j: number) => {
    const sizes = new Array<number>(full).fill(batchSize);
    if (rest > 0) sizes.splice(j, 0, rest);
    return sizes;
  };
  const areaOf = (sizes: number[]) => {
    let area = 0;
    let end = 0;
    for (const size of sizes) {
      end += size;
      area += size * sorted[end - 1]!;
    }
    return area;
  };
  let best = sizesWithRestAt(full);
  if (rest > 0) {
    let bestArea = areaOf(best);
    for (let j = 0; j < full; j++) {
      const sizes = sizesWithRestAt(j);
      const area = areaOf(sizes);
      if (area < bestArea) [best, bestArea] = [sizes, area];
    }
  }
  const runs: [number, number][] = [];
  let start = 0;
  for (const size of best) runs.push([start, (start += size)]);
  return runs;
}

/** Sum over batches of (batch size x padded length), the number of cells a plan pads to. */
export function paddedArea(lengths: ArrayLike<number>, batches: readonly ArrayLike<number>[], multipleOf = 1): number {
  let area = 0;
  for (const b of batches) {
    let longest = 0;
    for (let i = 0; i < b.length; i++) longest = Math.max(longest, lengths[b[i]!]!);
    area += b.length * roundUp(longest, multipleOf);
  }
  return area;
}

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

export interface PadBatchOptions {
  /** Where to pad: 'pre' (default, as padSequences) or 'post'. */
  padding?: 'pre' | 'post';
  /** Padding value (default 0). */
  value?: number;
  dtype?: 'int32' | 'float32';
  /** Round the padded length up to a multiple of this (e.g. 8), default 1. */
  multipleOf?: number;
}

/**
 * Pads the sequences at `indices` to the longest of them (rounded up to
 * `multipleOf`) with `padSequences`. Returns `x` of shape
 * `[indices.length, paddedLength]` and the length of each row.
 */
export function padBatch(sequences: readonly ArrayLike<number>[], indices: ArrayLike<number>, options: PadBatchOptions = {}): { x: tf.Tensor2D; lengths: Int32Array } {
  if (!Array.isArray(sequences)) throw new MasqueError('INVALID_SEQUENCES', `padBatch: sequences must be an array of sequences; received ${describe(sequences)}.`);
  if (!isArrayLike(indices)) throw new MasqueError('INVALID_ARGUMENT', `padBatch: indices must be an array of row numbers; received ${describe(indices)}.`);
  if (options === null) throw new MasqueError('INVALID_ARGUMENT', `padBatch: options must be an object; received null.`);
  checkKeys(options, ['padding', 'value', 'dtype', 'multipleOf'], 'padBatch');
  const { padding = 'pre', value = 0, dtype = 'int32', multipleOf = 1 } = options;
  if (!positiveInt(multipleOf)) throw new MasqueError('INVALID_ARGUMENT', `padBatch: multipleOf must be a positive integer; received ${describe(multipleOf)}.`);
  const picked: ArrayLike<number>[] = [];
  let longest = 0;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!(Number.isInteger(i) && i >= 0 && i < sequences.length)) {
      throw new MasqueError('INVALID_ARGUMENT', `padBatch: indices[${k}] must be an integer in [0, ${sequences.length}); received ${describe(i)}.`);
    }
    picked.push(sequences[i]!);
    longest = Math.max(longest, sequences[i]!.length ?? 0);
  }
  const { padded, lengths } = padSequences(picked, { maxlen: roundUp(longest, multipleOf), padding, value, dtype, returnLengths: true });
  if (padded.rank !== 2) {
    const shape = padded.shape;
    padded.dispose();
    throw new MasqueError('INVALID_SEQUENCES', `padBatch: expected sequences of scalar tokens (a 2-D batch) but they pad to shape [${shape}]; use padSequences for feature vectors.`);
  }
  return { x: padded as tf.Tensor2D, lengths };
}
