/**
 * The training loop for Masque models: compile / fit / evaluate /
 * trainOnBatch with Keras 3 semantics and masked losses. When a model output
 * carries a mask, its loss and metrics average over the valid entries only
 * (`sum(l·m) / sum(m)`, 0 when nothing is valid), and a per-sample weight
 * `[B]` combines with a `[B, T]` mask (Keras raises a broadcast error there).
 *
 * This file is the loop only. Beside it: compile.ts (the compiled spec and
 * log names), fit_options.ts (checked options), data_source.ts (tensors or a
 * SequenceDataset as batches, and the validation split), train_step.ts (one
 * batch's forward pass, loss, update and metrics), dispose_scope.ts (freeing
 * on success and error paths alike), custom_callback.ts (plain-object
 * callbacks).
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import type { LayerWeight } from '../engine/layer.js';
import { mulberry32 } from '../data/bucketing.js';
import type { InputData } from '../data/input_data.js';
import type { Optimizer } from './optimizers.js';
import { CallbackList, History, type Logs, type TrainingModelLike } from './callbacks.js';
import { ProgbarLogger, ProgressBar } from './progress.js';
import { compileSpec, currentLogs, resetMetrics, saveMetricStates, type Compiled, type CompileArgs } from './compile.js';
import { HookScope } from './hook_scope.js';
import { checkEvaluateArgs, checkFitArgs, checkTestOnBatchArgs, checkTrainOnBatchArgs, type EvaluateArgs, type FitArgs, type FitPlan, type TestOnBatchArgs, type TrainOnBatchArgs } from './fit_options.js';
import { isSequenceDataset, type Batch, type SequenceDataset } from './data_adapter.js';
import { makeSource, type BatchOptions, type DataSource, type SampleWeightData } from './data_source.js';
import { withScope, withScopeAsync, type DisposeScope } from './dispose_scope.js';
import { ensureBuilt, evalStep, trainStep } from './train_step.js';
import { classWeightsFor } from './class_weight.js';
import { EmbeddingGradientBuffers } from '../ops/embedding_lookup.js';

export type { CompileArgs, LossSpec, MetricsSpec } from './compile.js';
export type { EvaluateArgs, FitArgs, TestOnBatchArgs, TrainOnBatchArgs } from './fit_options.js';
export type { ClassWeight } from './class_weight.js';

/**
 * All the trainer knows of a model (Model implements it): what callbacks may
 * use (`TrainingModelLike`: stopTraining, optimizer, getWeights/setWeights,
 * save), and the members below.
 */
export interface TrainableModel extends TrainingModelLike {
  /** For error messages. */
  readonly name: string;
  /** One entry per output: the count, the layer names that prefix per-output logs, and the output shapes (for classWeight). */
  readonly outputs: readonly { node?: { layer: { name: string } } | null; readonly shape?: readonly (number | null)[] }[];
  /** One entry per input: one input is passed to `apply` as a tensor, several as a list. */
  readonly inputs: readonly unknown[];
  /** The variables a step updates, with their Keras paths (to name optimizer slots). */
  readonly trainableWeights: readonly LayerWeight[];
  /** False for a Sequential without an input shape until its first call. */
  readonly built: boolean;
  /** The trainable weights' regularization penalties, one scalar each (added to the loss). */
  regularizationLosses?(): tf.Tensor[];
  /** The stateful recurrent layers' names (fit refuses to reorder their rows). */
  statefulLayerNames?(): string[];
  /** The forward pass; outputs carry their masks. */
  apply(inputs: tf.Tensor | tf.Tensor[], args?: { training?: boolean }): unknown;
  /** User inputs (tensors or nested arrays) as one tensor per input; `owned` marks tensors made here. */
  toInputList(x: InputData, where: string): { tensors: tf.Tensor[]; owned: boolean[] };
}

/** Logs as Keras's *_on_batch and evaluate return them: the dict, or the loss alone, or [loss, ...metrics]. */
function logsResult(logs: Logs, returnDict: boolean): number | number[] | Logs {
  if (returnDict) return logs;
  const values = Object.values(logs);
  return values.length === 1 ? values[0]! : values;
}

/** Runs Keras-style training for one model; one fit, evaluate, trainOnBatch or testOnBatch at a time. */
export class Trainer {
  private compiled: Compiled | null = null;
  /** The arguments of the last compile (saving writes them as Keras's compile_config). */
  private args: CompileArgs | null = null;
  /** The call in progress ('fit', 'evaluate', 'trainOnBatch', 'testOnBatch'), or null. */
  private busy: string | null = null;
  /** The running fit's callback hooks (to let them evaluate the model), or null. */
  private hooks: HookScope | null = null;
  /** The Embedding gradients' buffers kept from one trainOnBatch to the next (ops/embedding_lookup.ts); freed by dispose and when fit starts. */
  private readonly batchGradients = new EmbeddingGradientBuffers();

  constructor(private readonly model: TrainableModel) {}

  get optimizer(): Optimizer | null {
    return this.compiled?.optimizer ?? null;
  }

  /** The arguments given to the last `compile`, or null. */
  get compileArgs(): Readonly<CompileArgs> | null {
    return this.args;
  }

  /** Frees the optimizer's state when the trainer made the optimizer (from a name or spec). */
  dispose(): void {
    this.batchGradients.dispose();
    if (this.compiled?.ownsOptimizer) this.compiled.optimizer.dispose();
    this.compiled = null;
    this.args = null;
  }

  compile(args: CompileArgs): void {
    this.refuseWhileBusy('compile');
    const nOut = Math.max(1, this.model.outputs.length); // an unbuilt Sequential has no outputs yet; it will have one
    const names = Array.from({ length: nOut }, (_, k) => this.model.outputs[k]?.node?.layer.name ?? `output_${k}`);
    const next = compileSpec(args, names, `compile (model '${this.model.name}')`);
    // Recompiling frees the state of an optimizer this trainer made from a name.
    if (this.compiled?.ownsOptimizer && this.compiled.optimizer !== next.optimizer) this.compiled.optimizer.dispose();
    this.compiled = next;
    this.args = { ...args };
  }

  /**
   * Trains for `epochs`. Callbacks run in Keras's order (the user's, then
   * History, then the progress bar). Only one fit, evaluate or trainOnBatch
   * runs at a time on a model: a second call before the first settles raises
   * MODEL_BUSY; await the first. The exception, as in Keras: the running
   * fit's own callbacks may call `evaluate` (and `predict`), which leaves
   * fit's running metrics and logs as they were.
   */
  async fit(x: InputData | SequenceDataset, y: InputData | undefined, args: FitArgs = {}): Promise<History> {
    const c = this.require('fit');
    const plan = checkFitArgs(args);
    return this.exclusive('fit', () => {
      // fit keeps its own buffers, epoch by epoch.
      this.batchGradients.dispose();
      return withScopeAsync((scope) => this.runFit(c, plan, x, y, scope));
    });
  }

  /**
   * Loss (and metrics) on data: a number, `[loss, ...metrics]`, or a dict
   * with `returnDict`; `verbose` 1 draws a progress bar (one line when not
   * on a terminal), 2 prints one line. Refused (MODEL_BUSY) while another
   * call runs, except from a callback of the running fit: then the compiled
   * metrics are used and put back as they were, so fit's logs do not change.
   */
  async evaluate(x: InputData | SequenceDataset, y?: InputData, args: EvaluateArgs = {}): Promise<number | number[] | Logs> {
    const c = this.require('evaluate');
    const o = checkEvaluateArgs(args);
    return this.evaluating('evaluate', c, () => this.runEvaluate(c, x, y, o));
  }

  /**
   * Loss (and metrics) on one batch, as `evaluate` with the whole input as
   * its batch and no progress bar (Keras's test_on_batch): metrics are reset
   * first, the weights do not change. Refused (MODEL_BUSY) while another call
   * runs, except from a callback of the running fit, as `evaluate`.
   */
  testOnBatch(x: InputData, y: InputData, options: TestOnBatchArgs = {}): number | number[] | Logs {
    const c = this.require('testOnBatch');
    const o = checkTestOnBatchArgs(options);
    return this.evaluating('testOnBatch', c, () =>
      withScope((scope) => {
        const src = scope.track(this.source(x, y, o.sampleWeight, 'testOnBatch'));
        return logsResult(this.evaluateSource(c, src, Math.max(src.n, 1)), o.returnDict);
      }),
    );
  }

  /** Runs an evaluation as the one call in progress, or, from a callback of the running fit, with fit's metric states put back after it. */
  private evaluating<T>(where: string, c: Compiled, run: () => T): T {
    if (this.busy === 'fit' && this.hooks !== null && this.hooks.active) {
      const restore = saveMetricStates(c);
      try {
        return run();
      } finally {
        restore();
      }
    }
    return this.exclusive(where, run);
  }

  private runEvaluate(c: Compiled, x: InputData | SequenceDataset, y: InputData | undefined, o: ReturnType<typeof checkEvaluateArgs>): number | number[] | Logs {
    return withScope((scope) => {
      const src = scope.track(this.source(x, y, o.sampleWeight, 'evaluate'));
      const bar = o.verbose === 0 ? null : new ProgressBar({ epochs: null, steps: Math.ceil(src.n / o.batchSize), ...(o.verbose === 2 ? { isTTY: false } : {}) });
      bar?.onEpochBegin(0);
      const logs = this.evaluateSource(c, src, o.batchSize, bar === null ? undefined : (step) => bar.update(step, currentLogs(c)));
      bar?.onEpochEnd(0, logs);
      return logsResult(logs, o.returnDict);
    });
  }

  /** One optimizer step on one batch; returns the loss, or [loss, ...metrics] with metrics. Metrics are reset first, as in Keras. Refused (MODEL_BUSY) while another call runs. */
  trainOnBatch(x: InputData, y: InputData, options: TrainOnBatchArgs = {}): number | number[] | Logs {
    const c = this.require('trainOnBatch');
    const o = checkTrainOnBatchArgs(options);
    return this.exclusive('trainOnBatch', () =>
      withScope((scope) => {
        const src = scope.track(this.source(x, y, o.sampleWeight, 'trainOnBatch'));
        resetMetrics(c);
        this.refuseClassWeightForOutputs(o.classWeight, 'trainOnBatch');
        for (const b of src.batches({ batchSize: src.n, shuffle: false, bucketing: false, rand: Math.random })) {
          this.batchGradients.run(() => withScope((s) => trainStep(this.model, c, o.classWeight === null ? s.track(b) : this.withClassWeights(s.track(b), o.classWeight, s), 'trainOnBatch')));
        }
        return logsResult(currentLogs(c), o.returnDict);
      }),
    );
  }

  // ---- the loop ----

  private async runFit(c: Compiled, plan: FitPlan, x: InputData | SequenceDataset, y: InputData | undefined, scope: DisposeScope): Promise<History> {
    const where = 'fit';
    this.refuseClassWeightForOutputs(plan.classWeight, where);
    let train = scope.track(this.source(x, y, plan.sampleWeight, where));
    let val: DataSource | null = null;
    if (plan.validationSplit > 0) {
      [train, val] = scope.trackAll(train.split(plan.validationSplit, where));
    } else if (plan.validationData !== undefined) {
      val = scope.track(this.validationSource(plan.validationData));
    }
    const rand = mulberry32(plan.seed);
    const batches = { batchSize: plan.batchSize, shuffle: plan.shuffle, bucketing: plan.bucketing ?? train.bucketingDefault, rand };
    refuseReorderingStates(this.model.statefulLayerNames?.() ?? [], batches.shuffle, batches.bucketing, where);

    const history = new History();
    // Keras's order: the user's callbacks, then History, then the progress bar,
    // so History records what callbacks add to the logs (e.g. learning_rate).
    const list = new CallbackList([...plan.callbacks, history]);
    if (plan.verbose !== 0) list.append(new ProgbarLogger(plan.verbose === 2 ? { isTTY: false } : {}));
    list.setModel(this.model);
    list.setParams({ epochs: plan.epochs, steps: Math.ceil(train.n / plan.batchSize), verbose: plan.verbose });
    this.model.stopTraining = false;
    const hooks = new HookScope();
    this.hooks = hooks;
    try {
      await this.epochs(c, plan, list, train, val, batches, hooks);
    } catch (e) {
      await hooks.run(() => list.onTrainError(e));
      throw e;
    } finally {
      this.hooks = null;
    }
    return history;
  }

  /** onTrainBegin, the epochs (each: batches, then validation), onTrainEnd; every hook runs in `hooks`. */
  private async epochs(c: Compiled, plan: FitPlan, list: CallbackList, train: DataSource, val: DataSource | null, batches: BatchOptions, hooks: HookScope): Promise<void> {
    let lastLogs: Logs = {};
    await hooks.run(() => list.onTrainBegin());
    for (let epoch = plan.initialEpoch; epoch < plan.epochs; epoch++) {
      resetMetrics(c);
      await hooks.run(() => list.onEpochBegin(epoch));
      let i = 0;
      // The Embedding gradient's buffer is reused from step to step within the epoch, and freed before its end (ops/embedding_lookup.ts).
      const reuse = new EmbeddingGradientBuffers();
      try {
        for (const b of train.batches(batches)) {
          await withScopeAsync(async (s) => {
            s.track(b);
            await hooks.run(() => list.onBatchBegin(i, { size: b.size }));
            reuse.run(() => trainStep(this.model, c, plan.classWeight === null ? b : this.withClassWeights(b, plan.classWeight, s), 'fit'));
          });
          const batchLogs = currentLogs(c);
          await hooks.run(() => list.onBatchEnd(i, batchLogs));
          i++;
          if (this.model.stopTraining) break;
        }
      } finally {
        reuse.dispose();
      }
      const logs = currentLogs(c);
      if (val !== null) {
        for (const [k, v] of Object.entries(this.evaluateSource(c, val, plan.batchSize))) logs[`val_${k}`] = v;
      }
      await hooks.run(() => list.onEpochEnd(epoch, logs));
      lastLogs = logs;
      if (this.model.stopTraining) break;
    }
    await hooks.run(() => list.onTrainEnd(lastLogs));
  }

  /** Loss and metrics over one pass of `src`; the metrics' state is reset first. `onStep(n)` runs after n batches. */
  private evaluateSource(c: Compiled, src: DataSource, batchSize: number, onStep?: (step: number) => void): Logs {
    resetMetrics(c);
    let step = 0;
    for (const b of src.batches({ batchSize, shuffle: false, bucketing: false, rand: Math.random })) {
      withScope((s) => evalStep(this.model, c, s.track(b)));
      onStep?.(++step);
    }
    return currentLogs(c);
  }

  // ---- data and state ----

  private refuseClassWeightForOutputs(table: Map<number, number> | null, where: string): void {
    if (table !== null && this.model.outputs.length > 1) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: classWeight is only supported for models with a single output (as in Keras); model '${this.model.name}' has ${this.model.outputs.length}. Pass sampleWeight instead.`);
    }
  }

  /** Batch `b` with its class weights as sample weights (tracked by `scope`). */
  private withClassWeights(b: Batch, table: Map<number, number>, scope: DisposeScope): Batch {
    ensureBuilt(this.model, b);
    const shape = this.model.outputs[0]?.shape ?? null;
    return { ...b, sampleWeight: scope.track(classWeightsFor(b.y[0]!, shape, table, 'fit')) };
  }

  private source(x: InputData | SequenceDataset, y: InputData | undefined, sw: SampleWeightData | undefined, where: string): DataSource {
    const model = this.model;
    return makeSource({ toInputList: (v, w) => model.toInputList(v, w), outputCount: Math.max(1, model.outputs.length) }, x, y, sw, where);
  }

  private validationSource(vd: NonNullable<FitArgs['validationData']>): DataSource {
    const where = 'fit (validation)';
    if (isSequenceDataset(vd)) return this.source(vd, undefined, undefined, where);
    if (!Array.isArray(vd) || (vd.length !== 2 && vd.length !== 3)) {
      throw new MasqueError('INVALID_ARGUMENT', `fit: validationData must be [x, y], [x, y, sampleWeight] or a SequenceDataset; received ${describe(vd)}.`);
    }
    return this.source(vd[0], vd[1], vd[2], where);
  }

  private require(where: string): Compiled {
    if (this.compiled === null) {
      throw new MasqueError('NOT_COMPILED', `${where}: model '${this.model.name}' is not compiled; call model.compile({ optimizer, loss, metrics }) first.`);
    }
    return this.compiled;
  }

  private refuseWhileBusy(where: string): void {
    if (this.busy !== null) {
      throw new MasqueError(
        'MODEL_BUSY',
        `${where}: model '${this.model.name}' is already training (a ${this.busy}() call has not finished); await the first call before starting another. The callbacks of a running fit may call evaluate and predict on its model, not fit or trainOnBatch.`,
      );
    }
  }

  /** Runs `fn` as the one call in progress on this model (sync or async). */
  private exclusive<T>(where: string, fn: () => T): T {
    this.refuseWhileBusy(where);
    this.busy = where;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.busy = null;
      throw e;
    }
    if (result instanceof Promise) return result.finally(() => (this.busy = null)) as T;
    this.busy = null;
    return result;
  }
}

/**
 * A stateful layer carries row i of a batch into row i of the next batch, so
 * shuffling or bucketing (which reorder rows between batches) would mix up
 * the sequences: refused, where Keras only documents `shuffle=False`.
 */
export function refuseReorderingStates(statefulLayers: string[], shuffle: boolean, bucketing: boolean, where: string): void {
  if (statefulLayers.length === 0 || (!shuffle && !bucketing)) return;
  const what = [shuffle ? 'shuffle' : '', bucketing ? 'bucketing' : ''].filter((w) => w !== '').join(' and ');
  throw new MasqueError(
    'INVALID_ARGUMENT',
    `${where}: the model has stateful layers (${statefulLayers.join(', ')}), which carry row i of each batch into row i of the next; ${what} would reorder the rows between batches. Pass shuffle: false and bucketing: false (a SequenceDataset buckets by default).`,
  );
}
