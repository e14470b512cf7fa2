/**
 * Masked reductions over time for the pooling layers. Masked values are
 * dropped with `where` (never multiplied), so NaN or Inf in padding cannot
 * reach the result, and a row with no valid step gives 0, never NaN.
 */
import { tf } from '../runtime/tfjs.js';
import { isTapeOn } from '../runtime/internals.js';
import { broadcastFast } from './attention_ops.js';
import { f32, heapView, markSparseRows, onCpuMemoryBackend, writeTensor } from './heap_view.js';
import { forEachRun } from './mask_ops.js';

/**
 * maskedMean over the steps of x [B, T, F] with a [B, T, 1] bool mask on
 * the wasm and cpu backends: one pass over the valid steps only, reading
 * the tensors in place. The same float32 sums as the tfjs path (each row's
 * valid steps added in step order, then one division). Under a gradient
 * tape its gradient is written the same way (dy / count at the valid steps,
 * 0 elsewhere, as the tfjs path's) and marked as zero outside the valid
 * steps, so that the layers below (packed attention, the Embedding
 * gradient) visit the real tokens only. Null where it does not apply
 * (another layout or backend).
 */
function maskedMeanSteps(x: tf.Tensor, mask: tf.Tensor, keepdims: boolean): tf.Tensor | null {
  if (x.rank !== 3 || x.dtype !== 'float32' || mask.dtype !== 'bool' || !onCpuMemoryBackend()) return null;
  const [b, t, f] = x.shape as [number, number, number];
  if (mask.rank !== 3 || mask.shape[0] !== b || mask.shape[1] !== t || mask.shape[2] !== 1) return null;
  const view = heapView(mask);
  const valid = view instanceof Uint8Array ? view.slice() : Uint8Array.from(view, (v) => (v ? 1 : 0));
  const forward = (xt: tf.Tensor) =>
    writeTensor(keepdims ? [b, 1, f] : [b, f], 'float32', (out) => {
      const xv = f32(xt);
      const acc = new Float32Array(f);
      for (let i = 0; i < b; i++) {
        acc.fill(0);
        let n = 0;
        // Runs of valid steps (padding is skipped, not visited).
        forEachRun(valid, 1, i * t, (i + 1) * t, (start, stop) => {
          for (let p = start; p < stop; p++) {
            n++;
            const o = p * f;
            for (let j = 0; j < f; j++) acc[j]! += xv[o + j]!;
          }
        });
        const d = Math.max(n, 1);
        for (let j = 0; j < f; j++) out[i * f + j] = acc[j]! / d;
      }
    });
  if (!isTapeOn()) return forward(x);
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: forward(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      const rows: number[] = [];
      const dx = writeTensor([b, t, f], 'float32', (out) => {
        const g = f32(dy);
        out.fill(0);
        for (let i = 0; i < b; i++) {
          let n = 0;
          for (let s = 0; s < t; s++) n += valid[i * t + s] ? 1 : 0;
          const d = Math.max(n, 1);
          for (let s = 0; s < t; s++) {
            if (!valid[i * t + s]) continue;
            rows.push(i * t + s);
            const o = (i * t + s) * f;
            for (let j = 0; j < f; j++) out[o + j] = g[i * f + j]! / d;
          }
        }
      });
      markSparseRows(dx, Int32Array.from(rows), f);
      return dx;
    },
  }))(x);
}

/**
 * Mean of `x` over `axis`, counting only positions where `mask` (bool,
 * broadcastable to `x`) is true; a slice with no valid position gives 0.
 */
export function maskedMean(x: tf.Tensor, mask: tf.Tensor | null, axis: number, keepdims: boolean): tf.Tensor {
  if (x.size === 0) return emptyReduction(x, axis, keepdims);
  return tf.tidy(() => {
    if (mask === null) return tf.mean(x, axis, keepdims);
    const fast = axis === 1 ? maskedMeanSteps(x, mask, keepdims) : null;
    if (fast !== null) return fast;
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
    if (mask === null) return maxSplittingTies(x, axis, keepdims);
    const m = broadcastFast(mask, x.shape);
    const best = maxSplittingTies(tf.where(m, x, tf.fill(x.shape, -Infinity, x.dtype)), axis, keepdims);
    const any = broadcastFast(tf.any(mask, axis, keepdims), best.shape);
    return tf.where(any, best, tf.zerosLike(best));
  });
}

/**
 * tf.max with TensorFlow's gradient, which Keras's backends share: dy is
 * split equally among the positions that tie for the largest value. tfjs
 * gives each of them all of dy, so k tied copies of one value (a
 * broadcast, a clipped activation) got k times its gradient.
 */
function maxSplittingTies(x: tf.Tensor, axis: number, keepdims: boolean): tf.Tensor {
  return extremeSplittingTies(x, [axis], keepdims, 'max');
}

/** tf.max or tf.min over `axes` with TensorFlow's gradient (dy split equally among the tied positions); ints as tfjs's. */
export function extremeSplittingTies(x: tf.Tensor, axes: number[], keepdims: boolean, which: 'max' | 'min'): tf.Tensor {
  const reduce = which === 'max' ? tf.max : tf.min;
  if (!isTapeOn() || x.dtype !== 'float32') return reduce(x, axes, keepdims);
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = reduce(xx, axes, true);
    save([xx, y]);
    return {
      value: keepdims ? y : tf.reshape(y, xx.shape.filter((_, i) => !axes.includes(i))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const hit = tf.cast(tf.equal(saved[0]!, saved[1]!), 'float32');
        return tf.mul(tf.div(hit, tf.sum(hit, axes, true)), tf.reshape(dy, saved[1]!.shape));
      },
    };
  })(x);
}

/**
 * The reduction of a tensor with no elements: zeros of the result's shape
 * (an empty batch gives an empty result; a row with no steps gives 0, as a
 * fully masked row does). tfjs's wasm kernels fail on empty inputs.
 */
function emptyReduction(x: tf.Tensor, axis: number, keepdims: boolean): tf.Tensor {
  return tf.zeros(keepdims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis), x.dtype);
}
