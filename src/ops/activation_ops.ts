/**
 * The parametric activations of Keras's activation layers, computed as the
 * numpy backend computes them (keras/src/backend/numpy/nn.py).
 */
import { tf } from '../runtime/tfjs.js';

/** ELU: `x` where `x >= 0`, else `alpha * expm1(x)`. */
export function elu(x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.tidy(() => tf.where(tf.greaterEqual(x, 0), x, tf.mul(alpha, tf.expm1(tf.minimum(x, 0)))));
}

/** Leaky ReLU: `max(x, negativeSlope * x)` (so a slope above 1 gives Keras's numbers too). */
export function leakyRelu(x: tf.Tensor, negativeSlope: number): tf.Tensor {
  return tf.tidy(() => tf.maximum(x, tf.mul(x, negativeSlope)));
}

/** PReLU: `relu(x) - alpha * relu(-x)`, `alpha` broadcast against `x` without its batch axis. */
export function prelu(x: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.relu(x), tf.mul(tf.neg(alpha), tf.relu(tf.neg(x)))));
}
