/**
 * Stateful metrics, Keras 3 style (keras/src/metrics): `Mean` and the
 * accuracies as mean-metric wrappers. A mask (y_pred's `_keras_mask`) and a
 * sample weight become weights, so the result averages over valid entries
 * only: sum(v·m·w) / sum(m·w). Without weights, each sample's values are
 * averaged first and samples are counted, as in Keras. Masque departure (as
 * in losses): a per-sample weight [B] combines with a [B, T] mask by
 * broadcasting over T. State is kept in JavaScript numbers (float64).
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { meanSquaredError, squeezeOrExpandToSameRank } from './losses.js';
import { checkKeys } from '../option_keys.js';

export interface MetricUpdateOptions {
  /** Bool mask over the leading axes of the values (e.g. [B, T]); true = counted. */
  mask?: tf.Tensor | null;
  /** Weights over the leading axes of the values (e.g. [B] or [B, T]). */
  sampleWeight?: tf.Tensor | null;
}

/** A metric fed with (yTrue, yPred) batches. */
export interface Metric {
  readonly name: string;
  updateState(yTrue: tf.Tensor, yPred: tf.Tensor, options?: MetricUpdateOptions): void;
  result(): number;
  resetState(): void;
  /**
   * Optional: a copy of the running state, and putting one back. `fit` uses
   * them to keep its epoch's running metrics when a callback calls
   * `evaluate` (which resets and reuses the compiled metrics); every Masque
   * metric has them.
   */
  saveState?(): unknown;
  restoreState?(state: unknown): void;
}

/** Per-element metric values from (yTrue, yPred). */
export type MetricFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

function asFloat(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

function leadingAxes(values: tf.Tensor, w: tf.Tensor, what: string, where: string): tf.Tensor {
  let x = asFloat(w);
  if (x.rank === values.rank + 1 && x.shape[x.rank - 1] === 1) x = tf.squeeze(x, [-1]);
  if (x.rank > values.rank || !x.shape.every((d, i) => d === values.shape[i] || d === 1)) {
    throw new MasqueError(
      what === 'mask' ? 'MASK_SHAPE_MISMATCH' : 'INVALID_ARGUMENT',
      `${where}: the ${what} must match the leading axes of the metric values ${formatShape(values.shape)}; received ${describe(w)}.`,
    );
  }
  return x;
}

/** A metric's name must be a non-empty string (it keys the logs). */
function checkMetricName(name: unknown, who: string): void {
  if (typeof name !== 'string' || name === '') throw new MasqueError('INVALID_ARGUMENT', `${who}: the name must be a non-empty string; received ${describe(name)}.`);
}

/** Weighted running mean (Keras `Mean`): result = total / count, 0 when nothing was counted. */
export class Mean {
  private total = 0;
  private count = 0;
  constructor(readonly name = 'mean') {
    checkMetricName(name, 'Mean');
  }

  /** Adds one number with a weight (no tensors involved). */
  add(value: number, weight = 1): void {
    this.total += value * weight;
    this.count += weight;
  }

  /** Adds `values` (a number or a tensor), weighted by mask·sampleWeight when given. */
  updateState(values: tf.Tensor | number, options: MetricUpdateOptions = {}): void {
    if (typeof values === 'number') {
      this.add(values, options.sampleWeight ? options.sampleWeight.dataSync()[0]! : 1);
      return;
    }
    const [total, count] = tf.tidy(() => {
      let v = asFloat(values);
      let w: tf.Tensor | null = options.mask ? leadingAxes(v, options.mask, 'mask', this.name) : null;
      if (options.sampleWeight) {
        const sw = leadingAxes(v, options.sampleWeight, 'sampleWeight', this.name);
        if (w === null) w = sw;
        else {
          let b = sw;
          while (b.rank < w.rank) b = tf.expandDims(b, -1);
          w = tf.mul(w, b);
        }
      }
      if (w === null) {
        // Keras: average each sample's values, then count samples.
        if (v.rank > 1) v = tf.mean(v, Array.from({ length: v.rank - 1 }, (_, i) => i + 1));
        return [tf.sum(v), tf.scalar(v.rank === 0 ? 1 : v.shape[0]!)];
      }
      if (w.rank < v.rank) v = tf.mean(v, Array.from({ length: v.rank - w.rank }, (_, i) => i + w!.rank));
      const wb = tf.broadcastTo(w, v.shape);
      // A select, not a product, drops entries of weight 0, so NaN in the padding cannot leak.
      return [tf.sum(tf.where(tf.equal(wb, 0), tf.zerosLike(v), tf.mul(v, wb))), tf.sum(wb)];
    });
    this.total += total.dataSync()[0]!;
    this.count += count.dataSync()[0]!;
    tf.dispose([total, count]);
  }

  result(): number {
    return this.count === 0 ? 0 : this.total / this.count;
  }

  resetState(): void {
    this.total = 0;
    this.count = 0;
  }

  saveState(): unknown {
    return [this.total, this.count];
  }

  restoreState(state: unknown): void {
    [this.total, this.count] = state as [number, number];
  }
}

/** A `Mean` of a per-element function of (yTrue, yPred) (Keras `MeanMetricWrapper`). */
export class MeanMetricWrapper implements Metric {
  private readonly mean: Mean;
  constructor(
    readonly fn: MetricFunction,
    readonly name: string,
  ) {
    if (typeof fn !== 'function') throw new MasqueError('INVALID_ARGUMENT', `MeanMetricWrapper: expected a function (yTrue, yPred) => Tensor of per-element values; received ${describe(fn)}.`);
    checkMetricName(name, 'MeanMetricWrapper');
    this.mean = new Mean(name);
  }
  updateState(yTrue: tf.Tensor, yPred: tf.Tensor, options: MetricUpdateOptions = {}): void {
    const values = this.fn(yTrue, yPred);
    try {
      this.mean.updateState(values, options);
    } finally {
      values.dispose();
    }
  }
  result(): number {
    return this.mean.result();
  }
  resetState(): void {
    this.mean.resetState();
  }
  saveState(): unknown {
    return this.mean.saveState();
  }
  restoreState(state: unknown): void {
    this.mean.restoreState(state);
  }
}

/**
 * Keras's RootMeanSquaredError: the square root of the (masked, weighted)
 * mean of the squared errors, accumulated over batches; the root is taken
 * once, of the running mean, not per batch.
 */
export class RootMeanSquaredError extends MeanMetricWrapper {
  constructor(args: { name?: string } = {}) {
    const a = checkKeys(args ?? {}, ['name'], 'RootMeanSquaredError');
    super(meanSquaredError, (a['name'] as string | undefined) ?? 'root_mean_squared_error');
  }
  override result(): number {
    return Math.sqrt(super.result());
  }
}

/** 1 where (yPred > threshold) equals yTrue, else 0 (elementwise). */
export function binaryAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor, threshold = 0.5): tf.Tensor {
  return tf.tidy(() => {
    const [t, p] = squeezeOrExpandToSameRank(asFloat(yTrue), yPred);
    return tf.cast(tf.equal(t, tf.cast(tf.greater(p, threshold), 'float32')), 'float32');
  });
}

/** 1 where argmax(yTrue) equals argmax(yPred) over the last axis. */
export function categoricalAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.equal(tf.argMax(yTrue, -1), tf.argMax(yPred, -1)), 'float32'));
}

/** 1 where the integer class yTrue ([..] or [.., 1]) equals argmax(yPred) over the last axis. */
export function sparseCategoricalAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let t = yTrue;
    if (t.rank === yPred.rank && t.shape[t.rank - 1] === 1) t = tf.squeeze(t, [-1]);
    const ids = t.dtype === 'int32' ? t : tf.cast(t, 'int32');
    return tf.cast(tf.equal(ids, tf.argMax(yPred, -1)), 'float32');
  });
}

/**
 * Keras 3's choice for 'accuracy' (compile_utils.get_metric), made from the
 * shapes: binary if yPred's last axis is 1; sparse if yTrue has lower rank
 * than yPred, or a last axis of 1 while yPred's is larger; else categorical.
 */
export function resolveAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor): MetricFunction {
  const tLast = yTrue.shape[yTrue.rank - 1];
  const pLast = yPred.shape[yPred.rank - 1]!;
  if (pLast === 1) return binaryAccuracy;
  if (yTrue.rank < yPred.rank || (tLast === 1 && pLast > 1)) return sparseCategoricalAccuracy;
  return categoricalAccuracy;
}

/** 'accuracy' / 'acc': picks binary, sparse or categorical accuracy from the first batch's shapes (Keras 3). */
export class Accuracy extends MeanMetricWrapper {
  private chosen: MetricFunction | null = null;
  constructor(name = 'accuracy') {
    super((t, p) => (this.chosen ??= resolveAccuracy(t, p))(t, p), name);
  }
  /** The accuracy function in use, once the first batch has been seen. */
  get resolved(): 'binary' | 'sparse_categorical' | 'categorical' | null {
    if (this.chosen === null) return null;
    return this.chosen === binaryAccuracy ? 'binary' : this.chosen === sparseCategoricalAccuracy ? 'sparse_categorical' : 'categorical';
  }
}
