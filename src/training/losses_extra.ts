/**
 * Keras 3.15.1's Dice, Tversky, Circle and categorical generalized cross
 * entropy losses (keras/src/losses/losses.py), as loss functions:
 *
 * - `dice` and `tversky` sum over `axis` (default: every axis, one number for
 *   the batch), so in Keras the padded steps of a masked batch enter the
 *   sums. Here a mask of yPred's leading axes is read inside the sums (the
 *   masked entries take no part), and then takes no part in the reduction:
 *   padding changes nothing (departure 26 in docs/keras.md). Without a mask
 *   they are Keras's numbers.
 * - `circle` compares every row's embedding with every other row's (one
 *   value per row); as in Keras, a row without a positive or without a
 *   negative pair has loss 0, and only rows with a positive loss count in
 *   the reduction (`circleLossMask`, Keras's mask `circle_loss > 0`).
 * - `categoricalGeneralizedCrossEntropy`: (1 - p^q) / q, p the predicted
 *   probability of the labelled class (integer labels, as the sparse
 *   crossentropy takes them).
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape } from '../errors.js';
import { oneHot } from '../ops/one_hot.js';

/** Keras's `backend.epsilon()` (as losses.ts's EPSILON). */
const EPS = 1e-7;

/** The axes to sum over: null is every axis; negative axes count from the end. Raises on an axis outside the rank. */
function sumAxes(axis: number | number[] | null, rank: number, where: string): number[] {
  if (axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  return list.map((a) => {
    if (a < -rank || a >= rank) throw new MasqueError('INVALID_ARGUMENT', `${where}: axis ${a} is outside the rank of yPred (${rank}).`);
    return a < 0 ? a + rank : a;
  });
}

/** yTrue as float32 of yPred's shape, and both with the masked entries zeroed (the mask over yPred's leading axes). */
function overlapInputs(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor | null, where: string): [tf.Tensor, tf.Tensor] {
  if (!yTrue.shape.every((d, i) => d === yPred.shape[i]) || yTrue.rank !== yPred.rank) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: yTrue and yPred must have the same shape; received yTrue ${formatShape(yTrue.shape)} and yPred ${formatShape(yPred.shape)}.`);
  }
  const t = yTrue.dtype === 'float32' ? yTrue : tf.cast(yTrue, 'float32');
  if (mask === null) return [t, yPred];
  if (mask.rank > yPred.rank || !mask.shape.every((d, i) => d === yPred.shape[i])) {
    throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}: the mask must match the leading axes of yPred ${formatShape(yPred.shape)}; received ${formatShape(mask.shape)}.`);
  }
  let m = mask.dtype === 'bool' ? mask : tf.notEqual(mask, 0);
  while (m.rank < yPred.rank) m = tf.expandDims(m, -1);
  m = tf.broadcastTo(m, yPred.shape);
  // A select, not a product: NaN in the padding reaches neither the loss nor its gradient.
  return [tf.where(m, t, tf.zerosLike(t)), tf.where(m, yPred, tf.zerosLike(yPred))];
}

/** 1 - 2·sum(yTrue·yPred) / (sum(yTrue) + sum(yPred) + ε) over `axis` (Keras's `dice`). */
export function dice(yTrue: tf.Tensor, yPred: tf.Tensor, axis: number | number[] | null = null, mask: tf.Tensor | null = null): tf.Tensor {
  return tf.tidy(() => {
    const [t, p] = overlapInputs(yTrue, yPred, mask, 'dice');
    const ax = sumAxes(axis, p.rank, 'dice');
    const intersection = tf.sum(tf.mul(t, p), ax);
    return tf.sub(1, tf.div(tf.mul(2, intersection), tf.add(tf.add(tf.sum(t, ax), tf.sum(p, ax)), EPS)));
  });
}

/** 1 - TP / (TP + α·FP + β·FN + ε) over `axis`, with TP = sum(yTrue·yPred), FP = sum((1 - yPred)·yTrue), FN = sum(yPred·(1 - yTrue)) (Keras's `tversky`). */
export function tversky(yTrue: tf.Tensor, yPred: tf.Tensor, alpha = 0.5, beta = 0.5, axis: number | number[] | null = null, mask: tf.Tensor | null = null): tf.Tensor {
  return tf.tidy(() => {
    const [t, p] = overlapInputs(yTrue, yPred, mask, 'tversky');
    const ax = sumAxes(axis, p.rank, 'tversky');
    const tp = tf.sum(tf.mul(t, p), ax);
    const fp = tf.sum(tf.mul(tf.sub(1, p), t), ax);
    const fn = tf.sum(tf.mul(p, tf.sub(1, t)), ax);
    return tf.sub(1, tf.div(tp, tf.add(tf.add(tf.add(tp, tf.mul(fp, alpha)), tf.mul(fn, beta)), EPS)));
  });
}

export interface CircleOptions {
  gamma?: number;
  margin?: number;
  removeDiagonal?: boolean;
}

/** Integer labels [batch] (or [batch, 1]) for yPred [batch, ...]; raises otherwise. */
function rowLabels(yTrue: tf.Tensor, batch: number, where: string): tf.Tensor1D {
  const t = yTrue.rank === 2 && yTrue.shape[1] === 1 ? tf.reshape(yTrue, [-1]) : yTrue;
  if (t.rank !== 1 || t.shape[0] !== batch) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: yTrue must hold one integer label per row of yPred, shape [${batch}]; received ${formatShape(yTrue.shape)}.`);
  }
  return (t.dtype === 'int32' ? t : tf.cast(t, 'int32')) as tf.Tensor1D;
}

/**
 * log(sum(exp(x))) over axis 1 of the entries where `keep`; -Infinity for a
 * row with none (Keras's logsumexp over -inf entries). Such a row's gradient
 * is 0, not NaN (log(0)'s infinite slope never meets softplus's zero one).
 */
function maskedLogSumExp(x: tf.Tensor2D, keep: tf.Tensor2D): tf.Tensor1D {
  const any = tf.any(keep, 1);
  const xs = tf.where(keep, x, tf.fill(x.shape, -Infinity));
  const max = tf.where(tf.expandDims(any, 1), tf.max(xs, 1, true), tf.zeros([x.shape[0], 1]));
  // Entries left out become max (exp 1, then dropped), so no exp overflows, not even in the gradient.
  const sum = tf.sum(tf.where(keep, tf.exp(tf.sub(tf.where(keep, x, tf.broadcastTo(max, x.shape)), max)), tf.zerosLike(x)), 1);
  const lse = tf.add(tf.log(tf.where(any, sum, tf.onesLike(sum))), tf.squeeze(max, [1]));
  return tf.where(any, lse, tf.fill(lse.shape, -Infinity)) as tf.Tensor1D;
}

/**
 * Keras's `circle` loss of L2-normalized embeddings yPred [batch, dim] with
 * integer labels yTrue [batch]: one value per row, softplus(logsumexp of
 * the positive pairs' weighted distances + logsumexp of the negatives').
 */
export function circle(yTrue: tf.Tensor, yPred: tf.Tensor, options: CircleOptions = {}): tf.Tensor {
  const { gamma = 80, margin = 0.4, removeDiagonal = true } = options;
  return tf.tidy(() => {
    if (yPred.rank !== 2) throw new MasqueError('INPUT_SHAPE_MISMATCH', `circle: yPred must be embeddings [batch, dim]; received ${formatShape(yPred.shape)}.`);
    const b = yPred.shape[0]!;
    const labels = rowLabels(yTrue, b, 'circle');
    const dist = tf.maximum(tf.sub(1, tf.matMul(yPred, yPred, false, true)), 0) as tf.Tensor2D;
    const same = tf.equal(tf.reshape(labels, [-1, 1]), tf.reshape(labels, [1, -1])) as tf.Tensor2D;
    const pos = (removeDiagonal ? tf.logicalAnd(same, tf.logicalNot(tf.cast(tf.eye(b), 'bool'))) : same) as tf.Tensor2D;
    const neg = tf.logicalNot(same) as tf.Tensor2D;
    const posWeights = tf.relu(tf.mul(tf.add(margin, dist), tf.cast(pos, 'float32')));
    const negWeights = tf.relu(tf.mul(tf.sub(1 + margin, dist), tf.cast(neg, 'float32')));
    const posW = tf.mul(tf.mul(-gamma, posWeights), tf.sub(margin, dist)) as tf.Tensor2D;
    const negW = tf.mul(tf.mul(gamma, negWeights), tf.sub(1 - margin, dist)) as tf.Tensor2D;
    return tf.softplus(tf.add(maskedLogSumExp(posW, pos), maskedLogSumExp(negW, neg)));
  });
}

/** Keras's mask on circle's values: only rows with a positive loss count in the reduction. */
export function circleLossMask(values: tf.Tensor): tf.Tensor {
  return tf.greater(values, 0);
}

/** (1 - p^q) / q, with p = yPred's probability of the class yTrue names (integer ids of yPred's shape without its last axis). */
export function categoricalGeneralizedCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor, q = 0.5): tf.Tensor {
  return tf.tidy(() => {
    const ids = classIds(yTrue, yPred, 'categoricalGeneralizedCrossEntropy');
    const p = tf.sum(tf.mul(yPred, oneHot(ids, yPred.shape[yPred.rank - 1]!)), -1);
    return tf.div(tf.sub(1, tf.pow(p, q)), q);
  });
}

/** Integer class ids (int32) of yPred's shape without its last axis, a trailing axis of 1 squeezed (as Keras's sparse losses take them); raises otherwise. */
export function classIds(yTrue: tf.Tensor, yPred: tf.Tensor, where: string): tf.Tensor {
  let t = yTrue;
  if (t.rank === yPred.rank && t.shape[t.rank - 1] === 1) t = tf.squeeze(t, [-1]);
  const lead = yPred.shape.slice(0, -1);
  if (t.rank !== lead.length || !t.shape.every((d, i) => d === lead[i])) {
    throw new MasqueError(
      'INPUT_SHAPE_MISMATCH',
      `${where}: yTrue must hold integer class ids of yPred's shape without its last axis; received yTrue ${formatShape(yTrue.shape)} and yPred ${formatShape(yPred.shape)}.`,
    );
  }
  return t.dtype === 'int32' ? t : tf.cast(t, 'int32');
}
