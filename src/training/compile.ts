/**
 * `compile`'s half of training: `CompileArgs` resolved, once, into a
 * `Compiled` spec (the optimizer, one loss, loss weight and list of metrics
 * per output, and the loss trackers), and the log names Keras 3 gives them.
 * The output names are passed in; nothing here knows about models.
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { getLoss, type LossConfig, type LossFunction, type LossObject } from './losses.js';
import { Mean, type Metric } from './metrics.js';
import { getMetric } from './metric_registry.js';
import { Optimizer } from './optimizers.js';
import { getOptimizer, type OptimizerSpec } from './optimizer_registry.js';
import type { Logs } from './callbacks.js';
import { checkKeys } from '../option_keys.js';

export type LossSpec = string | LossConfig | LossObject | LossFunction | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor);

type MetricEntry = string | Metric;
export type MetricsSpec = (MetricEntry | MetricEntry[])[] | Record<string, MetricEntry | MetricEntry[]>;

export interface CompileArgs {
  /** 'adam', 'adamw', 'sgd', 'rmsprop', an Optimizer, or `{ className, config }` (default 'rmsprop', as Keras). */
  optimizer?: string | Optimizer | OptimizerSpec;
  /**
   * One loss for every output, one per output (a list), or an object keyed
   * by output layer name, as Keras's compile takes them. A loss is a Keras
   * name ('sparse_categorical_crossentropy', 'huber', ...), a loss object
   * (`new SparseCategoricalCrossentropy({ fromLogits: true })`; its
   * reduction applies), `{ name, fromLogits, labelSmoothing }`, or a
   * function (yTrue, yPred) => per-element losses.
   */
  loss: LossSpec | LossSpec[] | Record<string, LossSpec>;
  /**
   * Metrics ('accuracy', 'binary_accuracy', 'mse', ... or Metric objects),
   * computed without sample weights, as in Keras. One model output: a list.
   * Several outputs: one entry per output (a metric or a list of them), or
   * an object keyed by output layer name.
   */
  metrics?: MetricsSpec;
  /** Metrics that also apply the sample weights (Keras's `weighted_metrics`); same forms as `metrics`. */
  weightedMetrics?: MetricsSpec;
  /** Weights of the per-output losses in the total: one per output, an object keyed by output name (missing names weigh 1), or one number for a single output. Default 1 each. */
  lossWeights?: number[] | Record<string, number> | number;
}

const COMPILE_KEYS = ['optimizer', 'loss', 'metrics', 'weightedMetrics', 'lossWeights'] as const;

/** A compiled training spec; `k` indexes the model's outputs everywhere. */
export interface Compiled {
  optimizer: Optimizer;
  /** Whether the optimizer was made here (from a name or spec); its owner disposes it with the model or on recompile. */
  ownsOptimizer: boolean;
  outputNames: string[];
  losses: LossFunction[];
  lossWeights: number[];
  /** metrics[k] are the metrics of output k; `weighted` ones get the sample weights. */
  metrics: { metric: Metric; weighted: boolean }[][];
  lossTracker: Mean;
  /** Per-output loss trackers (`<output>_loss`), only with several outputs. */
  outputLossTrackers: Mean[];
}

/**
 * Resolves `args` for a model whose outputs are named `outputNames` (one
 * name per output; an unbuilt Sequential passes one placeholder name).
 * `where` starts error messages ("compile (model 'm')").
 */
export function compileSpec(args: CompileArgs, outputNames: string[], where: string): Compiled {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: pass { optimizer, loss, metrics }; received ${describe(args)}.`);
  }
  checkKeys(args, COMPILE_KEYS, where);
  if (args.loss === undefined) throw new MasqueError('INVALID_ARGUMENT', `${where}: pass { optimizer, loss, metrics }; the loss is missing.`);
  const lossList = lossesPerOutput(args.loss, outputNames, where);
  const lossWeights = lossWeightsPerOutput(args.lossWeights, outputNames, where);
  const losses = lossList.map((l) => getLoss(l as string));
  const plain = metricsPerOutput(args.metrics, outputNames, losses, `${where}: metrics`);
  const weighted = metricsPerOutput(args.weightedMetrics, outputNames, losses, `${where}: weightedMetrics`);
  const metrics = plain.map((ms, k) => [...ms.map((metric) => ({ metric, weighted: false })), ...weighted[k]!.map((metric) => ({ metric, weighted: true }))]);
  const optimizer = getOptimizer(args.optimizer ?? 'rmsprop');
  return {
    optimizer,
    ownsOptimizer: !(args.optimizer instanceof Optimizer),
    outputNames,
    losses,
    lossWeights,
    metrics,
    lossTracker: new Mean('loss'),
    outputLossTrackers: outputNames.length > 1 ? outputNames.map((name) => new Mean(`${name}_loss`)) : [],
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** One loss spec per output: one for all, a list, or an object keyed by output name (every output needs one, as in Keras). */
function lossesPerOutput(spec: CompileArgs['loss'], names: string[], where: string): LossSpec[] {
  const n = names.length;
  if (Array.isArray(spec)) {
    if (spec.length !== n) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: the model has ${n} outputs, so loss must be one loss, a list of ${n}, or an object keyed by output name (${names.join(', ')}); received a list of ${spec.length}.`);
    }
    return spec;
  }
  if (isPlainObject(spec)) {
    const keys = Object.keys(spec);
    const byOutput = keys.length > 0 && keys.every((k) => names.includes(k));
    if (!byOutput) {
      if (typeof spec['name'] === 'string') return new Array<LossSpec>(n).fill(spec as unknown as LossSpec);
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `${where}: loss: an object must be a loss config { name, fromLogits, labelSmoothing } or losses keyed by output name (${names.join(', ')}); received keys ${keys.join(', ') || 'none'}.`,
      );
    }
    const missing = names.filter((k) => spec[k] === undefined || spec[k] === null);
    if (missing.length > 0) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: loss: every output needs a loss; the object has none for ${missing.join(', ')} (the outputs are ${names.join(', ')}).`);
    }
    return names.map((k) => spec[k] as LossSpec);
  }
  return new Array<LossSpec>(n).fill(spec as LossSpec);
}

/** One weight per output from a list, an object keyed by output name (missing ones weigh 1) or a number (one output). */
function lossWeightsPerOutput(spec: CompileArgs['lossWeights'], names: string[], where: string): number[] {
  const n = names.length;
  const bad = (w: unknown) => typeof w !== 'number' || !Number.isFinite(w);
  if (spec === undefined) return new Array<number>(n).fill(1);
  if (typeof spec === 'number' && n === 1 && !bad(spec)) return [spec];
  if (Array.isArray(spec) && spec.length === n && !spec.some(bad)) return [...spec];
  if (isPlainObject(spec)) {
    const unknown = Object.keys(spec).filter((k) => !names.includes(k));
    if (unknown.length > 0) throw new MasqueError('INVALID_ARGUMENT', `${where}: lossWeights: unknown output names ${unknown.join(', ')}; the outputs are ${names.join(', ')}.`);
    const weights = names.map((k) => (spec[k] === undefined ? 1 : spec[k]));
    const i = weights.findIndex(bad);
    if (i < 0) return weights as number[];
    throw new MasqueError('INVALID_ARGUMENT', `${where}: lossWeights: the weight of output '${names[i]}' must be a finite number; received ${describe(weights[i])}.`);
  }
  throw new MasqueError('INVALID_ARGUMENT', `${where}: lossWeights must be ${n} finite numbers (a list, or an object keyed by output name${n === 1 ? ', or one number' : ''}); received ${describe(spec)}.`);
}

/** Resolves a metrics spec to one list per output, as Keras's compile does. */
function metricsPerOutput(spec: MetricsSpec | undefined, names: string[], losses: LossFunction[], where: string): Metric[][] {
  const resolve = (m: unknown, k: number): Metric => {
    if (typeof m === 'string') return getMetric(m, losses[k]!.lossName);
    if (m !== null && typeof m === 'object' && typeof (m as Metric).updateState === 'function') return m as Metric;
    throw new MasqueError('INVALID_ARGUMENT', `${where}: each metric must be a name or a Metric object; received ${describe(m)}.`);
  };
  const list = (entry: unknown, k: number): Metric[] => (Array.isArray(entry) ? entry : [entry]).map((m) => resolve(m, k));
  if (spec === undefined || spec === null) return names.map(() => []);
  if (!Array.isArray(spec)) {
    if (typeof spec !== 'object') throw new MasqueError('INVALID_ARGUMENT', `${where}: expected a list or an object keyed by output name; received ${describe(spec)}.`);
    const unknown = Object.keys(spec).filter((n) => !names.includes(n));
    if (unknown.length > 0) throw new MasqueError('INVALID_ARGUMENT', `${where}: unknown output names ${unknown.join(', ')}; the outputs are ${names.join(', ')}.`);
    return names.map((n, k) => (Object.hasOwn(spec, n) && spec[n] !== undefined ? list(spec[n], k) : []));
  }
  if (names.length === 1) return [spec.flatMap((e) => list(e, 0))];
  if (spec.length !== names.length) {
    throw new MasqueError(
      'INVALID_ARGUMENT',
      `${where}: the model has ${names.length} outputs, so give one entry per output (a metric or a list of metrics), or an object keyed by output name; received a list of ${spec.length}.`,
    );
  }
  return spec.map((e, k) => list(e, k));
}

/**
 * The log names in log order: loss, the per-output losses, then each
 * output's metrics (prefixed with the output's name when there are several).
 * As Keras's CompileMetrics.result: all plain metrics, then all weighted
 * ones; a repeated name gets `_1`, `_2`, and a weighted metric whose name is
 * taken becomes `weighted_<name>`.
 */
export function logEntries(c: Compiled): [string, { result(): number }][] {
  const entries: [string, { result(): number }][] = [['loss', c.lossTracker], ...c.outputLossTrackers.map((t) => [t.name, t] as [string, Mean])];
  const prefix = (k: number) => (c.metrics.length > 1 ? `${c.outputNames[k]}_` : '');
  const counts = new Map<string, number>();
  for (const weighted of [false, true]) {
    c.metrics.forEach((ms, k) => {
      for (const m of ms) {
        if (m.weighted !== weighted) continue;
        let name = `${prefix(k)}${m.metric.name}`;
        if (counts.has(name) && weighted) name = `${prefix(k)}weighted_${m.metric.name}`;
        const n = counts.get(name);
        counts.set(name, (n ?? 0) + 1);
        if (n !== undefined) name = `${name}_${n}`;
        entries.push([name, m.metric]);
      }
    });
  }
  return entries;
}

/** The current value of every tracker and metric, by log name. */
export function currentLogs(c: Compiled): Logs {
  const out: Logs = {};
  for (const [name, m] of logEntries(c)) Object.defineProperty(out, name, { value: m.result(), enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Saves the state of every tracker and metric that can save it (every
 * Masque metric can); the returned function puts it back. Lets an evaluate
 * called from fit's callbacks leave fit's running metrics as they were.
 */
export function saveMetricStates(c: Compiled): () => void {
  const all: { saveState?(): unknown; restoreState?(s: unknown): void }[] = [c.lossTracker, ...c.outputLossTrackers, ...c.metrics.flatMap((ms) => ms.map((m) => m.metric))];
  const saved = all.map((m) => (typeof m.saveState === 'function' && typeof m.restoreState === 'function' ? { m, state: m.saveState() } : null));
  return () => {
    for (const s of saved) if (s !== null) s.m.restoreState!(s.state);
  };
}

/** Resets every tracker and metric (at the start of each epoch and evaluation). */
export function resetMetrics(c: Compiled): void {
  c.lossTracker.resetState();
  for (const t of c.outputLossTrackers) t.resetState();
  for (const ms of c.metrics) for (const { metric } of ms) metric.resetState();
}
