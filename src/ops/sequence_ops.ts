/**
 * Copies along the time axis of [B, T, F] sequences: a window of steps, a
 * reversal, and a concatenation with a reversed sequence (Bidirectional's
 * merge). On the wasm backend tfjs's Reverse, Slice, Concat and SplitV
 * kernels cost milliseconds on a [32, 22, 64] batch (Reverse ~40x a copy
 * loop); here each is one pass of block copies in JavaScript on the
 * tensors' memory (wasm and cpu backends), differentiable with a gradient
 * that is the inverse copy. Elsewhere, and as the references the tests
 * compare against, they are the tfjs ops.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape } from '../errors.js';
import { f32, onCpuMemoryBackend, wasmHeapMemory, writeTensor } from './heap_view.js';
import { heapOps } from './heap_ops.js';

function check3d(where: string, ...xs: tf.Tensor[]): void {
  for (const x of xs) {
    if (x.rank !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: expected a [batch, time, features] tensor; received shape ${formatShape(x.shape)}.`);
  }
}

const fast = (...xs: tf.Tensor[]) => onCpuMemoryBackend() && xs.every((x) => x.dtype === 'float32');

/**
 * dst[b, dOff + s] = src[b, sOff + (reverse ? n - 1 - s : s)] for s < n:
 * rows of f floats, from [B, sT, f] at column sCol of rows sW wide into
 * [B, dT, dW] at column dCol.
 */
export function copySteps(
  src: Float32Array, sT: number, sW: number, sCol: number, sOff: number,
  dst: Float32Array, dT: number, dW: number, dCol: number, dOff: number,
  b: number, n: number, f: number, reverse: boolean,
): void {
  // Both in the wasm heap: one call of the heap kernel (memory.copy per row)
  // instead of a subarray and a set per row (~0.3 ms for a [32, 22, 128] merge).
  const ops = heapOps();
  const heap = ops === null ? null : wasmHeapMemory();
  if (ops !== null && heap !== null && src.buffer === heap.buffer && dst.buffer === heap.buffer) {
    ops.copySteps(src.byteOffset, sT, sW, sCol, sOff, dst.byteOffset, dT, dW, dCol, dOff, b, n, f, reverse ? 1 : 0);
    return;
  }
  for (let i = 0; i < b; i++) {
    for (let s = 0; s < n; s++) {
      const from = (i * sT + sOff + (reverse ? n - 1 - s : s)) * sW + sCol;
      dst.set(src.subarray(from, from + f), (i * dT + dOff + s) * dW + dCol);
    }
  }
}

/** Steps [start, start + size) of x [B, T, F], optionally of some rows only (the tfjs reference: tf.slice). */
export function sliceStepsReference(x: tf.Tensor, start: number, size: number, rows?: { start: number; count: number }): tf.Tensor {
  return tf.slice(x, [rows?.start ?? 0, start, 0], [rows?.count ?? x.shape[0]!, size, x.shape[2]!]);
}

/**
 * Steps [start, start + size) of x [B, T, F]; with `rows`, of rows
 * [rows.start, rows.start + rows.count) only.
 */
export function sliceSteps(x: tf.Tensor, start: number, size: number, rows?: { start: number; count: number }): tf.Tensor {
  check3d('sliceSteps', x);
  const [b, t, f] = x.shape as [number, number, number];
  const r0 = rows?.start ?? 0;
  const nb = rows?.count ?? b;
  if (start < 0 || size < 0 || start + size > t) throw new MasqueError('INVALID_ARGUMENT', `sliceSteps: steps [${start}, ${start + size}) are outside [0, ${t}).`);
  if (r0 < 0 || nb < 0 || r0 + nb > b) throw new MasqueError('INVALID_ARGUMENT', `sliceSteps: rows [${r0}, ${r0 + nb}) are outside [0, ${b}).`);
  if (!fast(x) || x.size === 0 || size === 0 || nb === 0) return tf.slice(x, [r0, start, 0], [nb, size, f]);
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: writeTensor([nb, size, f], 'float32', (out) => copySteps(f32(args[0] as tf.Tensor).subarray(r0 * t * f), t, f, 0, start, out, size, f, 0, 0, nb, size, f, false)),
    gradFunc: (dy: tf.Tensor) =>
      writeTensor([b, t, f], 'float32', (out) => {
        out.fill(0);
        copySteps(f32(dy), size, f, 0, 0, out.subarray(r0 * t * f), t, f, 0, start, nb, size, f, false);
      }),
  }))(x);
}

/** concat([a, reverse(r, time)], -1) with tfjs ops. */
export function concatReversedReference(a: tf.Tensor, r: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.concat([a, tf.reverse(r, 1)], -1));
}

/**
 * `a` [B, T, Fa] and `r` [B, T, Fr] reversed along time, concatenated on the
 * last axis: [B, T, Fa + Fr]. Bidirectional's 'concat' merge of the forward
 * output and the backward output (in processing order).
 */
export function concatReversed(a: tf.Tensor, r: tf.Tensor): tf.Tensor {
  check3d('concatReversed', a, r);
  const [b, t, fa] = a.shape as [number, number, number];
  const fr = r.shape[2]!;
  if (r.shape[0] !== b || r.shape[1] !== t) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `concatReversed: both sequences must have the same batch and time; received ${formatShape(a.shape)} and ${formatShape(r.shape)}.`);
  }
  if (!fast(a, r) || a.size === 0 || r.size === 0) return concatReversedReference(a, r);
  const w = fa + fr;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: writeTensor([b, t, w], 'float32', (out) => {
      copySteps(f32(args[0] as tf.Tensor), t, fa, 0, 0, out, t, w, 0, 0, b, t, fa, false);
      copySteps(f32(args[1] as tf.Tensor), t, fr, 0, 0, out, t, w, fa, 0, b, t, fr, true);
    }),
    gradFunc: (dy: tf.Tensor) => [
      writeTensor([b, t, fa], 'float32', (out) => copySteps(f32(dy), t, w, 0, 0, out, t, fa, 0, 0, b, t, fa, false)),
      writeTensor([b, t, fr], 'float32', (out) => copySteps(f32(dy), t, w, fa, 0, out, t, fr, 0, 0, b, t, fr, true)),
    ],
  }))(a, r);
}

/** x [B, T, F] reversed along time (the reference: tf.reverse). */
export function reverseStepsReference(x: tf.Tensor): tf.Tensor {
  return tf.reverse(x, 1);
}

/** x [B, T, F] reversed along time. */
export function reverseSteps(x: tf.Tensor): tf.Tensor {
  check3d('reverseSteps', x);
  const [b, t, f] = x.shape as [number, number, number];
  if (!fast(x) || x.size === 0) return reverseStepsReference(x);
  const rev = (v: tf.Tensor) => writeTensor([b, t, f], 'float32', (out) => copySteps(f32(v), t, f, 0, 0, out, t, f, 0, 0, b, t, f, true));
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({ value: rev(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => rev(dy) }))(x);
}
