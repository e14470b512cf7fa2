/**
 * Keras's accuracy metric classes (keras/src/metrics/accuracy_metrics.py) as
 * objects for compile: `BinaryAccuracy({ threshold })`,
 * `CategoricalAccuracy`, `SparseCategoricalAccuracy`,
 * `TopKCategoricalAccuracy({ k })` and `SparseTopKCategoricalAccuracy({ k })`.
 * They are mean metrics, so a mask (and a sample weight) weighs their values
 * exactly as Keras's MeanMetricWrapper does: masked steps count nowhere.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { checkKeys } from '../option_keys.js';
import { MeanMetricWrapper, binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy } from './metrics.js';
import { oneHot } from '../ops/one_hot.js';

function nameOf(who: string, v: unknown, fallback: string): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || v === '') throw new MasqueError('INVALID_ARGUMENT', `${who}: name must be a non-empty string; received ${describe(v)}.`);
  return v;
}

function kOf(who: string, v: unknown): number {
  if (v === undefined) return 5;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new MasqueError('INVALID_ARGUMENT', `${who}: k must be a positive integer; received ${describe(v)}.`);
  return v;
}

/**
 * 1 where the class `ids` (integers, yPred's shape without its last axis) is
 * among the top k of yPred's last axis: its score is at least the k-th
 * largest, so ties at the boundary count as in (Keras's in_top_k).
 */
function inTopK(ids: tf.Tensor, yPred: tf.Tensor, k: number): tf.Tensor {
  return tf.tidy(() => {
    const classes = yPred.shape[yPred.rank - 1]!;
    const kth = tf.min(tf.topk(yPred, Math.min(k, classes)).values, -1);
    const target = tf.sum(tf.mul(oneHot(tf.cast(ids, 'int32'), classes), yPred), -1);
    return tf.cast(tf.greaterEqual(target, kth), 'float32');
  });
}

/** 1 where argmax(yTrue) is among the top k of yPred (one-hot targets; Keras's top_k_categorical_accuracy). */
export function topKCategoricalAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor, k = 5): tf.Tensor {
  return tf.tidy(() => inTopK(tf.argMax(yTrue, -1), yPred, k));
}

/** 1 where the class id yTrue ([..] or [.., 1]) is among the top k of yPred (Keras's sparse_top_k_categorical_accuracy). */
export function sparseTopKCategoricalAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor, k = 5): tf.Tensor {
  return tf.tidy(() => {
    let t = yTrue;
    if (t.rank === yPred.rank && t.shape[t.rank - 1] === 1) t = tf.squeeze(t, [-1]);
    if (t.rank !== yPred.rank - 1 || !t.shape.every((d, i) => d === yPred.shape[i])) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `sparseTopKCategoricalAccuracy: yTrue must have yPred's shape without its last axis; received yTrue ${formatShape(yTrue.shape)} and yPred ${formatShape(yPred.shape)}.`);
    }
    return inTopK(t, yPred, k);
  });
}

export interface TopKArgs {
  /** How many of the highest scores count (default 5). */
  k?: number;
  name?: string;
}

export class TopKCategoricalAccuracy extends MeanMetricWrapper {
  readonly k: number;
  constructor(args: TopKArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    const a = checkKeys(args, ['k', 'name'], 'TopKCategoricalAccuracy');
    const k = kOf('TopKCategoricalAccuracy', a['k']);
    super((t, p) => topKCategoricalAccuracy(t, p, k), nameOf('TopKCategoricalAccuracy', a['name'], 'top_k_categorical_accuracy'));
    this.k = k;
  }
}

export class SparseTopKCategoricalAccuracy extends MeanMetricWrapper {
  readonly k: number;
  constructor(args: TopKArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    const a = checkKeys(args, ['k', 'name'], 'SparseTopKCategoricalAccuracy');
    const k = kOf('SparseTopKCategoricalAccuracy', a['k']);
    super((t, p) => sparseTopKCategoricalAccuracy(t, p, k), nameOf('SparseTopKCategoricalAccuracy', a['name'], 'sparse_top_k_categorical_accuracy'));
    this.k = k;
  }
}

export class BinaryAccuracy extends MeanMetricWrapper {
  readonly threshold: number;
  constructor(args: { threshold?: number; name?: string } = {}) {
    const a = checkKeys(args, ['threshold', 'name'], 'BinaryAccuracy');
    const threshold = a['threshold'] ?? 0.5;
    if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw new MasqueError('INVALID_ARGUMENT', `BinaryAccuracy: threshold must be a finite number; received ${describe(threshold)}.`);
    super((t, p) => binaryAccuracy(t, p, threshold), nameOf('BinaryAccuracy', a['name'], 'binary_accuracy'));
    this.threshold = threshold;
  }
}

export class CategoricalAccuracy extends MeanMetricWrapper {
  constructor(args: { name?: string } = {}) {
    super(categoricalAccuracy, nameOf('CategoricalAccuracy', checkKeys(args, ['name'], 'CategoricalAccuracy')['name'], 'categorical_accuracy'));
  }
}

export class SparseCategoricalAccuracy extends MeanMetricWrapper {
  constructor(args: { name?: string } = {}) {
    super(sparseCategoricalAccuracy, nameOf('SparseCategoricalAccuracy', checkKeys(args, ['name'], 'SparseCategoricalAccuracy')['name'], 'sparse_categorical_accuracy'));
  }
}
