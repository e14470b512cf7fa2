/**
 * Loads the recurrent WebAssembly kernel (built from `asm/` into
 * `src/generated/rnn_kernel_wasm.js` as base64) and lays out its memory.
 *
 * Node compiles the module synchronously on first use. Browsers forbid
 * synchronous compilation of modules this size on the main thread; there,
 * `await loadRnnKernel()` once (until then `rnnSequence` uses the reference
 * implementation).
 */
import { rnnKernelWasmBase64 } from '../../generated/rnn_kernel_wasm.js';
import { EmbeddedWasm } from '../../runtime/wasm_module.js';

/** The kernel's exports (see asm/index.ts). */
export interface RnnKernel {
  memory: WebAssembly.Memory;
  forward(hdr: number): void;
  backward(hdr: number): void;
  gemm(a: number, ars: number, aps: number, b: number, ldb: number, c: number, ldc: number, n: number, k: number, m: number, accumulate: number): void;
  applyActivation(id: number, x: number, out: number, n: number): void;
  softmaxRows(c: number, ldc: number, n: number, m: number): void;
  denseGradRows(g: number, y: number, ld: number, n: number, db: number): void;
  heapBase(): number;
}

const embedded = new EmbeddedWasm<RnnKernel>(rnnKernelWasmBase64);

/** The kernel, compiled synchronously on first use; null (see `rnnKernelError()`) when that is impossible here. */
export function rnnKernel(): RnnKernel | null {
  return embedded.get();
}

/** Why the kernel could not be loaded synchronously, or null. */
export function rnnKernelError(): string | null {
  return embedded.error();
}

/** Compiles the kernel asynchronously (needed once in browsers before the fused path can run). */
export async function loadRnnKernel(): Promise<void> {
  await embedded.load();
}

/**
 * A bump layout of kernel memory for one call: `take` reserves 16-byte
 * aligned regions above the module's heap base, `commit` grows the memory to
 * fit and returns fresh typed views (growing detaches older views).
 */
export class KernelArena {
  private end: number;
  constructor(readonly k: RnnKernel) {
    this.end = align(k.heapBase());
  }

  /** Reserves `bytes` bytes; returns the byte offset. */
  take(bytes: number): number {
    const at = this.end;
    this.end = align(at + Math.max(bytes, 0));
    return at;
  }

  /** Grows memory to hold every region taken so far; returns views over the whole memory. */
  commit(): { f32: Float32Array; i32: Int32Array; u8: Uint8Array } {
    const mem = this.k.memory;
    const need = this.end - mem.buffer.byteLength;
    if (need > 0) mem.grow(Math.ceil(need / 65536));
    return { f32: new Float32Array(mem.buffer), i32: new Int32Array(mem.buffer), u8: new Uint8Array(mem.buffer) };
  }
}

function align(n: number): number {
  return (n + 15) & ~15;
}
