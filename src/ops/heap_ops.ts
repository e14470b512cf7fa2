/**
 * WebAssembly SIMD kernels that work on tensors in place in the tfjs wasm
 * backend's heap (asm/heap_ops.ts, instantiated with that backend's own
 * memory). Null on other backends, or when the backend's memory cannot be
 * shared (for example the multithreaded browser build, whose memory is a
 * SharedArrayBuffer); callers then use their JavaScript path.
 */
import { heapOpsWasmBase64 } from '../generated/heap_ops_wasm.js';
import { wasmHeapMemory } from './heap_view.js';
import { instantiateSync } from '../runtime/wasm_module.js';

export interface HeapOps {
  /** out[s] = 1 if a float of step s (f floats at byte offset x + 4 f s) has nonzero magnitude, else 0. */
  nonzeroSteps(x: number, steps: number, f: number, out: number): void;
  /** One Adam step over n floats (byte offsets; vh and vho 0 without amsgrad): see asm/heap_ops.ts. */
  adam(w: number, m: number, v: number, g: number, vh: number, wo: number, mo: number, vo: number, vho: number, n: number, c1: number, c2: number, alpha: number, eps: number): void;
  /** `adam` in place over rows of f floats where g is zero but at the `nRows` ascending rows listed at byte offset `rows`: see asm/heap_ops.ts. */
  adamRowsInPlace(w: number, m: number, v: number, g: number, vh: number, n: number, f: number, rows: number, nRows: number, c1: number, c2: number, alpha: number, eps: number): void;
  /** Rows of f floats copied along the time axis (byte offsets; sizes in floats): see asm/heap_ops.ts. */
  copySteps(src: number, sT: number, sW: number, sCol: number, sOff: number, dst: number, dT: number, dW: number, dCol: number, dOff: number, b: number, n: number, f: number, reverse: number): void;
  /** Masked scaled dot-product attention of one packed group (byte offsets, strides in floats): see asm/attention_kernels.ts. */
  attendGroup(q: number, qStride: number, k: number, kStride: number, v: number, vStride: number, mask: number, out: number, outStride: number, rows: number, wq: number, wk: number, heads: number, dk: number, dv: number, scale: number, scratch: number): void;
  /** Layer normalization of rows of f floats (gamma, beta 0 for none): see asm/attention_kernels.ts. */
  layerNormRows(x: number, out: number, rows: number, f: number, gamma: number, beta: number, eps: number): void;
  /** The gradient of layerNormRows: dx written, dgamma and dbeta (f floats) added to (gamma 0 for none): see asm/attention_kernels.ts. */
  layerNormRowsBackward(x: number, dy: number, gamma: number, dx: number, dgamma: number, dbeta: number, rows: number, f: number, eps: number): void;
  /** 1 if a masked step (mask byte 0) of x [steps, f] holds NaN or Inf, else 0. */
  maskedNonFinite(x: number, mask: number, steps: number, f: number): number;
  /** Zeroes nZero listed rows of out, then out[ids[k]] += rows[k] for k < n (or the n listed at `only`); rows of f floats, byte offsets: see asm/heap_ops.ts. */
  scatterAddRows(out: number, ids: number, nIds: number, rows: number, n: number, f: number, vocab: number, only: number, zero: number, nZero: number): void;
  /** out [n, f] = rows ids (i32 [n]) of table [vocab, f] (byte offsets); ids outside [0, vocab) give zero rows. */
  gatherRows(table: number, ids: number, n: number, f: number, vocab: number, out: number): void;
  /** out [b, f] = the mean over axis 1 of x [b, s, f] (ids 0), or of the rows x[ids] of a table (ids i32 [b s]), summed in step order in float32. */
  meanOverSteps(x: number, ids: number, b: number, s: number, f: number, out: number): void;
}

let bound: { memory: WebAssembly.Memory; ops: HeapOps | null } | null = null;

/** The kernels bound to the current wasm backend's memory, or null. */
export function heapOps(): HeapOps | null {
  const memory = wasmHeapMemory();
  if (memory === null) return null;
  if (bound?.memory === memory) return bound.ops;
  let ops: HeapOps | null = null;
  try {
    ops = instantiateSync<HeapOps>(heapOpsWasmBase64, { env: { memory } });
  } catch {
    ops = null;
  }
  bound = { memory, ops };
  return ops;
}
