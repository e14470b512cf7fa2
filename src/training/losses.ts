/**
 * Losses, Keras 3.15.1 exact (keras/src/losses/losses.py and loss.py).
 *
 * A loss function maps (yTrue, yPred) to one value per element, with the
 * last axis reduced the way each Keras loss does (mean for MSE/MAE/BCE, sum
 * for the crossentropies). `computeLoss` then applies Keras's mask and
 * sample-weight reduction (conformance rules 24-26):
 * - mask m, reduction 'sum_over_batch_size': sum(l·m)/sum(m), 0 when no
 *   entry is valid (divide_no_nan);
 * - sample weight w without mask: sum(l·w)/N;
 * - 'mean_with_sample_weight': sum(l·w)/sum(w) (w includes the mask);
 * - 'sum': sum(l·w); 'none': l·w unreduced.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { ctcLoss } from './ctc.js';
import { NameTable } from './names.js';
import { broadcastFast } from '../ops/attention_ops.js';
import { maskFitsSteps, maskedMeanApplies, maskedMeanLoss, sparseCrossentropyMasked } from '../ops/loss_ops.js';
import { categoricalGeneralizedCrossEntropy, circle, circleLossMask, classIds, dice, tversky } from './losses_extra.js';
import { oneHot } from '../ops/one_hot.js';

/** Keras's `backend.epsilon()`. */
export const EPSILON = 1e-7;

/** A loss: (yTrue, yPred) -> per-element losses (last axis reduced). `lossName` is Keras's snake_case name. */
export interface LossFunction {
  (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;
  readonly lossName: string;
  /** The reduction a loss object asks for (computeLoss's default when set; otherwise 'sum_over_batch_size'). */
  readonly reduction?: Reduction;
  /**
   * Optional fast path with a mask of yPred's leading shape: the same
   * per-element losses at valid entries and 0 at masked ones, computed
   * without filling the masked entries of the whole prediction.
   */
  readonly maskedValues?: (yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor) => tf.Tensor;
  /**
   * For a loss that reads the mask of yPred's steps itself and gives one
   * value per row (CTC: a row's frames are its valid steps): its values for
   * that mask, which then takes no part in the reduction.
   */
  readonly withStepMask?: (yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor) => tf.Tensor;
  /** For a loss that masks its own values (Keras's mask on the loss, e.g. Circle's `loss > 0`): that mask, combined with yPred's. */
  readonly lossMask?: (values: tf.Tensor) => tf.Tensor;
}

/**
 * A Keras-style loss object (`new Huber({ delta })`, `new
 * SparseCategoricalCrossentropy({ fromLogits: true })`; see loss_classes.ts):
 * its `call` gives the per-element losses, `reduction` how they are reduced.
 * `getLoss`, `computeLoss` and `compile` take one wherever they take a loss name.
 */
export interface LossObject {
  readonly name: string;
  readonly reduction: Reduction;
  call(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;
  /** As LossFunction's: for a loss that reads the mask of yPred's steps itself (CTC, Dice, Tversky). */
  withStepMask?(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor): tf.Tensor;
  /** As LossFunction's: values computed with a mask of yPred's leading axes, which the reduction then applies (Circle: masked rows still serve as references). */
  maskedValues?(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor): tf.Tensor;
  /** As LossFunction's: the mask the loss puts on its own values (Circle). */
  lossMask?(values: tf.Tensor): tf.Tensor;
}

function isLossObject(v: unknown): v is LossObject {
  return typeof v === 'object' && v !== null && typeof (v as LossObject).call === 'function' && typeof (v as LossObject).reduction === 'string';
}

export interface CrossentropyOptions {
  /** True when yPred holds logits rather than probabilities (default false). */
  fromLogits?: boolean;
  /** Label smoothing in [0, 1] (binary and categorical only; default 0). */
  labelSmoothing?: number;
}

export type Reduction = 'sum_over_batch_size' | 'mean' | 'sum' | 'mean_with_sample_weight' | 'none';

export interface ComputeLossOptions {
  /** Bool (or 0/1) mask over the leading axes of the per-element loss, e.g. [B, T] or [B]. */
  mask?: tf.Tensor | null;
  /** Weights over the leading axes of the per-element loss, e.g. [B] or [B, T]. */
  sampleWeight?: tf.Tensor | null;
  /** Default 'sum_over_batch_size'. */
  reduction?: Reduction;
}

function named(name: string, fn: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor, reduction?: Reduction): LossFunction {
  return Object.assign(fn, reduction === undefined ? { lossName: name } : { lossName: name, reduction }) as LossFunction;
}

/** yTrue and yPred must be numeric tensors with at least one axis (a loss reduces the last). */
export function checkLossTensors(where: string, yTrue: unknown, yPred: unknown): void {
  for (const [name, v] of [['yTrue', yTrue], ['yPred', yPred]] as const) {
    if (!(v instanceof tf.Tensor) || v.dtype === 'string' || v.dtype === 'complex64' || v.rank === 0) {
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `${where}: ${name} must be a numeric tensor with at least one axis (the loss reduces the last); received ${describe(v)}.`,
      );
    }
  }
}

/** Keras's squeeze_or_expand_to_same_rank: fixes a rank difference of one caused by a trailing axis of size 1. */
export function squeezeOrExpandToSameRank(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (a.rank === b.rank + 1 && a.shape[a.rank - 1] === 1) {
    return b.rank === 1 ? [a, tf.expandDims(b, -1)] : [tf.squeeze(a, [-1]), b];
  }
  if (b.rank === a.rank + 1 && b.shape[b.rank - 1] === 1) {
    return a.rank === 1 ? [tf.expandDims(a, -1), b] : [a, tf.squeeze(b, [-1])];
  }
  return [a, b];
}

function sameShape(where: string, yTrue: tf.Tensor, yPred: tf.Tensor): void {
  const ok = yTrue.rank === yPred.rank && yTrue.shape.every((d, i) => d === yPred.shape[i]);
  if (!ok) {
    throw new MasqueError(
      'INPUT_SHAPE_MISMATCH',
      `${where}: yTrue and yPred must have the same shape; received yTrue ${formatShape(yTrue.shape)} and yPred ${formatShape(yPred.shape)}.`,
    );
  }
}

/** Labels and predictions (after squeezeOrExpandToSameRank) must broadcast, as numpy's arithmetic in Keras requires; tfjs's own error names neither. */
function broadcastable(where: string, yTrue: tf.Tensor, yPred: tf.Tensor): void {
  const n = Math.max(yTrue.rank, yPred.rank);
  for (let i = 1; i <= n; i++) {
    const a = yTrue.shape[yTrue.rank - i] ?? 1;
    const b = yPred.shape[yPred.rank - i] ?? 1;
    if (a !== b && a !== 1 && b !== 1) {
      throw new MasqueError(
        'INPUT_SHAPE_MISMATCH',
        `${where}: the labels (yTrue ${formatShape(yTrue.shape)}) do not fit the model's output (yPred ${formatShape(yPred.shape)}): their shapes must be equal or broadcast (a trailing axis of 1 is added or dropped, as in Keras).`,
      );
    }
  }
}

/** Keras's squeeze_or_expand_to_same_rank on float labels, then the shapes checked to broadcast. */
function aligned(where: string, yTrue: tf.Tensor, yPred: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const [t, p] = squeezeOrExpandToSameRank(floatTrue(yTrue), yPred);
  broadcastable(where, t, p);
  return [t, p];
}

function floatTrue(yTrue: tf.Tensor): tf.Tensor {
  return yTrue.dtype === 'float32' ? yTrue : tf.cast(yTrue, 'float32');
}

/** mean((yTrue - yPred)², axis=-1). */
export const meanSquaredError = named('mean_squared_error', (yTrue, yPred) =>
  tf.tidy(() => {
    const [t, p] = aligned('mean_squared_error', yTrue, yPred);
    return tf.mean(tf.square(tf.sub(t, p)), -1);
  }),
);

/** mean(|yTrue - yPred|, axis=-1). */
export const meanAbsoluteError = named('mean_absolute_error', (yTrue, yPred) =>
  tf.tidy(() => {
    const [t, p] = aligned('mean_absolute_error', yTrue, yPred);
    return tf.mean(tf.abs(tf.sub(t, p)), -1);
  }),
);

/** Huber (Keras): mean over the last axis of ½e² where |e| <= delta, else delta·|e| - ½delta² (e = yPred - yTrue). */
export function huber(yTrue: tf.Tensor, yPred: tf.Tensor, delta = 1): tf.Tensor {
  return tf.tidy(() => {
    const [t, p] = aligned('huber', yTrue, yPred);
    const abs = tf.abs(tf.sub(p, t));
    // ½·min(|e|, δ)² + δ·(|e| - min(|e|, δ)): Keras's two branches without a where on
    // a comparison, which tfjs cannot differentiate through (no gradient for LessEqual).
    const small = tf.minimum(abs, delta);
    return tf.mean(tf.add(tf.mul(tf.square(small), 0.5), tf.mul(tf.sub(abs, small), delta)), -1);
  });
}

/** Log-cosh (Keras): mean over the last axis of x + softplus(-2x) - log 2, x = yPred - yTrue (log(cosh x) without overflow). */
export function logCosh(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [t, p] = aligned('log_cosh', yTrue, yPred);
    const x = tf.sub(p, t);
    return tf.mean(tf.sub(tf.add(x, tf.softplus(tf.mul(x, -2))), Math.log(2)), -1);
  });
}

/** 100 · mean(|yTrue - yPred| / max(|yTrue|, 1e-7), axis=-1) (Keras's mean_absolute_percentage_error). */
export function meanAbsolutePercentageError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [t, p] = aligned('mean_absolute_percentage_error', yTrue, yPred);
    return tf.mul(tf.mean(tf.abs(tf.div(tf.sub(t, p), tf.maximum(tf.abs(t), EPSILON))), -1), 100);
  });
}

/** mean((log(max(yPred, 1e-7) + 1) - log(max(yTrue, 1e-7) + 1))², axis=-1) (Keras's mean_squared_logarithmic_error). */
export function meanSquaredLogarithmicError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [t, p] = aligned('mean_squared_logarithmic_error', yTrue, yPred);
    return tf.mean(tf.square(tf.sub(tf.log(tf.add(tf.maximum(p, EPSILON), 1)), tf.log(tf.add(tf.maximum(t, EPSILON), 1)))), -1);
  });
}

export interface FocalOptions {
  /** Weigh positives by alpha and negatives by 1 - alpha (binary only; default false). */
  applyClassBalancing?: boolean;
  /** Default 0.25. */
  alpha?: number;
  /** The focusing power on (1 - p_t); default 2. */
  gamma?: number;
  fromLogits?: boolean;
  labelSmoothing?: number;
}

/**
 * Keras's binary_focal_crossentropy, mean over the last axis: the clipped
 * binary crossentropy of the probabilities (sigmoid first with fromLogits)
 * times (1 - p_t)^gamma, p_t the probability given to the true label; with
 * applyClassBalancing also times alpha (positives) or 1 - alpha (negatives).
 */
export function binaryFocalCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor, o: FocalOptions = {}): tf.Tensor {
  return tf.tidy(() => {
    let [t, p] = aligned('binary_focal_crossentropy', yTrue, yPred);
    const s = o.labelSmoothing ?? 0;
    if (s) t = tf.add(tf.mul(t, 1 - s), 0.5 * s);
    if (o.fromLogits) p = tf.sigmoid(p);
    const c = tf.clipByValue(p, EPSILON, 1 - EPSILON);
    const bce = tf.neg(tf.add(tf.mul(t, tf.log(c)), tf.mul(tf.sub(1, t), tf.log(tf.sub(1, c)))));
    const pt = tf.add(tf.mul(t, p), tf.mul(tf.sub(1, t), tf.sub(1, p)));
    let focal = tf.mul(tf.pow(tf.sub(1, pt), o.gamma ?? 2), bce);
    if (o.applyClassBalancing) {
      const alpha = o.alpha ?? 0.25;
      focal = tf.mul(tf.add(tf.mul(t, alpha), tf.mul(tf.sub(1, t), 1 - alpha)), focal);
    }
    return tf.mean(focal, -1);
  });
}

/**
 * Keras's categorical_focal_crossentropy, summed over the last axis:
 * alpha · (1 - p)^gamma · -yTrue · log p, p the renormalized, clipped
 * probabilities (softmax first with fromLogits).
 */
export function categoricalFocalCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor, o: Omit<FocalOptions, 'applyClassBalancing'> = {}): tf.Tensor {
  return tf.tidy(() => {
    let t = floatTrue(yTrue);
    sameShape('categorical_focal_crossentropy', t, yPred);
    const s = o.labelSmoothing ?? 0;
    if (s) t = tf.add(tf.mul(t, 1 - s), s / yPred.shape[yPred.rank - 1]!);
    const p = o.fromLogits ? tf.softmax(yPred, -1) : yPred;
    const out = tf.clipByValue(tf.div(p, tf.sum(p, -1, true)), EPSILON, 1 - EPSILON);
    const cce = tf.neg(tf.mul(t, tf.log(out)));
    return tf.sum(tf.mul(tf.mul(tf.pow(tf.sub(1, out), o.gamma ?? 2), o.alpha ?? 0.25), cce), -1);
  });
}

/**
 * x over max(its L2 norm along `axis`, 1e-7), as Keras's ops.normalize (its
 * TensorFlow and JAX backends; the numpy backend divides by any nonzero norm).
 * The bound is taken under the root, so a zero vector has a finite gradient.
 */
function l2Normalize(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), axis, true), EPSILON * EPSILON)));
}

/** The cosine similarity of yTrue and yPred along `axis` (default the last): sum of their L2-normalized products. The loss is its negative. */
export function cosineSimilarity(yTrue: tf.Tensor, yPred: tf.Tensor, axis = -1): tf.Tensor {
  return tf.tidy(() => {
    const [t, p] = aligned('cosine_similarity', yTrue, yPred);
    return tf.sum(tf.mul(l2Normalize(t, axis), l2Normalize(p, axis)), axis);
  });
}

/** Labels for the hinge losses: 0/1 labels become -1/1 when every label is 0 or 1, as Keras converts them; other labels stay. */
function hingeLabels(yTrue: tf.Tensor): tf.Tensor {
  const t = floatTrue(yTrue);
  const binary = tf.all(tf.logicalOr(tf.equal(t, 0), tf.equal(t, 1))).dataSync()[0] === 1;
  return binary ? tf.sub(tf.mul(t, 2), 1) : t;
}

/** mean(max(1 - yTrue · yPred, 0), axis=-1), 0/1 labels taken as -1/1 (Keras's hinge). */
export function hinge(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mean(tf.relu(tf.sub(1, tf.mul(hingeLabels(yTrue), yPred))), -1));
}

/** mean(max(1 - yTrue · yPred, 0)², axis=-1), 0/1 labels taken as -1/1 (Keras's squared_hinge). */
export function squaredHinge(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mean(tf.square(tf.relu(tf.sub(1, tf.mul(hingeLabels(yTrue), yPred)))), -1));
}

/** max(max((1 - yTrue) · yPred) - sum(yTrue · yPred) + 1, 0) over the last axis (Keras's categorical_hinge). */
export function categoricalHinge(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const t = floatTrue(yTrue);
    sameShape('categorical_hinge', t, yPred);
    const pos = tf.sum(tf.mul(t, yPred), -1);
    const neg = tf.max(tf.mul(tf.sub(1, t), yPred), -1);
    return tf.relu(tf.add(tf.sub(neg, pos), 1));
  });
}

/** sum(yTrue · log(yTrue / yPred), axis=-1), both clipped to [1e-7, 1] (Keras's kl_divergence). */
export function klDivergence(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.clipByValue(floatTrue(yTrue), EPSILON, 1);
    const p = tf.clipByValue(yPred, EPSILON, 1);
    broadcastable('kl_divergence', t, p);
    return tf.sum(tf.mul(t, tf.log(tf.div(t, p))), -1);
  });
}

/** mean(yPred - yTrue · log(yPred + 1e-7), axis=-1) (Keras's poisson). */
export function poisson(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const t = floatTrue(yTrue);
    broadcastable('poisson', t, yPred);
    return tf.mean(tf.sub(yPred, tf.mul(t, tf.log(tf.add(yPred, EPSILON)))), -1);
  });
}

/**
 * Binary crossentropy, mean over the last axis. Probabilities are clipped to
 * [1e-7, 1 - 1e-7] as in Keras. With `fromLogits` Masque uses the exact
 * stable form max(x,0) - x·z + log(1 + e^-|x|) (Keras's TF backend); Keras's
 * numpy backend clips sigmoid(x) instead, which differs only where
 * sigmoid(x) is within 1e-7 of 0 or 1 (and there it has zero gradient).
 */
export function binaryCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor, options: CrossentropyOptions = {}): tf.Tensor {
  return tf.tidy(() => {
    let [t, p] = squeezeOrExpandToSameRank(floatTrue(yTrue), yPred);
    sameShape('binaryCrossentropy', t, p);
    const s = options.labelSmoothing ?? 0;
    if (s) t = tf.add(tf.mul(t, 1 - s), 0.5 * s);
    let bce: tf.Tensor;
    if (options.fromLogits) {
      bce = tf.add(tf.sub(tf.relu(p), tf.mul(p, t)), tf.log1p(tf.exp(tf.neg(tf.abs(p)))));
    } else {
      const c = tf.clipByValue(p, EPSILON, 1 - EPSILON);
      bce = tf.neg(tf.add(tf.mul(t, tf.log(c)), tf.mul(tf.sub(1, t), tf.log(tf.sub(1, c)))));
    }
    return tf.mean(bce, -1);
  });
}

function logProbabilities(yPred: tf.Tensor, fromLogits: boolean | undefined): tf.Tensor {
  if (fromLogits) return tf.logSoftmax(yPred, -1);
  const normalised = tf.div(yPred, tf.sum(yPred, -1, true));
  return tf.log(tf.clipByValue(normalised, EPSILON, 1 - EPSILON));
}

/** Categorical crossentropy over one-hot (or soft) targets: -sum(yTrue · log p, axis=-1); probabilities are renormalised and clipped as in Keras. */
export function categoricalCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor, options: CrossentropyOptions = {}): tf.Tensor {
  return tf.tidy(() => {
    let t = floatTrue(yTrue);
    sameShape('categoricalCrossentropy', t, yPred);
    const s = options.labelSmoothing ?? 0;
    if (s) t = tf.add(tf.mul(t, 1 - s), s / yPred.shape[yPred.rank - 1]!);
    return tf.neg(tf.sum(tf.mul(t, logProbabilities(yPred, options.fromLogits)), -1));
  });
}

/** Sparse categorical crossentropy over integer class ids (yTrue [..], or [.., 1]; yPred [.., C]). Ids outside [0, C) give 0, like Keras's one_hot. */
export function sparseCategoricalCrossentropy(
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  options: Pick<CrossentropyOptions, 'fromLogits'> = {},
): tf.Tensor {
  return tf.tidy(() => {
    const ids = classIds(yTrue, yPred, 'sparseCategoricalCrossentropy');
    const hot = oneHot(ids, yPred.shape[yPred.rank - 1]!);
    return tf.neg(tf.sum(tf.mul(hot, logProbabilities(yPred, options.fromLogits)), -1));
  });
}

const FACTORIES = new NameTable<(o: CrossentropyOptions) => LossFunction>([
  ['mean_squared_error', () => meanSquaredError],
  ['mse', () => meanSquaredError],
  ['mean_absolute_error', () => meanAbsoluteError],
  ['mae', () => meanAbsoluteError],
  ['binary_crossentropy', (o) => named('binary_crossentropy', (t, p) => binaryCrossentropy(t, p, o))],
  ['categorical_crossentropy', (o) => named('categorical_crossentropy', (t, p) => categoricalCrossentropy(t, p, o))],
  [
    'sparse_categorical_crossentropy',
    (o) => {
      const fn = named('sparse_categorical_crossentropy', (t, p) => sparseCategoricalCrossentropy(t, p, o));
      return o.fromLogits ? fn : Object.assign(fn, { maskedValues: sparseCrossentropyMasked });
    },
  ],
  ['huber', () => named('huber', (t, p) => huber(t, p))],
  ['log_cosh', () => named('log_cosh', (t, p) => logCosh(t, p))],
  ['mean_absolute_percentage_error', () => named('mean_absolute_percentage_error', meanAbsolutePercentageError)],
  ['mape', () => named('mean_absolute_percentage_error', meanAbsolutePercentageError)],
  ['mean_squared_logarithmic_error', () => named('mean_squared_logarithmic_error', meanSquaredLogarithmicError)],
  ['msle', () => named('mean_squared_logarithmic_error', meanSquaredLogarithmicError)],
  ['cosine_similarity', () => named('cosine_similarity', (t, p) => tf.neg(cosineSimilarity(t, p)))],
  ['hinge', () => named('hinge', hinge)],
  ['squared_hinge', () => named('squared_hinge', squaredHinge)],
  ['categorical_hinge', () => named('categorical_hinge', categoricalHinge)],
  ['kl_divergence', () => named('kl_divergence', klDivergence)],
  ['kld', () => named('kl_divergence', klDivergence)],
  ['poisson', () => named('poisson', poisson)],
  ['ctc', () => ctcFunction],
  ['binary_focal_crossentropy', (o) => named('binary_focal_crossentropy', (t, p) => binaryFocalCrossentropy(t, p, o))],
  ['categorical_focal_crossentropy', (o) => named('categorical_focal_crossentropy', (t, p) => categoricalFocalCrossentropy(t, p, o))],
  ['dice', () => Object.assign(named('dice', (t, p) => dice(t, p)), { withStepMask: (t: tf.Tensor, p: tf.Tensor, m: tf.Tensor) => dice(t, p, null, m) })],
  ['tversky', () => Object.assign(named('tversky', (t, p) => tversky(t, p)), { withStepMask: (t: tf.Tensor, p: tf.Tensor, m: tf.Tensor) => tversky(t, p, 0.5, 0.5, null, m) })],
  ['circle', () => Object.assign(named('circle', (t, p) => circle(t, p)), { maskedValues: (t: tf.Tensor, p: tf.Tensor) => circle(t, p), lossMask: circleLossMask })],
  ['categorical_generalized_cross_entropy', () => named('categorical_generalized_cross_entropy', (t, p) => categoricalGeneralizedCrossEntropy(t, p))],
]);

/** Keras's ctc (see ctc.ts): one value per row, the mask of yPred's frames read by the loss. */
const ctcFunction: LossFunction = Object.assign((t: tf.Tensor, p: tf.Tensor) => ctcLoss(t, p), { lossName: 'ctc', withStepMask: ctcLoss });

/** A loss named in Keras style, plus crossentropy options. */
export interface LossConfig extends CrossentropyOptions {
  name: string;
}

/**
 * Resolves a loss: a Keras name in either style ('mse', 'mean_squared_error',
 * 'meanSquaredError', 'MeanSquaredError', 'sparse_categorical_crossentropy',
 * 'huber', 'log_cosh', ...), a `{ name, fromLogits, labelSmoothing }`
 * config, a loss object (`new Huber({ delta: 2 })`; its reduction comes
 * along), or a function (returned as is; named 'custom' if it has no
 * `lossName`).
 */
export function getLoss(identifier: string | LossConfig | LossObject | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor)): LossFunction {
  if (typeof identifier === 'function') {
    return 'lossName' in identifier ? (identifier as LossFunction) : named(identifier.name || 'custom', identifier);
  }
  if (isLossObject(identifier)) {
    const fn = named(identifier.name, (t, p) => identifier.call(t, p), identifier.reduction);
    if (identifier.withStepMask !== undefined) Object.assign(fn, { withStepMask: (t: tf.Tensor, p: tf.Tensor, m: tf.Tensor) => identifier.withStepMask!(t, p, m) });
    if (identifier.maskedValues !== undefined) Object.assign(fn, { maskedValues: (t: tf.Tensor, p: tf.Tensor, m: tf.Tensor) => identifier.maskedValues!(t, p, m) });
    if (identifier.lossMask !== undefined) Object.assign(fn, { lossMask: (v: tf.Tensor) => identifier.lossMask!(v) });
    return fn;
  }
  const name = typeof identifier === 'string' ? identifier : identifier?.name;
  const factory = typeof name === 'string' ? FACTORIES.get(name) : undefined;
  if (factory === undefined) {
    throw new MasqueError(
      'UNKNOWN_NAME',
      `getLoss: unknown loss ${describe(name ?? identifier)}.${typeof name === 'string' ? FACTORIES.hint(name) : ''} Known: mean_squared_error (mse), mean_absolute_error (mae), ctc, mean_absolute_percentage_error (mape), mean_squared_logarithmic_error (msle), binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, binary_focal_crossentropy, categorical_focal_crossentropy, huber, log_cosh, cosine_similarity, hinge, squared_hinge, categorical_hinge, kl_divergence (kld), poisson, dice, tversky, circle, categorical_generalized_cross_entropy (any of snake_case, camelCase or the Keras class name), a loss object such as new Huber({ delta }), or a function (yTrue, yPred) => Tensor.`,
    );
  }
  return factory(typeof identifier === 'string' ? {} : (identifier as LossConfig));
}

/**
 * Shapes a mask or weight of the leading axes of `values` so it broadcasts
 * against `values`: a trailing size-1 axis is squeezed (Keras), missing
 * trailing axes are added. Masque departure: a per-sample weight [B] with
 * per-step losses [B, T] broadcasts over T (Keras raises a broadcast error
 * there, or silently mixes axes when T == B).
 */
function alignTo(values: tf.Tensor, w: tf.Tensor, what: string): tf.Tensor {
  let x = w.dtype === 'float32' ? w : tf.cast(w, 'float32');
  if (x.rank === values.rank + 1 && x.shape[x.rank - 1] === 1) x = tf.squeeze(x, [-1]);
  const ok = x.rank <= values.rank && x.shape.every((d, i) => d === values.shape[i] || d === 1);
  if (!ok) {
    throw new MasqueError(
      what === 'mask' ? 'MASK_SHAPE_MISMATCH' : 'INVALID_ARGUMENT',
      `computeLoss: the ${what} must match the leading axes of the per-element loss ${formatShape(values.shape)}; received ${describe(w)}.`,
    );
  }
  while (x.rank < values.rank) x = tf.expandDims(x, -1);
  return broadcastFast(x, values.shape);
}

/** `t` with `value` where the mask (over t's leading axes) is false; `t` unchanged when the mask does not fit its leading axes. */
function fillMasked(t: tf.Tensor, mask: tf.Tensor, value: number): tf.Tensor {
  if (mask.rank > t.rank || !mask.shape.every((d, i) => d === t.shape[i])) return t;
  let m = mask.dtype === 'bool' ? mask : tf.notEqual(mask, 0);
  while (m.rank < t.rank) m = tf.expandDims(m, -1);
  return tf.where(broadcastFast(m, t.shape), t, tf.fill(t.shape, value, t.dtype));
}

/**
 * a / b, and 0 where b == 0. Unlike tf.divNoNan it is differentiable with
 * respect to `a` (tfjs's version routes `a` through Equal, which has no
 * gradient). `b` must not need a gradient.
 */
function divNoNan(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const zero = tf.equal(b, 0);
  const q = tf.div(a, tf.where(zero, tf.onesLike(b), b));
  return tf.where(zero, tf.zerosLike(b), q);
}

/**
 * Applies `loss` and reduces it the way a Keras `Loss` object does when
 * `yPred` carries `mask` (its `_keras_mask`) and `sampleWeight` is passed.
 * See the module comment for the formulas. With a mask and a weight,
 * 'sum_over_batch_size' gives sum(l·m·w)/sum(m), which equals Keras whenever
 * Keras accepts the shapes.
 */
export function computeLoss(
  loss: string | LossConfig | LossObject | LossFunction,
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  options: ComputeLossOptions = {},
): tf.Tensor {
  const fn = getLoss(loss);
  const reduction = options.reduction ?? fn.reduction ?? 'sum_over_batch_size';
  if (!['sum_over_batch_size', 'mean', 'sum', 'mean_with_sample_weight', 'none'].includes(reduction)) {
    throw new MasqueError(
      'INVALID_ARGUMENT',
      `computeLoss: reduction must be 'sum_over_batch_size', 'mean', 'sum', 'mean_with_sample_weight' or 'none'; received ${describe(reduction)}.`,
    );
  }
  checkLossTensors('computeLoss', yTrue, yPred);
  return tf.tidy(() => {
    // Losses compute in float32: integer or bool predictions are cast (Keras would compute some of them in integers).
    if (yPred.dtype !== 'float32') yPred = tf.cast(yPred, 'float32');
    // Masked entries of yTrue and yPred are replaced by harmless constants (0
    // and 0.5, finite for every loss, also for crossentropy's log and
    // normalisation) before the loss sees them, with a select, whose gradient
    // is 0 there even when the padding holds NaN (NaN · 0 would still be NaN
    // in the backward pass).
    let mask = options.mask ?? null;
    let values: tf.Tensor;
    if (mask === null) values = fn(yTrue, yPred);
    else if (fn.withStepMask !== undefined) {
      // The loss reads the mask itself (one value per row); the reduction then has none.
      values = fn.withStepMask(yTrue, yPred, mask);
      mask = null;
    } else if (fn.maskedValues !== undefined && maskFitsSteps(mask, yPred)) values = fn.maskedValues(yTrue, yPred, mask);
    else values = fn(fillMasked(yTrue, mask, 0), fillMasked(yPred, mask, 0.5));
    const own = fn.lossMask?.(values) ?? null;
    if (own !== null) mask = mask === null ? own : tf.logicalAnd(mask.dtype === 'bool' ? mask : tf.notEqual(mask, 0), own);
    // One value for the batch (Dice over every axis) times a weight per sample: Keras broadcasts the value over the weights.
    if (values.rank === 0 && options.sampleWeight) values = tf.broadcastTo(values, options.sampleWeight.shape);
    if (mask !== null && !options.sampleWeight && (reduction === 'sum_over_batch_size' || reduction === 'mean') && maskedMeanApplies(values, mask)) {
      // The same reduction as below in one op (ops/loss_ops.ts).
      return maskedMeanLoss(values, mask);
    }
    let weight: tf.Tensor | null = null;
    if (mask !== null) {
      let m = alignTo(values, mask, 'mask');
      if (reduction === 'sum_over_batch_size' || reduction === 'mean') {
        // Valid entries weigh total/valid, so the mean over all N entries is the mean over valid ones.
        m = tf.mul(m, divNoNan(tf.scalar(m.size), tf.sum(m)));
      }
      weight = m;
    }
    if (options.sampleWeight) {
      const w = alignTo(values, options.sampleWeight, 'sampleWeight');
      weight = weight === null ? w : tf.mul(weight, w);
    }
    // Entries with weight 0 (masked steps) are dropped with a select, not a
    // product, so NaN or Inf in the padding cannot reach the loss or its
    // gradient (Keras multiplies, and NaN · 0 is NaN).
    const weighted = weight === null ? values : tf.where(tf.equal(weight, 0), tf.zerosLike(values), tf.mul(values, weight));
    if (reduction === 'none' || weighted.rank === 0) return weighted;
    const total = tf.sum(weighted);
    if (reduction === 'sum') return total;
    if (reduction === 'mean_with_sample_weight' && weight !== null) return divNoNan(total, tf.sum(weight));
    return divNoNan(total, tf.scalar(weighted.size));
  });
}
