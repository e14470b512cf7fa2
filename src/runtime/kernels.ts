/**
 * Kernels and gradients that tfjs lacks or gets wrong, registered when the
 * runtime loads: `UnsortedSegmentSum` for wasm, a correct `MaxPoolGrad` for
 * wasm in place of tfjs's, and zero gradients for the boolean kernels
 * (TensorFlow's behaviour; see each below).
 *
 * `UnsortedSegmentSum` is what tfjs's own gradient of `gather` needs (and so
 * `tf.gather`-based embeddings, including tfjs-layers' Embedding): without
 * it, training an embedding on wasm fails with "Kernel 'UnsortedSegmentSum'
 * not registered for backend 'wasm'". Tensor data of the wasm backend lives
 * in its heap, readable from JavaScript, so the kernel is a plain O(N·D)
 * scatter-add loop. Masque's Embedding uses `embeddingLookup`, whose
 * gradient does the same without going through tfjs's gather gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { guardEmptyWasmKernel, registerWasmKernel } from './internals.js';

/** out[segmentIds[i], ...] += x[i, ...]; ids outside [0, numSegments) are dropped, as in TensorFlow. */
export function unsortedSegmentSumInto(x: ArrayLike<number>, ids: ArrayLike<number>, numSegments: number, out: Float32Array | Int32Array): void {
  const n = ids.length;
  const inner = n === 0 ? 0 : x.length / n;
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) out[dst + k] += x[src + k]!;
  }
}

/**
 * Kernels with boolean outputs, and their inputs' names. TensorFlow declares
 * them not differentiable (a gradient through them is zero); tfjs has no
 * gradient for them, so a gradient whose path reaches one (the input gradient
 * of a model whose mask is computed from its inputs, as Masking's is, or a
 * custom layer's `computeMask`) failed with "gradient function not found".
 */
export const BOOLEAN_KERNELS: Record<string, string[]> = {
  Equal: ['a', 'b'],
  NotEqual: ['a', 'b'],
  Greater: ['a', 'b'],
  Less: ['a', 'b'],
  LessEqual: ['a', 'b'],
  LogicalAnd: ['a', 'b'],
  LogicalOr: ['a', 'b'],
  LogicalXor: ['a', 'b'],
  LogicalNot: ['x'],
  Any: ['x'],
  All: ['x'],
};

/** Zero gradients for BOOLEAN_KERNELS, where tfjs has none (never replacing one it has). */
export function registerBooleanGradients(): void {
  for (const [kernelName, names] of Object.entries(BOOLEAN_KERNELS)) {
    if (tf.getGradient(kernelName) != null) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: names,
      gradFunc: (_dy, saved) => Object.fromEntries(names.map((n, i) => [n, () => tf.zeros(saved[i]!.shape, 'float32')])),
    });
  }
}

/**
 * The gradient of a 2-D max pool (NHWC), TensorFlow's rule: each window's dy
 * goes to the first position that holds the window's largest value; padding
 * is never a position. `out` (x's shape) is overwritten.
 *
 * tfjs-backend-wasm 4.22's MaxPoolGrad is wrong: it drops the gradient of
 * every window whose largest value is negative (a pool of size 1 gave dx = 0
 * wherever x < 0), so MaxPooling1D trained wrong on wasm.
 */
export function maxPoolGradInto(x: ArrayLike<number>, dy: ArrayLike<number>, info: tf.backend_util.Conv2DInfo, out: Float32Array | Int32Array): void {
  const { batchSize, inHeight, inWidth, inChannels: ch, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  out.fill(0);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyRow = ((b * outHeight + oh) * outWidth + ow) * ch;
        for (let c = 0; c < ch; c++) {
          let best = 0;
          let at = -1;
          for (let fh = 0; fh < effectiveFilterHeight; fh += dilationHeight) {
            const h = oh * strideHeight - top + fh;
            if (h < 0 || h >= inHeight) continue;
            for (let fw = 0; fw < effectiveFilterWidth; fw += dilationWidth) {
              const w = ow * strideWidth - left + fw;
              if (w < 0 || w >= inWidth) continue;
              const k = ((b * inHeight + h) * inWidth + w) * ch + c;
              const v = x[k]!;
              if (at < 0 || v > best) {
                best = v;
                at = k;
              }
            }
          }
          if (at >= 0) out[at] += dy[dyRow + c]!;
        }
      }
    }
  }
}

/** Registers Masque's kernels and gradients with tfjs (once; called when the runtime module loads). */
export function registerMasqueKernels(): void {
  registerBooleanGradients();
  // tfjs-backend-wasm 4.22's Transpose fails on a tensor with no elements ("RuntimeError: divide by zero"), so an
  // empty batch crashed every channels_first layer (Conv1D, Flatten, the poolings) and Permute.
  guardEmptyWasmKernel('Transpose', ({ x }, attrs) => (attrs['perm'] as number[]).map((p) => x!.shape[p]!));
  // Its BatchMatMul over an inner axis of size 0 (a Dense on no features, ops.matmul of [b, m, 0] by [b, 0, n])
  // returns whatever the heap held (the answer is zeros), and its GatherV2 of an empty tensor gets the shape wrong.
  guardEmptyWasmKernel(
    'BatchMatMul',
    ({ a, b }, attrs) => {
      const sa = a!.shape;
      const sb = b!.shape;
      const m = attrs['transposeA'] === true ? sa[sa.length - 1]! : sa[sa.length - 2]!;
      const n = attrs['transposeB'] === true ? sb[sb.length - 2]! : sb[sb.length - 1]!;
      const batch = tf.broadcast_util.assertAndGetBroadcastShape(sa.slice(0, -2), sb.slice(0, -2));
      return [...batch, m, n];
    },
    ['a', 'b'],
  );
  // Its reductions over an empty axis leave the output unwritten: numpy's sum is 0, mean NaN, max -inf (the
  // lowest int32 for ints, before `initial` bounds it), min +inf, prod 1, any false, all true.
  const reduced = (axisAttr: string) => ({ x }: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>): number[] => {
    const axes = tf.util.parseAxisParam(attrs[axisAttr] as number | number[], x!.shape);
    return attrs['keepDims'] === true ? x!.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x!.shape.filter((_, i) => !axes.includes(i));
  };
  const extreme = (sign: 1 | -1) => (dtype: tf.DataType) => (dtype === 'int32' ? sign * 2147483647 - (sign < 0 ? 1 : 0) : sign * Infinity);
  guardEmptyWasmKernel('Sum', reduced('axis'));
  guardEmptyWasmKernel('Prod', reduced('axis'), ['x'], { value: () => 1 });
  guardEmptyWasmKernel('Mean', reduced('axis'), ['x'], { value: () => NaN, dtype: 'float32' }); // wasm's Mean gives float32 for ints too
  guardEmptyWasmKernel('Max', reduced('reductionIndices'), ['x'], { value: extreme(-1) });
  guardEmptyWasmKernel('Min', reduced('axis'), ['x'], { value: extreme(1) });
  guardEmptyWasmKernel('Any', reduced('axis'), ['x'], { value: () => 0, dtype: 'bool' });
  guardEmptyWasmKernel('All', reduced('axis'), ['x'], { value: () => 1, dtype: 'bool' });
  guardEmptyWasmKernel(
    'GatherV2',
    ({ x, indices }, attrs) => {
      const axis = tf.util.parseAxisParam(attrs['axis'] as number, x!.shape)[0]!;
      const batchDims = (attrs['batchDims'] as number | undefined) ?? 0;
      return [...x!.shape.slice(0, axis), ...indices!.shape.slice(batchDims), ...x!.shape.slice(axis + 1)];
    },
    ['x', 'indices'],
  );
  registerWasmKernel(
    'MaxPoolGrad',
    ({ input }) => ({ shape: input!.shape, dtype: 'float32' }),
    ({ input, dy }, shapes, attrs, out) => {
      const info = tf.backend_util.computePool2DInfo(
        shapes['input'] as [number, number, number, number],
        attrs['filterSize'] as [number, number] | number,
        attrs['strides'] as [number, number] | number,
        1,
        attrs['pad'] as 'valid' | 'same' | number,
        attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
      );
      maxPoolGradInto(input!, dy!, info, out);
    },
    true,
  );
  registerWasmKernel(
    'UnsortedSegmentSum',
    ({ x, segmentIds }, attrs) => ({ shape: [attrs['numSegments'] as number, ...x!.shape.slice(segmentIds!.shape.length)], dtype: x!.dtype }),
    ({ x, segmentIds }, shapes, attrs, out) => {
      // segmentIds has the shape of x's leading axes; the rest of x is summed as rows.
      const idCount = shapes['segmentIds']!.reduce((a, d) => a * d, 1);
      unsortedSegmentSumInto(x!, Array.from(segmentIds!).slice(0, idCount), attrs['numSegments'] as number, out);
    },
  );
}
