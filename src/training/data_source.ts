/**
 * Where the batches of one `fit`/`evaluate` call come from: a tagged union
 *
 *   { kind: 'tensors' }    inputs, targets and sample weights as tensors
 *                          (the ones made here from nested arrays are owned
 *                          and freed by `dispose()`);
 *   { kind: 'sequences' }  a SequenceDataset, checked whole when the source
 *                          is made, padded per batch.
 *
 * Both kinds give `batches()` for one pass, `split(frac)` into the training
 * and validation parts (Keras: the first floor(n·(1 − frac)) samples train),
 * and `dispose()`. Every row of a batch knows its sample index in the data the
 * user passed, so errors can name it.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { sliceRows, toTensorList, type InputData } from '../data/input_data.js';
import { DisposeScope, building } from './dispose_scope.js';
import { datasetBatches, isSequenceDataset, planOrder, shuffled, tensorBatches, type Batch, type SequenceDataset } from './data_adapter.js';
import { checkDataset } from './dataset_check.js';

/** How one pass cuts its batches. */
export interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  /** Sort by length within pools of batches (sequences only). */
  bucketing: boolean;
  rand: () => number;
}

/** Per-sample weights as the user passes them. */
export type SampleWeightData = tf.Tensor | number[];

/** What making a source needs from the model: its input conversion and its output count. */
export interface SourceModel {
  toInputList(x: InputData, where: string): { tensors: tf.Tensor[]; owned: boolean[] };
  readonly outputCount: number;
}

/** Keras's split: the first floor(n·(1 − frac)) samples train, the rest validate; both parts must be non-empty. */
export function splitPoint(n: number, frac: number, where: string): number {
  const nTrain = Math.floor(n * (1 - frac));
  if (nTrain === 0 || nTrain === n) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: validationSplit ${frac} of ${n} samples leaves ${nTrain} for training and ${n - nTrain} for validation; both must be at least 1.`);
  }
  return nTrain;
}

/** In-memory tensors; `offset` is the user's sample index of row 0 (non-zero for the validation part of a split). */
export class TensorSource {
  readonly kind = 'tensors';
  readonly bucketingDefault = false;
  readonly n: number;

  constructor(
    readonly xs: tf.Tensor[],
    readonly ys: tf.Tensor[],
    readonly weights: tf.Tensor | null,
    private readonly owned: DisposeScope,
    readonly offset = 0,
  ) {
    this.n = xs[0]!.shape[0]!;
  }

  batches(o: BatchOptions): Generator<Batch> {
    return tensorBatches(this.xs, this.ys, this.weights, o.batchSize, o.shuffle ? shuffled(this.n, o.rand) : null, this.offset);
  }

  /** The first floor(n·(1 − frac)) rows and the rest (with their masks and sample weights); each part owns its slices. */
  split(frac: number, where: string): [TensorSource, TensorSource] {
    const cut = splitPoint(this.n, frac, where);
    const part = (start: number, size: number) =>
      building((scope) => {
        const rows = (t: tf.Tensor) => scope.track(sliceRows(t, start, size));
        return new TensorSource(this.xs.map(rows), this.ys.map(rows), this.weights && rows(this.weights), scope, this.offset + start);
      });
    const train = part(0, cut);
    try {
      return [train, part(cut, this.n - cut)];
    } catch (e) {
      train.dispose();
      throw e;
    }
  }

  dispose(): void {
    this.owned.dispose();
  }
}

/** A variable-length dataset (checked whole), padded per batch. */
export class SequenceSource {
  readonly kind = 'sequences';
  readonly n: number;

  constructor(
    readonly dataset: SequenceDataset,
    private readonly lengths: number[],
    /** Whether the labels are per step (as checkDataset decided). */
    readonly perStep: boolean,
    readonly offset = 0,
  ) {
    this.n = lengths.length;
  }

  get bucketingDefault(): boolean {
    return this.dataset.bucketing ?? true;
  }

  batches(o: BatchOptions): Generator<Batch> {
    return datasetBatches(this.dataset, planOrder(this.lengths, o.batchSize, o.shuffle, o.bucketing, o.rand), this.perStep, this.offset);
  }

  split(frac: number, where: string): [SequenceSource, SequenceSource] {
    const cut = splitPoint(this.n, frac, where);
    const ds = this.dataset;
    const part = (a: number, b: number) =>
      new SequenceSource({ ...ds, sequences: ds.sequences.slice(a, b) as SequenceDataset['sequences'], labels: ds.labels.slice(a, b) as SequenceDataset['labels'] }, this.lengths.slice(a, b), this.perStep, this.offset + a);
    return [part(0, cut), part(cut, this.n)];
  }

  dispose(): void {}
}

export type DataSource = TensorSource | SequenceSource;

/** The batches' source for `x` (tensors, nested arrays or a SequenceDataset), targets `y` and per-sample weights. */
export function makeSource(model: SourceModel, x: InputData | SequenceDataset, y: InputData | undefined, sampleWeight: SampleWeightData | undefined, where: string): DataSource {
  if (isSequenceDataset(x)) {
    if (y !== undefined) throw new MasqueError('INVALID_ARGUMENT', `${where}: a SequenceDataset carries its labels; do not pass y as well.`);
    if (sampleWeight !== undefined) throw new MasqueError('INVALID_ARGUMENT', `${where}: sampleWeight is not supported with a SequenceDataset.`);
    const { lengths, perStep } = checkDataset(x, where);
    if (lengths.length === 0) throw new MasqueError('INVALID_INPUT', `${where}: the dataset is empty (0 sequences).`);
    return new SequenceSource(x, lengths, perStep);
  }
  if (y === undefined) throw new MasqueError('INVALID_ARGUMENT', `${where}: pass targets y (or a SequenceDataset).`);
  return building((scope) => {
    const inputs = model.toInputList(x, where);
    const xs = scope.own(inputs.tensors, inputs.owned);
    const targets = toTensorList(y, model.outputCount, where, 'target');
    const ys = scope.own(targets.tensors, targets.owned);
    const n = xs[0]!.shape[0]!;
    if (n === 0) throw new MasqueError('INVALID_INPUT', `${where}: there are no samples (the inputs have 0 rows).`);
    if ([...xs, ...ys].some((t) => t.shape[0] !== n)) {
      const shapes = [...xs, ...ys].map((t) => formatShape(t.shape)).join(', ');
      throw new MasqueError('INVALID_INPUT', `${where}: inputs and targets must have the same number of samples; received shapes ${shapes}.`);
    }
    return new TensorSource(xs, ys, weightTensor(sampleWeight, n, where, scope), scope);
  });
}

/** Sample weights as a `[n]` tensor (made ones are tracked by `scope`); a list must hold finite numbers. */
function weightTensor(sw: SampleWeightData | undefined, n: number, where: string, scope: DisposeScope): tf.Tensor | null {
  if (sw === undefined) return null;
  if (!(sw instanceof tf.Tensor)) {
    if (!Array.isArray(sw)) throw new MasqueError('INVALID_ARGUMENT', `${where}: sampleWeight must be a tensor or a list of numbers; received ${describe(sw)}.`);
    const bad = sw.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (bad >= 0) throw new MasqueError('INVALID_INPUT', `${where}: sampleWeight of sample ${bad} must be a finite number; received ${describe(sw[bad])}.`);
  }
  const t = sw instanceof tf.Tensor ? sw : scope.track(tf.tensor1d(sw, 'float32'));
  if (t.shape[0] !== n) {
    throw new MasqueError('INVALID_INPUT', `${where}: sampleWeight must have one value per sample (${n}); received ${formatShape(t.shape)}.`);
  }
  return t;
}
