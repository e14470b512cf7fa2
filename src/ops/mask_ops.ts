/** Mask arithmetic shared by layers. */
import { tf } from '../engine/tfjs.js';

/** [B, T] bool: true where some feature on the last axis differs from `value` (NaN matches NaN). */
export function stepMask(x: tf.Tensor, value: number): tf.Tensor {
  return tf.tidy(() => {
    // maskValue 0 on floats: a step is padding iff sum(|x|) == 0 (NaN and Inf
    // stay valid, -0 is padding, as with notEqual); half the cost of
    // notEqual + any on wasm.
    if (value === 0 && x.dtype === 'float32') return tf.notEqual(tf.sum(tf.abs(x), -1), 0);
    const differs = Number.isNaN(value) ? tf.logicalNot(tf.isNaN(x)) : tf.notEqual(x, tf.scalar(value, x.dtype));
    return tf.any(differs, -1);
  });
}

/** Broadcasts a mask of shape x.shape[:k] to x's rank by adding trailing axes of size 1. */
export function expandMask(mask: tf.Tensor, rank: number): tf.Tensor {
  let m = mask;
  while (m.rank < rank) m = tf.expandDims(m, -1);
  return m;
}

/** `x` with masked positions set to exactly 0 (NaN or Inf at masked positions cannot leak). */
export function zeroMaskedSteps(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // x · m (the binary op broadcasts; tf.broadcastTo is slow on wasm) is
    // exact when every value is finite; sum(x · 0) is NaN iff one is not.
    const m = tf.cast(expandMask(mask, x.rank), x.dtype);
    if (x.dtype !== 'float32' || !Number.isNaN(tf.sum(tf.mul(x, 0)).dataSync()[0]!)) return tf.mul(x, m);
    return tf.where(tf.cast(tf.mul(tf.onesLike(x), m), 'bool'), x, tf.zerosLike(x));
  });
}

/** The mask as a float tensor, broadcastable to a tensor of rank `rank`. */
export function maskAsFloat(mask: tf.Tensor, rank: number, dtype: tf.DataType = 'float32'): tf.Tensor {
  return tf.tidy(() => tf.cast(expandMask(mask, rank), dtype));
}
