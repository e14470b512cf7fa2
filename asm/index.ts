// Entry of the recurrent WebAssembly kernel (AssemblyScript, f32x4 SIMD).
// Built by scripts/build.mjs into src/generated/rnn_kernel_wasm.js; loaded by
// src/ops/rnn/kernel.ts. The memory is exported and grown from JS; JS lays
// out every buffer above heapBase() and passes a header pointer.
export { forward } from './rnn_forward';
export { backward } from './rnn_backward';
export { gemm } from './gemm';
export { applyActivation } from './simd_math';
export { softmaxRows, denseGradRows, argmaxRows } from './softmax';

/** First free byte after the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
