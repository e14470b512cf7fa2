/**
 * Masked reductions over time for the pooling layers. Masked values are
 * dropped with `where` (never multiplied), so NaN or Inf in padding cannot
 * reach the result, and a row with no valid step gives 0, never NaN.
 */
import { tf } from '../runtime/tfjs.js';
import { broadcastFast } from './attention_ops.js';

/**
 * Mean of `x` over `axis`, counting only positions where `mask` (bool,
 * broadcastable to `x`) is true; a slice with no valid position gives 0.
 */
export function maskedMean(x: tf.Tensor, mask: tf.Tensor | null, axis: number, keepdims: boolean): tf.Tensor {
  if (x.size === 0) return emptyReduction(x, axis, keepdims);
  return tf.tidy(() => {
    if (mask === null) return tf.mean(x, axis, keepdims);
    const m = broadcastFast(mask, x.shape);
    const sum = tf.sum(tf.where(m, x, tf.zerosLike(x)), axis, keepdims);
    const count = tf.sum(tf.cast(mask, x.dtype), axis, keepdims);
    // No valid step: the sum is 0, so dividing by max(count, 1) gives 0.
    return tf.div(sum, tf.maximum(count, 1));
  });
}

/**
 * Max of `x` over `axis` among positions where `mask` (bool, broadcastable
 * to `x`) is true; a slice with no valid position gives 0.
 */
export function maskedMax(x: tf.Tensor, mask: tf.Tensor | null, axis: number, keepdims: boolean): tf.Tensor {
  if (x.size === 0) return emptyReduction(x, axis, keepdims);
  return tf.tidy(() => {
    if (mask === null) return tf.max(x, axis, keepdims);
    const m = broadcastFast(mask, x.shape);
    const best = tf.max(tf.where(m, x, tf.fill(x.shape, -Infinity, x.dtype)), axis, keepdims);
    const any = broadcastFast(tf.any(mask, axis, keepdims), best.shape);
    return tf.where(any, best, tf.zerosLike(best));
  });
}

/**
 * The reduction of a tensor with no elements: zeros of the result's shape
 * (an empty batch gives an empty result; a row with no steps gives 0, as a
 * fully masked row does). tfjs's wasm kernels fail on empty inputs.
 */
function emptyReduction(x: tf.Tensor, axis: number, keepdims: boolean): tf.Tensor {
  return tf.zeros(keepdims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis), x.dtype);
}
