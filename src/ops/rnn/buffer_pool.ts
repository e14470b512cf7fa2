/**
 * Reuses the large Float32Arrays that every training step of a recurrent
 * layer needs again (the activations saved by the forward pass for the
 * backward pass: megabytes per call). Allocating them anew each step makes
 * V8 run a major garbage collection every step or two, whose background
 * threads compete with the kernel threads for the cores. Each thread (the
 * calling one, each helper) has its own pool.
 */
export class BufferPool {
  private readonly free: Float32Array[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * A Float32Array of length n: a view of the smallest pooled buffer that
   * holds it without wasting more than half of itself, else a new array.
   */
  take(n: number): Float32Array {
    if (n === 0) return new Float32Array(0);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i]!.length;
      if (len >= n && len <= 2 * n && (best < 0 || len < this.free[best]!.length)) best = i;
    }
    if (best < 0) return new Float32Array(n);
    const buf = this.free.splice(best, 1)[0]!;
    this.bytes -= buf.byteLength;
    return buf.subarray(0, n);
  }

  /** A copy of `a` in a buffer of the pool (see `take`). */
  copyOf(a: Float32Array): Float32Array {
    const c = this.take(a.length);
    c.set(a);
    return c;
  }

  /**
   * Returns an array's whole buffer to the pool (ignored when detached, in
   * shared memory: a view of another thread's data, or when the pool is
   * full).
   */
  give(a: Float32Array): void {
    // A transferred (detached) buffer has byteLength 0.
    if (a.buffer.byteLength === 0 || !(a.buffer instanceof ArrayBuffer) || this.bytes + a.buffer.byteLength > this.maxBytes) return;
    const whole = new Float32Array(a.buffer, 0, a.buffer.byteLength >> 2);
    if (this.free.some((f) => f.buffer === whole.buffer)) return;
    this.free.push(whole);
    this.bytes += whole.byteLength;
  }
}

/** This thread's pool for saved activations (at most 128 MiB kept). */
export const savedPool = new BufferPool(128 * 2 ** 20);

/**
 * This thread's pool for the packed results of forward passes (at most 64
 * MiB kept): inference copies them to their tensors at once and gives them
 * back, so the next call reuses the memory instead of faulting in new pages.
 */
export const packedPool = new BufferPool(64 * 2 ** 20);

/** This thread's pool for the copies of a training call's inputs that its backward pass reads again (at most 64 MiB kept). */
export const inputsPool = new BufferPool(64 * 2 ** 20);
