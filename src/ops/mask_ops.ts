/** Mask arithmetic shared by layers. */
import { tf } from '../engine/tfjs.js';

/**
 * Masking with maskValue 0 on float32 input: a step is padding iff
 * sum(|x|) over its features is 0 (NaN and Inf stay valid, -0 is padding,
 * exactly as with notEqual + any, at half the cost on wasm). The same sums
 * tell whether every value is finite.
 */
function usesAbsSum(x: tf.Tensor, value: number): boolean {
  return value === 0 && x.dtype === 'float32';
}

/** [B, T] bool: true where some feature on the last axis differs from `value` (NaN matches NaN). */
export function stepMask(x: tf.Tensor, value: number): tf.Tensor {
  return tf.tidy(() => {
    if (usesAbsSum(x, value)) return tf.notEqual(tf.sum(tf.abs(x), -1), 0);
    const differs = Number.isNaN(value) ? tf.logicalNot(tf.isNaN(x)) : tf.notEqual(x, tf.scalar(value, x.dtype));
    return tf.any(differs, -1);
  });
}

/**
 * The Masking layer's work: the step mask of `x` for `value`, and `x` with
 * its masked steps set to exactly 0. For maskValue 0 one reduction gives both
 * the mask and the finiteness check that `zeroMaskedSteps` needs.
 */
export function maskSteps(x: tf.Tensor, value: number): { output: tf.Tensor; mask: tf.Tensor } {
  return tf.tidy(() => {
    if (!usesAbsSum(x, value)) {
      const mask = stepMask(x, value);
      return { output: zeroMaskedSteps(x, mask), mask };
    }
    const sums = tf.sum(tf.abs(x), -1);
    const mask = tf.notEqual(sums, 0);
    const allFinite = tf.all(tf.isFinite(sums)).dataSync()[0] === 1;
    return { output: zeroMaskedSteps(x, mask, allFinite), mask };
  });
}

/** Broadcasts a mask of shape x.shape[:k] to x's rank by adding trailing axes of size 1. */
export function expandMask(mask: tf.Tensor, rank: number): tf.Tensor {
  let m = mask;
  while (m.rank < rank) m = tf.expandDims(m, -1);
  return m;
}

/**
 * `x` with masked positions set to exactly 0 (NaN or Inf at masked positions
 * cannot leak). `allFinite`, when the caller already knows it, saves the
 * check.
 */
export function zeroMaskedSteps(x: tf.Tensor, mask: tf.Tensor, allFinite?: boolean): tf.Tensor {
  return tf.tidy(() => {
    // x · m (the binary op broadcasts; tf.broadcastTo is slow on wasm) is
    // exact when every value is finite; sum(x · 0) is NaN iff one is not.
    const m = tf.cast(expandMask(mask, x.rank), x.dtype);
    const finite = x.dtype !== 'float32' || (allFinite ?? !Number.isNaN(tf.sum(tf.mul(x, 0)).dataSync()[0]!));
    if (finite) return tf.mul(x, m);
    return tf.where(tf.cast(tf.mul(tf.onesLike(x), m), 'bool'), x, tf.zerosLike(x));
  });
}

/** The mask as a float tensor, broadcastable to a tensor of rank `rank`. */
export function maskAsFloat(mask: tf.Tensor, rank: number, dtype: tf.DataType = 'float32'): tf.Tensor {
  return tf.tidy(() => tf.cast(expandMask(mask, rank), dtype));
}
