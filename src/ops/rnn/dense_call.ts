/**
 * A Dense layer's product on a block of rows, in the recurrent kernel's
 * memory with its `gemm` (and `softmaxRows`): what the calling thread and a
 * helper thread each compute when src/ops/dense_ops.ts splits a product
 * between them (the rows of a Dense input are independent).
 *
 *   forward:   Y = act(X W + b)                  X [r, k], W [k, m], act linear or softmax
 *   classes:   argmax of each row of X W + b     (no softmax: it keeps a row's order)
 *   backward:  G = dY (linear) or Y * (dY - rowsum(dY * Y)) (softmax)
 *              dX = G W^T,  dW = X^T G,  db = colsum(G)
 *
 * The gemm needs its output width a multiple of 4 and 16-byte aligned rows
 * of B and C, so W, G, W^T and the results are laid out with their rows
 * padded to a multiple of 4 floats (zero lanes, which never reach the real
 * ones). dW and db are the block's share: the caller adds the blocks'.
 */
import { KernelArena, type RnnKernel } from './kernel.js';

/** The product of a block of rows, forward. Arrays are row-major and unpadded. */
export interface DenseForwardRequest {
  op: 'denseForward';
  rows: number;
  k: number;
  m: number;
  x: Float32Array;
  w: Float32Array;
  bias: Float32Array | null;
  softmax: boolean;
}

/** The gradients of a block of rows (y: the block's softmax outputs, or null for a linear product). */
export interface DenseBackwardRequest {
  op: 'denseBackward';
  rows: number;
  k: number;
  m: number;
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  y: Float32Array | null;
}

/** The classes (argmax of the logits) of a block of rows. */
export type DenseClassesRequest = Omit<DenseForwardRequest, 'op' | 'softmax'> & { op: 'denseClasses' };

export type DenseRequest = DenseForwardRequest | DenseBackwardRequest | DenseClassesRequest;

export type DenseReply =
  | { op: 'denseForward'; y: Float32Array }
  | { op: 'denseClasses'; classes: Int32Array }
  | { op: 'denseBackward'; dx: Float32Array; dw: Float32Array; db: Float32Array };

const up4 = (n: number) => (n + 3) & ~3;

// Neither copy makes a view per row: a typed-array view is a new object, and
// the attention products' rows (a sequence's length wide, rarely a multiple
// of 4) made thousands per training step, about 0.7 MB of garbage per step
// for the young generation to collect. Each moves the rows with
// copyWithin inside kernel memory instead (no allocation), and crosses
// between the two memories in one block.

/**
 * Copies rows of `width` floats, `ld` apart in `src` (from float `from`), to
 * consecutive rows of `out`. `src` is kernel scratch: when ld > width its
 * rows are first moved together in place (what it held there is lost).
 */
export function unpadRows(src: Float32Array, from: number, ld: number, rows: number, width: number, out: Float32Array): void {
  if (ld !== width) for (let i = 1; i < rows; i++) src.copyWithin(from + i * width, from + i * ld, from + i * ld + width);
  out.set(src.subarray(from, from + rows * width));
}

/** Copies `rows` rows of `width` floats from `src` to rows `ld` apart in `dst` from float `at`, zeroing the lanes between. */
export function padRows(src: Float32Array, rows: number, width: number, dst: Float32Array, at: number, ld: number): void {
  dst.set(src.subarray(0, rows * width), at);
  if (ld === width) return;
  // Spread from the last row down (each row moves up, over rows already moved).
  for (let i = rows - 1; i >= 0; i--) {
    if (i > 0) dst.copyWithin(at + i * ld, at + i * width, at + i * width + width);
    dst.fill(0, at + i * ld + width, at + (i + 1) * ld);
  }
}

/**
 * The block's logits X W + b (the softmax taken over them when
 * `q.softmax`) in kernel memory: rows of `mp` floats (m rounded up to 4,
 * the lanes past m zero) from float `y0` of `f32`, the kernel's memory;
 * `extra`: the byte offset of `extraBytes` more bytes taken from the same
 * arena (0 when none were asked for).
 */
function denseProduct(kern: RnnKernel, q: Omit<DenseForwardRequest, 'op'>, extraBytes = 0): { f32: Float32Array; y0: number; mp: number; extra: number } {
  const { rows, k, m } = q;
  const mp = up4(m);
  const a = new KernelArena(kern);
  const F = 4;
  const xAt = a.take(rows * k * F);
  const wAt = a.take(k * mp * F);
  const yAt = a.take(rows * mp * F);
  const extra = extraBytes > 0 ? a.take(extraBytes) : 0;
  const { f32 } = a.commit();
  f32.set(q.x.subarray(0, rows * k), xAt / F);
  padRows(q.w, k, m, f32, wAt / F, mp);
  const y0 = yAt / F;
  if (q.bias !== null) {
    // Start every row at the bias; the product accumulates onto it.
    for (let i = 0; i < rows; i++) {
      f32.set(q.bias, y0 + i * mp);
      f32.fill(0, y0 + i * mp + m, y0 + (i + 1) * mp);
    }
  }
  kern.gemm(xAt, k, 1, wAt, mp, yAt, mp, rows, k, mp, q.bias !== null ? 1 : 0);
  if (q.softmax) kern.softmaxRows(yAt, mp, rows, m);
  return { f32, y0, mp, extra };
}

/**
 * The block's outputs Y [rows, m] written to `out` (length rows * m) and
 * returned; without `out`, where m is a multiple of 4, returned as a view
 * of kernel memory (valid until the kernel's next call), else in this
 * thread's scratch.
 */
export function denseForwardRows(kern: RnnKernel, q: Omit<DenseForwardRequest, 'op'>, out?: Float32Array): Float32Array {
  const { rows, m } = q;
  const { f32, y0, mp } = denseProduct(kern, q);
  if (out === undefined && mp === m) return f32.subarray(y0, y0 + rows * m);
  const into = out ?? scratchOf(rows * m).subarray(0, rows * m);
  unpadRows(f32, y0, mp, rows, m, into);
  return into;
}

/**
 * The class of each of the block's rows: the index of its largest logit in
 * X W + b (tf.argMax's rule, asm/softmax.ts argmaxRows), as a view of
 * kernel memory (valid until the kernel's next call). No softmax is taken:
 * it keeps the order of a row.
 */
export function denseClassesRows(kern: RnnKernel, q: Omit<DenseClassesRequest, 'op'>): Int32Array {
  const { f32, y0, mp, extra } = denseProduct(kern, { ...q, softmax: false }, q.rows * 4);
  kern.argmaxRows(y0 * 4, mp, q.rows, q.m, extra);
  return new Int32Array(f32.buffer, extra, q.rows);
}

/**
 * The block's gradients written to `out`: dX [rows, k], and its shares of
 * dW [k, m] and db [m]. (The inputs are read before anything is written,
 * so the outputs may overwrite them.)
 */
export function denseBackwardRows(kern: RnnKernel, q: Omit<DenseBackwardRequest, 'op'>, out: { dx: Float32Array; dw: Float32Array; db: Float32Array }): void {
  const { rows, k, m } = q;
  const mp = up4(m);
  const kp = up4(k);
  const a = new KernelArena(kern);
  const F = 4;
  const xAt = a.take(rows * k * F);
  const gAt = a.take(rows * mp * F);
  const yAt = q.y === null ? 0 : a.take(rows * mp * F);
  const dbAt = a.take(mp * F);
  const wtAt = a.take(m * kp * F);
  const dxAt = a.take(rows * kp * F);
  const dwAt = a.take(k * mp * F);
  const { f32 } = a.commit();
  f32.set(q.x.subarray(0, rows * k), xAt / F);
  // G = dY (padded rows), and Y for the softmax gradient; the kernel turns
  // G into the gradient at the product and sums its columns into db.
  padRows(q.dy, rows, m, f32, gAt / F, mp);
  if (q.y !== null) padRows(q.y, rows, m, f32, yAt / F, mp);
  f32.fill(0, dbAt / F, dbAt / F + mp);
  kern.denseGradRows(gAt, yAt, mp, rows, dbAt);
  // W^T [m, kp] (padded lanes zero).
  const wt0 = wtAt / F;
  const w = q.w;
  for (let j = 0; j < m; j++) {
    const row = wt0 + j * kp;
    for (let p = 0; p < k; p++) f32[row + p] = w[p * m + j]!;
    for (let p = k; p < kp; p++) f32[row + p] = 0;
  }
  // dX = G W^T;  dW = X^T G (A = X read transposed: rows 1 apart, columns k apart).
  kern.gemm(gAt, mp, 1, wtAt, kp, dxAt, kp, rows, m, kp, 0);
  kern.gemm(xAt, 1, k, gAt, mp, dwAt, mp, k, rows, mp, 0);
  unpadRows(f32, dxAt / F, kp, rows, k, out.dx);
  unpadRows(f32, dwAt / F, mp, k, m, out.dw);
  out.db.set(f32.subarray(dbAt / F, dbAt / F + m));
}

/** This thread's scratch for a helper's Dense results (grown as needed; the pool copies a reply as soon as the handler returns). */
let scratch = new Float32Array(0);

function scratchOf(floats: number): Float32Array {
  if (scratch.length < floats) scratch = new Float32Array(Math.ceil(floats * 1.25));
  return scratch;
}

/**
 * A helper's answer to a DenseRequest (worker_entry.ts): the results in
 * kernel memory or this thread's scratch (the worker pool copies them into
 * shared memory for the caller as soon as the handler returns), so a
 * product's hand-off allocates nothing.
 */
export function answerDense(kern: RnnKernel, q: DenseRequest): DenseReply {
  if (q.op === 'denseForward') return { op: 'denseForward', y: denseForwardRows(kern, q) };
  if (q.op === 'denseClasses') return { op: 'denseClasses', classes: denseClassesRows(kern, q) };
  const { rows, k, m } = q;
  const buf = scratchOf(rows * k + k * m + m);
  const out = { dx: buf.subarray(0, rows * k), dw: buf.subarray(rows * k, rows * k + k * m), db: buf.subarray(rows * k + k * m, rows * k + k * m + m) };
  denseBackwardRows(kern, q, out);
  return { op: 'denseBackward', ...out };
}
