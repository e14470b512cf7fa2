/**
 * Read-only views of tensor data without copies, for kernels written in
 * JavaScript or our own WebAssembly on backends whose tensors live in CPU
 * memory.
 */
import { tf } from '../runtime/tfjs.js';
import { allocateWasmTensor, wasmDataChanged, wasmDataOffset, wasmHeapBytes } from '../runtime/internals.js';

export { wasmHeapMemory } from '../runtime/internals.js';

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
  if (!['float32', 'int32', 'bool'].includes(t.dtype)) return null;
  const heap = wasmHeapBytes();
  const offset = heap === null ? null : wasmDataOffset(t);
  if (heap === null || offset === null) return null;
  if (t.dtype === 'bool') return new Uint8Array(heap.buffer, offset, t.size);
  if (offset % 4 !== 0) return null;
  return t.dtype === 'float32' ? new Float32Array(heap.buffer, offset, t.size) : new Int32Array(heap.buffer, offset, t.size);
}

/** Byte offset of `t`'s data in the wasm backend's heap, or null when it is not there (other backend, unaligned, unknown). */
export function wasmHeapOffset(t: tf.Tensor): number | null {
  return wasmView(t)?.byteOffset ?? null;
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
 * A new float32 or int32 tensor whose every element `fill` writes. On the
 * wasm backend the data is allocated in the backend's heap and written
 * there: no JavaScript array and no copy into the heap (for a padded
 * [B, T, D] tensor that copy and the garbage it leaves cost as much as the
 * writing). `fill` must write every element (the heap memory starts
 * uninitialized) and must not run tfjs ops. Views of other tensors must be
 * taken inside `fill`: allocating the output may grow the heap, which
 * detaches views taken before. Elsewhere a typed array becomes the tensor.
 */
export function writeTensor<D extends 'float32' | 'int32' | 'bool'>(shape: number[], dtype: D, fill: (out: TypedFor<D>) => void): tf.Tensor {
  const size = shape.reduce((a, d) => a * d, 1);
  const t = size > 0 ? allocateWasmTensor(shape, dtype) : null;
  if (t !== null) {
    const v = wasmView(t);
    if (v !== null) {
      fill(v as TypedFor<D>);
      return t;
    }
    t.dispose();
  }
  const out = (dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size)) as TypedFor<D>;
  fill(out);
  return tf.tensor(out, shape, dtype);
}

type TypedFor<D> = D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array : Uint8Array;

/**
 * Tensors known to be zero outside a few rows: `t` read as [M, f] rows of
 * its last axis is zero except rows `rows`. Kept per data id (tensor data
 * never changes, and reshapes share it), so a consumer such as the
 * Embedding gradient can visit the nonzero rows only: the gradient that a
 * recurrent layer sends back to a padded batch is zero at every padded step.
 */
const sparseRows = new WeakMap<object, { rows: Int32Array; f: number; size: number }>();

/** Records that `t` (as [M, f]) is zero outside rows `rows`. */
export function markSparseRows(t: tf.Tensor, rows: Int32Array, f: number): void {
  sparseRows.set(t.dataId, { rows, f, size: t.size });
}

/** The rows outside which `t` (as [M, f]) is known to be zero, or null when not known. */
export function knownNonzeroRows(t: tf.Tensor, f: number): Int32Array | null {
  const e = sparseRows.get(t.dataId);
  return e !== undefined && e.f === f && e.size === t.size ? e.rows : null;
}

/**
 * Records that `t`'s data was overwritten in place (tfjs tensors are
 * otherwise immutable: a variable's `assign` gives it new data): what was
 * known about the old values is forgotten, here (`markSparseRows`) and in
 * the wasm backend (its packed matMul weights).
 */
export function dataWrittenInPlace(t: tf.Tensor): void {
  sparseRows.delete(t.dataId);
  inPlaceWrites.set(t.dataId, (inPlaceWrites.get(t.dataId) ?? 0) + 1);
  wasmDataChanged(t);
}

const inPlaceWrites = new WeakMap<object, number>();

/**
 * How many times `t`'s data was overwritten in place. A cache of values
 * computed from a weight is valid while both the weight's data id
 * (`assign` gives it a new one) and this count are unchanged.
 */
export function inPlaceWriteCount(t: tf.Tensor): number {
  return inPlaceWrites.get(t.dataId) ?? 0;
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
  const shape = [size, ...t.shape.slice(1)];
  if (t.dtype === 'float32' || t.dtype === 'int32') {
    return writeTensor(shape, t.dtype, (out) => out.set(heapView(t).subarray(start * row, (start + size) * row) as Float32Array & Int32Array));
  }
  return tf.tensor(heapView(t).slice(start * row, (start + size) * row), shape, t.dtype);
}
