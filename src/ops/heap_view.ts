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
