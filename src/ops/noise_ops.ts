/**
 * Training-time noise of Keras's regularization layers (GaussianDropout,
 * AlphaDropout, SpatialDropout1D) and the activity penalty of
 * ActivityRegularization, with masks: padded entries never count.
 */
import { tf } from '../runtime/tfjs.js';
import { expandMask } from './mask_ops.js';
import { select } from './attention_ops.js';

/** GaussianDropout: `x * N(1, sqrt(rate / (1 - rate)))`. */
export function gaussianDropout(x: tf.Tensor, rate: number, seed?: number): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.randomNormal(x.shape, 1, Math.sqrt(rate / (1 - rate)), 'float32', seed)));
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** AlphaDropout: dropped entries take SELU's negative saturation, then `a * x + b` keeps mean and variance (Keras's formula). */
export function alphaDropout(x: tf.Tensor, rate: number, noiseShape: number[], seed?: number): tf.Tensor {
  return tf.tidy(() => {
    const alphaP = -SELU_ALPHA * SELU_SCALE;
    const kept = tf.cast(tf.greaterEqual(tf.randomUniform(noiseShape, 0, 1, 'float32', seed), rate), x.dtype);
    const a = ((1 - rate) * (1 + rate * alphaP ** 2)) ** -0.5;
    const b = -a * alphaP * rate;
    const y = tf.add(tf.mul(x, kept), tf.mul(alphaP, tf.sub(1, kept)));
    return tf.add(tf.mul(a, y), b);
  });
}

/** Dropout with a noise shape (SpatialDropout1D drops whole feature channels: [batch, 1, features]); `rate` < 1. */
export function dropoutWithNoiseShape(x: tf.Tensor, rate: number, noiseShape: number[], seed?: number): tf.Tensor {
  return tf.tidy(() => {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(noiseShape, 0, 1, 'float32', seed), rate), x.dtype);
    return tf.div(tf.mul(x, keep), 1 - rate);
  });
}

/**
 * An activity penalty `regularize(x) / batch` over the valid entries of `x`
 * only: entries at masked steps (`mask` [batch, time], or null) are set to
 * 0 first (NaN there cannot leak), so the penalty does not depend on
 * padding. A batch of 0 gives 0 (Keras's divide_no_nan).
 */
export function activityPenalty(x: tf.Tensor, mask: tf.Tensor | null, regularize: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const valid = mask === null || mask.rank > x.rank ? x : select(expandMask(mask, x.rank), x, 0);
    const loss = regularize(valid);
    if (x.rank === 0) return loss;
    return x.shape[0] === 0 ? tf.zerosLike(loss) : tf.div(loss, x.shape[0]!);
  });
}
