/**
 * For the demos and benchmarks (scripts, not the library): lets this process
 * compile WebAssembly's relaxed SIMD, so that Masque's kernel uses its
 * fused multiply-add build (setRelaxedSimd). Node 22 and later, and Chrome
 * 114 and later, have relaxed SIMD on already; Node 20 has it behind V8's
 * --experimental-wasm-relaxed-simd, which this sets for the process when the
 * engine lacks it. (A library should not set engine flags: an application
 * on Node 20 starts node with the flag instead.) Call it before the first
 * model call. `on` false keeps the plain build. Returns whether the kernel
 * will use relaxed SIMD.
 */
import { setFlagsFromString } from 'node:v8';
import { relaxedSimd, setRelaxedSimd } from '../src/index.js';

export function useRelaxedSimd(on: boolean): boolean {
  if (!on) return setRelaxedSimd(false);
  if (!relaxedSimd()) setFlagsFromString('--experimental-wasm-relaxed-simd');
  return setRelaxedSimd(true);
}

/** How the demos and benchmarks name the kernel build in use. */
export function kernelBuildLabel(): string {
  return relaxedSimd() ? 'relaxed SIMD (fused multiply-adds)' : 'plain SIMD';
}
