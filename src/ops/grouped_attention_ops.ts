/**
 * Grouped-query attention (Keras's GroupQueryAttention) without repeating
 * keys and values: query heads are grouped by the key/value head they
 * share (Keras repeats each key/value head `r = queryHeads / kvHeads`
 * times, so query head i uses key/value head floor(i / r)), and each group
 * is one batched matMul. Equal to attention over the repeated heads.
 */
import { tf } from '../runtime/tfjs.js';

/**
 * Attention logits [B, u, T, S] for a projected query [B, T, u, h] and key
 * [B, S, v, h] (u = v * r). `scale` multiplies the query first
 * (`scaleQuery`, Keras's explicit-softmax path) or the logits (its
 * dot_product_attention path); the two round differently in float32.
 */
export function groupedLogits(query: tf.Tensor, key: tf.Tensor, scale: number, scaleQuery: boolean): tf.Tensor {
  return tf.tidy(() => {
    const [b, t, u, h] = query.shape as [number, number, number, number];
    const [, s, v] = key.shape as [number, number, number, number];
    const r = u / v;
    // [B, T, v, r, h] -> [B, v, r, T, h] -> [B*v, r*T, h]
    const q = tf.reshape(tf.transpose(tf.reshape(scaleQuery ? tf.mul(query, scale) : query, [b, t, v, r, h]), [0, 2, 3, 1, 4]), [b * v, r * t, h]);
    const k = tf.reshape(tf.transpose(key, [0, 2, 1, 3]), [b * v, s, h]);
    const logits = tf.reshape(tf.matMul(q, k, false, true), [b, u, t, s]);
    return scaleQuery ? logits : tf.mul(logits, scale);
  });
}

/** The weighted values [B, T, u, h] for weights [B, u, T, S] and a projected value [B, S, v, h]. */
export function groupedCombine(weights: tf.Tensor, value: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [b, u, t, s] = weights.shape as [number, number, number, number];
    const [, , v, h] = value.shape as [number, number, number, number];
    const r = u / v;
    const w = tf.reshape(weights, [b * v, r * t, s]);
    const vv = tf.reshape(tf.transpose(value, [0, 2, 1, 3]), [b * v, s, h]);
    // [B*v, r*T, h] -> [B, v, r, T, h] -> [B, T, v, r, h] -> [B, T, u, h]
    return tf.reshape(tf.transpose(tf.reshape(tf.matMul(w, vv), [b, v, r, t, h]), [0, 3, 1, 2, 4]), [b, t, u, h]);
  });
}

/** Each of the v key/value heads of x [..., v, h] repeated r times in place ([..., v * r, h]), as Keras's `ops.repeat(x, r, axis=-2)`. */
export function repeatHeads(x: tf.Tensor, r: number): tf.Tensor {
  if (r === 1) return x;
  return tf.tidy(() => {
    const shape = x.shape;
    const v = shape[shape.length - 2]!;
    const h = shape[shape.length - 1]!;
    const lead = shape.slice(0, -2);
    const expanded = tf.add(tf.zeros([...lead, v, r, h]), tf.expandDims(x, -2));
    return tf.reshape(expanded, [...lead, v * r, h]);
  });
}
