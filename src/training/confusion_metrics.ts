/**
 * Keras's confusion metrics (keras/src/metrics/confusion_metrics.py):
 * `Precision`, `Recall` and `AUC`, with Keras's numbers. Counts are kept in
 * JavaScript numbers (float64; Keras uses float32 variables).
 *
 * Masks: Keras's confusion metrics ignore `_keras_mask` (only mean metrics
 * read it), so in Keras a padded step counts as a prediction. Masque weighs
 * every entry by its mask (and sample weight), so masked steps count nowhere;
 * the result equals Keras's when the mask is passed as the sample weight.
 * A per-sample weight [B] broadcasts over the steps of per-step outputs.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { checkKeys } from '../option_keys.js';
import { metricEntries, type MetricEntries } from './metric_inputs.js';
import type { Metric, MetricUpdateOptions } from './metrics.js';
import { oneHot } from '../ops/one_hot.js';

/** Keras's backend.epsilon(). */
const EPSILON = 1e-7;
/** Keras's metrics_utils.NEG_INF: what a top-k filter leaves outside the top k. */
const NEG_INF = -1e10;

function fail(who: string, message: string): never {
  throw new MasqueError('INVALID_ARGUMENT', `${who}: ${message}`);
}

function checkName(who: string, v: unknown, fallback: string): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || v === '') fail(who, `name must be a non-empty string; received ${describe(v)}.`);
  return v;
}

function checkInt(who: string, key: string, v: unknown, min: number): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(who, `${key} must be an integer >= ${min}; received ${describe(v)}.`);
  return v;
}

function divNoNan(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** yPred with everything outside the top `k` of its last axis set to Keras's NEG_INF. */
function filterTopK(p: tf.Tensor, k: number): tf.Tensor {
  const classes = p.shape[p.rank - 1]!;
  const { indices } = tf.topk(p, Math.min(k, classes));
  const inTop = tf.cast(tf.sum(oneHot(indices, classes), -2), 'bool');
  return tf.where(inTop, p, tf.fill(p.shape, NEG_INF));
}

/** Entries `classId` of the last axis, keeping a last axis of size 1 (Keras's `y[..., class_id, None]`). */
function sliceClass(t: tf.Tensor, classId: number, who: string): tf.Tensor {
  const classes = t.shape[t.rank - 1]!;
  if (t.rank < 2 || classId >= classes) fail(who, `classId ${classId} needs yPred with a last axis of more than ${classId} classes; received shape [${t.shape}].`);
  return tf.slice(t, [...t.shape.slice(0, -1).map(() => 0), classId], [...t.shape.slice(0, -1), 1]);
}

export interface PrecisionRecallArgs {
  /** One threshold in [0, 1] (default 0.5; with topK, every top-k prediction counts as positive). */
  thresholds?: number;
  /** Count only the top k predictions of the last axis as positive. */
  topK?: number;
  /** Only this class (an index of the last axis). */
  classId?: number;
  name?: string;
}

const PR_KEYS = ['thresholds', 'topK', 'classId', 'name'] as const;

/** Shared by Precision and Recall: true positives and one other count, at one threshold. */
abstract class ThresholdMetric implements Metric {
  readonly name: string;
  readonly thresholds: number;
  readonly topK: number | null;
  readonly classId: number | null;
  protected tp = 0;
  protected other = 0;

  constructor(args: PrecisionRecallArgs | undefined, who: string, defaultName: string) {
    args ??= {}; // null means no options, as checkKeys reads it
    const a = checkKeys(args, PR_KEYS, who);
    this.topK = checkInt(who, 'topK', a['topK'], 1);
    this.classId = checkInt(who, 'classId', a['classId'], 0);
    const th = a['thresholds'];
    if (Array.isArray(th)) fail(who, `thresholds must be one number here (Masque's logs hold one value per metric); for several thresholds make one ${who} per threshold, each with its own name.`);
    if (th !== undefined && (typeof th !== 'number' || !(th >= 0 && th <= 1))) fail(who, `thresholds must be a number in [0, 1]; received ${describe(th)}.`);
    this.thresholds = (th as number | undefined) ?? (this.topK === null ? 0.5 : NEG_INF);
    this.name = checkName(who, a['name'], defaultName);
  }

  /** Adds the batch's weighted counts: `positive` says whether an entry with label `label` predicted `above` counts for the second count. */
  protected count(yTrue: tf.Tensor, yPred: tf.Tensor, options: MetricUpdateOptions, second: (label: boolean, above: boolean) => boolean): void {
    const e = metricEntries(yTrue, yPred, options, this.name, (t, p) => {
      let [t2, p2] = [t, p];
      if (this.topK !== null) p2 = filterTopK(p2, this.topK);
      if (this.classId !== null) [t2, p2] = [sliceClass(t2, this.classId, this.name), sliceClass(p2, this.classId, this.name)];
      return [t2, p2];
    });
    const threshold = Math.fround(this.thresholds);
    for (let i = 0; i < e.preds.length; i++) {
      const w = e.weights === null ? 1 : e.weights[i]!;
      if (w === 0) continue;
      const label = e.labels[i] !== 0;
      const above = e.preds[i]! > threshold;
      if (label && above) this.tp += w;
      if (second(label, above)) this.other += w;
    }
  }

  abstract updateState(yTrue: tf.Tensor, yPred: tf.Tensor, options?: MetricUpdateOptions): void;

  result(): number {
    return divNoNan(this.tp, this.tp + this.other);
  }

  resetState(): void {
    this.tp = 0;
    this.other = 0;
  }

  saveState(): unknown {
    return [this.tp, this.other];
  }

  restoreState(state: unknown): void {
    [this.tp, this.other] = state as [number, number];
  }
}

/** Precision = TP / (TP + FP) of the predictions above `thresholds` (Keras's Precision). */
export class Precision extends ThresholdMetric {
  constructor(args: PrecisionRecallArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'Precision', 'precision');
  }
  updateState(yTrue: tf.Tensor, yPred: tf.Tensor, options: MetricUpdateOptions = {}): void {
    this.count(yTrue, yPred, options, (label, above) => !label && above);
  }
}

/** Recall = TP / (TP + FN) of the predictions above `thresholds` (Keras's Recall). */
export class Recall extends ThresholdMetric {
  constructor(args: PrecisionRecallArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'Recall', 'recall');
  }
  updateState(yTrue: tf.Tensor, yPred: tf.Tensor, options: MetricUpdateOptions = {}): void {
    this.count(yTrue, yPred, options, (label, above) => label && !above);
  }
}

export interface AUCArgs {
  /** Thresholds used to discretise the curve (default 200). */
  numThresholds?: number;
  /** 'ROC' (default) or 'PR'. */
  curve?: 'ROC' | 'PR';
  /** 'interpolation' (default), 'minoring' or 'majoring'. */
  summationMethod?: 'interpolation' | 'minoring' | 'majoring';
  /** Explicit thresholds in [0, 1] (numThresholds is then their count + 2). */
  thresholds?: number[];
  /** One curve per label of the last axis, averaged (default false: all entries in one curve). */
  multiLabel?: boolean;
  /** Accepted for Keras compatibility (the labels are counted from the data). */
  numLabels?: number | null;
  /** Apply a sigmoid to yPred first (default false). */
  fromLogits?: boolean;
  name?: string;
}

const AUC_KEYS = ['numThresholds', 'curve', 'summationMethod', 'thresholds', 'multiLabel', 'numLabels', 'fromLogits', 'name'] as const;

/**
 * Area under the ROC or PR curve, approximated over thresholds exactly as
 * Keras's AUC does (evenly spaced thresholds are bucketed as
 * `ceil(p·(n-1)) - 1`, explicit ones compared with `p > t`).
 */
export class AUC implements Metric {
  readonly name: string;
  readonly numThresholds: number;
  readonly curve: 'ROC' | 'PR';
  readonly summationMethod: 'interpolation' | 'minoring' | 'majoring';
  readonly multiLabel: boolean;
  readonly fromLogits: boolean;
  /** The thresholds, with Keras's -ε and 1+ε ends. */
  readonly thresholds: number[];
  private readonly evenly: boolean;
  /** Counts [threshold][label] (one label unless multiLabel), created on the first batch. */
  private tp: Float64Array | null = null;
  private fp: Float64Array | null = null;
  private tn: Float64Array | null = null;
  private fn: Float64Array | null = null;
  private labels = 0;

  constructor(args: AUCArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    const who = 'AUC';
    const a = checkKeys(args, AUC_KEYS, who);
    const curve = a['curve'] ?? 'ROC';
    if (curve !== 'ROC' && curve !== 'PR') fail(who, `curve must be 'ROC' or 'PR'; received ${describe(curve)}.`);
    const method = a['summationMethod'] ?? 'interpolation';
    if (!['interpolation', 'minoring', 'majoring'].includes(method as string)) fail(who, `summationMethod must be 'interpolation', 'minoring' or 'majoring'; received ${describe(method)}.`);
    for (const key of ['multiLabel', 'fromLogits'] as const) if (a[key] !== undefined && typeof a[key] !== 'boolean') fail(who, `${key} must be true or false; received ${describe(a[key])}.`);
    checkInt(who, 'numLabels', a['numLabels'], 1);
    const given = a['thresholds'];
    let inner: number[];
    if (given !== undefined && given !== null) {
      if (!Array.isArray(given) || given.some((t) => typeof t !== 'number' || !(t >= 0 && t <= 1))) fail(who, `thresholds must be a list of numbers in [0, 1]; received ${describe(given)}.`);
      inner = [...(given as number[])].sort((x, y) => x - y);
      const all = [0, ...inner, 1];
      // Keras: np.allclose(thresholds, arange(n)/(n-1), atol=epsilon).
      this.evenly = all.length >= 3 && all.every((t, i) => Math.abs(t - i / (all.length - 1)) <= EPSILON + 1e-5 * Math.abs(i / (all.length - 1)));
      this.numThresholds = inner.length + 2;
    } else {
      const n = checkInt(who, 'numThresholds', a['numThresholds'], 2) ?? 200;
      inner = Array.from({ length: n - 2 }, (_, i) => (i + 1) / (n - 1));
      this.evenly = true;
      this.numThresholds = n;
    }
    this.thresholds = [0 - EPSILON, ...inner, 1 + EPSILON];
    this.curve = curve as 'ROC' | 'PR';
    this.summationMethod = method as AUC['summationMethod'];
    this.multiLabel = (a['multiLabel'] as boolean | undefined) ?? false;
    this.fromLogits = (a['fromLogits'] as boolean | undefined) ?? false;
    this.name = checkName(who, a['name'], 'auc');
  }

  updateState(yTrue: tf.Tensor, yPred: tf.Tensor, options: MetricUpdateOptions = {}): void {
    const e = metricEntries(yTrue, yPred, options, this.name, this.fromLogits ? (t, p) => [t, tf.sigmoid(p)] : undefined);
    const labels = this.multiLabel ? (e.shape.length >= 2 ? e.shape[e.shape.length - 1]! : 1) : 1;
    if (this.tp === null) {
      const size = this.numThresholds * labels;
      [this.tp, this.fp, this.tn, this.fn] = [0, 0, 0, 0].map(() => new Float64Array(size)) as [Float64Array, Float64Array, Float64Array, Float64Array];
      this.labels = labels;
    } else if (labels !== this.labels) {
      fail(this.name, `with multiLabel, every batch must have ${this.labels} labels on its last axis; received ${labels}.`);
    }
    if (this.evenly) this.countBuckets(e);
    else this.countThresholds(e);
  }

  /** Keras's optimised update for evenly spaced thresholds: bucket ceil(p·(n-1)) - 1 (at least 0), then reverse cumulative sums. */
  private countBuckets(e: MetricEntries): void {
    const n = this.numThresholds;
    const L = this.labels;
    const tpB = new Float64Array(n * L);
    const fpB = new Float64Array(n * L);
    const totalTrue = new Float64Array(L);
    const totalFalse = new Float64Array(L);
    for (let i = 0; i < e.preds.length; i++) {
      const w = e.weights === null ? 1 : e.weights[i]!;
      if (w === 0) continue;
      const l = L === 1 ? 0 : i % L;
      const p = Math.min(1, Math.max(0, e.preds[i]!));
      const bucket = Math.max(0, Math.ceil(Math.fround(p * (n - 1))) - 1);
      if (e.labels[i] !== 0) {
        tpB[bucket * L + l]! += w;
        totalTrue[l]! += w;
      } else {
        fpB[bucket * L + l]! += w;
        totalFalse[l]! += w;
      }
    }
    for (let l = 0; l < L; l++) {
      let tp = 0;
      let fp = 0;
      for (let k = n - 1; k >= 0; k--) {
        tp += tpB[k * L + l]!;
        fp += fpB[k * L + l]!;
        this.tp![k * L + l]! += tp;
        this.fp![k * L + l]! += fp;
        this.fn![k * L + l]! += totalTrue[l]! - tp;
        this.tn![k * L + l]! += totalFalse[l]! - fp;
      }
    }
  }

  /** Explicit thresholds: compare every entry with every threshold (float32, as Keras). */
  private countThresholds(e: MetricEntries): void {
    const L = this.labels;
    const th = this.thresholds.map(Math.fround);
    for (let i = 0; i < e.preds.length; i++) {
      const w = e.weights === null ? 1 : e.weights[i]!;
      if (w === 0) continue;
      const l = L === 1 ? 0 : i % L;
      const p = e.preds[i]!;
      const label = e.labels[i] !== 0;
      th.forEach((t, k) => {
        const above = p > t;
        const at = k * L + l;
        if (label) (above ? this.tp! : this.fn!)[at]! += w;
        else (above ? this.fp! : this.tn!)[at]! += w;
      });
    }
  }

  result(): number {
    if (this.tp === null) return 0;
    const L = this.labels;
    const perLabel = Array.from({ length: L }, (_, l) => this.labelArea(l));
    return perLabel.reduce((a, b) => a + b, 0) / L;
  }

  private labelArea(l: number): number {
    const n = this.numThresholds;
    const L = this.labels;
    const at = (arr: Float64Array, k: number) => arr[k * L + l]!;
    if (this.curve === 'PR' && this.summationMethod === 'interpolation') {
      // Keras's interpolate_pr_auc (Davis & Goadrich 2006, closed form).
      let area = 0;
      for (let k = 0; k < n - 1; k++) {
        const dtp = at(this.tp!, k) - at(this.tp!, k + 1);
        const pA = at(this.tp!, k) + at(this.fp!, k);
        const pB = at(this.tp!, k + 1) + at(this.fp!, k + 1);
        const dp = pA - pB;
        const slope = divNoNan(dtp, Math.max(dp, 0));
        const intercept = at(this.tp!, k + 1) - slope * pB;
        const ratio = pA > 0 && pB > 0 ? divNoNan(pA, Math.max(pB, 0)) : 1;
        area += divNoNan(slope * (dtp + intercept * Math.log(ratio)), Math.max(at(this.tp!, k + 1) + at(this.fn!, k + 1), 0));
      }
      return area;
    }
    const recall = (k: number) => divNoNan(at(this.tp!, k), at(this.tp!, k) + at(this.fn!, k));
    const x = (k: number) => (this.curve === 'ROC' ? divNoNan(at(this.fp!, k), at(this.fp!, k) + at(this.tn!, k)) : recall(k));
    const y = (k: number) => (this.curve === 'ROC' ? recall(k) : divNoNan(at(this.tp!, k), at(this.tp!, k) + at(this.fp!, k)));
    let area = 0;
    for (let k = 0; k < n - 1; k++) {
      const height = this.summationMethod === 'interpolation' ? (y(k) + y(k + 1)) / 2 : this.summationMethod === 'minoring' ? Math.min(y(k), y(k + 1)) : Math.max(y(k), y(k + 1));
      area += (x(k) - x(k + 1)) * height;
    }
    return area;
  }

  resetState(): void {
    this.tp = this.fp = this.tn = this.fn = null;
    this.labels = 0;
  }

  saveState(): unknown {
    return { counts: [this.tp, this.fp, this.tn, this.fn].map((a) => (a === null ? null : a.slice())), labels: this.labels };
  }

  restoreState(state: unknown): void {
    const s = state as { counts: (Float64Array | null)[]; labels: number };
    [this.tp, this.fp, this.tn, this.fn] = s.counts.map((a) => (a === null ? null : a.slice())) as [Float64Array | null, Float64Array | null, Float64Array | null, Float64Array | null];
    this.labels = s.labels;
  }
}
