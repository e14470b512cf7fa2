/**
 * The options of `fit`, `evaluate` and `trainOnBatch`, checked at the door:
 * counts are integers in range, fractions are in range, flags are booleans,
 * and an unknown key (a typo, or a snake_case Keras name) is an error with a
 * "did you mean" rather than a silently ignored setting.
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import type { InputData } from '../data/input_data.js';
import type { Callback } from './callbacks.js';
import { toCallbacks, type CallbackLike } from './custom_callback.js';
import type { SequenceDataset } from './data_adapter.js';
import { checkKeys } from '../option_keys.js';
import { checkClassWeight, type ClassWeight } from './class_weight.js';

export interface FitArgs {
  /** Index of the last epoch + 1, as in Keras (with `initialEpoch`, the epochs run are initialEpoch..epochs-1). Default 1. */
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
  /**
   * Weights by class, `{ 0: 1, 1: 5 }` (Keras's class_weight): each training
   * target weighs the weight of its class (per step for per-step targets;
   * masked steps stay 0). One model output only; not with sampleWeight.
   */
  classWeight?: ClassWeight;
  /** Seed for shuffling (an integer); fixed seeds give the same batches. Default: random. */
  seed?: number;
  /** Epoch to start counting from (for resumed training); less than `epochs`. */
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
  /** As fit's classWeight. */
  classWeight?: ClassWeight;
  /** Return `{ loss, <metric>: value }` instead of a number or a list. */
  returnDict?: boolean;
}

export interface TestOnBatchArgs {
  sampleWeight?: tf.Tensor | number[];
  /** Return `{ loss, <metric>: value }` instead of a number or a list. */
  returnDict?: boolean;
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
  classWeight: Map<number, number> | null;
  seed: number;
  bucketing: boolean | undefined;
}

const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'callbacks', 'verbose', 'sampleWeight', 'classWeight', 'seed', 'initialEpoch', 'bucketing'] as const;
const EVALUATE_KEYS = ['batchSize', 'verbose', 'sampleWeight', 'returnDict'] as const;
const TRAIN_ON_BATCH_KEYS = ['sampleWeight', 'classWeight', 'returnDict'] as const;
const TEST_ON_BATCH_KEYS = ['sampleWeight', 'returnDict'] as const;

function integer(where: string, key: string, v: unknown, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: ${key} must be ${min === 1 ? 'a positive integer' : `an integer >= ${min}`}; received ${describe(v)}.`);
  }
  return v;
}

function flag(where: string, key: string, v: unknown, fallback: boolean): boolean;
function flag(where: string, key: string, v: unknown, fallback: undefined): boolean | undefined;
function flag(where: string, key: string, v: unknown, fallback: boolean | undefined): boolean | undefined {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new MasqueError('INVALID_ARGUMENT', `${where}: ${key} must be true or false; received ${describe(v)}.`);
  return v;
}

function verbosity(where: string, v: unknown): 0 | 1 | 2 {
  if (v === undefined) return 1;
  if (v !== 0 && v !== 1 && v !== 2) throw new MasqueError('INVALID_ARGUMENT', `${where}: verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch); received ${describe(v)}.`);
  return v;
}

export function checkFitArgs(args: unknown): FitPlan {
  const where = 'fit';
  const a = checkKeys(args, FIT_KEYS, where);
  const epochs = integer(where, 'epochs', a['epochs'], 1, 1);
  const initialEpoch = integer(where, 'initialEpoch', a['initialEpoch'], 0, 0);
  if (initialEpoch >= epochs) {
    throw new MasqueError(
      'INVALID_ARGUMENT',
      `${where}: initialEpoch (${initialEpoch}) must be less than epochs (${epochs}): as in Keras, epochs is the index of the last epoch + 1, so resuming after epoch ${initialEpoch} for 3 more epochs is { initialEpoch: ${initialEpoch}, epochs: ${initialEpoch + 3} }.`,
    );
  }
  const split = a['validationSplit'] ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: validationSplit must be a number in [0, 1); received ${describe(a['validationSplit'])}.`);
  }
  if (split > 0 && a['validationData'] !== undefined) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: pass either validationSplit or validationData, not both.`);
  }
  if (a['classWeight'] !== undefined && a['sampleWeight'] !== undefined) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: pass either classWeight or sampleWeight, not both (as in Keras); to combine them, multiply the class weights into the sample weights.`);
  }
  const seed = a['seed'];
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: seed must be an integer; received ${describe(seed)}.`);
  }
  return {
    epochs,
    batchSize: integer(where, 'batchSize', a['batchSize'], 32, 1),
    initialEpoch,
    shuffle: flag(where, 'shuffle', a['shuffle'], true),
    validationSplit: split,
    validationData: a['validationData'] as FitArgs['validationData'],
    callbacks: toCallbacks(a['callbacks'], where),
    verbose: verbosity(where, a['verbose']),
    sampleWeight: a['sampleWeight'] as FitArgs['sampleWeight'],
    classWeight: a['classWeight'] === undefined ? null : checkClassWeight(a['classWeight'], where),
    seed: seed ?? Math.floor(Math.random() * 2 ** 31),
    bucketing: flag(where, 'bucketing', a['bucketing'], undefined),
  };
}

export function checkEvaluateArgs(args: unknown): Required<Omit<EvaluateArgs, 'sampleWeight'>> & Pick<EvaluateArgs, 'sampleWeight'> {
  const where = 'evaluate';
  const a = checkKeys(args, EVALUATE_KEYS, where);
  return {
    batchSize: integer(where, 'batchSize', a['batchSize'], 32, 1),
    verbose: verbosity(where, a['verbose']),
    sampleWeight: a['sampleWeight'] as EvaluateArgs['sampleWeight'],
    returnDict: flag(where, 'returnDict', a['returnDict'], false),
  };
}

export function checkTestOnBatchArgs(args: unknown): { sampleWeight: TestOnBatchArgs['sampleWeight']; returnDict: boolean } {
  const where = 'testOnBatch';
  const a = checkKeys(args, TEST_ON_BATCH_KEYS, where);
  return { sampleWeight: a['sampleWeight'] as TestOnBatchArgs['sampleWeight'], returnDict: flag(where, 'returnDict', a['returnDict'], false) };
}

export function checkTrainOnBatchArgs(args: unknown): { sampleWeight: TrainOnBatchArgs['sampleWeight']; classWeight: Map<number, number> | null; returnDict: boolean } {
  const where = 'trainOnBatch';
  const a = checkKeys(args, TRAIN_ON_BATCH_KEYS, where);
  if (a['classWeight'] !== undefined && a['sampleWeight'] !== undefined) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: pass either classWeight or sampleWeight, not both (as in Keras).`);
  }
  return {
    sampleWeight: a['sampleWeight'] as TrainOnBatchArgs['sampleWeight'],
    classWeight: a['classWeight'] === undefined ? null : checkClassWeight(a['classWeight'], where),
    returnDict: flag(where, 'returnDict', a['returnDict'], false),
  };
}
