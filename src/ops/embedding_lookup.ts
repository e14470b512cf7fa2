/**
 * Embedding lookup: rows of a [V, D] matrix gathered by integer ids, with a
 * gradient that works on every backend.
 *
 * tfjs's own gradient of `gather` needs the `UnsortedSegmentSum` kernel,
 * which the wasm backend lacks (and whose cpu kernel costs O(V·N·D)). This op
 * is a `tf.customGrad` whose gradient scatter-adds the rows of dy into a
 * dense [V, D] Float32Array in JavaScript: O(N·D), one `dataSync` of dy. On
 * the wasm and cpu backends (tensor data lives in CPU memory) that is the
 * fastest path. The ids are read into JavaScript once per call (needed
 * for the range check anyway). On other backends (WebGL, WebGPU) it uses the backend's
 * `UnsortedSegmentSum` kernel when one is registered, to avoid a GPU read.
 */
import { allocateWasmTensor, hasKernel, wasmRefCount } from '../runtime/internals.js';
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { checkKeys } from '../option_keys.js';
import { dataWrittenInPlace, f32, knownNonzeroRows, markSparseRows, onCpuMemoryBackend, wasmHeapMemory, wasmHeapOffset, writeTensor } from './heap_view.js';
import { heapOps } from './heap_ops.js';
import { setLookupSource } from './lookup_source.js';

export interface EmbeddingLookupOptions {
  /** Layer name for error messages. */
  layerName?: string;
  /**
   * Check that every id is in [0, V) (default true). Keras/TF raise on bad
   * ids on CPU; without the check a bad id reads garbage or zeros silently.
   * The check costs one read of the ids.
   */
  checkIds?: boolean;
}

/**
 * `embeddings[ids]`: gathers rows along axis 0. Output shape is
 * `[...ids.shape, D]`. Differentiable with respect to `embeddings` on every
 * backend; repeated ids accumulate their gradients. Ids that are not int32
 * are cast (truncated) to int32, as Keras does.
 */
export function embeddingLookup(embeddings: tf.Tensor, ids: tf.Tensor, options: EmbeddingLookupOptions = {}): tf.Tensor {
  // checkKeys refuses what is not an object but reads null as no options; embeddingLookup has never taken null.
  if (options === null) throw new MasqueError('INVALID_ARGUMENT', 'embeddingLookup: options must be an object ({ checkIds?, layerName? }); received null.');
  checkKeys(options, ['checkIds', 'layerName'], 'embeddingLookup');
  const where = options.layerName !== undefined ? `Embedding '${options.layerName}'` : 'embeddingLookup';
  if (!(embeddings instanceof tf.Tensor) || !(ids instanceof tf.Tensor)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: embeddings and ids must be tensors (tf.tensor2d(table), tf.tensor(ids, shape, 'int32')); received ${describe(embeddings)} and ${describe(ids)}.`);
  }
  if (embeddings.rank !== 2) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: embeddings must be a 2-D [inputDim, outputDim] tensor; received ${describe(embeddings)}.`);
  }
  const [vocab, dim] = embeddings.shape as [number, number];
  if (ids.dtype === 'string' || ids.dtype === 'complex64') {
    throw new MasqueError('INVALID_INPUT', `${where}: ids must be a numeric tensor (int32 token ids); received a ${ids.dtype} tensor of shape ${formatShape(ids.shape)}. Map strings to ids first (TextVectorization, StringLookup).`);
  }
  // Departure from Keras, which truncates float ids to int32: an id that is
  // NaN, infinite or not an integer is an error, not row 0 (or a truncated
  // row) that the mask would mark valid.
  if (ids.dtype === 'float32') checkIntegral(ids.dataSync() as Float32Array, ids.shape, where);
  const idsInt = ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32');
  // The ids are read once, here: for the range check and for the gradient
  // (so the gradient never depends on a tensor that a tidy may have freed).
  const idValues = Int32Array.from(idsInt.dataSync() as Int32Array);
  if (idsInt !== ids) idsInt.dispose();
  if (options.checkIds ?? true) checkRange(idValues, ids.shape, vocab, where);
  const lookup = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const e = inputs[0] as tf.Tensor;
    // On wasm and cpu the table is in CPU memory: copying rows in JavaScript
    // is ~5x faster than tfjs's gather kernel on wasm (~1.5 us per row there).
    const value = onCpuMemoryBackend()
      ? gatherRowsJs(e, idValues, vocab, dim, ids.shape, ids.dtype === 'int32' ? ids : null)
      : ids.dtype === 'int32'
        ? tf.gather(e, ids)
        : tf.tidy(() => tf.gather(e, tf.tensor(idValues, ids.shape, 'int32')));
    const gradFunc = (dy: tf.Tensor): tf.Tensor => {
      const backend = tf.getBackend();
      if (!onCpuMemoryBackend() && hasKernel('UnsortedSegmentSum', backend)) {
        return tf.unsortedSegmentSum(tf.reshape(dy, [-1, dim]), tf.tensor1d(idValues, 'int32'), vocab);
      }
      return (embeddings instanceof tf.Variable && active !== null ? active.gradient(embeddings, idValues, dy, vocab, dim) : null) ?? scatterAddTensor(idValues, dy, vocab, dim);
    };
    return { value, gradFunc };
  });
  const out = lookup(embeddings);
  // For a recurrent layer fed this output directly (ops/lookup_source.ts); only checked ids can index a table.
  if (options.checkIds ?? true) setLookupSource(out, embeddings, idValues);
  return out;
}

/**
 * `table[ids]` for a [vocab, dim] table in CPU memory; ids are already
 * range-checked (an id outside [0, vocab) gives a zero row). On wasm, with
 * the ids an int32 tensor (`idTensor`) in the heap too, one call of the
 * heap kernel copies every row (a memmove each: about a tenth of the time
 * of one copyWithin call per row here). Otherwise, a run of equal ids
 * (padding is one long run of 0s) copies its first row once and then
 * doubles the copied block, so padding costs memory bandwidth, not a loop
 * per row.
 */
function gatherRowsJs(embeddings: tf.Tensor, ids: Int32Array, vocab: number, dim: number, idShape: number[], idTensor: tf.Tensor | null): tf.Tensor {
  return writeTensor([...idShape, dim], 'float32', (out) => {
    const table = f32(embeddings);
    const ops = heapOps();
    const idsAt = idTensor === null || ops === null ? null : wasmHeapOffset(idTensor);
    if (ops !== null && idsAt !== null && table.buffer === out.buffer && wasmHeapOffset(embeddings) !== null) {
      ops.gatherRows(table.byteOffset, idsAt, ids.length, dim, vocab, out.byteOffset);
      return;
    }
    // On wasm both are views of the heap: a row is one copyWithin of that
    // buffer (a memmove), about 3x faster than copying its floats in a loop.
    const heap = table.buffer === out.buffer ? new Float32Array(out.buffer) : null;
    const [t0, o0] = [table.byteOffset >> 2, out.byteOffset >> 2];
    for (let k = 0; k < ids.length; ) {
      const id = ids[k]!;
      let end = k + 1;
      while (end < ids.length && ids[end] === id) end++;
      const o = k * dim;
      if (id >= 0 && id < vocab) {
        const r = id * dim;
        if (heap !== null) heap.copyWithin(o0 + o, t0 + r, t0 + r + dim);
        else for (let d = 0; d < dim; d++) out[o + d] = table[r + d]!;
      } else {
        out.fill(0, o, o + dim);
      }
      for (let done = 1; done < end - k; ) {
        const n = Math.min(done, end - k - done);
        out.copyWithin(o + done * dim, o, o + n * dim);
        done += n;
      }
      k = end;
    }
  });
}

/**
 * dense[V, D] with dense[ids[n]] += rows[n] for every n; ids outside [0, V)
 * are skipped. `only`, when given, lists the rows that can be nonzero (the
 * others are known to be zero and are not read).
 */
export function scatterAddRows(ids: Int32Array, rows: Float32Array, vocab: number, dim: number, only: Int32Array | null = null): tf.Tensor2D {
  const out = new Float32Array(vocab * dim);
  scatterAddInto(out, ids, rows, vocab, dim, only);
  return tf.tensor2d(out, [vocab, dim]);
}

/** The gradient of the lookup, written in place (in the wasm heap on wasm): zeros, then the rows of dy added. */
function scatterAddTensor(ids: Int32Array, dy: tf.Tensor, vocab: number, dim: number): tf.Tensor {
  const only = knownNonzeroRows(dy, dim);
  const t = writeTensor([vocab, dim], 'float32', (out) => {
    out.fill(0);
    scatterAddInto(out, ids, f32(dy), vocab, dim, only);
  });
  markSparseRows(t, rowsWritten(ids, vocab, only), dim);
  return t;
}

/**
 * The Embedding gradient's buffers kept between training steps. A fresh
 * [V, D] gradient costs a write of V·D zeros each step (7.4 MB for the
 * Brown tagger's 28,814 x 64 table: about 0.5-0.9 ms per step in training),
 * although only the batch's rows are nonzero. While steps run inside
 * `EmbeddingGradientBuffers.run`, the gradient of a variable's lookup is
 * written into one buffer kept for that variable by that owner: the rows
 * the previous step wrote are zeroed and the new ones added, and the step
 * gets a tensor that shares the buffer (a reshape). The buffer is reused
 * only when nothing else holds its data any more (the backend's reference
 * count): a gradient still alive from an earlier step (kept by the caller,
 * or a second lookup of the same variable in the same step) keeps its
 * values, and the step gets a new buffer. Wasm backend only.
 *
 * Owners: `fit` keeps one per epoch (freed before the epoch's validation
 * and `onEpochEnd`); `trainOnBatch` keeps one per model from call to call
 * (freed by `dispose()` of the model, and when `fit` starts). A kept
 * buffer is a tensor: `tf.memory()` counts it.
 */
interface ReusedBuffer {
  buffer: tf.Tensor;
  /** Rows that may be nonzero (written by the last step). */
  dirty: Int32Array;
}

/** The owner whose buffers the running steps use, or null (fresh buffers). */
let active: EmbeddingGradientBuffers | null = null;
/** For tests: false makes every step take a fresh buffer, as with no owner. */
let reuseEnabled = true;

/** For tests: turns the reuse of kept gradient buffers off (or back on); returns the previous setting. */
export function setEmbeddingGradientReuse(on: boolean): boolean {
  const before = reuseEnabled;
  reuseEnabled = on;
  return before;
}

/** Gradient buffers kept between training steps, one per Embedding variable (see above). */
export class EmbeddingGradientBuffers {
  private readonly kept = new Map<tf.Tensor, ReusedBuffer>();

  /** Runs `fn` (training steps) with this owner's buffers; owners may nest (the innermost is used). */
  run<T>(fn: () => T): T {
    const before = active;
    active = this;
    try {
      return fn();
    } finally {
      active = before;
    }
  }

  /** How many buffers this owner keeps now. */
  get size(): number {
    return this.kept.size;
  }

  /** Frees the kept buffers (the owner stays usable; its next step starts new ones). Repeated calls are harmless. */
  dispose(): void {
    for (const r of this.kept.values()) r.buffer.dispose();
    this.kept.clear();
  }

  /** The lookup's gradient in `embeddings`'s kept buffer (a new tensor sharing it), or null when reuse does not apply. */
  gradient(embeddings: tf.Variable, ids: Int32Array, dy: tf.Tensor, vocab: number, dim: number): tf.Tensor | null {
    if (!reuseEnabled || tf.getBackend() !== 'wasm' || dy.dtype !== 'float32') return null;
    let r = this.kept.get(embeddings);
    if (r !== undefined && (r.buffer.isDisposed || r.buffer.shape[0] !== vocab || r.buffer.shape[1] !== dim || wasmRefCount(r.buffer) !== 1)) {
      // Still held elsewhere (or the table was resized): its holders keep it.
      if (!r.buffer.isDisposed) r.buffer.dispose();
      this.kept.delete(embeddings);
      r = undefined;
    }
    // Buffers of variables that are gone (their model was disposed).
    for (const [v, kept] of this.kept) {
      if (v.isDisposed) {
        kept.buffer.dispose();
        this.kept.delete(v);
      }
    }
    if (r === undefined) {
      const buffer = allocateWasmTensor([vocab, dim], 'float32');
      if (buffer === null) return null;
      tf.keep(buffer);
      f32(buffer).fill(0);
      r = { buffer, dirty: new Int32Array(0) };
      this.kept.set(embeddings, r);
    }
    const only = knownNonzeroRows(dy, dim);
    if (!scatterAddOnHeap(r.buffer, ids, dy, vocab, dim, only, r.dirty)) {
      const out = f32(r.buffer);
      for (const row of r.dirty) out.fill(0, row * dim, (row + 1) * dim);
      scatterAddInto(out, ids, f32(dy), vocab, dim, only);
    }
    r.dirty = rowsWritten(ids, vocab, only);
    dataWrittenInPlace(r.buffer);
    // Zero but at these rows: Adam then reads no other row of it (ops/optimizer_ops.ts).
    markSparseRows(r.buffer, r.dirty, dim);
    return tf.reshape(r.buffer, [vocab, dim]);
  }
}

/** The table rows a scatter of `ids` (those at positions `only`, when given) writes. */
function rowsWritten(ids: Int32Array, vocab: number, only: Int32Array | null): Int32Array {
  const count = only === null ? ids.length : only.length;
  const out = new Int32Array(count);
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const id = ids[only === null ? k : only[k]!]!;
    if (id >= 0 && id < vocab) out[kept++] = id;
  }
  return kept === count ? out : out.slice(0, kept);
}

/**
 * `scatterAddInto` on the wasm heap (asm/heap_ops.ts `scatterAddRows`),
 * after zeroing the rows listed in `zero`: the same float32 additions in
 * the same order, so the same bits, without JavaScript's loop over each
 * float (0.2 ms of the Brown tagger's training step, 734 rows of 64). The
 * ids, `only` and `zero` are copied into the heap for the call. Returns
 * false, having written nothing, where out and dy are not both float32 in
 * the wasm heap.
 */
function scatterAddOnHeap(out: tf.Tensor, ids: Int32Array, dy: tf.Tensor, vocab: number, dim: number, only: Int32Array | null, zero: Int32Array): boolean {
  const ops = heapOps();
  const listed = only?.length ?? 0;
  const size = ids.length + listed + zero.length;
  if (ops === null || out.dtype !== 'float32' || dy.dtype !== 'float32' || size === 0) return false;
  // Allocating may grow the heap: every offset is read after it.
  const lists = allocateWasmTensor([size], 'int32');
  if (lists === null) return false;
  try {
    const [at, outAt, dyAt] = [wasmHeapOffset(lists), wasmHeapOffset(out), wasmHeapOffset(dy)];
    const memory = wasmHeapMemory();
    if (at === null || outAt === null || dyAt === null || memory === null) return false;
    const heap = new Int32Array(memory.buffer, at, size);
    heap.set(ids, 0);
    if (only !== null) heap.set(only, ids.length);
    heap.set(zero, ids.length + listed);
    ops.scatterAddRows(outAt, at, ids.length, dyAt, only === null ? ids.length : listed, dim, vocab, only === null ? 0 : at + 4 * ids.length, at + 4 * (ids.length + listed), zero.length);
    return true;
  } finally {
    lists.dispose();
  }
}

function scatterAddInto(out: Float32Array, ids: Int32Array, rows: Float32Array, vocab: number, dim: number, only: Int32Array | null): void {
  const count = only === null ? ids.length : only.length;
  for (let k = 0; k < count; k++) {
    const n = only === null ? k : only[k]!;
    const id = ids[n]!;
    if (id < 0 || id >= vocab) continue;
    const o = id * dim;
    const r = n * dim;
    for (let d = 0; d < dim; d++) out[o + d]! += rows[r + d]!;
  }
}

/** The index of flat element `n` in a tensor of `shape`. */
function positionOf(n: number, shape: number[]): number[] {
  const position: number[] = [];
  let rest = n;
  for (let a = shape.length - 1; a >= 0; a--) {
    position.unshift(rest % shape[a]!);
    rest = Math.floor(rest / shape[a]!);
  }
  return position;
}

function checkIntegral(values: Float32Array, shape: number[], where: string): void {
  for (let n = 0; n < values.length; n++) {
    const v = values[n]!;
    if (Number.isInteger(v)) continue;
    throw new MasqueError(
      'INVALID_INPUT',
      `${where}: id ${v} at position ${formatShape(positionOf(n, shape))} is not an integer; token ids must be whole numbers (NaN and Infinity are not ids). Pad with 0 and mask, or fix the ids.`,
    );
  }
}

function checkRange(values: Int32Array, shape: number[], vocab: number, where: string): void {
  for (let n = 0; n < values.length; n++) {
    const id = values[n]!;
    if (id >= 0 && id < vocab) continue;
    const position = positionOf(n, shape);
    throw new MasqueError(
      'INVALID_INPUT',
      `${where}: id ${id} at position ${formatShape(position)} is out of range for inputDim ${vocab}; ids must be in [0, ${vocab - 1}]. Increase inputDim (the vocabulary size) or fix the ids.`,
    );
  }
}
