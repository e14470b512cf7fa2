/**
 * Reading a batch for the confusion metrics and F-scores, which keep their
 * counts in JavaScript numbers: yTrue and yPred brought to one shape the way
 * Keras does (`squeeze_or_expand_to_same_rank`: a trailing axis of size 1 is
 * dropped), and one weight per entry from the mask and the sample weight.
 * Both weigh the leading axes (a mask [B, T], a sample weight [B] or [B, T])
 * and broadcast over the rest, so a masked step counts nowhere. Entries of
 * weight 0 are skipped by the callers (NaN in the padding cannot leak).
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { squeezeOrExpandToSameRank } from './losses.js';
import type { MetricUpdateOptions } from './metrics.js';

export interface MetricEntries {
  /** yTrue, one value per entry of yPred (row-major). */
  labels: Float32Array;
  /** yPred, after `transform`. */
  preds: Float32Array;
  /** One weight per entry, or null when there are none (all 1). */
  weights: Float32Array | null;
  /** The shape the three share. */
  shape: number[];
}

function asFloat(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/** mask·sampleWeight over the leading axes of `shape`, broadcast to `shape`; null without either. */
export function entryWeights(shape: number[], options: MetricUpdateOptions, where: string): tf.Tensor | null {
  let w: tf.Tensor | null = null;
  for (const [what, given] of [['mask', options.mask], ['sampleWeight', options.sampleWeight]] as const) {
    if (given === null || given === undefined) continue;
    let x = asFloat(given);
    if (x.rank === shape.length + 1 && x.shape[x.rank - 1] === 1) x = tf.squeeze(x, [-1]);
    if (x.rank > shape.length || !x.shape.every((d, i) => d === shape[i] || d === 1)) {
      throw new MasqueError(
        what === 'mask' ? 'MASK_SHAPE_MISMATCH' : 'INVALID_ARGUMENT',
        `${where}: the ${what} must match the leading axes of yPred ${formatShape(shape)}; received ${describe(given)}.`,
      );
    }
    while (x.rank < shape.length) x = tf.expandDims(x, -1);
    w = w === null ? x : tf.mul(w, x);
  }
  return w === null ? null : tf.broadcastTo(w, shape);
}

/**
 * The entries of one batch as JavaScript arrays. `transform` (e.g. a
 * sigmoid for logits, a top-k filter) runs on (yTrue, yPred) after they are
 * brought to one shape.
 */
export function metricEntries(
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  options: MetricUpdateOptions,
  where: string,
  transform?: (t: tf.Tensor, p: tf.Tensor) => [tf.Tensor, tf.Tensor],
): MetricEntries {
  const [t, p, w] = tf.tidy(() => {
    let [p2, t2] = squeezeOrExpandToSameRank(asFloat(yPred), asFloat(yTrue));
    if (t2.rank !== p2.rank || !t2.shape.every((d, i) => d === p2.shape[i])) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: yTrue and yPred must have the same shape; received yTrue ${formatShape(yTrue.shape)} and yPred ${formatShape(yPred.shape)}.`);
    }
    if (transform) [t2, p2] = transform(t2, p2);
    const w2 = entryWeights(p2.shape, options, where);
    return w2 === null ? [t2, p2] : [t2, p2, w2];
  }) as tf.Tensor[];
  try {
    return { labels: t!.dataSync() as Float32Array, preds: p!.dataSync() as Float32Array, weights: w === undefined ? null : (w.dataSync() as Float32Array), shape: [...p!.shape] };
  } finally {
    // The tidy may hand back the caller's own tensors (nothing to convert); free only what it made.
    const mine = [yTrue, yPred, options.mask, options.sampleWeight];
    tf.dispose([t!, p!, ...(w ? [w] : [])].filter((x) => !mine.includes(x)));
  }
}
