/**
 * Kernels the tfjs wasm backend lacks, registered for it when the runtime
 * loads.
 *
 * `UnsortedSegmentSum` is what tfjs's own gradient of `gather` needs (and so
 * `tf.gather`-based embeddings, including tfjs-layers' Embedding): without
 * it, training an embedding on wasm fails with "Kernel 'UnsortedSegmentSum'
 * not registered for backend 'wasm'". Tensor data of the wasm backend lives
 * in its heap, readable from JavaScript, so the kernel is a plain O(N·D)
 * scatter-add loop. Masque's Embedding uses `embeddingLookup`, whose
 * gradient does the same without going through tfjs's gather gradient.
 */
import { registerWasmKernel } from './internals.js';

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

/** Registers Masque's kernels with tfjs (once; called when the runtime module loads). */
export function registerMasqueKernels(): void {
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
