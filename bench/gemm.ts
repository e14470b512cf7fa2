/**
 * The kernel's matrix product (asm/gemm.ts) alone, in cache, on one core, on
 * the tagger's Dense and transformer shapes: best of 5 runs of 200 calls.
 *
 *   npx tsx bench/gemm.ts [--no-relaxed-simd]
 *
 * Uses the relaxed-SIMD build (fused multiply-adds) unless told not to; on
 * Node 20 it turns V8's relaxed SIMD on for this process (demo/relaxed_simd.ts).
 */
import { ready } from '../src/index.js';
import { KernelArena, rnnKernel } from '../src/ops/rnn/kernel.js';
import { kernelBuildLabel, useRelaxedSimd } from '../demo/relaxed_simd.js';

const known = new Set(['--no-relaxed-simd']);
for (const a of process.argv.slice(2)) if (!known.has(a)) throw new Error(`bench/gemm.ts: unknown argument ${a} (known: ${[...known].join(', ')})`);
useRelaxedSimd(!process.argv.includes('--no-relaxed-simd'));
await ready();
const k = rnnKernel();
if (k === null) throw new Error('bench/gemm.ts: the kernel could not be loaded');
const F = 4;
console.log(`kernel build: ${kernelBuildLabel()}`);
function bench(name: string, n: number, K: number, m: number, ars: number, aps: number): void {
  const a = new KernelArena(k!);
  const A = a.take(n * K * F), B = a.take(K * m * F), C = a.take(n * m * F);
  const { f32 } = a.commit();
  for (let i = 0; i < n * K; i++) f32[A / F + i] = Math.random();
  for (let i = 0; i < K * m; i++) f32[B / F + i] = Math.random();
  const reps = 200;
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) k!.gemm(A, ars, aps, B, m, C, m, n, K, m, 0);
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  console.log(`${name.padEnd(26)} [${n}, ${K}] x [${K}, ${m}]: ${best.toFixed(3)} ms, ${((2 * n * K * m) / best / 1e6).toFixed(1)} GFLOP/s`);
}
bench('Dense forward, X W', 704, 128, 132, 128, 1);
bench('Dense dX, G W^T', 704, 132, 128, 132, 1);
bench('Dense dW, X^T G', 128, 704, 132, 1, 128);
bench('square', 256, 256, 256, 256, 1);
bench('transformer QKV, X W', 704, 64, 192, 64, 1);
bench('transformer dW, X^T G', 64, 704, 192, 1, 64);
