/**
 * Batched matrix products in the recurrent kernel's gemm: C[i] = A[i] B[i]
 * for A [..., n, k] and B [..., k, m] with equal batch axes (attention's
 * Q K^T and P V, and their gradients).
 *
 * tfjs's wasm BatchMatMul runs such products (many small matrices) about
 * 30x below the kernel's gemm: in the transformer tagger of
 * `npm run bench:tagger -- --model transformer` it took 10 ms of a 37 ms
 * training step for about 12 MFLOP. Here both operands are copied into
 * kernel memory (B's rows padded to a multiple of 4 floats, as the gemm
 * needs), one gemm runs per batch item, and the result is copied out; in
 * rounds of batch items that fit in 8 MB of kernel memory.
 *
 * Same numbers as `tf.matMul` up to float rounding (the sums run in another
 * order). Applies on the wasm backend whenever the kernel is loaded (it
 * runs on the calling thread, so also with `setKernelThreads(1)` and in
 * browsers); elsewhere it returns null and callers take `tf.matMul`.
 */
import { tf } from '../runtime/tfjs.js';
import { f32, writeTensor } from './heap_view.js';
import { rnnKernel, KernelArena } from './rnn/kernel.js';
import { padRows, unpadRows } from './rnn/dense_call.js';

const up4 = (n: number) => (n + 3) & ~3;

/** Kernel memory for one round of batch items (operands and result), in bytes. */
const CHUNK_BYTES = 8 << 20;

/** A B for float32 tensors of rank >= 3 with equal batch axes, in the kernel; null where that does not apply here. */
export function kernelBatchProduct(a: tf.Tensor, b: tf.Tensor): tf.Tensor | null {
  if (tf.getBackend() !== 'wasm' || a.dtype !== 'float32' || b.dtype !== 'float32' || a.rank < 3 || a.rank !== b.rank) return null;
  const r = a.rank;
  if (!a.shape.slice(0, -2).every((d, i) => d === b.shape[i])) return null;
  const [n, k] = [a.shape[r - 2]!, a.shape[r - 1]!];
  const m = b.shape[r - 1]!;
  if (b.shape[r - 2] !== k) return null;
  const batch = a.size / (n * k || 1);
  if (a.size === 0 || b.size === 0 || n * m === 0) return null;
  const kern = rnnKernel();
  if (kern === null) return null;
  const mp = up4(m);
  const F = 4;
  // Batch items per kernel call, so that kernel memory stays small (it never shrinks) however large the product.
  const perItem = (n * k + k * mp + n * mp) * F;
  const chunk = Math.max(1, Math.min(batch, Math.floor(CHUNK_BYTES / perItem)));
  const arena = new KernelArena(kern);
  const aAt = arena.take(chunk * n * k * F);
  const bAt = arena.take(chunk * k * mp * F);
  const cAt = arena.take(chunk * n * mp * F);
  const mem = arena.commit().f32;
  return writeTensor([...a.shape.slice(0, -2), n, m], 'float32', (out) => {
    // Views of tfjs memory: valid while no tfjs op runs (none does here).
    const av = f32(a);
    const bv = f32(b);
    for (let i0 = 0; i0 < batch; i0 += chunk) {
      const c = Math.min(chunk, batch - i0);
      mem.set(av.subarray(i0 * n * k, (i0 + c) * n * k), aAt / F);
      padRows(bv.subarray(i0 * k * m, (i0 + c) * k * m), c * k, m, mem, bAt / F, mp);
      for (let i = 0; i < c; i++) kern.gemm(aAt + i * n * k * F, k, 1, bAt + i * k * mp * F, mp, cAt + i * n * mp * F, mp, n, k, mp, 0);
      unpadRows(mem, cAt / F, mp, c * n, m, out.subarray(i0 * n * m, (i0 + c) * n * m));
    }
  });
}
