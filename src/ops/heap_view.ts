/**
 * Read-only views of tensor data without copies, for kernels written in
 * JavaScript or our own WebAssembly on backends whose tensors live in CPU
 * memory.
 */
import { tf } from '../engine/tfjs.js';

/** What the views read of the wasm backend (tfjs-backend-wasm 4.22 internals). */
interface WasmBackendView {
  wasm?: { HEAPU8?: Uint8Array };
  dataIdMap?: { get(id: object): { memoryOffset: number } | undefined };
}

/** Backends whose tensor data lives in CPU memory, readable from JavaScript. */
const CPU_MEMORY_BACKENDS = new Set(['wasm', 'cpu']);

/** True on the wasm and cpu backends, where JavaScript loops over tensor data beat tfjs kernels such as gather. */
export function onCpuMemoryBackend(): boolean {
  return CPU_MEMORY_BACKENDS.has(tf.getBackend());
}

/**
 * A view of `t`'s data in the wasm heap (Float32Array, Int32Array, or
 * Uint8Array for bool), or null when `t` is not on the wasm backend or the
 * data is not aligned for its type.
 */
function wasmView(t: tf.Tensor): Float32Array | Int32Array | Uint8Array | null {
  const b = tf.backend() as unknown as WasmBackendView;
  const heap = b.wasm?.HEAPU8;
  if (heap === undefined || !['float32', 'int32', 'bool'].includes(t.dtype)) return null;
  const d = b.dataIdMap?.get(t.dataId);
  if (d === undefined) return null;
  if (t.dtype === 'bool') return new Uint8Array(heap.buffer, d.memoryOffset, t.size);
  if (d.memoryOffset % 4 !== 0) return null;
  return t.dtype === 'float32' ? new Float32Array(heap.buffer, d.memoryOffset, t.size) : new Int32Array(heap.buffer, d.memoryOffset, t.size);
}

/**
 * The values of a float32 tensor for reading. On the wasm backend this is a
 * view of the backend's heap (no copy: `dataSync` would copy the whole
 * tensor, padding included); it is valid until the next tfjs op, so callers
 * consume it at once. Elsewhere `dataSync` (which the cpu backend does not
 * copy either).
 */
export function f32(t: tf.Tensor): Float32Array {
  const v = t.dtype === 'float32' ? wasmView(t) : null;
  return (v ?? t.dataSync()) as Float32Array;
}

/**
 * Like `f32` for any numeric or bool tensor: a Float32Array, Int32Array or
 * Uint8Array (bool) view of the wasm heap, else `dataSync`. Valid until the
 * next tfjs op.
 */
export function heapView(t: tf.Tensor): Float32Array | Int32Array | Uint8Array {
  return wasmView(t) ?? (t.dataSync() as Float32Array | Int32Array | Uint8Array);
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
