/** Mask arithmetic of the merge layers (conformance README, rules 18-20). */
import { tf } from '../runtime/tfjs.js';
import { expandMask, zeroMaskedSteps } from './mask_ops.js';
import { broadcastFast } from './attention_ops.js';

/** `mask` ([batch, time]) broadcast to the full shape of `x`. */
export function maskLike(mask: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return broadcastFast(expandMask(mask, x.rank), x.shape);
}

/**
 * `op` on `a` and `b` broadcast to their common shape first. tfjs's gradients
 * of Maximum and Minimum do not sum over broadcast axes: a gradient through
 * tf.maximum(a, b) with shapes [B, T, F] and [B, 1, F] failed ("the gradient
 * of input 'b' has shape '...', which does not match the shape of the
 * input"); broadcasting first leaves the sums to broadcastFast's gradient.
 */
export function onCommonShape(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  // broadcastFast returns a tensor that already has the shape as it is.
  return (a, b) => {
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return op(broadcastFast(a, shape), broadcastFast(b, shape));
  };
}

/** OR of the masks if every one is present, else null (Keras's default merge mask). */
export function orMasksIfAll(masks: (tf.Tensor | null)[]): tf.Tensor | null {
  if (masks.length === 0 || masks.some((m) => m === null)) return null;
  return tf.tidy(() => (masks as tf.Tensor[]).reduce((a, m) => tf.logicalOr(a, m)));
}

/**
 * Multiply: masked entries of masked inputs count as 1; if every input is
 * masked, entries outside the OR of the masks are then set to 0.
 */
export function maskedProduct(xs: tf.Tensor[], masks: (tf.Tensor | null)[]): tf.Tensor {
  return tf.tidy(() => {
    const all = masks.every((m) => m !== null);
    let out: tf.Tensor | null = null;
    let orMask: tf.Tensor | null = null;
    xs.forEach((x, i) => {
      let v = x;
      const m = masks[i] ?? null;
      if (m !== null) {
        const full = maskLike(m, x);
        v = tf.where(full, x, tf.onesLike(x));
        if (all) orMask = orMask === null ? full : tf.logicalOr(orMask, full);
      }
      out = out === null ? v : tf.mul(out, v);
    });
    const res = out as unknown as tf.Tensor;
    return orMask === null ? res : tf.where(orMask, res, tf.zerosLike(res));
  });
}

/**
 * Maximum/Minimum: Keras's sequential rule. Where the next input is masked
 * it takes the running output; where the running output is masked it takes
 * the next input; then `op` combines them.
 */
export function maskedPairwise(xs: tf.Tensor[], masks: (tf.Tensor | null)[], op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let out = xs[0]!;
    let outMask: tf.Tensor | null = masks[0] ? maskLike(masks[0], out) : null;
    for (let i = 1; i < xs.length; i++) {
      let x = xs[i]!;
      const m = masks[i] ? maskLike(masks[i]!, x) : null;
      if (m !== null) x = tf.where(m, x, out);
      if (outMask !== null) out = tf.where(outMask, out, x);
      outMask = m !== null && outMask !== null ? tf.logicalOr(outMask, m) : null;
      out = op(out, x);
    }
    return out;
  });
}

/**
 * Concatenate's output mask: an unmasked input counts as all true, masks
 * are broadcast to the inputs' shapes, concatenated along `axis`, and
 * reduced with any() over the last axis. Null when no input is masked.
 */
export function concatMask(xs: tf.Tensor[], masks: (tf.Tensor | null)[], axis: number): tf.Tensor | null {
  if (masks.every((m) => m === null)) return null;
  return tf.tidy(() => {
    const full = xs.map((x, i) => {
      const m = masks[i] ?? null;
      return m === null ? tf.ones(x.shape, 'bool') : m.rank < x.rank ? maskLike(m, x) : m;
    });
    return tf.any(tf.concat(full, axis), -1);
  });
}

/**
 * Dot's inputs with the steps that are not valid set to 0 along each
 * contracted time axis (axis 1 of an input with a [batch, time] mask). When
 * both inputs contract their time axes, a step must be valid in both.
 */
export function dotValidSteps(xs: [tf.Tensor, tf.Tensor], axes: [number, number], masks: (tf.Tensor | null)[]): [tf.Tensor, tf.Tensor] {
  const timeMask = (i: number) => (axes[i] === 1 && masks[i] && masks[i]!.rank === 2 && xs[i]!.rank >= 2 ? masks[i]! : null);
  const [m0, m1] = [timeMask(0), timeMask(1)];
  if (m0 === null && m1 === null) return xs;
  const both = axes[0] === 1 && axes[1] === 1;
  const valid = both && m0 && m1 ? tf.logicalAnd(m0, m1) : null;
  const zeroed = (i: number, m: tf.Tensor | null) => (m === null ? xs[i]! : zeroMaskedSteps(xs[i]!, m));
  if (valid) return [zeroed(0, valid), zeroed(1, valid)];
  const m = m0 ?? m1;
  return [zeroed(0, m0 ?? (both ? m : null)), zeroed(1, m1 ?? (both ? m : null))];
}
