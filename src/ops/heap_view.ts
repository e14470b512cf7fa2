/**
 * Read-only views of tensor data without copies, for kernels written in
 * JavaScript or our own WebAssembly on backends whose tensors live in CPU
 * memory.
 */
import { tf } from '../engine/tfjs.js';

/** What `f32` reads of the wasm backend (tfjs-backend-wasm 4.22 internals). */
interface WasmBackendView {
  wasm?: { HEAPU8?: Uint8Array };
  dataIdMap?: { get(id: object): { memoryOffset: number } | undefined };
}

/**
 * The values of a float32 tensor for reading. On the wasm backend this is a
 * view of the backend's heap (no copy: `dataSync` would copy the whole
 * tensor, padding included); it is valid until the next tfjs op, so callers
 * consume it at once. Elsewhere `dataSync` (which the cpu backend does not
 * copy either).
 */
export function f32(t: tf.Tensor): Float32Array {
  const b = tf.backend() as unknown as WasmBackendView;
  const heap = b.wasm?.HEAPU8;
  const d = t.dtype === 'float32' && heap !== undefined ? b.dataIdMap?.get(t.dataId) : undefined;
  if (d !== undefined && heap !== undefined && d.memoryOffset % 4 === 0) return new Float32Array(heap.buffer, d.memoryOffset, t.size);
  return t.dataSync() as Float32Array;
}

/**
 * Like `f32` for any numeric or bool tensor: a Float32Array, Int32Array or
 * Uint8Array (bool) view of the wasm heap, else `dataSync`. Valid until the
 * next tfjs op.
 */
export function heapView(t: tf.Tensor): Float32Array | Int32Array | Uint8Array {
  if (t.dtype === 'float32') return f32(t);
  const b = tf.backend() as unknown as WasmBackendView;
  const heap = b.wasm?.HEAPU8;
  const d = heap !== undefined && (t.dtype === 'int32' || t.dtype === 'bool') ? b.dataIdMap?.get(t.dataId) : undefined;
  if (d !== undefined && heap !== undefined) {
    if (t.dtype === 'bool') return new Uint8Array(heap.buffer, d.memoryOffset, t.size);
    if (d.memoryOffset % 4 === 0) return new Int32Array(heap.buffer, d.memoryOffset, t.size);
  }
  return t.dataSync() as Float32Array | Int32Array | Uint8Array;
}

/**
 * Rows [start, start + size) of `t` (axis 0) as a new tensor. On the wasm
 * backend tf.slice reads the whole input through a copy first; this copies
 * only the rows.
 */
export function sliceRowsFast(t: tf.Tensor, start: number, size: number): tf.Tensor {
  if (t.dtype === 'string' || t.dtype === 'complex64' || tf.getBackend() !== 'wasm') {
    return tf.slice(t, t.shape.map((_, i) => (i === 0 ? start : 0)), t.shape.map((d, i) => (i === 0 ? size : d)));
  }
  const row = t.shape.slice(1).reduce((a, d) => a * d, 1);
  const values = heapView(t).slice(start * row, (start + size) * row);
  return tf.tensor(values, [size, ...t.shape.slice(1)], t.dtype);
}
