/**
 * How the worker pool (worker_pool.ts) moves typed arrays between threads:
 * through shared memory that each side keeps, not through postMessage.
 *
 * A posted message carries its arrays by value (a copy in a new
 * ArrayBuffer) or by transfer (the buffer moves, and the receiving thread
 * wraps it in a new ArrayBuffer). Either way the receiver gets new
 * ArrayBuffers every call, and V8 counts their bytes as fresh external
 * memory: a training step's few megabytes of hand-offs made it collect
 * garbage (a young collection, then a full marking) every few steps, whose
 * background threads took a core from the kernel threads.
 *
 * Instead, `pack` copies every array of a message into one
 * SharedArrayBuffer that the sender keeps for the next message, and puts a
 * small placeholder in its stead; `unpack` on the other side turns the
 * placeholders back into views of that buffer (no copy, no new
 * ArrayBuffer). Arrays that already live in shared memory (other than an
 * exchange buffer) are passed as they are (posting one shares it). So the
 * receiver's views are valid only until the sender's next message: the
 * pool's callers copy what they keep.
 */

/** The key that marks a placeholder (chosen not to clash with a field of a real message). */
const PLACED = '$masqueShared';

const VIEWS = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
} as const;

type ViewName = keyof typeof VIEWS;
type View = InstanceType<(typeof VIEWS)[ViewName]>;

interface Placed {
  [PLACED]: ViewName;
  at: number;
  length: number;
}

const VIEW_NAMES = Object.keys(VIEWS) as ViewName[];

/** The kind of typed array `v` is (one that `pack` places; a subclass counts as its base), or null. */
function viewName(v: unknown): ViewName | null {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return null;
  for (const name of VIEW_NAMES) if (v instanceof VIEWS[name]) return name;
  return null;
}

/** The exchange buffers this thread packs into or reads from (their contents last one message). */
const exchanges = new WeakSet<SharedArrayBuffer>();

/** Marks `sab` as an exchange buffer received from another thread (see `isShared`). */
export function receivedExchange(sab: SharedArrayBuffer): void {
  exchanges.add(sab);
}

/**
 * Arrays in shared memory go as they are (postMessage shares them), but for
 * views of an exchange buffer: those last only until the next message, so
 * they are copied like any other array.
 */
function isShared(v: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer === 'function' && v.buffer instanceof SharedArrayBuffer && !exchanges.has(v.buffer);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Up to a multiple of 16 bytes (arithmetic, not bitwise: offsets may pass 2^31). */
const align = (n: number) => Math.ceil(n / 16) * 16;

/** Bytes that `pack` needs for `value`'s arrays. */
export function packedBytes(value: unknown): number {
  if (viewName(value) !== null) return isShared(value as View) ? 0 : align((value as View).byteLength);
  if (Array.isArray(value)) return value.reduce((s: number, v) => s + packedBytes(v), 0);
  if (isPlain(value)) {
    let s = 0;
    for (const k in value) s += packedBytes(value[k]);
    return s;
  }
  return 0;
}

/**
 * `value` with each typed array (outside shared memory) copied into `into`
 * from byte `from` (16-byte aligned) on and replaced by a placeholder;
 * plain objects and arrays are copied, other values kept. `into` must hold
 * `packedBytes(value)` bytes from `from`.
 */
export function pack(value: unknown, into: SharedArrayBuffer, from = 0): unknown {
  let at = from;
  const bytes = new Uint8Array(into);
  const walk = (v: unknown): unknown => {
    const name = viewName(v);
    if (name !== null) {
      const a = v as View;
      if (isShared(a)) return a;
      bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
      const placed: Placed = { [PLACED]: name, at, length: a.length };
      at = align(at + a.byteLength);
      return placed;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (isPlain(v)) {
      const out: Record<string, unknown> = {};
      for (const k in v) out[k] = walk(v[k]);
      return out;
    }
    return v;
  };
  return walk(value);
}

/** `pack`'s result with each placeholder turned into a view of `from` (the buffer it was packed into). */
export function unpack(value: unknown, from: SharedArrayBuffer | null): unknown {
  if (Array.isArray(value)) return value.map((v) => unpack(v, from));
  if (!isPlain(value)) return value;
  const name = value[PLACED] as ViewName | undefined;
  if (name !== undefined) {
    if (from === null) throw new Error('exchange: a message refers to shared memory that was never sent');
    const p = value as unknown as Placed;
    return new VIEWS[name](from as unknown as ArrayBuffer, p.at, p.length);
  }
  const out: Record<string, unknown> = {};
  for (const k in value) out[k] = unpack(value[k], from);
  return out;
}

/**
 * The shared buffer one side packs into: kept between messages and
 * replaced by a larger one (with headroom) when a message needs more.
 * `fit` returns where a message of `bytes` goes: the buffer, the byte it
 * starts at, and whether the buffer is new (a new one must be sent with
 * the message). A message goes at the start of the buffer, overwriting the
 * one before, unless it is to `keep` the earlier ones: then it goes after
 * them, or into a new buffer large enough for them all (the old one stays
 * alive for as long as views of it do). A message that does not keep the
 * earlier ones starts over.
 */
export class ExchangeBuffer {
  private sab: SharedArrayBuffer | null = null;
  private used = 0;

  fit(bytes: number, keep = false): { sab: SharedArrayBuffer; at: number; fresh: boolean } {
    const from = keep ? this.used : 0;
    if (this.sab !== null && this.sab.byteLength - from >= bytes) {
      this.used = from + bytes;
      return { sab: this.sab, at: from, fresh: false };
    }
    // Sized for everything kept so far and this message (with headroom), so
    // that the next sequence like this one fits in it.
    const size = Math.max(1 << 20, Math.ceil(((from + bytes) * 1.5) / 65536) * 65536, this.sab === null ? 0 : this.sab.byteLength);
    this.sab = new SharedArrayBuffer(size);
    exchanges.add(this.sab);
    this.used = bytes;
    return { sab: this.sab, at: 0, fresh: true };
  }

  /** Drops the buffer (the message that carried it was lost): the next `fit` makes a new one, to be sent. */
  forget(): void {
    this.sab = null;
    this.used = 0;
  }
}
