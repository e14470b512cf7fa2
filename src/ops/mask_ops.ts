/** Mask arithmetic shared by layers. */
import { tf } from '../runtime/tfjs.js';
import { heapView, onCpuMemoryBackend, wasmHeapMemory, wasmHeapOffset, writeTensor } from './heap_view.js';
import { heapOps } from './heap_ops.js';

/**
 * Masking with maskValue 0 on float32 input: a step is padding iff
 * sum(|x|) over its features is 0 (NaN and Inf stay valid, -0 is padding,
 * exactly as with notEqual + any, at half the cost on wasm). The same sums
 * tell whether every value is finite.
 */
function usesAbsSum(x: tf.Tensor, value: number): boolean {
  return value === 0 && x.dtype === 'float32';
}

/**
 * The maskValue-0 step mask read from CPU memory (by a SIMD kernel in place
 * in the wasm heap, else in JavaScript): a step is valid as soon as one
 * feature has a nonzero magnitude (its bits without the sign), so valid
 * steps usually cost one read and only padding is read whole. Same answer
 * as sum(|x|) != 0, without two passes over the padded tensor.
 */
function zeroStepMaskInMemory(x: tf.Tensor): tf.Tensor {
  const f = x.shape[x.rank - 1]!;
  const steps = x.size / f;
  return writeTensor(x.shape.slice(0, -1), 'bool', (out) => {
    // In place in the wasm heap, 16 floats at a time (asm/heap_ops.ts), when
    // both x and the output live there; else in JavaScript.
    const ops = heapOps();
    const at = wasmHeapOffset(x);
    if (ops !== null && at !== null && out.buffer === wasmHeapMemory()?.buffer) ops.nonzeroSteps(at, steps, f, out.byteOffset);
    else nonzeroStepsJs(heapView(x), steps, f, out);
  });
}

/** nonzeroSteps in JavaScript: out[s] = 1 when a value of step s has a nonzero magnitude. */
function nonzeroStepsJs(v: Float32Array | Int32Array | Uint8Array, steps: number, f: number, out: Uint8Array): void {
  const bits = new Int32Array(v.buffer, v.byteOffset, v.length);
  // Pairs of features read as one float64: all-zero bits read as 0 (and
  // -0 in the high half as -0 === 0); anything else is confirmed by the
  // exact test below, so a stray -0 in a low half costs a second look only.
  const pairs = v.byteOffset % 8 === 0 && f % 2 === 0 ? new Float64Array(v.buffer, v.byteOffset, v.length >> 1) : null;
  const half = f >> 1;
  for (let s = 0, o = 0; s < steps; s++, o += f) {
    out[s] = 0;
    if (pairs !== null) {
      let any = false;
      for (let j = o >> 1, e = (o >> 1) + half; j < e; j++) {
        if (pairs[j] !== 0) {
          any = true;
          break;
        }
      }
      if (!any) continue;
    }
    for (let j = o; j < o + f; j++) {
      if ((bits[j]! & 0x7fffffff) !== 0) {
        out[s] = 1;
        break;
      }
    }
  }
}

/** [B, T] bool: true where some feature on the last axis differs from `value` (NaN matches NaN). */
export function stepMask(x: tf.Tensor, value: number): tf.Tensor {
  return tf.tidy(() => {
    if (usesAbsSum(x, value)) {
      if (onCpuMemoryBackend() && x.rank >= 1 && x.shape[x.rank - 1]! > 0) return zeroStepMaskInMemory(x);
      return tf.notEqual(tf.sum(tf.abs(x), -1), 0);
    }
    const differs = Number.isNaN(value) ? tf.logicalNot(tf.isNaN(x)) : tf.notEqual(x, tf.scalar(value, x.dtype));
    return tf.any(differs, -1);
  });
}

/**
 * The Masking layer's work: the step mask of `x` for `value`, and `x` with
 * its masked steps set to exactly 0.
 *
 * For maskValue 0 a masked step holds only zeros (+0 or -0), and Keras's
 * x * mask leaves each of them as it is (-0 * 0 = -0), so the output is `x`
 * itself, bit for bit, and nothing is written: the cost of a padded batch is
 * the mask alone. The gradient is still Keras's (dy * mask: masked steps get
 * none).
 */
export function maskSteps(x: tf.Tensor, value: number): { output: tf.Tensor; mask: tf.Tensor } {
  return tf.tidy(() => {
    const mask = stepMask(x, value);
    if (!usesAbsSum(x, value)) return { output: zeroMaskedSteps(x, mask), mask };
    return { output: identityWithMaskedGradient(x, maskAsFloat(mask, x.rank)), mask };
  });
}

/** `x` unchanged, with gradient dy * m (m: the float mask, broadcastable to x). */
export function identityWithMaskedGradient(x: tf.Tensor, m: tf.Tensor): tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, mm, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([mm]);
    return {
      // A reshape shares x's data (tf.clone copies it on wasm).
      value: tf.reshape(xx, xx.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0]!), tf.zerosLike(saved[0]!)],
    };
  })(x, m);
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

/**
 * A mask of shape [batch, time, ...] reduced to [batch, time]: a step is
 * valid when any of its inner positions is (a sentence with one valid word).
 * A [batch, time] mask is returned as is.
 */
export function anyValidPerStep(mask: tf.Tensor): tf.Tensor {
  if (mask.rank <= 2) return mask;
  const axes = Array.from({ length: mask.rank - 2 }, (_, i) => i + 2);
  return tf.any(mask, axes);
}

/**
 * An inner mask `inner` of shape [batch, time, ...] limited to the steps that
 * `outer` ([batch, time]) marks valid: inner AND outer, broadcast over the
 * inner axes.
 */
export function andStepMask(inner: tf.Tensor, outer: tf.Tensor): tf.Tensor {
  return tf.logicalAnd(inner, expandMask(outer, inner.rank));
}

/**
 * Calls `visit(start, end)` for each maximal run of bytes equal to `value`
 * in bytes[from, to), in order; the runs are found by native scans
 * (indexOf), so the bytes between them are skipped, not visited. The bytes
 * must be 0 or 1 (a bool mask's data).
 */
export function forEachRun(bytes: Uint8Array, value: 0 | 1, from: number, to: number, visit: (start: number, end: number) => void): void {
  const other = 1 - value;
  for (let p = bytes.indexOf(value, from); p >= 0 && p < to; ) {
    const next = bytes.indexOf(other, p);
    const end = next < 0 || next > to ? to : next;
    visit(p, end);
    p = end >= to ? -1 : bytes.indexOf(value, end);
  }
}
