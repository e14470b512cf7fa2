/**
 * One-hot rows for any depth. tfjs's `tf.oneHot` refuses a depth below 2
 * ("depth must be >=2"), where TensorFlow and Keras take 1 (a single class:
 * a sparse cross-entropy, an accuracy or a CategoryEncoding of one token)
 * and 0. Ids outside [0, depth) give a row of zeros, as in both.
 */
import { tf } from '../runtime/tfjs.js';

/** int32 one-hot rows of `depth` for integer `ids`: shape [...ids.shape, depth]. */
export function oneHot(ids: tf.Tensor, depth: number): tf.Tensor {
  if (depth >= 2) return tf.oneHot(ids, depth);
  return tf.tidy(() => (depth === 1 ? tf.expandDims(tf.cast(tf.equal(ids, tf.scalar(0, ids.dtype)), 'int32'), -1) : tf.zeros([...ids.shape, 0], 'int32')));
}
