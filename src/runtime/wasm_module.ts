/**
 * WebAssembly modules embedded in the library as base64 strings (the
 * `src/generated/*_wasm.js` files that scripts/build.mjs writes), so that
 * they load in Node and in browsers without fetching a file.
 *
 * Node compiles them synchronously. Browsers forbid synchronous compilation
 * of modules over 4 KiB on the main thread; there, load them once with
 * `await` before first use.
 */

/** The bytes a base64 string encodes. */
export function base64Bytes(base64: string): Uint8Array {
  const bin = atob(base64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Compiles and instantiates an embedded module synchronously; throws when this runtime cannot. */
export function instantiateSync<E>(base64: string, imports: WebAssembly.Imports = {}): E {
  if (typeof WebAssembly === 'undefined') throw new Error('WebAssembly is not available');
  return new WebAssembly.Instance(new WebAssembly.Module(base64Bytes(base64) as BufferSource), imports).exports as unknown as E;
}

/** Compiles and instantiates an embedded module asynchronously. */
export async function instantiateAsync<E>(base64: string, imports: WebAssembly.Imports = {}): Promise<E> {
  const { instance } = await WebAssembly.instantiate(base64Bytes(base64) as BufferSource, imports);
  return instance.exports as unknown as E;
}

/**
 * One instance of an embedded module for the whole process (or thread):
 * made synchronously on first `get()`, or ahead of time by `load()`. A
 * synchronous attempt that fails is not repeated; `get()` then returns null
 * and `error()` says why, until `load()` succeeds.
 */
export class EmbeddedWasm<E> {
  private instance: E | null = null;
  private failure: string | null = null;

  constructor(
    private readonly base64: string,
    private readonly imports: WebAssembly.Imports = {},
  ) {}

  /** The instance, made synchronously on first use; null when that is impossible here. */
  get(): E | null {
    if (this.instance !== null || this.failure !== null) return this.instance;
    try {
      this.instance = instantiateSync<E>(this.base64, this.imports);
    } catch (e) {
      this.failure = e instanceof Error ? e.message : String(e);
    }
    return this.instance;
  }

  /** Why the synchronous attempt failed (while no instance exists), or null. */
  error(): string | null {
    return this.instance === null ? this.failure : null;
  }

  /** Makes the instance asynchronously if there is none yet. */
  async load(): Promise<E> {
    if (this.instance === null) {
      this.instance = await instantiateAsync<E>(this.base64, this.imports);
      this.failure = null;
    }
    return this.instance;
  }
}
