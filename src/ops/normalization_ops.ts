/**
 * Tensor math of the normalization layers: moments over valid positions,
 * an affine map whose gradient ignores what a zero cotangent multiplies,
 * Keras's L2 and RMS normalizations, and group normalization.
 *
 * Masked values are dropped with `where` (never multiplied by 0), so NaN or
 * Inf in padding cannot reach a statistic. Statistics of valid positions are
 * applied to every position, padding included, as Keras applies them.
 */
import { tf } from '../runtime/tfjs.js';
import { broadcastFast } from './attention_ops.js';
import { expandMask } from './mask_ops.js';
import { heapOps, type HeapOps } from './heap_ops.js';
import { wasmHeapOffset, writeTensor } from './heap_view.js';
import { fusedInferenceAvailable, fusedKernelsAvailable } from './fused_attention_ops.js';
import { isTapeOn } from '../runtime/internals.js';

export interface Moments {
  /** Mean over the reduced axes (kept as size-1 axes). */
  mean: tf.Tensor;
  /** Population variance over the reduced axes (kept as size-1 axes). */
  variance: tf.Tensor;
}

/** `mask` (bool, its dims the leading dims of `x`, or 1) broadcast to the shape of `x`. */
export function maskLike(mask: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => broadcastFast(expandMask(mask, x.rank), x.shape));
}

const keptShape = (shape: number[], axes: number[]): number[] => shape.map((d, i) => (axes.includes(i) ? 1 : d));

/**
 * Mean and variance of `x` over `axes`, keeping those axes with size 1.
 * Without a mask: the mean, then the mean of squared deviations (two
 * passes). With `mask` (bool, the shape of `x`): only valid positions count,
 * `mean = sum(x·m) / (count + countOffset)` and the variance likewise, as
 * Keras's BatchNormalization computes them (it uses countOffset 1e-7); a
 * slice without a valid position gets mean 0 and variance 0.
 */
export function maskedMoments(x: tf.Tensor, mask: tf.Tensor | null, axes: number[], countOffset = 0): Moments {
  if (x.size === 0) return { mean: tf.zeros(keptShape(x.shape, axes)), variance: tf.zeros(keptShape(x.shape, axes)) };
  if (mask !== null && (mask.rank !== x.rank || mask.shape.some((d, i) => d !== x.shape[i]))) {
    throw new Error(`maskedMoments: the mask must have the shape of x [${x.shape}]; received [${mask.shape}]`);
  }
  const [mean, variance] = tf.tidy(() => {
    if (mask === null) {
      const m = tf.moments(x, axes, true);
      return [m.mean, m.variance];
    }
    const zeros = tf.zerosLike(x);
    const count = tf.sum(tf.cast(mask, 'float32'), axes, true);
    // No valid position: the sums are 0, so dividing by max(count, 1) gives 0.
    const divisor = countOffset > 0 ? tf.add(count, countOffset) : tf.maximum(count, 1);
    const mu = tf.div(tf.sum(tf.where(mask, x, zeros), axes, true), divisor);
    const dev = tf.where(mask, tf.sub(x, mu), zeros);
    return [mu, tf.div(tf.sum(tf.square(dev), axes, true), divisor)];
  });
  return { mean: mean!, variance: variance! };
}

/** `g` summed over the axes where `shape` has size 1 and `g` does not, reshaped to `shape`. */
function sumTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = g.shape.flatMap((d, i) => (shape[i] === 1 && d !== 1 ? [i] : []));
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes, true) : g, shape);
}

/**
 * `x · a + b` with `a` and `b` broadcast to the shape of `x` (same rank).
 * Its gradient is the exact one, except that a zero cotangent contributes
 * nothing even where `x` is NaN or infinite: padding that the loss ignores
 * cannot turn the gradients of `a` and `b` (weights, batch statistics) into
 * NaN through 0 · NaN.
 */
export function scaleShift(x: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank !== x.rank || b.rank !== x.rank) throw new Error(`scaleShift: a [${a.shape}] and b [${b.shape}] must have the rank of x [${x.shape}]`);
  if (x.size === 0) return tf.zerosLike(x);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, aa, bb, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([xx, aa]);
    return {
      value: tf.add(tf.mul(xx, aa), bb),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sa] = saved as [tf.Tensor, tf.Tensor];
        const dyx = tf.where(tf.equal(dy, 0), tf.zerosLike(dy), tf.mul(dy, sx));
        return [tf.mul(dy, sa), sumTo(dyx, sa.shape), sumTo(dy, bb.shape)];
      },
    };
  });
  return f(x, a, b);
}

/** `x` unchanged, with no gradient (Keras's `ops.stop_gradient`). */
export function stopGradient(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xx = args[0] as tf.Tensor;
    return { value: tf.reshape(xx, xx.shape), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] };
  });
  return f(x);
}

/**
 * Keras's `ops.normalize(x, axes, order=2, epsilon=1e-12)`:
 * `x · min(rsqrt(sum(x²)), 1e12)`, the sum over `axes`. With `mask` (bool,
 * the shape of `x`) the sum counts valid positions only and scales every
 * position. An all-zero slice gives 0 with a finite gradient (Keras's
 * gradient there is NaN).
 */
export function l2Normalize(x: tf.Tensor, axes: number[], mask: tf.Tensor | null): tf.Tensor {
  if (x.size === 0) return tf.zerosLike(x);
  return tf.tidy(() => {
    const v = mask === null ? x : tf.where(mask, x, tf.zerosLike(x));
    const s = tf.sum(tf.square(v), axes, true);
    // rsqrt of at least 1e-24 (whose rsqrt is the 1e12 limit): the same
    // values as Keras's min(rsqrt(s), 1e12), with a finite gradient at s = 0.
    const inv = tf.minimum(tf.rsqrt(tf.maximum(s, 1e-24)), 1e12);
    return scaleShift(x, inv, tf.zerosLike(inv));
  });
}

/** Keras's `ops.rms_normalization`: `x · rsqrt(mean(x²) + epsilon) · scale`, the mean over `axes`. */
export function rmsNormalize(x: tf.Tensor, axes: number[], scale: tf.Tensor | null, epsilon: number): tf.Tensor {
  if (x.size === 0) return tf.zerosLike(x);
  return tf.tidy(() => {
    const rrms = tf.rsqrt(tf.add(tf.mean(tf.square(x), axes, true), epsilon));
    const y = tf.mul(x, rrms);
    return scale === null ? y : tf.mul(y, tf.reshape(scale, x.shape.map((d, i) => (axes.includes(i) ? d : 1))));
  });
}

export interface GroupNormOptions {
  groups: number;
  /** The channel axis, in [1, rank). */
  axis: number;
  epsilon: number;
  gamma: tf.Tensor | null;
  beta: tf.Tensor | null;
}

/**
 * Keras's GroupNormalization: the channels of `axis` split into `groups`;
 * each (sample, group) is normalized with the moments of its values over
 * every other axis, then scaled by `gamma` and shifted by `beta` (per
 * channel). With `mask` (bool, broadcastable to `x` from the left), the
 * moments count valid positions only and apply to every position; a group
 * without a valid position gets mean 0 and variance 0.
 */
export function groupNormalize(x: tf.Tensor, mask: tf.Tensor | null, o: GroupNormOptions): tf.Tensor {
  if (x.size === 0) return tf.zerosLike(x);
  return tf.tidy(() => {
    const c = x.shape[o.axis]!;
    const grouped = [...x.shape.slice(0, o.axis), o.groups, c / o.groups, ...x.shape.slice(o.axis + 1)];
    const xg = tf.reshape(x, grouped);
    const axes = grouped.flatMap((_, i) => (i === 0 || i === o.axis ? [] : [i]));
    const mg = mask === null ? null : tf.reshape(maskLike(mask, x), grouped);
    const { mean, variance } = maskedMoments(xg, mg, axes);
    const param = grouped.map((d, i) => (i === o.axis || i === o.axis + 1 ? d : 1));
    let inv = tf.rsqrt(tf.add(variance, o.epsilon));
    if (o.gamma !== null) inv = tf.mul(inv, tf.reshape(o.gamma, param));
    let res = tf.neg(tf.mul(mean, inv));
    if (o.beta !== null) res = tf.add(res, tf.reshape(o.beta, param));
    return tf.reshape(scaleShift(xg, inv, res), x.shape);
  });
}

/**
 * Layer normalization over the last axis in one WebAssembly pass
 * (asm/attention_kernels.ts `layerNormRows`), for inference on the wasm
 * backend: `(x - mean) * (rsqrt(variance + epsilon) * gamma) + beta` per
 * row, the mean and the population variance of x - (the row's first
 * value) in two passes, as LayerNormalization's tfjs ops take them (so
 * nearly constant rows with a large mean keep their precision). `gamma` and `beta` are float32 vectors of the
 * last axis's size, or null. Returns null where it does not apply (another
 * backend, a gradient being recorded, switched off by setFusedInference,
 * not float32): the caller then uses
 * tfjs ops.
 */
export function layerNormLastAxisFast(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, epsilon: number): tf.Tensor | null {
  const ops = heapOps();
  if (ops === null || !fusedInferenceAvailable() || !layerNormKernelApplies(x, gamma, beta)) return null;
  return layerNormValue(ops, x, gamma, beta, epsilon);
}

/** Whether the layer-norm heap kernels take these tensors: float32 in the wasm heap, x not empty, gamma and beta (or null) of the last axis's size. */
function layerNormKernelApplies(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null): boolean {
  if (x.dtype !== 'float32' || x.rank < 1 || x.size === 0) return false;
  const f = x.shape[x.rank - 1]!;
  if ([gamma, beta].some((p) => p !== null && (p.dtype !== 'float32' || p.size !== f))) return false;
  return [x, gamma, beta].every((t) => t === null || wasmHeapOffset(t) !== null);
}

/** `layerNormRows` over the last axis of x (tensors that `layerNormKernelApplies` accepts). */
function layerNormValue(ops: HeapOps, x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, epsilon: number): tf.Tensor {
  const f = x.shape[x.rank - 1]!;
  return writeTensor(x.shape, 'float32', (out) => {
    const at = (t: tf.Tensor | null) => (t === null ? 0 : wasmHeapOffset(t)!);
    ops.layerNormRows(at(x), out.byteOffset, x.size / f, f, at(gamma), at(beta), epsilon);
  });
}

/**
 * Layer normalization over the last axis under a gradient tape, on the wasm
 * backend: the value from the heap kernel of `layerNormLastAxisFast` (the
 * same numbers as in inference), and the gradient from its companion
 * (`layerNormRowsBackward`, asm/attention_kernels.ts), one pass per row:
 *
 *   xhat = (x - mean) inv,  g = dy gamma
 *   dx = inv (g - mean(g) - xhat mean(g xhat)),  dgamma = sum over rows of dy xhat,  dbeta = sum over rows of dy
 *
 * (mean and inv recomputed from x as the forward pass computes them). tfjs's ops for the
 * same (a slice, moments, rsqrt, broadcasts) cost a dozen ops forward and
 * their tape backward, with reductions over the leading axes that tfjs-wasm
 * runs by transposing first. As in `scaleShift`, what a zero cotangent
 * multiplies is not computed: a row whose dy is 0 adds nothing to dgamma
 * and gets dx = 0, also when its x holds NaN or Inf (padding). Returns null
 * where it does not apply (no tape recording, another backend, fused kernels
 * switched off by setFusedInference, not float32): the caller then uses
 * tfjs ops.
 */
export function layerNormLastAxisTraining(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, epsilon: number): tf.Tensor | null {
  if (!isTapeOn() || !fusedKernelsAvailable() || !layerNormKernelApplies(x, gamma, beta)) return null;
  const f = x.shape[x.rank - 1]!;
  const ops = heapOps()!;
  const params = [gamma, beta].filter((p): p is tf.Tensor => p !== null);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xx = args[0] as tf.Tensor;
    const g = gamma === null ? null : (args[1] as tf.Tensor);
    const b = beta === null ? null : (args[gamma === null ? 1 : 2] as tf.Tensor);
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save(g === null ? [xx] : [xx, g]);
    const value = layerNormValue(ops, xx, g, b, epsilon);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sg] = [saved[0]!, saved[1] ?? null];
      // dgamma and dbeta are summed into by the kernel (also when the layer has no such weight: then scratch).
      const dgamma = writeTensor([f], 'float32', (out) => out.fill(0));
      const dbeta = writeTensor([f], 'float32', (out) => out.fill(0));
      if ([sx, sg, dy].some((t) => t !== null && wasmHeapOffset(t) === null)) throw new Error('layerNormLastAxisTraining: a tensor is not in the wasm heap');
      const dx = writeTensor(sx.shape, 'float32', (out) => {
        ops.layerNormRowsBackward(wasmHeapOffset(sx)!, wasmHeapOffset(dy)!, sg === null ? 0 : wasmHeapOffset(sg)!, out.byteOffset, wasmHeapOffset(dgamma)!, wasmHeapOffset(dbeta)!, sx.size / f, f, epsilon);
      });
      const grads = [dx];
      if (gamma !== null) grads.push(dgamma);
      else dgamma.dispose();
      if (beta !== null) grads.push(dbeta);
      else dbeta.dispose();
      return grads;
    };
    return { value, gradFunc };
  });
  return op(x, ...params);
}
