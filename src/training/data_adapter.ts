/**
 * What `fit`/`evaluate` accept and how it becomes batches:
 * - tensors or nested arrays (`x`, `y`), cut into batches of `batchSize`;
 * - a variable-length dataset `{ sequences, labels }` of token-id arrays,
 *   padded per batch only to that batch's longest sequence (dynamic
 *   padding), optionally bucketed by length. `checkDataset` checks every
 *   sample before the first step, so a bad sample fails at once and by name.
 */
import { tf } from '../runtime/tfjs.js';
import { getMask, attachMask, cloneMask } from '../engine/masks.js';
import { planBatches, shuffleInPlace } from '../data/bucketing.js';
import { padSequences } from '../data/pad_sequences.js';
import { sliceRows } from '../data/input_data.js';
import { building } from './dispose_scope.js';

/** A dataset of variable-length sequences, padded per batch. */
export interface SequenceDataset {
  /** Token ids (or feature vectors) per sample; lengths vary. */
  sequences: number[][] | number[][][];
  /**
   * One label per sample (a number or a vector), or one label per step: a
   * list as long as its sequence (of numbers or vectors), padded like
   * `sequences`. Per-step labels are recognised without a flag.
   */
  labels: number[] | number[][] | number[][][];
  /** Padding side for each batch (default 'post'). */
  padding?: 'pre' | 'post';
  /** Padding value (default 0). */
  value?: number;
  /** Sort samples by length within pools of batches, then shuffle the batches (default true when shuffling). */
  bucketing?: boolean;
  /**
   * Per-step targets: true forces reading each label as a sequence as long
   * as its sample, false forbids it; by default labels are per step when
   * every label is a list as long as its sequence.
   */
  labelsPerStep?: boolean;
  /** Input dtype (default int32 for 2-D id sequences, float32 for feature vectors). */
  dtype?: 'int32' | 'float32';
}

export function isSequenceDataset(x: unknown): x is SequenceDataset {
  return x !== null && typeof x === 'object' && !(x instanceof tf.Tensor) && !Array.isArray(x) && 'sequences' in x;
}

export interface Batch {
  x: tf.Tensor[];
  y: tf.Tensor[];
  sampleWeight: tf.Tensor | null;
  size: number;
  /** Number of real (unpadded) steps, when known. */
  tokens: number;
  /** Where each row of the batch comes from: its sample index in the data the user passed. */
  rows: number[];
  /** Frees the batch's tensors. */
  dispose(): void;
}

/** A batch whose `dispose()` frees its tensors. */
function batch(fields: Omit<Batch, 'dispose'>): Batch {
  return { ...fields, dispose: () => tf.dispose([...fields.x, ...fields.y, ...(fields.sampleWeight ? [fields.sampleWeight] : [])]) };
}

/** 0..n-1 in a random order drawn from `rand`. */
export function shuffled(n: number, rand: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(idx, rand);
  return idx;
}

/** Rows `idx` of `t` (keeping its mask). */
export function gatherRows(t: tf.Tensor, idx: number[]): tf.Tensor {
  const i = tf.tensor1d(idx, 'int32');
  const out = tf.gather(t, i);
  const m = getMask(t);
  if (m) attachMask(out, tf.gather(m, i));
  i.dispose();
  return out;
}

/** All rows of `t` as a new handle on the same data (a reshape; tf.clone copies on wasm), with a copy of its mask. */
function allRows(t: tf.Tensor): tf.Tensor {
  const out = tf.reshape(t, t.shape);
  const m = getMask(t);
  if (m) attachMask(out, cloneMask(m));
  return out;
}

/**
 * Batches of in-memory tensors, in order or shuffled; `offset` is the sample
 * index of row 0 in the user's data. The caller disposes each batch.
 */
export function* tensorBatches(x: tf.Tensor[], y: tf.Tensor[], sw: tf.Tensor | null, batchSize: number, order: number[] | null, offset = 0): Generator<Batch> {
  const n = x[0]!.shape[0]!;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const rows = order ? order.slice(start, start + size) : Array.from({ length: size }, (_, i) => start + i);
    const pick = (t: tf.Tensor) => (order ? gatherRows(t, rows) : size === n ? allRows(t) : sliceRows(t, start, size));
    yield building((scope) => {
      const take = (t: tf.Tensor) => scope.track(pick(t));
      return batch({ x: x.map(take), y: y.map(take), sampleWeight: sw ? take(sw) : null, size, tokens: 0, rows: rows.map((r) => r + offset) });
    });
  }
}

/** The batches of one epoch (sample indices): shuffled, and with bucketing sorted by length within pools of batches (see planBatches). */
export function planOrder(lengths: number[], batchSize: number, shuffle: boolean, bucketing: boolean, rand: () => number): ArrayLike<number>[] {
  return planBatches(lengths, { batchSize, shuffle, bucketing, seed: Math.floor(rand() * 2 ** 31) });
}

/** The sequences `idx` of `ds` padded to the longest of them (at least 1 step), as `[x, that length]`. */
export function padInputs(ds: Pick<SequenceDataset, 'sequences' | 'padding' | 'value' | 'dtype'>, idx: number[]): [tf.Tensor, number] {
  const seqs = idx.map((i) => ds.sequences[i]!) as (number[] | number[][])[];
  const len = Math.max(1, ...seqs.map((s) => s.length));
  const featureVectors = seqs.some((s) => Array.isArray(s[0]));
  return [padSequences(seqs, { maxlen: len, padding: ds.padding ?? 'post', value: ds.value ?? 0, dtype: ds.dtype ?? (featureVectors ? 'float32' : 'int32') }), len];
}

/** Batches of a variable-length dataset, each padded to its own longest sequence (per-step labels too); `offset` as in `tensorBatches`. */
export function* datasetBatches(ds: SequenceDataset, plan: ArrayLike<number>[], perStep: boolean, offset = 0): Generator<Batch> {
  const padding = ds.padding ?? 'post';
  for (const rows of plan) {
    const idx = Array.from(rows);
    const seqs = idx.map((i) => ds.sequences[i]!) as (number[] | number[][])[];
    const labels = idx.map((i) => ds.labels[i]!);
    yield building((scope) => {
      const [x, len] = padInputs(ds, idx);
      scope.track(x);
      const y = scope.track(
        perStep ? padSequences(labels as number[][], { maxlen: len, padding, value: 0, dtype: 'float32' })
        : labels.every((l) => typeof l === 'number') ? tf.tensor1d(labels as number[], 'float32')
        : tf.tensor(labels as number[][], undefined, 'float32'),
      );
      return batch({ x: [x], y: [y], sampleWeight: null, size: idx.length, tokens: seqs.reduce((a, s) => a + s.length, 0), rows: idx.map((i) => i + offset) });
    });
  }
}
