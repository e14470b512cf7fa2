/**
 * Keras's loss classes (keras/src/losses/losses.py): `new
 * SparseCategoricalCrossentropy({ fromLogits: true })`, `new Huber({ delta
 * })`, `new BinaryCrossentropy({ labelSmoothing })`, ... Each holds its
 * options, a `name` and a `reduction`, and gives
 * - `call(yTrue, yPred)`: the per-element losses (Keras's `Loss.call`);
 * - `apply(yTrue, yPred, { sampleWeight, mask })`: the reduced loss (Keras's
 *   `loss(y_true, y_pred, sample_weight)`); the mask defaults to yPred's, as
 *   Keras reads `_keras_mask`.
 * `compile({ loss })`, `getLoss` and `computeLoss` take these objects
 * wherever they take a loss name; compile uses the object's reduction.
 * Options are checked: an unknown or snake_case key raises INVALID_ARGUMENT
 * with the camelCase name to use.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { getMask } from '../engine/masks.js';
import { checkKeys } from '../option_keys.js';
import { ctcLoss } from './ctc.js';
import { categoricalGeneralizedCrossEntropy, circle, circleLossMask, dice, tversky, type CircleOptions } from './losses_extra.js';
import {
  binaryCrossentropy,
  binaryFocalCrossentropy,
  checkLossTensors,
  categoricalFocalCrossentropy,
  categoricalCrossentropy,
  categoricalHinge,
  computeLoss,
  cosineSimilarity,
  hinge,
  huber,
  klDivergence,
  logCosh,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  meanSquaredLogarithmicError,
  poisson,
  sparseCategoricalCrossentropy,
  squaredHinge,
  type LossObject,
  type Reduction,
} from './losses.js';

/** Options every loss class takes. */
export interface LossArgs {
  /** Default: Keras's name for the class ('mean_squared_error', 'huber_loss', ...). */
  name?: string;
  /** 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight' or 'none'. */
  reduction?: Reduction;
}

const REDUCTIONS: readonly Reduction[] = ['sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none'];

/** Base class of the loss classes; subclass it (override `call`) for a custom loss object. */
export abstract class Loss implements LossObject {
  readonly name: string;
  readonly reduction: Reduction;

  /** `keys` are the subclass's own option names (besides name and reduction); `who` names the class in errors. */
  constructor(args: LossArgs | undefined, defaultName: string, who: string, keys: readonly string[] = []) {
    args ??= {}; // null means no options, as checkKeys reads it
    const a = checkKeys(args, ['name', 'reduction', ...keys], who);
    const name = a['name'] ?? defaultName;
    if (typeof name !== 'string' || name === '') throw new MasqueError('INVALID_ARGUMENT', `${who}: name must be a non-empty string; received ${describe(name)}.`);
    const reduction = a['reduction'] ?? 'sum_over_batch_size';
    if (!REDUCTIONS.includes(reduction as Reduction)) {
      throw new MasqueError('INVALID_ARGUMENT', `${who}: reduction must be one of ${REDUCTIONS.map((r) => `'${r}'`).join(', ')}; received ${describe(reduction)}.`);
    }
    this.name = name;
    this.reduction = reduction as Reduction;
  }

  /** The per-element losses (the last axis reduced, as the Keras function does). */
  abstract call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;

  /** The loss reduced with `reduction`, weighted by `sampleWeight` and by `mask` (default: the mask attached to yPred). */
  apply(yTrue: tf.Tensor, yPred: tf.Tensor, options: { sampleWeight?: tf.Tensor | null; mask?: tf.Tensor | null } = {}): tf.Tensor {
    const o = checkKeys(options, ['sampleWeight', 'mask'], `${this.name}.apply`) as { sampleWeight?: tf.Tensor | null; mask?: tf.Tensor | null };
    // Checked before yPred's mask is read: anything but tensors is a coded error, not a TypeError.
    checkLossTensors(`${this.name}.apply`, yTrue, yPred);
    return computeLoss(this, yTrue, yPred, { sampleWeight: o.sampleWeight ?? null, mask: o.mask === undefined ? getMask(yPred) : o.mask, reduction: this.reduction });
  }

  /** The options (camelCase), as Keras's get_config. */
  getConfig(): Record<string, unknown> {
    return { name: this.name, reduction: this.reduction };
  }
}

function checkFlag(who: string, key: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new MasqueError('INVALID_ARGUMENT', `${who}: ${key} must be true or false; received ${describe(v)}.`);
  return v;
}

function checkNumber(who: string, key: string, v: unknown, fallback: number, ok: (x: number) => boolean, expected: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new MasqueError('INVALID_ARGUMENT', `${who}: ${key} must be ${expected}; received ${describe(v)}.`);
  return v;
}

/** mean((yTrue - yPred)², axis=-1). */
export class MeanSquaredError extends Loss {
  constructor(args: LossArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'mean_squared_error', 'MeanSquaredError');
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return meanSquaredError(yTrue, yPred);
  }
}

/** mean(|yTrue - yPred|, axis=-1). */
export class MeanAbsoluteError extends Loss {
  constructor(args: LossArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'mean_absolute_error', 'MeanAbsoluteError');
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return meanAbsoluteError(yTrue, yPred);
  }
}

export interface CrossentropyArgs extends LossArgs {
  /** True when yPred holds logits (default false). */
  fromLogits?: boolean;
  /** In [0, 1]; default 0. */
  labelSmoothing?: number;
}

/** Binary crossentropy (see `binaryCrossentropy`), with `fromLogits` and `labelSmoothing`. */
export class BinaryCrossentropy extends Loss {
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  constructor(args: CrossentropyArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'binary_crossentropy', 'BinaryCrossentropy', ['fromLogits', 'labelSmoothing']);
    this.fromLogits = checkFlag('BinaryCrossentropy', 'fromLogits', args.fromLogits);
    this.labelSmoothing = checkNumber('BinaryCrossentropy', 'labelSmoothing', args.labelSmoothing, 0, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return binaryCrossentropy(yTrue, yPred, { fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing });
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing };
  }
}

/** Categorical crossentropy over one-hot (or soft) targets, with `fromLogits` and `labelSmoothing`. */
export class CategoricalCrossentropy extends Loss {
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  constructor(args: CrossentropyArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'categorical_crossentropy', 'CategoricalCrossentropy', ['fromLogits', 'labelSmoothing']);
    this.fromLogits = checkFlag('CategoricalCrossentropy', 'fromLogits', args.fromLogits);
    this.labelSmoothing = checkNumber('CategoricalCrossentropy', 'labelSmoothing', args.labelSmoothing, 0, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return categoricalCrossentropy(yTrue, yPred, { fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing });
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing };
  }
}

/** Sparse categorical crossentropy over integer class ids, with `fromLogits`. (Keras's `ignoreClass` is not supported: mask the steps instead.) */
export class SparseCategoricalCrossentropy extends Loss {
  readonly fromLogits: boolean;
  constructor(args: Omit<CrossentropyArgs, 'labelSmoothing'> = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'sparse_categorical_crossentropy', 'SparseCategoricalCrossentropy', ['fromLogits']);
    this.fromLogits = checkFlag('SparseCategoricalCrossentropy', 'fromLogits', args.fromLogits);
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return sparseCategoricalCrossentropy(yTrue, yPred, { fromLogits: this.fromLogits });
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), fromLogits: this.fromLogits };
  }
}

export interface HuberArgs extends LossArgs {
  /** Where the loss turns from quadratic to linear (> 0; default 1). */
  delta?: number;
}

/** Huber: quadratic for errors up to `delta`, linear beyond (Keras name 'huber_loss'). */
export class Huber extends Loss {
  readonly delta: number;
  constructor(args: HuberArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'huber_loss', 'Huber', ['delta']);
    this.delta = checkNumber('Huber', 'delta', args.delta, 1, (x) => x > 0, 'a number > 0');
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return huber(yTrue, yPred, this.delta);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), delta: this.delta };
  }
}

/** log(cosh(yPred - yTrue)), mean over the last axis. */
export class LogCosh extends Loss {
  constructor(args: LossArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'log_cosh', 'LogCosh');
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return logCosh(yTrue, yPred);
  }
}

/** A Keras loss class that is one loss function and takes no options of its own. */
function functionLoss(className: string, defaultName: string, fn: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor): new (args?: LossArgs) => Loss {
  const cls = class extends Loss {
    constructor(args: LossArgs = {}) {
      super(args ?? {}, defaultName, className); // null means no options
    }
    call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
      return fn(yTrue, yPred);
    }
  };
  Object.defineProperty(cls, 'name', { value: className });
  return cls;
}

/** 100 · mean(|yTrue - yPred| / max(|yTrue|, 1e-7)) over the last axis. */
export const MeanAbsolutePercentageError = functionLoss('MeanAbsolutePercentageError', 'mean_absolute_percentage_error', meanAbsolutePercentageError);
/** mean((log(yPred + 1) - log(yTrue + 1))²) over the last axis (both at least 1e-7). */
export const MeanSquaredLogarithmicError = functionLoss('MeanSquaredLogarithmicError', 'mean_squared_logarithmic_error', meanSquaredLogarithmicError);
/** mean(max(1 - yTrue · yPred, 0)) over the last axis; 0/1 labels are taken as -1/1. */
export const Hinge = functionLoss('Hinge', 'hinge', hinge);
/** mean(max(1 - yTrue · yPred, 0)²) over the last axis; 0/1 labels are taken as -1/1. */
export const SquaredHinge = functionLoss('SquaredHinge', 'squared_hinge', squaredHinge);
/** max(max((1 - yTrue) · yPred) - sum(yTrue · yPred) + 1, 0) over the last axis. */
export const CategoricalHinge = functionLoss('CategoricalHinge', 'categorical_hinge', categoricalHinge);
/** sum(yTrue · log(yTrue / yPred)) over the last axis, both clipped to [1e-7, 1]. */
export const KLDivergence = functionLoss('KLDivergence', 'kl_divergence', klDivergence);
/** mean(yPred - yTrue · log(yPred + 1e-7)) over the last axis. */
export const Poisson = functionLoss('Poisson', 'poisson', poisson);

export interface CosineSimilarityArgs extends LossArgs {
  /** The axis along which the vectors are compared (default -1). */
  axis?: number;
}

/** The negative cosine similarity of yTrue and yPred along `axis`: -1 when they point the same way. */
export class CosineSimilarity extends Loss {
  readonly axis: number;
  constructor(args: CosineSimilarityArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'cosine_similarity', 'CosineSimilarity', ['axis']);
    this.axis = checkNumber('CosineSimilarity', 'axis', args.axis, -1, (x) => Number.isInteger(x), 'an integer');
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.neg(cosineSimilarity(yTrue, yPred, this.axis)));
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

/**
 * Keras's CTC loss: label ids [batch, maxLabels] (0 is the blank and the
 * padding) against logits [batch, frames, classes], one value per row. The
 * frames of a row are its valid steps (the mask of yPred): a departure from
 * Keras, which counts the padded frames too (ctc.ts).
 */
export class CTC extends Loss {
  constructor(args: LossArgs = {}) {
    super(args ?? {}, 'ctc', 'CTC'); // null means no options
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return ctcLoss(yTrue, yPred);
  }
  withStepMask(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return ctcLoss(yTrue, yPred, mask);
  }
}

export interface FocalArgs extends CrossentropyArgs {
  /** Default 0.25. */
  alpha?: number;
  /** The focusing power (>= 0; default 2). */
  gamma?: number;
}

/** Reads the focal options every focal loss takes. */
function focalOptions(who: string, args: FocalArgs): Required<Pick<FocalArgs, 'alpha' | 'gamma' | 'fromLogits' | 'labelSmoothing'>> {
  return {
    alpha: checkNumber(who, 'alpha', args.alpha, 0.25, () => true, 'a number'),
    gamma: checkNumber(who, 'gamma', args.gamma, 2, (x) => x >= 0, 'a number >= 0'),
    fromLogits: checkFlag(who, 'fromLogits', args.fromLogits),
    labelSmoothing: checkNumber(who, 'labelSmoothing', args.labelSmoothing, 0, (x) => x >= 0 && x <= 1, 'a number in [0, 1]'),
  };
}

/** Keras's BinaryFocalCrossentropy: binary crossentropy down-weighted by (1 - p_t)^gamma, optionally class-balanced by alpha. */
export class BinaryFocalCrossentropy extends Loss {
  readonly options: ReturnType<typeof focalOptions> & { applyClassBalancing: boolean };
  constructor(args: FocalArgs & { applyClassBalancing?: boolean } = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'binary_focal_crossentropy', 'BinaryFocalCrossentropy', ['applyClassBalancing', 'alpha', 'gamma', 'fromLogits', 'labelSmoothing']);
    this.options = { ...focalOptions('BinaryFocalCrossentropy', args), applyClassBalancing: checkFlag('BinaryFocalCrossentropy', 'applyClassBalancing', args.applyClassBalancing) };
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return binaryFocalCrossentropy(yTrue, yPred, this.options);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...this.options };
  }
}

/** Keras's CategoricalFocalCrossentropy: alpha · (1 - p)^gamma times the categorical crossentropy of each class. */
export class CategoricalFocalCrossentropy extends Loss {
  readonly options: ReturnType<typeof focalOptions>;
  constructor(args: FocalArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'categorical_focal_crossentropy', 'CategoricalFocalCrossentropy', ['alpha', 'gamma', 'fromLogits', 'labelSmoothing']);
    this.options = focalOptions('CategoricalFocalCrossentropy', args);
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return categoricalFocalCrossentropy(yTrue, yPred, this.options);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...this.options };
  }
}

/** Reads Dice's and Tversky's `axis`: null (every axis), an integer or a list of integers. */
function checkAxes(who: string, v: unknown): number | number[] | null {
  if (v === undefined || v === null) return null;
  const ok = (x: unknown) => typeof x === 'number' && Number.isInteger(x);
  if (ok(v)) return v as number;
  if (Array.isArray(v) && v.length > 0 && v.every(ok)) return [...(v as number[])];
  throw new MasqueError('INVALID_ARGUMENT', `${who}: axis must be null (every axis), an integer or a non-empty list of integers; received ${describe(v)}.`);
}

export interface DiceArgs extends LossArgs {
  /** The axes the sums run over (default null: every axis, one value for the batch; [1, 2] gives one value per sequence of [batch, time, classes]). */
  axis?: number | number[] | null;
}

/**
 * Keras's Dice loss, 1 - 2·sum(yTrue·yPred) / (sum(yTrue) + sum(yPred) + ε)
 * over `axis`. A mask on yPred is read inside the sums, so padded steps take
 * no part (Keras sums over them: departure 26).
 */
export class Dice extends Loss {
  readonly axis: number | number[] | null;
  constructor(args: DiceArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'dice', 'Dice', ['axis']);
    this.axis = checkAxes('Dice', args.axis);
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return dice(yTrue, yPred, this.axis);
  }
  withStepMask(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return dice(yTrue, yPred, this.axis, mask);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

export interface TverskyArgs extends DiceArgs {
  /** The weight of false positives (default 0.5). */
  alpha?: number;
  /** The weight of false negatives (default 0.5). */
  beta?: number;
}

/** Keras's Tversky loss, 1 - TP / (TP + α·FP + β·FN + ε) over `axis`; a mask on yPred is read inside the sums (departure 26). α = β = 0.5 is Dice. */
export class Tversky extends Loss {
  readonly alpha: number;
  readonly beta: number;
  readonly axis: number | number[] | null;
  constructor(args: TverskyArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'tversky', 'Tversky', ['alpha', 'beta', 'axis']);
    this.alpha = checkNumber('Tversky', 'alpha', args.alpha, 0.5, () => true, 'a number');
    this.beta = checkNumber('Tversky', 'beta', args.beta, 0.5, () => true, 'a number');
    this.axis = checkAxes('Tversky', args.axis);
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return tversky(yTrue, yPred, this.alpha, this.beta, this.axis);
  }
  withStepMask(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return tversky(yTrue, yPred, this.alpha, this.beta, this.axis, mask);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alpha: this.alpha, beta: this.beta, axis: this.axis };
  }
}

export interface CircleArgs extends LossArgs {
  /** The scale of the similarity scores (default 80). */
  gamma?: number;
  /** The relaxation margin (default 0.4). */
  margin?: number;
  /** Leave each row's similarity with itself out of its positives (default true). */
  removeDiagonal?: boolean;
}

/**
 * Keras's Circle loss of L2-normalized embeddings [batch, dim] with integer
 * labels [batch]: one value per row; only rows with a positive loss count in
 * the reduction (a row without a positive or a negative pair has loss 0).
 * A mask on yPred (one per row) drops rows from the reduction, as in Keras;
 * they still serve as the other rows' references.
 */
export class Circle extends Loss {
  readonly options: Required<CircleOptions>;
  constructor(args: CircleArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'circle', 'Circle', ['gamma', 'margin', 'removeDiagonal']);
    this.options = {
      gamma: checkNumber('Circle', 'gamma', args.gamma, 80, () => true, 'a number'),
      margin: checkNumber('Circle', 'margin', args.margin, 0.4, () => true, 'a number'),
      removeDiagonal: args.removeDiagonal === undefined ? true : checkFlag('Circle', 'removeDiagonal', args.removeDiagonal),
    };
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return circle(yTrue, yPred, this.options);
  }
  maskedValues(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return circle(yTrue, yPred, this.options);
  }
  lossMask(values: tf.Tensor): tf.Tensor {
    return circleLossMask(values);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...this.options };
  }
}

export interface GeneralizedCrossEntropyArgs extends LossArgs {
  /** The noise parameter in (0, 1) (default 0.5): near 0 like crossentropy, near 1 like the mean absolute error. */
  q?: number;
}

/** Keras's CategoricalGeneralizedCrossEntropy: (1 - p^q) / q, p the probability of the labelled class (integer labels). */
export class CategoricalGeneralizedCrossEntropy extends Loss {
  readonly q: number;
  constructor(args: GeneralizedCrossEntropyArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super(args, 'categorical_generalized_cross_entropy', 'CategoricalGeneralizedCrossEntropy', ['q']);
    this.q = checkNumber('CategoricalGeneralizedCrossEntropy', 'q', args.q, 0.5, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  }
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return categoricalGeneralizedCrossEntropy(yTrue, yPred, this.q);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), q: this.q };
  }
}
