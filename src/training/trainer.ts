/**
 * compile / fit / evaluate / trainOnBatch for Masque models, with Keras 3
 * semantics and masked losses: when a model output carries a mask, its loss
 * and metrics average over the valid entries only (`sum(l·m) / sum(m)`, 0
 * when nothing is valid), and a per-sample weight `[B]` combines with a
 * `[B, T]` mask (Keras raises a broadcast error there).
 *
 * `fit` takes tensors (or nested arrays) or a variable-length
 * `SequenceDataset`, which is padded per batch to that batch's longest
 * sequence and bucketed by length when shuffling (both on by default).
 */
import { tf } from '../runtime/tfjs.js';
import { disposeAbandonedTape } from '../runtime/internals.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { getMask } from '../engine/masks.js';
import { withTraining } from '../engine/context.js';
import type { LayerWeight } from '../engine/layer.js';
import { sliceRows, toTensorList, type InputData } from '../data/input_data.js';
import { getLoss, computeLoss, type LossConfig, type LossFunction } from './losses.js';
import { Mean, getMetric, type Metric } from './metrics.js';
import { getOptimizer, type Optimizer, type OptimizerSpec } from './optimizers.js';
import { Callback, CallbackList, History, type Logs, type TrainingModelLike } from './callbacks.js';
import { ProgbarLogger } from './progress.js';
import { mulberry32 } from '../data/bucketing.js';
import { datasetBatches, datasetLengths, isSequenceDataset, planOrder, shuffled, tensorBatches, type Batch, type SequenceDataset } from './data_adapter.js';

export type LossSpec = string | LossConfig | LossFunction | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor);

type MetricEntry = string | Metric;
export type MetricsSpec = (MetricEntry | MetricEntry[])[] | Record<string, MetricEntry | MetricEntry[]>;

export interface CompileArgs {
  /** 'adam', 'adamw', 'sgd', 'rmsprop', an Optimizer, or `{ className, config }` (default 'rmsprop', as Keras). */
  optimizer?: string | Optimizer | OptimizerSpec;
  /** One loss for every output, or one per output. */
  loss: LossSpec | LossSpec[];
  /**
   * Metrics ('accuracy', 'binary_accuracy', 'mse', ... or Metric objects),
   * computed without sample weights, as in Keras. One model output: a list.
   * Several outputs: one entry per output (a metric or a list of them), or
   * an object keyed by output layer name.
   */
  metrics?: MetricsSpec;
  /** Metrics that also apply the sample weights (Keras's `weighted_metrics`); same forms as `metrics`. */
  weightedMetrics?: MetricsSpec;
  /** Weights of the per-output losses in the total (default 1 each). */
  lossWeights?: number[];
}

export interface FitArgs {
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the training samples each epoch (default true). */
  shuffle?: boolean;
  /** Fraction of the samples, taken from the end before shuffling, held out for validation: as Keras, the first floor(n·(1 − split)) samples train. */
  validationSplit?: number;
  /** Validation data: `[x, y]` or a SequenceDataset. */
  validationData?: [InputData, InputData] | [InputData, InputData, tf.Tensor | number[]] | SequenceDataset;
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar on a TTY (one line per epoch otherwise), 2 one line per epoch. Default 1. */
  verbose?: 0 | 1 | 2;
  /** Per-sample weights `[N]` (tensor inputs only). */
  sampleWeight?: tf.Tensor | number[];
  /** Seed for shuffling; fixed seeds give the same batches. Default: random. */
  seed?: number;
  /** Epoch to start counting from (for resumed training). */
  initialEpoch?: number;
  /** Length bucketing for SequenceDatasets (default: the dataset's `bucketing`, else true). */
  bucketing?: boolean;
}

export interface EvaluateArgs {
  batchSize?: number;
  verbose?: 0 | 1 | 2;
  sampleWeight?: tf.Tensor | number[];
  /** Return `{ loss, <metric>: value }` instead of a number or a list. */
  returnDict?: boolean;
}

/** The model surface the trainer needs (implemented by Model). */
export interface TrainableModel extends TrainingModelLike {
  readonly name: string;
  outputs: { name: string; node?: { layer: { name: string } } | null }[];
  inputs: unknown[];
  readonly trainableWeights: LayerWeight[];
  readonly built: boolean;
  apply(inputs: tf.Tensor | tf.Tensor[], args?: { training?: boolean }): tf.Tensor | tf.Tensor[] | unknown;
  toInputList(x: InputData, where: string): { tensors: tf.Tensor[]; owned: boolean[] };
}

interface Compiled {
  optimizer: Optimizer;
  losses: LossFunction[];
  lossWeights: number[];
  /** metrics[k] are the metrics of output k; `weighted` ones get the sample weights. */
  metrics: { metric: Metric; weighted: boolean }[][];
  lossTracker: Mean;
  /** Per-output loss trackers (`<output>_loss`), only with several outputs. */
  outputLossTrackers: Mean[];
  /** Whether the optimizer was made here (from a name) and is disposed with the model or on recompile. */
  ownsOptimizer: boolean;
}

/** Keras's split: the first floor(n·(1 − frac)) samples train, the rest validate; both parts must be non-empty. */
function splitPoint(n: number, frac: number): number {
  const nTrain = Math.floor(n * (1 - frac));
  if (nTrain === 0 || nTrain === n) {
    throw new MasqueError('INVALID_ARGUMENT', `fit: validationSplit ${frac} of ${n} samples leaves ${nTrain} for training and ${n - nTrain} for validation; both must be at least 1.`);
  }
  return nTrain;
}

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Runs Keras-style training for one model. */
export class Trainer {
  private compiled: Compiled | null = null;

  constructor(private readonly model: TrainableModel) {}

  get optimizer(): Optimizer | null {
    return this.compiled?.optimizer ?? null;
  }

  /** Frees the optimizer's state when the trainer made the optimizer (from a name or spec). */
  dispose(): void {
    if (this.compiled?.ownsOptimizer) this.compiled.optimizer.dispose();
    this.compiled = null;
  }

  compile(args: CompileArgs): void {
    const where = `compile (model '${this.model.name}')`;
    if (args === null || typeof args !== 'object' || args.loss === undefined) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: pass { optimizer, loss, metrics }; received ${describe(args)}.`);
    }
    // An unbuilt Sequential has no outputs yet; it will have one.
    const nOut = Math.max(1, this.model.outputs.length);
    const lossList = Array.isArray(args.loss) ? args.loss : new Array<LossSpec>(nOut).fill(args.loss);
    if (lossList.length !== nOut) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: the model has ${nOut} outputs, so loss must be one loss or a list of ${nOut}; received a list of ${lossList.length}.`);
    }
    const lossWeights = args.lossWeights ?? new Array<number>(nOut).fill(1);
    if (lossWeights.length !== nOut || lossWeights.some((w) => typeof w !== 'number' || !Number.isFinite(w))) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: lossWeights must be ${nOut} finite numbers; received ${describe(args.lossWeights)}.`);
    }
    const losses = lossList.map((l) => getLoss(l as string));
    const plain = this.metricsPerOutput(args.metrics, nOut, losses, 'metrics');
    const weighted = this.metricsPerOutput(args.weightedMetrics, nOut, losses, 'weightedMetrics');
    const metrics = plain.map((ms, k) => [...ms.map((metric) => ({ metric, weighted: false })), ...weighted[k]!.map((metric) => ({ metric, weighted: true }))]);
    const optimizer = getOptimizer(args.optimizer ?? 'rmsprop');
    // Recompiling frees the state of an optimizer this trainer made from a name.
    if (this.compiled?.ownsOptimizer && this.compiled.optimizer !== optimizer) this.compiled.optimizer.dispose();
    this.compiled = {
      optimizer,
      losses,
      lossWeights,
      metrics,
      lossTracker: new Mean('loss'),
      outputLossTrackers: nOut > 1 ? losses.map((_, k) => new Mean(`${this.outputName(k)}_loss`)) : [],
      ownsOptimizer: typeof args.optimizer !== 'object' || args.optimizer === null || !('applyGradients' in args.optimizer),
    };
  }

  /** Resolves a metrics spec to one list per output, as Keras's compile does. */
  private metricsPerOutput(spec: MetricsSpec | undefined, nOut: number, losses: LossFunction[], key: string): Metric[][] {
    const where = `compile (model '${this.model.name}'): ${key}`;
    const resolve = (m: unknown, k: number): Metric => {
      if (typeof m === 'string') return getMetric(m, losses[k]!.lossName);
      if (m !== null && typeof m === 'object' && typeof (m as Metric).updateState === 'function') return m as Metric;
      throw new MasqueError('INVALID_ARGUMENT', `${where}: each metric must be a name or a Metric object; received ${describe(m)}.`);
    };
    const list = (entry: unknown, k: number): Metric[] => (Array.isArray(entry) ? entry : [entry]).map((m) => resolve(m, k));
    if (spec === undefined || spec === null) return losses.map(() => []);
    if (!Array.isArray(spec)) {
      if (typeof spec !== 'object') throw new MasqueError('INVALID_ARGUMENT', `${where}: expected a list or an object keyed by output name; received ${describe(spec)}.`);
      const names = losses.map((_, k) => this.outputName(k));
      const unknown = Object.keys(spec).filter((n) => !names.includes(n));
      if (unknown.length > 0) throw new MasqueError('INVALID_ARGUMENT', `${where}: unknown output names ${unknown.join(', ')}; the outputs are ${names.join(', ')}.`);
      return names.map((n, k) => (spec[n] === undefined ? [] : list(spec[n], k)));
    }
    if (nOut === 1) return [spec.flatMap((e) => list(e, 0))];
    if (spec.length !== nOut) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: the model has ${nOut} outputs, so give one entry per output (a metric or a list of metrics), or an object keyed by output name; received a list of ${spec.length}.`);
    }
    return spec.map((e, k) => list(e, k));
  }

  private require(where: string): Compiled {
    if (this.compiled === null) {
      throw new MasqueError('NOT_COMPILED', `${where}: model '${this.model.name}' is not compiled; call model.compile({ optimizer, loss, metrics }) first.`);
    }
    return this.compiled;
  }

  /** Metric names in log order: loss, then each output's metrics (prefixed with the output layer's name when there are several outputs). */
  private metricEntries(c: Compiled): [string, { result(): number }][] {
    const entries: [string, { result(): number }][] = [['loss', c.lossTracker], ...c.outputLossTrackers.map((t) => [t.name, t] as [string, Mean])];
    // Keras's CompileMetrics.result: all plain metrics, then all weighted
    // ones; a repeated name gets `_1`, `_2`, and a weighted metric whose name
    // is taken becomes `weighted_<name>`.
    const prefix = (k: number) => (c.metrics.length > 1 ? `${this.outputName(k)}_` : '');
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

  private outputName(k: number): string {
    return this.model.outputs[k]?.node?.layer.name ?? `output_${k}`;
  }

  private resetMetrics(c: Compiled): void {
    c.lossTracker.resetState();
    for (const t of c.outputLossTrackers) t.resetState();
    for (const ms of c.metrics) for (const { metric } of ms) metric.resetState();
  }

  private logs(c: Compiled): Logs {
    const out: Logs = {};
    for (const [name, m] of this.metricEntries(c)) out[name] = m.result();
    return out;
  }

  /** Forward pass; returns one tensor per output (masks attached). */
  private forward(x: tf.Tensor[], training: boolean): tf.Tensor[] {
    const input = this.model.inputs.length === 1 ? x[0]! : x;
    const out = withTraining(training, () => this.model.apply(input, { training })) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  }

  /** The weighted sum of the per-output losses; `parts` receives each output's (unweighted) loss, kept. */
  private totalLoss(c: Compiled, y: tf.Tensor[], outs: tf.Tensor[], sampleWeight: tf.Tensor | null, parts: tf.Tensor[]): tf.Scalar {
    if (y.length !== outs.length) {
      throw new MasqueError('INVALID_INPUT', `model '${this.model.name}' has ${outs.length} outputs but received ${y.length} targets.`);
    }
    let total: tf.Tensor | null = null;
    outs.forEach((yPred, k) => {
      const l = computeLoss(c.losses[k]!, y[k]!, yPred, { mask: getMask(yPred), sampleWeight });
      if (outs.length > 1) parts.push(tf.keep(l));
      const w = c.lossWeights[k]!;
      const term = w === 1 ? l : tf.mul(l, w);
      total = total === null ? term : tf.add(total, term);
    });
    return total as unknown as tf.Scalar;
  }

  private updateMetrics(c: Compiled, y: tf.Tensor[], outs: tf.Tensor[], loss: number, parts: tf.Tensor[], batchSize: number, sampleWeight: tf.Tensor | null): void {
    // Keras weighs each batch's loss by its size.
    c.lossTracker.add(loss, batchSize);
    parts.forEach((p, k) => c.outputLossTrackers[k]!.add(p.dataSync()[0]!, batchSize));
    tf.tidy(() => {
      c.metrics.forEach((ms, k) => {
        for (const { metric, weighted } of ms) metric.updateState(y[k]!, outs[k]!, { mask: getMask(outs[k]!), sampleWeight: weighted ? sampleWeight : null });
      });
    });
  }

  /** One optimizer step on one batch; returns the batch loss. */
  private step(c: Compiled, b: Batch): number {
    // A Sequential without an input shape builds on its first call.
    if (!this.model.built) tf.dispose(this.forward(b.x, false));
    const weights = this.model.trainableWeights;
    if (weights.length === 0) {
      throw new MasqueError('INVALID_ARGUMENT', `fit: model '${this.model.name}' has no trainable weights.`);
    }
    let outs: tf.Tensor[] = [];
    const parts: tf.Tensor[] = [];
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      result = tf.variableGrads(() => {
        outs = this.forward(b.x, true).map((t) => tf.keep(t));
        return this.totalLoss(c, b.y, outs, b.sampleWeight, parts);
      }, weights.map((w) => w.variable));
    } catch (e) {
      tf.dispose([...outs, ...parts]);
      disposeAbandonedTape();
      throw e;
    }
    const { value, grads } = result;
    try {
      const loss = value.dataSync()[0]!;
      if (!Number.isFinite(loss)) {
        throw new MasqueError('INVALID_INPUT', `fit: the loss became ${loss} on a batch of ${b.size} samples; check the inputs and labels for NaN or out-of-range values, or lower the learning rate.`);
      }
      c.optimizer.applyGradients(weights.map((w) => ({ variable: w.variable, gradient: grads[w.variable.name] ?? null, path: w.path })));
      this.updateMetrics(c, b.y, outs, loss, parts, b.size, b.sampleWeight);
      return loss;
    } finally {
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      tf.dispose([...outs, ...parts]);
    }
  }

  private evalBatch(c: Compiled, b: Batch): void {
    const outs = this.forward(b.x, false);
    const parts: tf.Tensor[] = [];
    try {
      const loss = tf.tidy(() => this.totalLoss(c, b.y, outs, b.sampleWeight, parts));
      const v = loss.dataSync()[0]!;
      loss.dispose();
      this.updateMetrics(c, b.y, outs, v, parts, b.size, b.sampleWeight);
    } finally {
      tf.dispose([...outs, ...parts]);
    }
  }

  private weightTensor(sw: tf.Tensor | number[] | undefined, n: number, where: string): tf.Tensor | null {
    if (sw === undefined) return null;
    const t = sw instanceof tf.Tensor ? sw : tf.tensor1d(sw, 'float32');
    if (t.shape[0] !== n) {
      if (t !== sw) t.dispose();
      throw new MasqueError('INVALID_INPUT', `${where}: sampleWeight must have one value per sample (${n}); received ${formatShape(t.shape)}.`);
    }
    return t;
  }

  /** A source of batches for one pass. */
  private source(x: InputData | SequenceDataset, y: InputData | undefined, sw: tf.Tensor | number[] | undefined, where: string) {
    if (isSequenceDataset(x)) {
      if (y !== undefined) throw new MasqueError('INVALID_ARGUMENT', `${where}: a SequenceDataset carries its labels; do not pass y as well.`);
      if (sw !== undefined) throw new MasqueError('INVALID_ARGUMENT', `${where}: sampleWeight is not supported with a SequenceDataset.`);
      const ds = x;
      const lengths = datasetLengths(ds, where);
      if (lengths.length === 0) throw new MasqueError('INVALID_INPUT', `${where}: the dataset is empty (0 sequences).`);
      return {
        n: lengths.length,
        batches: (batchSize: number, shuffle: boolean, bucketing: boolean, rand: () => number) =>
          datasetBatches(ds, planOrder(lengths, batchSize, shuffle, bucketing, rand)),
        split: (frac: number) => {
          const cut = splitPoint(lengths.length, frac);
          const part = (a: number, b: number): SequenceDataset => ({ ...ds, sequences: ds.sequences.slice(a, b) as number[][], labels: ds.labels.slice(a, b) as number[] });
          return [part(0, cut), part(cut, lengths.length)] as const;
        },
        dispose: () => {},
        bucketingDefault: ds.bucketing ?? true,
      };
    }
    if (y === undefined) throw new MasqueError('INVALID_ARGUMENT', `${where}: pass targets y (or a SequenceDataset).`);
    const xs = this.model.toInputList(x, where);
    let ys: { tensors: tf.Tensor[]; owned: boolean[] };
    try {
      ys = toTensorList(y, Math.max(1, this.model.outputs.length), where, 'target');
    } catch (e) {
      xs.tensors.forEach((t, i) => xs.owned[i] && t.dispose());
      throw e;
    }
    const n = xs.tensors[0]!.shape[0]!;
    if (n === 0) {
      xs.tensors.forEach((t, i) => xs.owned[i] && t.dispose());
      ys.tensors.forEach((t, i) => ys.owned[i] && t.dispose());
      throw new MasqueError('INVALID_INPUT', `${where}: there are no samples (the inputs have 0 rows).`);
    }
    const bad = [...xs.tensors, ...ys.tensors].find((t) => t.shape[0] !== n);
    const disposeAll = () => {
      xs.tensors.forEach((t, i) => xs.owned[i] && t.dispose());
      ys.tensors.forEach((t, i) => ys.owned[i] && t.dispose());
    };
    if (bad !== undefined) {
      const shapes = [...xs.tensors, ...ys.tensors].map((t) => formatShape(t.shape)).join(', ');
      disposeAll();
      throw new MasqueError('INVALID_INPUT', `${where}: inputs and targets must have the same number of samples; received shapes ${shapes}.`);
    }
    let w: tf.Tensor | null;
    try {
      w = this.weightTensor(sw, n, where);
    } catch (e) {
      disposeAll();
      throw e;
    }
    const wOwned = w !== null && w !== sw;
    return {
      n,
      batches: (batchSize: number, shuffle: boolean, _bucketing: boolean, rand: () => number) =>
        tensorBatches(xs.tensors, ys.tensors, w, batchSize, shuffle ? shuffled(n, rand) : null),
      split: (frac: number) => splitPoint(n, frac),
      dispose: () => {
        disposeAll();
        if (wOwned) w!.dispose();
      },
      bucketingDefault: false,
      xs: xs.tensors,
      ys: ys.tensors,
      w,
    };
  }

  private static disposeBatch(b: Batch): void {
    b.x.forEach((t) => t.dispose());
    b.y.forEach((t) => t.dispose());
    b.sampleWeight?.dispose();
  }

  /** Loss (and metrics) on a dataset; the metrics' state is reset first. */
  private async runEvaluation(c: Compiled, x: InputData | SequenceDataset, y: InputData | undefined, batchSize: number, sw: tf.Tensor | number[] | undefined, where: string): Promise<Logs> {
    const src = this.source(x, y, sw, where);
    try {
      this.resetMetrics(c);
      for (const b of src.batches(batchSize, false, false, Math.random)) {
        try {
          this.evalBatch(c, b);
        } finally {
          Trainer.disposeBatch(b);
        }
      }
      return this.logs(c);
    } finally {
      src.dispose();
    }
  }

  async evaluate(x: InputData | SequenceDataset, y?: InputData, args: EvaluateArgs = {}): Promise<number | number[] | Logs> {
    const c = this.require('evaluate');
    const batchSize = args.batchSize ?? 32;
    if (!positiveInt(batchSize)) throw new MasqueError('INVALID_ARGUMENT', `evaluate: batchSize must be a positive integer; received ${describe(args.batchSize)}.`);
    const logs = await this.runEvaluation(c, x, y, batchSize, args.sampleWeight, 'evaluate');
    if (args.returnDict) return logs;
    const values = Object.values(logs);
    return values.length === 1 ? values[0]! : values;
  }

  async fit(x: InputData | SequenceDataset, y: InputData | undefined, args: FitArgs = {}): Promise<History> {
    const c = this.require('fit');
    const where = 'fit';
    const epochs = args.epochs ?? 1;
    const batchSize = args.batchSize ?? 32;
    const initialEpoch = args.initialEpoch ?? 0;
    if (!positiveInt(epochs)) throw new MasqueError('INVALID_ARGUMENT', `fit: epochs must be a positive integer; received ${describe(args.epochs)}.`);
    if (!positiveInt(batchSize)) throw new MasqueError('INVALID_ARGUMENT', `fit: batchSize must be a positive integer; received ${describe(args.batchSize)}.`);
    const split = args.validationSplit ?? 0;
    if (typeof split !== 'number' || !(split >= 0 && split < 1)) {
      throw new MasqueError('INVALID_ARGUMENT', `fit: validationSplit must be a number in [0, 1); received ${describe(args.validationSplit)}.`);
    }
    if (split > 0 && args.validationData !== undefined) {
      throw new MasqueError('INVALID_ARGUMENT', 'fit: pass either validationSplit or validationData, not both.');
    }
    const rand = mulberry32(args.seed ?? Math.floor(Math.random() * 2 ** 31));
    const shuffle = args.shuffle ?? true;
    const verbose = args.verbose ?? 1;

    // Training and validation sources.
    let train = this.source(x, y, args.sampleWeight, where);
    let val: { x: InputData | SequenceDataset; y: InputData | undefined; sw?: tf.Tensor | number[] } | null = null;
    const toDispose: tf.Tensor[] = [];
    if (split > 0) {
      if (isSequenceDataset(x)) {
        let parts: readonly [SequenceDataset, SequenceDataset];
        try {
          parts = train.split(split) as readonly [SequenceDataset, SequenceDataset];
        } finally {
          train.dispose();
        }
        const [a, b] = parts;
        train = this.source(a, undefined, undefined, where);
        val = { x: b, y: undefined };
      } else {
        const t = train as ReturnType<Trainer['source']> & { xs: tf.Tensor[]; ys: tf.Tensor[]; w: tf.Tensor | null };
        let nTrain: number;
        try {
          nTrain = t.split(split) as number;
        } catch (e) {
          t.dispose();
          throw e;
        }
        const nVal = t.n - nTrain;
        // Rows are sliced with their masks (sliceRows), and the sample weights are split too.
        const head = (u: tf.Tensor) => sliceRows(u, 0, nTrain);
        const tail = (u: tf.Tensor) => sliceRows(u, nTrain, nVal);
        const xa = t.xs.map(head), xb = t.xs.map(tail), ya = t.ys.map(head), yb = t.ys.map(tail);
        const wa = t.w ? head(t.w) : undefined;
        const wb = t.w ? tail(t.w) : undefined;
        toDispose.push(...xa, ...xb, ...ya, ...yb, ...(wa ? [wa] : []), ...(wb ? [wb] : []));
        t.dispose();
        const one = (l: tf.Tensor[]) => (l.length === 1 ? l[0]! : l);
        train = this.source(one(xa) as InputData, one(ya) as InputData, wa, where);
        val = { x: one(xb) as InputData, y: one(yb) as InputData, sw: wb };
      }
    } else if (args.validationData !== undefined) {
      const vd = args.validationData;
      if (!isSequenceDataset(vd) && !(Array.isArray(vd) && (vd.length === 2 || vd.length === 3))) {
        train.dispose();
        throw new MasqueError('INVALID_ARGUMENT', `fit: validationData must be [x, y], [x, y, sampleWeight] or a SequenceDataset; received ${describe(vd)}.`);
      }
      val = isSequenceDataset(vd) ? { x: vd, y: undefined } : { x: vd[0], y: vd[1], sw: vd[2] as tf.Tensor | number[] | undefined };
    }
    const bucketing = args.bucketing ?? train.bucketingDefault;
    const steps = Math.ceil(train.n / batchSize);

    const history = new History();
    // Keras's order: the user's callbacks, then History, then the progress bar,
    // so History records what callbacks add to the logs (e.g. learning_rate).
    const list = new CallbackList([...(args.callbacks ?? []), history]);
    if (verbose !== 0) list.append(new ProgbarLogger(verbose === 2 ? { isTTY: false } : {}));
    list.setModel(this.model);
    list.setParams({ epochs, steps, verbose });
    this.model.stopTraining = false;
    let lastLogs: Logs = {};
    try {
      await list.onTrainBegin();
      for (let epoch = initialEpoch; epoch < epochs; epoch++) {
        this.resetMetrics(c);
        await list.onEpochBegin(epoch);
        let i = 0;
        for (const b of train.batches(batchSize, shuffle, bucketing, rand)) {
          try {
            await list.onBatchBegin(i, { size: b.size });
            this.step(c, b);
          } finally {
            Trainer.disposeBatch(b);
          }
          await list.onBatchEnd(i, this.logs(c));
          i++;
          if (this.model.stopTraining) break;
        }
        const logs = this.logs(c);
        if (val !== null) {
          const v = await this.runEvaluation(c, val.x, val.y, batchSize, val.sw, 'fit (validation)');
          for (const [k, value] of Object.entries(v)) logs[`val_${k}`] = value;
        }
        await list.onEpochEnd(epoch, logs);
        lastLogs = logs;
        if (this.model.stopTraining) break;
      }
      await list.onTrainEnd(lastLogs);
    } finally {
      train.dispose();
      toDispose.forEach((t) => t.dispose());
    }
    return history;
  }

  /** One optimizer step on one batch; returns the loss, or [loss, ...metrics] with metrics. Metrics are reset first, as in Keras. */
  trainOnBatch(x: InputData, y: InputData, options: { sampleWeight?: tf.Tensor | number[] } = {}): number | number[] {
    const c = this.require('trainOnBatch');
    const src = this.source(x, y, options.sampleWeight, 'trainOnBatch');
    try {
      this.resetMetrics(c);
      for (const b of src.batches(src.n, false, false, Math.random)) {
        try {
          this.step(c, b);
        } finally {
          Trainer.disposeBatch(b);
        }
      }
      const values = Object.values(this.logs(c));
      return values.length === 1 ? values[0]! : values;
    } finally {
      src.dispose();
    }
  }
}
