/**
 * Training callbacks with Keras 3 semantics (keras/src/callbacks): the
 * `Callback` base class, `CallbackList`, `History`, `EarlyStopping`,
 * `ModelCheckpoint`, `LearningRateScheduler` and `ReduceLROnPlateau`.
 * Hooks may be async; `CallbackList` awaits them in order.
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { checkKeys } from '../option_keys.js';

/** Epoch or batch logs: metric name -> value (`loss`, `accuracy`, `val_loss`, `learning_rate`, ...). */
export type Logs = Record<string, number>;

/** What callbacks may use of the model being trained. */
export interface TrainingModelLike {
  stopTraining: boolean;
  optimizer: { learningRate: number } | null;
  save?(path: string): Promise<void>;
  /** Copies of the weights; the caller owns (and disposes) them. */
  getWeights(): tf.Tensor[];
  setWeights(weights: tf.Tensor[]): void;
}

/** What `fit` tells callbacks before training. */
export interface TrainingParams {
  epochs: number;
  /** Steps per epoch, or null when unknown. */
  steps: number | null;
  verbose?: number;
}

type Hook = void | Promise<void>;

/** Base class: override any hook; all are optional no-ops here. */
export class Callback {
  model: TrainingModelLike | null = null;
  params: TrainingParams | null = null;

  setModel(model: TrainingModelLike): void {
    this.model = model;
  }
  setParams(params: TrainingParams): void {
    this.params = params;
  }
  onTrainBegin(_logs: Logs = {}): Hook {}
  onTrainEnd(_logs: Logs = {}): Hook {}
  onEpochBegin(_epoch: number, _logs: Logs = {}): Hook {}
  onEpochEnd(_epoch: number, _logs: Logs = {}): Hook {}
  onBatchBegin(_batch: number, _logs: Logs = {}): Hook {}
  onBatchEnd(_batch: number, _logs: Logs = {}): Hook {}
  /**
   * Called instead of `onTrainEnd` when `fit` fails after `onTrainBegin`
   * (a Masque extension): free what the callback holds. Errors raised here
   * are ignored; `fit` rethrows the original error.
   */
  onTrainError(_error: unknown): Hook {}

  protected requireModel(who: string): TrainingModelLike {
    if (this.model === null) {
      throw new MasqueError('INVALID_ARGUMENT', `${who}: no model is set; pass the callback to fit() or call setModel(model) first.`);
    }
    return this.model;
  }
}

/** Dispatches every hook to its callbacks, in order, awaiting each. */
export class CallbackList {
  readonly callbacks: Callback[];
  constructor(callbacks: Callback[] = []) {
    this.callbacks = [...callbacks];
  }
  append(callback: Callback): void {
    this.callbacks.push(callback);
  }
  setModel(model: TrainingModelLike): void {
    for (const c of this.callbacks) c.setModel(model);
  }
  setParams(params: TrainingParams): void {
    for (const c of this.callbacks) c.setParams(params);
  }
  async onTrainBegin(logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin(logs);
  }
  async onTrainEnd(logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd(logs);
  }
  async onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin(epoch, logs);
  }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd(epoch, logs);
  }
  async onBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin(batch, logs);
  }
  async onBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd(batch, logs);
  }
  /** Tells every callback that training failed; their own errors are ignored so that the original one wins. */
  async onTrainError(error: unknown): Promise<void> {
    for (const c of this.callbacks) {
      try {
        await c.onTrainError?.(error);
      } catch {
        // The error that stopped training is the one to report.
      }
    }
  }
}

/** Records the epoch logs: `history.history.loss[i]`, `history.epoch[i]`. */
export class History extends Callback {
  history: Record<string, number[]> = {};
  epoch: number[] = [];
  override onTrainBegin(): void {
    this.epoch = [];
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) {
      // Own properties only: a log named 'constructor' is a log like any other.
      if (!Object.hasOwn(this.history, k)) Object.defineProperty(this.history, k, { value: [], enumerable: true, writable: true, configurable: true });
      this.history[k]!.push(v);
    }
  }
}

export type Mode = 'auto' | 'min' | 'max';

/** Checks numeric callback options: `integer` counts are integers >= min; others finite numbers >= min (any finite number when min is -Infinity). */
function checkNumbers(who: string, values: Record<string, unknown>, integer: readonly string[], min: Record<string, number>): void {
  for (const [key, v] of Object.entries(values)) {
    const lo = min[key] ?? 0;
    const isInt = integer.includes(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || (isInt && !Number.isInteger(v))) {
      const expected = isInt ? `an integer >= ${lo}` : lo === -Infinity ? 'a finite number' : `a finite number >= ${lo}`;
      throw new MasqueError('INVALID_ARGUMENT', `${who}: ${key} must be ${expected}; received ${describe(v)}.`);
    }
  }
}

/** 'auto' → min or max from the metric name (Keras asks the metric; Masque knows its own metric names). */
function autoDirection(who: string, monitor: string, mode: Mode): 'min' | 'max' {
  if (mode === 'min' || mode === 'max') return mode;
  if (mode !== 'auto') throw new MasqueError('INVALID_ARGUMENT', `${who}: mode must be 'auto', 'min' or 'max'; received ${describe(mode)}.`);
  const name = monitor.replace(/^val_/, '');
  if (/(^|_)loss$|error$|^(mse|mae)$/.test(name)) return 'min';
  if (/acc|auc|precision|recall/.test(name)) return 'max';
  throw new MasqueError(
    'INVALID_ARGUMENT',
    `${who}: cannot tell whether monitor ${describe(monitor)} should be minimised or maximised; pass mode: 'min' or mode: 'max'.`,
  );
}

/** Keras's `verbose: 1` messages of EarlyStopping, ModelCheckpoint, ReduceLROnPlateau and LearningRateScheduler. */
function printMessage(message: string): void {
  console.log(message);
}

function checkVerbose(who: string, v: unknown): 0 | 1 {
  if (v === undefined) return 0;
  if (v !== 0 && v !== 1) throw new MasqueError('INVALID_ARGUMENT', `${who}: verbose must be 0 (silent) or 1 (print a message when it acts); received ${describe(v)}.`);
  return v;
}

function monitored(who: string, monitor: string, logs: Logs): number | null {
  const v = Object.hasOwn(logs, monitor) ? logs[monitor] : undefined;
  if (v === undefined) {
    console.warn(`${who} is conditioned on '${monitor}', which is not available. Available: ${Object.keys(logs).join(', ')}.`);
    return null;
  }
  return v;
}

export interface EarlyStoppingArgs {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: Mode;
  baseline?: number | null;
  restoreBestWeights?: boolean;
  startFromEpoch?: number;
  /** 1 prints "Epoch N: early stopping" (and the restore) as Keras does; default 0. */
  verbose?: 0 | 1;
}

const EARLY_STOPPING_KEYS = ['monitor', 'minDelta', 'patience', 'verbose', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch'] as const;

/** Stops training when `monitor` has not improved by more than `minDelta` for `patience` epochs (Keras semantics). */
export class EarlyStopping extends Callback {
  readonly args: Required<Omit<EarlyStoppingArgs, 'baseline'>> & { baseline: number | null };
  wait = 0;
  stoppedEpoch = 0;
  bestEpoch = 0;
  best = Infinity;
  private bestWeights: tf.Tensor[] | null = null;
  private direction: 'min' | 'max' | null = null;

  constructor(args: EarlyStoppingArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super();
    checkKeys(args, EARLY_STOPPING_KEYS, 'EarlyStopping');
    this.args = {
      monitor: args.monitor ?? 'val_loss',
      minDelta: Math.abs(args.minDelta ?? 0),
      patience: args.patience ?? 0,
      mode: args.mode ?? 'auto',
      baseline: args.baseline ?? null,
      restoreBestWeights: args.restoreBestWeights ?? false,
      startFromEpoch: args.startFromEpoch ?? 0,
      verbose: checkVerbose('EarlyStopping', args.verbose),
    };
    const { minDelta, patience, startFromEpoch, baseline } = this.args;
    checkNumbers('EarlyStopping', { minDelta, patience, startFromEpoch, ...(baseline === null ? {} : { baseline }) }, ['patience', 'startFromEpoch'], { baseline: -Infinity });
  }

  private improves(value: number, reference: number): boolean {
    return this.direction === 'min' ? value + this.args.minDelta < reference : value - this.args.minDelta > reference;
  }

  override onTrainBegin(): void {
    this.direction = autoDirection('EarlyStopping', this.args.monitor, this.args.mode);
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestEpoch = 0;
    this.best = this.direction === 'min' ? Infinity : -Infinity;
    this.keepWeights(null);
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const model = this.requireModel('EarlyStopping');
    if (this.direction === null) this.onTrainBegin();
    const current = monitored('EarlyStopping', this.args.monitor, logs);
    if (current === null || epoch < this.args.startFromEpoch) return;
    if (this.args.restoreBestWeights && this.bestWeights === null) {
      this.keepWeights(model.getWeights());
      this.bestEpoch = epoch;
    }
    this.wait += 1;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.args.restoreBestWeights) this.keepWeights(model.getWeights());
      // Only restart waiting when both the baseline and the previous best are beaten.
      if (this.args.baseline === null || this.improves(current, this.args.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.args.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.args.verbose > 0) printMessage(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.args.restoreBestWeights && this.bestWeights !== null) {
      if (this.args.verbose > 0) printMessage(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.requireModel('EarlyStopping').setWeights(this.bestWeights);
    }
    this.keepWeights(null);
  }

  override onTrainError(): void {
    this.keepWeights(null);
  }

  private keepWeights(weights: tf.Tensor[] | null): void {
    for (const w of this.bestWeights ?? []) w.dispose();
    this.bestWeights = weights;
  }
}

export interface ModelCheckpointArgs {
  /** Where to save; may contain `{epoch}`, `{epoch:02d}`, `{val_loss:.4f}` (epoch is 1-based, as in Keras). */
  filepath: string;
  monitor?: string;
  saveBestOnly?: boolean;
  mode?: Mode;
  initialValueThreshold?: number | null;
  /** 1 prints Keras's messages (improved / did not improve / saving model to); default 0. */
  verbose?: 0 | 1;
}

const MODEL_CHECKPOINT_KEYS = ['filepath', 'monitor', 'verbose', 'saveBestOnly', 'mode', 'initialValueThreshold'] as const;

/** Python-style placeholders: {name}, {name:0Nd}, {name:.Nf}. */
export function formatFilepath(template: string, values: Logs): string {
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (whole, key: string, spec: string | undefined) => {
    const v = Object.hasOwn(values, key) ? values[key] : undefined;
    if (v === undefined) {
      throw new MasqueError('INVALID_ARGUMENT', `ModelCheckpoint: filepath ${describe(template)} refers to '${key}', which is not in the logs (${Object.keys(values).join(', ')}).`);
    }
    if (!spec) return String(v);
    const fixed = /^\.(\d+)f$/.exec(spec);
    if (fixed) return v.toFixed(Number(fixed[1]));
    const int = /^(0?)(\d+)d$/.exec(spec);
    if (int) return String(Math.trunc(v)).padStart(Number(int[2]), int[1] ? '0' : ' ');
    throw new MasqueError('INVALID_ARGUMENT', `ModelCheckpoint: unsupported format ${describe(whole)}; use {name}, {name:02d} or {name:.4f}.`);
  });
}

/** Saves the model after each epoch, or only when `monitor` improves (`saveBestOnly`). */
export class ModelCheckpoint extends Callback {
  readonly args: Required<Omit<ModelCheckpointArgs, 'initialValueThreshold'>> & { initialValueThreshold: number | null };
  best: number;
  private readonly greater: boolean;
  /** Paths written so far, in order. */
  readonly saved: string[] = [];

  constructor(args: ModelCheckpointArgs) {
    super();
    checkKeys(args, MODEL_CHECKPOINT_KEYS, 'ModelCheckpoint');
    if (typeof args?.filepath !== 'string' || args.filepath === '') {
      throw new MasqueError('INVALID_ARGUMENT', `ModelCheckpoint: filepath must be a non-empty string; received ${describe(args?.filepath)}.`);
    }
    this.args = {
      filepath: args.filepath,
      monitor: args.monitor ?? 'val_loss',
      saveBestOnly: args.saveBestOnly ?? false,
      mode: args.mode ?? 'auto',
      initialValueThreshold: args.initialValueThreshold ?? null,
      verbose: checkVerbose('ModelCheckpoint', args.verbose),
    };
    const m = this.args.mode;
    if (!['auto', 'min', 'max'].includes(m)) throw new MasqueError('INVALID_ARGUMENT', `ModelCheckpoint: mode must be 'auto', 'min' or 'max'; received ${describe(m)}.`);
    // Keras: in 'auto', maximise when the monitor contains "acc" or starts with "fmeasure".
    this.greater = m === 'max' || (m === 'auto' && (this.args.monitor.includes('acc') || this.args.monitor.startsWith('fmeasure')));
    this.best = this.args.initialValueThreshold ?? (this.greater ? -Infinity : Infinity);
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const model = this.requireModel('ModelCheckpoint');
    if (typeof model.save !== 'function') {
      throw new MasqueError('INVALID_ARGUMENT', 'ModelCheckpoint: the model has no save(path) method; it cannot be checkpointed.');
    }
    const path = formatFilepath(this.args.filepath, { ...logs, epoch: epoch + 1 });
    const say = (message: string) => this.args.verbose > 0 && printMessage(`\nEpoch ${epoch + 1}: ${message}`);
    if (this.args.saveBestOnly) {
      const current = monitored('ModelCheckpoint', this.args.monitor, logs);
      if (current === null) return;
      const best = Number.isFinite(this.best) ? this.best.toFixed(5) : String(this.best).replace('Infinity', 'inf');
      if (!(this.greater ? current > this.best : current < this.best)) {
        say(`${this.args.monitor} did not improve from ${best}`);
        return;
      }
      say(`${this.args.monitor} improved from ${best} to ${current.toFixed(5)}, saving model to ${path}`);
      this.best = current;
    } else {
      say(`saving model to ${path}`);
    }
    await model.save(path);
    this.saved.push(path);
  }
}

/** Sets the learning rate at the start of each epoch to `schedule(epoch, currentLr)`; logs it as `learning_rate`. */
export class LearningRateScheduler extends Callback {
  readonly verbose: 0 | 1;
  /** `options.verbose: 1` prints "Epoch N: LearningRateScheduler setting learning rate to x." as Keras does. */
  constructor(
    readonly schedule: (epoch: number, lr: number) => number,
    options: { verbose?: 0 | 1 } = {},
  ) {
    super();
    if (typeof schedule !== 'function') {
      throw new MasqueError('INVALID_ARGUMENT', `LearningRateScheduler: schedule must be a function (epoch, lr) => lr; received ${describe(schedule)}.`);
    }
    this.verbose = checkVerbose('LearningRateScheduler', checkKeys(options, ['verbose'], 'LearningRateScheduler')['verbose']);
  }
  private optimizer(): { learningRate: number } {
    const opt = this.requireModel('LearningRateScheduler').optimizer;
    if (opt === null) throw new MasqueError('INVALID_ARGUMENT', 'LearningRateScheduler: the model has no optimizer; compile it first.');
    return opt;
  }
  override onEpochBegin(epoch: number): void {
    const opt = this.optimizer();
    const lr = this.schedule(epoch, opt.learningRate);
    if (typeof lr !== 'number' || !Number.isFinite(lr)) {
      throw new MasqueError('INVALID_ARGUMENT', `LearningRateScheduler: the schedule must return a finite number; it returned ${describe(lr)} at epoch ${epoch}.`);
    }
    opt.learningRate = lr;
    if (this.verbose > 0) printMessage(`\nEpoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
  }
  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    logs.learning_rate = this.optimizer().learningRate;
  }
}

export interface ReduceLROnPlateauArgs {
  monitor?: string;
  factor?: number;
  patience?: number;
  mode?: Mode;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
  /** 1 prints "Epoch N: ReduceLROnPlateau reducing learning rate to x." as Keras does; default 0. */
  verbose?: 0 | 1;
}

const REDUCE_LR_KEYS = ['monitor', 'factor', 'patience', 'verbose', 'mode', 'minDelta', 'cooldown', 'minLr'] as const;

/** Multiplies the learning rate by `factor` when `monitor` stops improving for `patience` epochs (Keras semantics). */
export class ReduceLROnPlateau extends Callback {
  readonly args: Required<ReduceLROnPlateauArgs>;
  best: number;
  wait = 0;
  cooldownCounter = 0;
  private readonly greater: boolean;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super();
    checkKeys(args, REDUCE_LR_KEYS, 'ReduceLROnPlateau');
    this.args = {
      monitor: args.monitor ?? 'val_loss',
      factor: args.factor ?? 0.1,
      patience: args.patience ?? 10,
      mode: args.mode ?? 'auto',
      minDelta: args.minDelta ?? 1e-4,
      cooldown: args.cooldown ?? 0,
      minLr: args.minLr ?? 0,
      verbose: checkVerbose('ReduceLROnPlateau', args.verbose),
    };
    if (!(this.args.factor < 1)) {
      throw new MasqueError('INVALID_ARGUMENT', `ReduceLROnPlateau: factor must be < 1; received ${describe(this.args.factor)}.`);
    }
    const { factor, patience, minDelta, cooldown, minLr, mode } = this.args;
    checkNumbers('ReduceLROnPlateau', { factor, patience, minDelta, cooldown, minLr }, ['patience', 'cooldown'], {});
    if (!['auto', 'min', 'max'].includes(mode)) throw new MasqueError('INVALID_ARGUMENT', `ReduceLROnPlateau: mode must be 'auto', 'min' or 'max'; received ${describe(mode)}.`);
    this.greater = this.args.mode === 'max' || (this.args.mode === 'auto' && this.args.monitor.includes('acc'));
    this.best = this.greater ? -Infinity : Infinity;
  }

  override onTrainBegin(): void {
    this.best = this.greater ? -Infinity : Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const opt = this.requireModel('ReduceLROnPlateau').optimizer;
    if (opt === null) throw new MasqueError('INVALID_ARGUMENT', 'ReduceLROnPlateau: the model has no optimizer; compile it first.');
    logs.learning_rate = opt.learningRate;
    const current = monitored('ReduceLROnPlateau', this.args.monitor, logs);
    if (current === null) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    const better = this.greater ? current > this.best + this.args.minDelta : current < this.best - this.args.minDelta;
    if (better) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait += 1;
      if (this.wait >= this.args.patience) {
        const old = opt.learningRate;
        if (old > this.args.minLr) {
          opt.learningRate = Math.max(old * this.args.factor, this.args.minLr);
          if (this.args.verbose > 0) printMessage(`\nEpoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${opt.learningRate}.`);
          this.cooldownCounter = this.args.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}
