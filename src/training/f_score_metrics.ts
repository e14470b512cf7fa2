/**
 * Keras's F-scores (keras/src/metrics/f_score_metrics.py): `FBetaScore` and
 * `F1Score` over the classes of the last axis, with Keras's numbers.
 *
 * Departures, both because a Masque log holds one number per metric:
 * - `average: null` (Keras's default) keeps one score per class: `result()`
 *   is their mean (what Keras's progress bar prints for it; Keras's History
 *   stores the vector), and `resultPerClass()` gives the vector.
 * - Keras takes rank-2 inputs only; Masque flattens the leading axes, so a
 *   per-step output [B, T, C] is scored over its steps. Masks weigh the
 *   entries (Keras's F-scores ignore `_keras_mask`): masked steps count
 *   nowhere, as in Keras with the mask passed as the sample weight.
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { checkKeys } from '../option_keys.js';
import { metricEntries } from './metric_inputs.js';
import type { Metric, MetricUpdateOptions } from './metrics.js';

const EPSILON = 1e-7;

export type FScoreAverage = 'micro' | 'macro' | 'weighted' | null;

export interface FBetaScoreArgs {
  /** null (Keras's default: one score per class, logged as their mean), 'micro', 'macro' or 'weighted'. */
  average?: FScoreAverage;
  /** > 0 (default 1). */
  beta?: number;
  /** In (0, 1]; default null: each row's largest prediction counts as its positive class. */
  threshold?: number | null;
  name?: string;
}

const KEYS = ['average', 'beta', 'threshold', 'name'] as const;

export class FBetaScore implements Metric {
  readonly name: string;
  readonly average: FScoreAverage;
  readonly beta: number;
  readonly threshold: number | null;
  /** tp, fp, fn and the label totals, one per class ('micro': one for all), once the class count is known. */
  private counts: { tp: Float64Array; fp: Float64Array; fn: Float64Array; support: Float64Array } | null = null;
  private classes = 0;

  constructor(args: FBetaScoreArgs = {}, who = 'FBetaScore', defaultName = 'fbeta_score', keys: readonly string[] = KEYS) {
    args ??= {}; // null means no options, as checkKeys reads it
    const a = checkKeys(args, keys, who);
    const fail = (m: string): never => {
      throw new MasqueError('INVALID_ARGUMENT', `${who}: ${m}`);
    };
    const average = a['average'] === undefined ? null : a['average'];
    if (![null, 'micro', 'macro', 'weighted'].includes(average as string | null)) fail(`average must be null, 'micro', 'macro' or 'weighted'; received ${describe(average)}.`);
    const beta = a['beta'] ?? 1;
    if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= 0) fail(`beta must be a number > 0; received ${describe(beta)}.`);
    const threshold = a['threshold'] ?? null;
    if (threshold !== null && (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))) fail(`threshold must be null or a number in (0, 1]; received ${describe(threshold)}.`);
    const name = a['name'] ?? defaultName;
    if (typeof name !== 'string' || name === '') fail(`name must be a non-empty string; received ${describe(name)}.`);
    this.average = average as FScoreAverage;
    this.beta = beta as number;
    this.threshold = threshold as number | null;
    this.name = name as string;
  }

  updateState(yTrue: tf.Tensor, yPred: tf.Tensor, options: MetricUpdateOptions = {}): void {
    const e = metricEntries(yTrue, yPred, options, this.name);
    if (e.shape.length < 2) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.name}: expects yPred with a class axis ([batch, classes] or [batch, steps, classes]); received shape [${e.shape}].`);
    }
    const C = e.shape[e.shape.length - 1]!;
    if (this.counts === null) {
      const size = this.average === 'micro' ? 1 : C;
      this.counts = { tp: new Float64Array(size), fp: new Float64Array(size), fn: new Float64Array(size), support: new Float64Array(size) };
      this.classes = C;
    } else if (C !== this.classes) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.name}: every batch must have ${this.classes} classes; received ${C}.`);
    }
    const { tp, fp, fn, support } = this.counts;
    const rows = e.preds.length / C;
    const threshold = this.threshold === null ? null : Math.fround(this.threshold);
    for (let r = 0; r < rows; r++) {
      const w = e.weights === null ? 1 : e.weights[r * C]!;
      if (w === 0) continue;
      let max = -Infinity;
      if (threshold === null) for (let c = 0; c < C; c++) max = Math.max(max, e.preds[r * C + c]!);
      for (let c = 0; c < C; c++) {
        const p = e.preds[r * C + c]!;
        const predicted = threshold === null ? p >= max && Math.abs(p) > 1e-9 : p > threshold;
        const label = e.labels[r * C + c]!;
        const k = this.average === 'micro' ? 0 : c;
        const pv = predicted ? 1 : 0;
        tp[k]! += w * pv * label;
        fp[k]! += w * pv * (1 - label);
        fn[k]! += w * (1 - pv) * label;
        support[k]! += w * label;
      }
    }
  }

  /** The score of each class (one value with 'micro'), as Keras's result() with average null. */
  resultPerClass(): number[] {
    if (this.counts === null) return [];
    const { tp, fp, fn } = this.counts;
    const b2 = this.beta * this.beta;
    return Array.from(tp, (t, k) => {
      const precision = t / (t + fp[k]! + EPSILON);
      const recall = t / (t + fn[k]! + EPSILON);
      return ((precision * recall) / (b2 * precision + recall + EPSILON)) * (1 + b2);
    });
  }

  result(): number {
    const f = this.resultPerClass();
    if (f.length === 0) return 0;
    if (this.average === 'weighted') {
      const support = this.counts!.support;
      const total = support.reduce((a, b) => a + b, 0) + EPSILON;
      return f.reduce((a, v, k) => a + v * (support[k]! / total), 0);
    }
    return f.reduce((a, b) => a + b, 0) / f.length;
  }

  resetState(): void {
    this.counts = null;
    this.classes = 0;
  }

  saveState(): unknown {
    const c = this.counts;
    return { counts: c === null ? null : { tp: c.tp.slice(), fp: c.fp.slice(), fn: c.fn.slice(), support: c.support.slice() }, classes: this.classes };
  }

  restoreState(state: unknown): void {
    const s = state as { counts: FBetaScore['counts']; classes: number };
    const c = s.counts;
    this.counts = c === null ? null : { tp: c.tp.slice(), fp: c.fp.slice(), fn: c.fn.slice(), support: c.support.slice() };
    this.classes = s.classes;
  }
}

export interface F1ScoreArgs {
  average?: FScoreAverage;
  threshold?: number | null;
  name?: string;
}

/** FBetaScore with beta 1 (Keras's F1Score; name 'f1_score'). */
export class F1Score extends FBetaScore {
  constructor(args: F1ScoreArgs = {}) {
    super({ ...checkKeys(args, ['average', 'threshold', 'name'], 'F1Score'), beta: 1 }, 'F1Score', 'f1_score');
  }
}
