/**
 * The options of `fit`, `evaluate` and `trainOnBatch`, with their defaults
 * filled in and checked.
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import type { InputData } from '../data/input_data.js';
import type { Callback } from './callbacks.js';
import { toCallbacks, type CallbackLike } from './custom_callback.js';
import type { SequenceDataset } from './data_adapter.js';

export interface FitArgs {
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the training samples each epoch (default true). */
  shuffle?: boolean;
  /** Fraction of the samples, taken from the end before shuffling, held out for validation: as Keras, the first floor(n·(1 − split)) samples train. */
  validationSplit?: number;
  /** Validation data: `[x, y]`, `[x, y, sampleWeight]` or a SequenceDataset. */
  validationData?: [InputData, InputData] | [InputData, InputData, tf.Tensor | number[]] | SequenceDataset;
  /** Callback objects, or plain objects with hook methods (`{ onEpochEnd(epoch, logs) {...} }`); one or a list. */
  callbacks?: CallbackLike | CallbackLike[];
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

export interface TrainOnBatchArgs {
  sampleWeight?: tf.Tensor | number[];
}

/** FitArgs with every default filled in and every value checked. */
export interface FitPlan {
  epochs: number;
  batchSize: number;
  initialEpoch: number;
  shuffle: boolean;
  validationSplit: number;
  validationData: FitArgs['validationData'];
  callbacks: Callback[];
  verbose: 0 | 1 | 2;
  sampleWeight: FitArgs['sampleWeight'];
  seed: number;
  bucketing: boolean | undefined;
}

function positiveInt(where: string, key: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: ${key} must be a positive integer; received ${describe(v)}.`);
  }
  return v;
}

export function checkFitArgs(args: FitArgs): FitPlan {
  const where = 'fit';
  const split = args.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: validationSplit must be a number in [0, 1); received ${describe(args.validationSplit)}.`);
  }
  if (split > 0 && args.validationData !== undefined) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: pass either validationSplit or validationData, not both.`);
  }
  return {
    epochs: positiveInt(where, 'epochs', args.epochs, 1),
    batchSize: positiveInt(where, 'batchSize', args.batchSize, 32),
    initialEpoch: args.initialEpoch ?? 0,
    shuffle: args.shuffle ?? true,
    validationSplit: split,
    validationData: args.validationData,
    callbacks: toCallbacks(args.callbacks, where),
    verbose: args.verbose ?? 1,
    sampleWeight: args.sampleWeight,
    seed: args.seed ?? Math.floor(Math.random() * 2 ** 31),
    bucketing: args.bucketing,
  };
}

export function checkEvaluateArgs(args: EvaluateArgs): Required<Omit<EvaluateArgs, 'sampleWeight'>> & Pick<EvaluateArgs, 'sampleWeight'> {
  return {
    batchSize: positiveInt('evaluate', 'batchSize', args.batchSize, 32),
    verbose: args.verbose ?? 1,
    sampleWeight: args.sampleWeight,
    returnDict: args.returnDict ?? false,
  };
}

export function checkTrainOnBatchArgs(args: TrainOnBatchArgs): TrainOnBatchArgs {
  return { sampleWeight: args.sampleWeight };
}
