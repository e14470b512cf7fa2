/**
 * Masked sparse categorical crossentropy computed at the mask's shape.
 *
 * Keras's loss (probabilities, not logits) is, per step,
 * `-log(clip(p[label] / sum(p), eps, 1 - eps))` (its one-hot product picks
 * one term, the other terms are exact zeros), and 0 for a label outside
 * [0, C). With a [B, T] mask the masked steps are dropped. The generic path
 * (losses.ts) fills the masked steps of the whole [B, T, C] prediction with
 * a constant before the loss, a dozen [B, T, C] ops forward and backward;
 * here p[label] and sum(p) are taken first and everything else runs on
 * [B, T]:
 *
 * - `sparseCrossentropyMaskedReference`: tfjs ops (any backend), the masked
 *   steps filled at [B, T] with selects, so NaN or Inf in the padding reaches
 *   neither the loss nor its gradient;
 * - `sparseCrossentropyMasked`: on the wasm and cpu backends one JavaScript
 *   pass over the prediction forward and one write of its gradient
 *   (`dp[c] = dL/ds + (c == label ? dL/dp[label] : 0)`), same numbers up to
 *   float rounding (sum(p) is taken in double and rounded once).
 *
 * Both return the per-step losses, 0 at masked steps.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape } from '../errors.js';
import { f32, heapView, onCpuMemoryBackend, writeTensor } from './heap_view.js';
import { oneHot } from './one_hot.js';

/** Keras's `backend.epsilon()`, and the clip bounds as float32 (as the tfjs clip sees them). */
const EPS = 1e-7;
const LO = Math.fround(EPS);
const HI = Math.fround(1 - EPS);

/**
 * sum(p[from..to)) in double with four running sums, rounded to float32
 * once: a float32 rounding after each add (the order tfjs's sum takes) makes
 * one long chain of conversions, about 5x slower; the result differs from
 * it by float32 rounding only.
 */
function rowSum(p: Float32Array, from: number, to: number): number {
  let a = 0, b = 0, c = 0, d = 0;
  let k = from;
  for (; k + 4 <= to; k += 4) {
    a += p[k]!;
    b += p[k + 1]!;
    c += p[k + 2]!;
    d += p[k + 3]!;
  }
  for (; k < to; k++) a += p[k]!;
  return Math.fround(a + b + (c + d));
}

/** Labels as [lead] (a trailing axis of size 1 dropped); throws unless they fit yPred's leading axes. */
function labelsOf(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const t = yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === 1 ? tf.squeeze(yTrue, [-1]) : yTrue;
  const lead = yPred.shape.slice(0, -1);
  if (t.rank !== lead.length || !t.shape.every((d, i) => d === lead[i])) {
    throw new MasqueError(
      'INPUT_SHAPE_MISMATCH',
      `sparseCategoricalCrossentropy: yTrue must have yPred's shape without its last axis; received yTrue ${formatShape(yTrue.shape)} and yPred ${formatShape(yPred.shape)}.`,
    );
  }
  return t;
}

/** True when `mask` has exactly yPred's leading shape (the case these ops handle). */
export function maskFitsSteps(mask: tf.Tensor, yPred: tf.Tensor): boolean {
  return mask.rank === yPred.rank - 1 && mask.shape.every((d, i) => d === yPred.shape[i]);
}

/** The reference: tfjs ops at [B, T] (one-hot pick and sum at [B, T, C], the rest at [B, T]). */
export function sparseCrossentropyMaskedReference(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const c = yPred.shape[yPred.rank - 1]!;
    const ids = tf.cast(labelsOf(yTrue, yPred), 'int32');
    const m = mask.dtype === 'bool' ? mask : tf.notEqual(mask, 0);
    const inRange = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, c));
    const picked = tf.sum(tf.mul(oneHot(ids, c), yPred), -1);
    const total = tf.sum(yPred, -1);
    const q = tf.div(tf.where(m, picked, tf.fill(picked.shape, 0.5)), tf.where(m, total, tf.onesLike(total)));
    const loss = tf.neg(tf.log(tf.clipByValue(q, EPS, 1 - EPS)));
    return tf.where(tf.logicalAnd(m, inRange), loss, tf.zerosLike(loss));
  });
}

/**
 * Per-step sparse crossentropy of probabilities `yPred` [..., C] against
 * integer labels `yTrue` ([...] or [..., 1]) at the steps where `mask`
 * ([...], bool or 0/1) is set; 0 elsewhere. Differentiable in `yPred`.
 */
export function sparseCrossentropyMasked(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  if (!maskFitsSteps(mask, yPred)) {
    throw new MasqueError('MASK_SHAPE_MISMATCH', `sparseCrossentropyMasked: the mask must have yPred's shape without its last axis ${formatShape(yPred.shape.slice(0, -1))}; received ${formatShape(mask.shape)}.`);
  }
  if (!onCpuMemoryBackend() || yPred.dtype !== 'float32') return sparseCrossentropyMaskedReference(yTrue, yPred, mask);
  const c = yPred.shape[yPred.rank - 1]!;
  const lead = yPred.shape.slice(0, -1);
  const steps = lead.reduce((a, d) => a * d, 1);
  // Labels and mask are read once; the gradient needs only these and, per step, p[label] and sum(p).
  // (Not returned from the tidy: tidy walks an array it returns element by element.)
  let labels: ArrayLike<number> = [];
  tf.tidy(() => {
    labels = labelsOf(yTrue, yPred).dataSync();
  });
  const valid = heapView(mask).slice();
  const label = new Int32Array(steps).fill(-1);
  for (let i = 0; i < steps; i++) {
    const l = Math.trunc(labels[i]!);
    if (valid[i] && l >= 0 && l < c) label[i] = l;
  }
  const pl = new Float32Array(steps);
  const sum = new Float32Array(steps);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const p = args[0] as tf.Tensor;
    const value = writeTensor(lead, 'float32', (out) => {
      const pv = f32(p);
      for (let i = 0; i < steps; i++) {
        const l = label[i]!;
        if (l < 0) {
          out[i] = 0;
          continue;
        }
        const o = i * c;
        const s = rowSum(pv, o, o + c);
        const q = Math.fround(pv[o + l]! / s);
        pl[i] = pv[o + l]!;
        sum[i] = s;
        out[i] = -Math.log(Math.min(Math.max(q, LO), HI));
      }
    });
    const gradFunc = (dy: tf.Tensor): tf.Tensor =>
      writeTensor(yPred.shape, 'float32', (out) => {
        const g = f32(dy);
        for (let i = 0; i < steps; i++) {
          const o = i * c;
          const l = label[i]!;
          const s = sum[i]!;
          const q = Math.fround(pl[i]! / s);
          // d(-log clip(q)) / dq, zero where the clip is active (tfjs's clip gradient passes the closed interval).
          const dq = l >= 0 && q >= LO && q <= HI ? -g[i]! / q : 0;
          const ds = dq === 0 ? 0 : (-dq * pl[i]!) / (s * s);
          out.fill(ds, o, o + c);
          if (dq !== 0) out[o + l] = ds + dq / s;
        }
      });
    return { value, gradFunc };
  });
  return f(yPred);
}

/**
 * Whether `maskedMeanLoss` applies: per-element losses `values` (float32,
 * rank >= 1) and a bool `mask` of exactly their shape, on a backend whose
 * tensors live in CPU memory.
 */
export function maskedMeanApplies(values: tf.Tensor, mask: tf.Tensor): boolean {
  return onCpuMemoryBackend() && values.dtype === 'float32' && values.rank >= 1 && mask.dtype === 'bool' && mask.rank === values.rank && mask.shape.every((d, i) => d === values.shape[i]);
}

/**
 * The 'sum_over_batch_size' (and 'mean') reduction of per-element losses
 * under a bool mask, as one op: the float32 operations of the op chain in
 * training/losses.ts `computeLoss` in the same order (the weight
 * s = N / count of every valid entry, the products v·s summed one after
 * another, the total divided by N), 0 when nothing is valid, and the
 * gradient (dL/N)·s at valid entries and an exact 0 at masked ones, so
 * NaN or Inf left in masked entries reaches neither. The chain is about 25
 * tfjs kernel calls and 15 copies per call, each with its tensor and tape
 * bookkeeping; this is two passes over [B, T].
 */
export function maskedMeanLoss(values: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const n = values.size;
  const valid = heapView(mask).slice();
  let count = 0;
  for (let i = 0; i < n; i++) if (valid[i]) count++;
  // divNoNan(N, sum(mask)) in float32 (sum(mask) is exact below 2^24
  // entries); used only at valid entries, so only when count > 0.
  const s = count === 0 ? 0 : Math.fround(Math.fround(n) / Math.fround(count));
  const nf = Math.fround(n);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const v = args[0] as tf.Tensor;
    const value = writeTensor([], 'float32', (out) => {
      const x = f32(v);
      let total = 0;
      for (let i = 0; i < n; i++) if (valid[i]) total = Math.fround(total + Math.fround(x[i]! * s));
      out[0] = n === 0 ? 0 : Math.fround(total / nf);
    });
    const gradFunc = (dy: tf.Tensor): tf.Tensor =>
      writeTensor(values.shape, 'float32', (out) => {
        const g = n === 0 ? 0 : Math.fround(f32(dy)[0]! / nf);
        const gs = Math.fround(g * s);
        for (let i = 0; i < n; i++) out[i] = valid[i] ? gs : 0;
      });
    return { value, gradFunc };
  });
  return f(values);
}
