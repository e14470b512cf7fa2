/**
 * Kernels the tfjs wasm backend lacks, registered for it at import.
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

interface WasmBackendLike {
  readSync(dataId: unknown): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
}

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

if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) {
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as WasmBackendLike;
      // segmentIds has the shape of x's leading axes; the rest of x is summed as rows.
      const idCount = segmentIds.shape.reduce((a, d) => a * d, 1);
      const inner = x.shape.slice(segmentIds.shape.length);
      const out = b.makeOutput([numSegments, ...inner], x.dtype);
      unsortedSegmentSumInto(b.readSync(x.dataId), Array.from(b.readSync(segmentIds.dataId)).slice(0, idCount), numSegments, b.typedArrayFromHeap(out));
      return out;
    },
  });
}
