/**
 * Loads the recurrent WebAssembly kernel (built from `asm/` into
 * `src/generated/rnn_kernel_wasm.js` as base64) and lays out its memory.
 *
 * Node compiles the module synchronously on first use. Browsers forbid
 * synchronous compilation of modules this size on the main thread; there,
 * `await loadRnnKernel()` once (until then `rnnSequence` uses the reference
 * implementation).
 */
import { rnnKernelRelaxedWasmBase64, rnnKernelWasmBase64 } from '../../generated/rnn_kernel_wasm.js';
import { EmbeddedWasm, base64Bytes } from '../../runtime/wasm_module.js';
import { MasqueError, describe } from '../../errors.js';

/** The kernel's exports (see asm/index.ts). */
export interface RnnKernel {
  memory: WebAssembly.Memory;
  forward(hdr: number): void;
  backward(hdr: number): void;
  gemm(a: number, ars: number, aps: number, b: number, ldb: number, c: number, ldc: number, n: number, k: number, m: number, accumulate: number): void;
  applyActivation(id: number, x: number, out: number, n: number): void;
  softmaxRows(c: number, ldc: number, n: number, m: number): void;
  denseGradRows(g: number, y: number, ld: number, n: number, db: number): void;
  argmaxRows(c: number, ldc: number, n: number, m: number, out: number): void;
  heapBase(): number;
}

// Two builds of the same kernel (scripts/build.mjs): SIMD only, and relaxed
// SIMD, whose matrix products and activations use fused multiply-adds where
// the CPU has them (asm/gemm.ts, asm/simd_math.ts). The relaxed build is used when the engine validates it (Node
// 22 and later, Chrome 114 and later; Node 20 with
// --experimental-wasm-relaxed-simd) unless `setRelaxedSimd(false)` came
// first. The choice is made when the kernel is first needed and then holds
// for the process; helper threads get it when they start (parallel.ts).
const plain = new EmbeddedWasm<RnnKernel>(rnnKernelWasmBase64);
const relaxed = new EmbeddedWasm<RnnKernel>(rnnKernelRelaxedWasmBase64);
let wanted = true;
let chosen: EmbeddedWasm<RnnKernel> | null = null;

let supported = false;

/**
 * Whether this engine compiles WebAssembly's relaxed SIMD (asked with the
 * relaxed kernel's own bytes). A yes is kept; a no is asked again, since a
 * V8 flag set later in the process can turn the feature on
 * (demo/relaxed_simd.ts).
 */
function relaxedSupported(): boolean {
  if (!supported) {
    try {
      supported = WebAssembly.validate(base64Bytes(rnnKernelRelaxedWasmBase64) as BufferSource);
    } catch {
      supported = false;
    }
  }
  return supported;
}

/** The build that `want` gives here. */
function buildFor(want: boolean): EmbeddedWasm<RnnKernel> {
  return want && relaxedSupported() ? relaxed : plain;
}

function embedded(): EmbeddedWasm<RnnKernel> {
  chosen ??= buildFor(wanted);
  return chosen;
}

/**
 * Whether the kernel's matrix products and activations (exp, sigmoid, tanh)
 * use relaxed SIMD (fused multiply-adds where the CPU has them): on by
 * default where the engine supports it. `setRelaxedSimd(false)` keeps every
 * multiply and add rounded separately, the same bits on every machine;
 * `setRelaxedSimd()` or `(true)` uses relaxed SIMD when the engine has it.
 * Returns whether the kernel will use it. The choice is fixed once the
 * kernel is loaded (by the first recurrent, Dense or batched-product call
 * that uses it): changing it then throws INVALID_ARGUMENT.
 */
export function setRelaxedSimd(on?: boolean): boolean {
  if (on !== undefined && typeof on !== 'boolean') {
    throw new MasqueError('INVALID_ARGUMENT', `setRelaxedSimd: expected true, false or nothing, received ${describe(on)}`);
  }
  const want = on ?? true;
  if (chosen !== null) {
    if (buildFor(want) !== chosen) {
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `setRelaxedSimd(${String(on)}): the kernel is already loaded ${chosen === relaxed ? 'with' : 'without'} relaxed SIMD, and that holds for the process; call setRelaxedSimd before the first model call`,
      );
    }
  }
  wanted = want;
  return relaxedSimd();
}

/** Whether the kernel uses relaxed SIMD (before it is loaded: whether it will): see `setRelaxedSimd`. */
export function relaxedSimd(): boolean {
  return (chosen ?? buildFor(wanted)) === relaxed;
}

/** Fixes the choice of build now (if the kernel is not loaded yet) and returns whether it is the relaxed one: what helper threads are started with. */
export function kernelBuildRelaxed(): boolean {
  return embedded() === relaxed;
}

/** The kernel, compiled synchronously on first use; null (see `rnnKernelError()`) when that is impossible here. */
export function rnnKernel(): RnnKernel | null {
  return embedded().get();
}

/** Why the kernel could not be loaded synchronously, or null. */
export function rnnKernelError(): string | null {
  return embedded().error();
}

/** Compiles the kernel asynchronously (needed once in browsers before the fused path can run). */
export async function loadRnnKernel(): Promise<void> {
  await embedded().load();
}

/**
 * Projection tables kept in a kernel's memory across calls (inference
 * reads each token's row there: rows XI of XP), by the id of the table
 * (projection_table.ts), right above the module's heap base; calls lay out
 * their memory above them. At most RESIDENT_BYTES in all: a table that does
 * not fit empties the store first (one that never fits is not kept).
 * WebAssembly memory does not shrink, so the kernel's memory keeps the
 * largest size the store reached.
 */
interface ResidentTables {
  end: number;
  at: Map<number, number>;
  copies: number;
}

/** The most kernel memory that projection tables keep, per kernel instance (one per thread): two tables at the largest size setProjectionTables allows by default. */
const RESIDENT_BYTES = 128 * 2 ** 20;

const resident = new WeakMap<RnnKernel, ResidentTables>();
let residentCap = RESIDENT_BYTES;

/** For tests: the most bytes that resident tables keep (omitted: the default). */
export function setResidentTableBytes(bytes = RESIDENT_BYTES): void {
  residentCap = bytes;
}

function residentOf(k: RnnKernel): ResidentTables {
  let r = resident.get(k);
  if (r === undefined) {
    r = { end: align(k.heapBase()), at: new Map(), copies: 0 };
    resident.set(k, r);
  }
  return r;
}

/**
 * The byte offset in kernel memory of projection table `id` (its floats
 * `rows`), copied there on first use; null when it is larger than the
 * store. Adding a table moves where calls lay out their memory (above the
 * store): call this before laying out a call.
 */
export function residentTable(k: RnnKernel, id: number, rows: Float32Array): number | null {
  const r = residentOf(k);
  const known = r.at.get(id);
  if (known !== undefined) return known;
  if (rows.byteLength > residentCap) return null;
  if (r.end + rows.byteLength > align(k.heapBase()) + residentCap) releaseResidentTables(k);
  const at = r.end;
  r.end = align(at + rows.byteLength);
  const need = r.end - k.memory.buffer.byteLength;
  if (need > 0) k.memory.grow(Math.ceil(need / 65536));
  new Float32Array(k.memory.buffer, at, rows.length).set(rows);
  r.at.set(id, at);
  r.copies++;
  return at;
}

/** Empties kernel k's store of tables (also for tests). */
export function releaseResidentTables(k: RnnKernel): void {
  const r = residentOf(k);
  r.at.clear();
  r.end = align(k.heapBase());
}

/** For tests: the tables this thread's kernel keeps now, and how many it has copied in. */
export function residentTableStats(k: RnnKernel): { held: number; copies: number; bytes: number } {
  const r = residentOf(k);
  return { held: r.at.size, copies: r.copies, bytes: r.end - align(k.heapBase()) };
}

/**
 * A bump layout of kernel memory for one call: `take` reserves 16-byte
 * aligned regions above the module's heap base and the resident tables,
 * `commit` grows the memory to fit and returns fresh typed views (growing
 * detaches older views).
 */
export class KernelArena {
  private end: number;
  constructor(readonly k: RnnKernel) {
    this.end = residentOf(k).end;
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
