/**
 * Optimizers, losses and metrics as Keras 3.15.1 serializes them in a
 * `compile_config` (`serialize_keras_object`: `{module, class_name, config,
 * registered_name}` with snake_case keys in Keras's order), and back. Used
 * by keras_compile.ts. Writing something Keras cannot rebuild throws
 * `Unwritable` (the caller saves without compile settings); reading
 * something Masque does not have throws UNSUPPORTED_CONFIG naming it.
 */
import { MasqueError, describe } from '../errors.js';
import { PyFloat } from './keras_archive.js';
import { toSnakeCase } from '../names.js';
import { normalizeName } from '../option_keys.js';
import type { LossSpec, MetricsSpec } from '../training/compile.js';
import { getLoss } from '../training/losses.js';
import { getMetric } from '../training/metric_registry.js';
import { Accuracy, type Metric } from '../training/metrics.js';
import { BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy } from '../training/accuracy_metrics.js';
import { Precision, Recall } from '../training/confusion_metrics.js';
import { Adam, AdamW, Optimizer, RMSprop, SGD } from '../training/optimizers.js';
import { Adagrad } from '../training/adagrad.js';
import { Nadam } from '../training/nadam.js';
import type { OptimizerSpec } from '../training/optimizer_registry.js';
import {
  BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy, CategoricalHinge, Circle, Dice, Tversky, CosineSimilarity, CTC, Hinge, Huber, KLDivergence, LogCosh, Loss, MeanAbsoluteError, MeanAbsolutePercentageError,
  MeanSquaredError, MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy, SquaredHinge,
} from '../training/loss_classes.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A part of the compile settings that Keras cannot rebuild (the message says which). */
export class Unwritable extends Error {}

// ---------------------------------------------------------------- optimizers

/** Keras's config keys after the base ones, in Keras's order, with Masque's option names. */
const OPTIMIZER_KEYS: [new (...a: never[]) => Optimizer, string, [string, string][]][] = [
  [SGD, 'SGD', [['momentum', 'momentum'], ['nesterov', 'nesterov']]],
  [Adam, 'Adam', [['beta_1', 'beta1'], ['beta_2', 'beta2'], ['epsilon', 'epsilon'], ['amsgrad', 'amsgrad']]],
  [AdamW, 'AdamW', [['beta_1', 'beta1'], ['beta_2', 'beta2'], ['epsilon', 'epsilon'], ['amsgrad', 'amsgrad']]],
  [RMSprop, 'RMSprop', [['rho', 'rho'], ['momentum', 'momentum'], ['epsilon', 'epsilon'], ['centered', 'centered']]],
  [Adagrad, 'Adagrad', [['initial_accumulator_value', 'initialAccumulatorValue'], ['epsilon', 'epsilon']]],
  [Nadam, 'Nadam', [['beta_1', 'beta1'], ['beta_2', 'beta2'], ['epsilon', 'epsilon']]],
];
const BASE_KEYS: [string, string][] = [['weight_decay', 'weightDecay'], ['clipnorm', 'clipnorm'], ['global_clipnorm', 'globalClipnorm'], ['clipvalue', 'clipvalue']];
/** Keras options Masque does not have, with the values that mean "off". */
const KERAS_ONLY_OPTIMIZER: Obj = { use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null, gradient_accumulation_steps: null };

export function optimizerToKeras(opt: Optimizer): Obj {
  const entry = OPTIMIZER_KEYS.find(([cls]) => Object.getPrototypeOf(opt) === cls.prototype);
  if (entry === undefined) throw new Unwritable(`the optimizer '${opt.name}' (${opt.constructor.name}) is not one of Keras's built-in optimizers`);
  const args = opt.getConfig() as unknown as Obj;
  if (typeof args['learningRate'] === 'function') throw new Unwritable(`optimizer '${opt.name}' has a learning-rate schedule (a function), which Keras cannot rebuild`);
  // Numbers go as Python floats: Keras refuses an int learning rate or SGD momentum (json reads 0 as an int).
  const float = (v: unknown): unknown => (typeof v === 'number' ? new PyFloat(v) : v);
  const config: Obj = { name: opt.name, learning_rate: float(Math.fround(opt.learningRate)) };
  for (const [k, m] of BASE_KEYS) config[k] = float(args[m] ?? null);
  Object.assign(config, KERAS_ONLY_OPTIMIZER, { ema_momentum: float(KERAS_ONLY_OPTIMIZER['ema_momentum']) });
  for (const [k, m] of entry[2]) config[k] = float(args[m]);
  return { module: 'keras.optimizers', class_name: entry[1], config, registered_name: null };
}

/** Keras's serialized optimizer as Masque's `{ className, config }` (compile makes the optimizer, and owns it). */
export function optimizerFromKeras(spec: unknown, where: string): string | OptimizerSpec {
  if (typeof spec === 'string') return spec;
  if (!isObj(spec) || typeof spec['class_name'] !== 'string' || !isObj(spec['config'] ?? {})) {
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: the optimizer must be a name or {class_name, config}; received ${describe(spec)}.`);
  }
  const className = spec['class_name'];
  const entry = OPTIMIZER_KEYS.find(([, name]) => name === className);
  if (entry === undefined || (spec['registered_name'] !== null && spec['registered_name'] !== undefined)) {
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: the optimizer '${className}' is not one Masque has (SGD, Adam, AdamW, RMSprop, Adagrad, Nadam).`);
  }
  const config = (spec['config'] ?? {}) as Obj;
  const args: Obj = {};
  const known = new Map<string, string>([['name', 'name'], ['learning_rate', 'learningRate'], ...BASE_KEYS, ...entry[2]]);
  for (const [k, v] of Object.entries(config)) {
    if (Object.hasOwn(KERAS_ONLY_OPTIMIZER, k)) {
      if (v !== KERAS_ONLY_OPTIMIZER[k] && !(k === 'ema_momentum' && config['use_ema'] !== true)) {
        throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: optimizer '${className}' sets ${k}=${JSON.stringify(v)}, which Masque does not support (it supports ${k}=${JSON.stringify(KERAS_ONLY_OPTIMIZER[k])}).`);
      }
      continue;
    }
    const m = known.get(k);
    if (m === undefined) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: optimizer '${className}' has the option '${k}', which Masque does not know.`);
    if (k === 'learning_rate' && typeof v !== 'number') {
      throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: optimizer '${className}' has a learning-rate schedule (${describe(v)}); Masque reads only a constant learning rate from a file.`);
    }
    if (v !== null) args[m] = v;
  }
  return { className, config: args };
}

// -------------------------------------------------------------------- losses

/** Keras's loss classes that Masque has: class, Keras class name, and Keras's config keys after name and reduction (with their defaults). */
const LOSS_CLASSES: [new (a: never) => Loss, string, [string, string, unknown][]][] = [
  [MeanSquaredError, 'MeanSquaredError', []],
  [MeanAbsoluteError, 'MeanAbsoluteError', []],
  [BinaryCrossentropy, 'BinaryCrossentropy', [['from_logits', 'fromLogits', false], ['label_smoothing', 'labelSmoothing', 0], ['axis', '', -1]]],
  [CategoricalCrossentropy, 'CategoricalCrossentropy', [['from_logits', 'fromLogits', false], ['label_smoothing', 'labelSmoothing', 0], ['axis', '', -1]]],
  [SparseCategoricalCrossentropy, 'SparseCategoricalCrossentropy', [['from_logits', 'fromLogits', false], ['ignore_class', '', null]]],
  // Keras 3.15.1's Huber.get_config leaves delta out; it is written when it is not 1 (Keras's Huber takes it).
  [Huber, 'Huber', [['delta', 'delta', 1]]],
  [LogCosh, 'LogCosh', []],
  [MeanAbsolutePercentageError, 'MeanAbsolutePercentageError', []],
  [MeanSquaredLogarithmicError, 'MeanSquaredLogarithmicError', []],
  // Keras 3.15.1's CosineSimilarity.get_config leaves axis out; it is written when it is not -1 (Keras's constructor takes it).
  [CosineSimilarity, 'CosineSimilarity', [['axis', 'axis', -1]]],
  [Hinge, 'Hinge', []],
  [SquaredHinge, 'SquaredHinge', []],
  [CategoricalHinge, 'CategoricalHinge', []],
  [KLDivergence, 'KLDivergence', []],
  [Poisson, 'Poisson', []],
  [CTC, 'CTC', []],
  [BinaryFocalCrossentropy, 'BinaryFocalCrossentropy', [['apply_class_balancing', 'applyClassBalancing', false], ['alpha', 'alpha', 0.25], ['gamma', 'gamma', 2], ['from_logits', 'fromLogits', false], ['label_smoothing', 'labelSmoothing', 0], ['axis', '', -1]]],
  [CategoricalFocalCrossentropy, 'CategoricalFocalCrossentropy', [['alpha', 'alpha', 0.25], ['gamma', 'gamma', 2], ['from_logits', 'fromLogits', false], ['label_smoothing', 'labelSmoothing', 0], ['axis', '', -1]]],
  [Dice, 'Dice', [['axis', 'axis', null]]],
  [Tversky, 'Tversky', [['alpha', 'alpha', 0.5], ['beta', 'beta', 0.5], ['axis', 'axis', null]]],
  [Circle, 'Circle', [['gamma', 'gamma', 80], ['margin', 'margin', 0.4], ['remove_diagonal', 'removeDiagonal', true]]],
  [CategoricalGeneralizedCrossEntropy, 'CategoricalGeneralizedCrossEntropy', [['q', 'q', 0.5]]],
];
/** Options Keras's get_config leaves out: written only when they are not the default. */
const OMITTED_AT_DEFAULT = new Set(['Huber', 'CosineSimilarity']);
/** Loss names in the configs Masque writes for `{ name, fromLogits, labelSmoothing }`. */
const LOSS_BY_NAME = new Map<string, string>([
  ['binarycrossentropy', 'BinaryCrossentropy'],
  ['categoricalcrossentropy', 'CategoricalCrossentropy'],
  ['sparsecategoricalcrossentropy', 'SparseCategoricalCrossentropy'],
]);

function lossObjectToKeras(className: string, values: Obj): Obj {
  const entry = LOSS_CLASSES.find(([, n]) => n === className)!;
  const config: Obj = { name: values['name'], reduction: values['reduction'] ?? 'sum_over_batch_size' };
  for (const [k, m, d] of entry[2]) {
    const v = m === '' ? d : (values[m] ?? d);
    if (OMITTED_AT_DEFAULT.has(className) && v === d) continue;
    config[k] = v;
  }
  return { module: 'keras.losses', class_name: className, config, registered_name: null };
}

function knownLoss(name: string): unknown {
  try {
    return getLoss(name);
  } catch {
    return undefined;
  }
}

export function lossToKeras(spec: unknown, what: string): unknown {
  if (typeof spec === 'string') {
    const fn = getLoss(spec);
    return /^[a-z0-9_]+$/.test(spec) || LOSS_CLASSES.some(([, n]) => n === spec) ? spec : fn.lossName;
  }
  if (typeof spec === 'function') {
    const name = (spec as { lossName?: unknown }).lossName;
    if (typeof name === 'string' && knownLoss(name) === spec) return name;
    throw new Unwritable(`${what} is a function, which Keras cannot rebuild (use a loss name or a loss class such as new MeanSquaredError())`);
  }
  if (spec instanceof Loss) {
    const entry = LOSS_CLASSES.find(([cls]) => Object.getPrototypeOf(spec) === cls.prototype);
    if (entry === undefined) throw new Unwritable(`${what} is a custom loss object (${spec.constructor.name}), which Keras cannot rebuild`);
    return lossObjectToKeras(entry[1], spec.getConfig());
  }
  if (isObj(spec) && typeof spec['name'] === 'string') {
    const className = LOSS_BY_NAME.get(normalizeName(spec['name']));
    const opts = Object.keys(spec).filter((k) => k !== 'name');
    if (opts.length === 0) return lossToKeras(spec['name'], what);
    if (className === undefined) throw new Unwritable(`${what} ${describe(spec)} has options Keras's '${spec['name']}' does not take`);
    return lossObjectToKeras(className, { ...spec, name: toSnakeCase(className) });
  }
  throw new Unwritable(`${what} ${describe(spec)} is not a loss Keras can rebuild`);
}

export function lossFromKeras(spec: unknown, where: string): LossSpec {
  const unsupported = (why: string) => new MasqueError('UNSUPPORTED_CONFIG', `${where}: ${why}.`);
  if (typeof spec === 'string') {
    try {
      getLoss(spec);
    } catch {
      throw unsupported(`the loss '${spec}' is not one Masque has`);
    }
    return spec;
  }
  if (!isObj(spec) || typeof spec['class_name'] !== 'string') throw unsupported(`the loss ${describe(spec)} is not a name or {class_name, config}`);
  const className = spec['class_name'];
  if (className === 'function' && typeof spec['config'] === 'string') return lossFromKeras(spec['config'], where);
  const entry = LOSS_CLASSES.find(([, n]) => n === className);
  if (entry === undefined || (spec['registered_name'] !== null && spec['registered_name'] !== undefined)) {
    throw unsupported(`the loss '${spec['registered_name'] ?? className}' is not one Masque has`);
  }
  const config = isObj(spec['config']) ? spec['config'] : {};
  const args: Obj = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'name' || k === 'reduction') {
      if (v !== null) args[k] = v;
      continue;
    }
    const key = entry[2].find(([kk]) => kk === k);
    if (key === undefined) throw unsupported(`loss '${className}' has the option '${k}', which Masque does not know`);
    if (key[1] === '') {
      if (v !== key[2]) throw unsupported(`loss '${className}' sets ${k}=${JSON.stringify(v)}, which Masque does not support (only ${JSON.stringify(key[2])})`);
      continue;
    }
    args[key[1]] = v;
  }
  return new entry[0](args as never) as unknown as LossSpec;
}

// ------------------------------------------------------------------- metrics

/** Keras's metric classes that Masque has, with Keras's config keys after name and dtype. */
const METRIC_CLASSES: [new (a: never) => Metric, string, [string, string][]][] = [
  [Precision, 'Precision', [['thresholds', 'thresholds'], ['top_k', 'topK'], ['class_id', 'classId']]],
  [Recall, 'Recall', [['thresholds', 'thresholds'], ['top_k', 'topK'], ['class_id', 'classId']]],
  [BinaryAccuracy, 'BinaryAccuracy', [['threshold', 'threshold']]],
  [CategoricalAccuracy, 'CategoricalAccuracy', []],
  [SparseCategoricalAccuracy, 'SparseCategoricalAccuracy', []],
  [TopKCategoricalAccuracy, 'TopKCategoricalAccuracy', [['k', 'k']]],
  [SparseTopKCategoricalAccuracy, 'SparseTopKCategoricalAccuracy', [['k', 'k']]],
];

function metricNameToKeras(m: unknown, what: string): unknown {
  if (m instanceof Accuracy && (m.name === 'accuracy' || m.name === 'acc')) return m.name;
  const entry = METRIC_CLASSES.find(([cls]) => m !== null && typeof m === 'object' && Object.getPrototypeOf(m) === cls.prototype);
  if (entry !== undefined) {
    const fields = m as unknown as Obj;
    const config: Obj = { name: fields['name'], dtype: 'float32' };
    for (const [k, f] of entry[2]) {
      const v = fields[f];
      // Precision and Recall: Keras writes null for the default threshold (0.5; with topK, Keras's NEG_INF).
      const byDefault = k === 'thresholds' && (typeof v !== 'number' || !Number.isFinite(v) || (fields['topK'] === null ? v === 0.5 : v <= -1e10));
      config[k] = byDefault ? null : (v ?? null);
    }
    return { module: 'keras.metrics', class_name: entry[1], config, registered_name: null };
  }
  if (typeof m !== 'string') throw new Unwritable(`${what} has a Metric object (${m !== null && typeof m === 'object' ? `'${(m as Metric).name}', ${m.constructor.name}` : describe(m)}) that Keras cannot rebuild; give it by name, or use one of ${METRIC_CLASSES.map(([, n]) => n).join(', ')}`);
  return /^[a-z]+[A-Z]/.test(m) ? toSnakeCase(m) : m;
}

export function metricsToKeras(spec: MetricsSpec | undefined, what: string): unknown {
  if (spec === undefined || spec === null) return null;
  const entry = (e: unknown): unknown => (Array.isArray(e) ? e.map((x) => metricNameToKeras(x, what)) : metricNameToKeras(e, what));
  if (Array.isArray(spec)) return spec.map(entry);
  return Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, entry(v)]));
}

function metricFromKeras(m: unknown, where: string): string | Metric {
  if (typeof m === 'string') {
    try {
      getMetric(m);
    } catch {
      throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: the metric '${m}' is not one Masque has.`);
    }
    return m;
  }
  if (isObj(m) && typeof m['class_name'] === 'string' && isObj(m['config'])) {
    const entry = METRIC_CLASSES.find(([, n]) => n === m['class_name']);
    const config = m['config'];
    if (entry !== undefined && (m['registered_name'] ?? null) === null && (config['dtype'] ?? 'float32') === 'float32') {
      const args: Obj = {};
      for (const [k, v] of Object.entries(config)) {
        if (k === 'dtype') continue;
        const key = k === 'name' ? 'name' : entry[2].find(([kk]) => kk === k)?.[1];
        if (key === undefined) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: metric '${entry[1]}' has the option '${k}', which Masque does not know.`);
        if (v !== null) args[key] = v;
      }
      try {
        return new entry[0](args as never);
      } catch (e) {
        throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: metric '${entry[1]}' ${JSON.stringify(config)}: ${(e as Error).message}`, { cause: e });
      }
    }
    // Any other Keras metric object with only its name (and the float32 dtype) is the metric of that name.
    const { name, dtype, ...rest } = config;
    const plain = Object.values(rest).every((v) => v === null) && (dtype === undefined || dtype === 'float32');
    if (typeof name === 'string' && plain && normalizeName(name) === normalizeName(m['class_name'])) return metricFromKeras(name, where);
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: the metric object '${m['class_name']}' (${JSON.stringify(m['config'])}) cannot be rebuilt by Masque; only metrics by name are.`);
  }
  throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: the metric ${describe(m)} is not a name or {class_name, config}.`);
}

export function metricsFromKeras(spec: unknown, where: string): MetricsSpec | undefined {
  if (spec === null || spec === undefined) return undefined;
  const entry = (e: unknown): string | Metric | (string | Metric)[] => (Array.isArray(e) ? e.map((x) => metricFromKeras(x, where)) : metricFromKeras(e, where));
  if (Array.isArray(spec)) return spec.map(entry);
  if (isObj(spec)) return Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, entry(v)]));
  throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: metrics must be a list or an object keyed by output name; received ${describe(spec)}.`);
}
