/**
 * Telling a running fit's own callbacks from other code. While fit awaits a
 * callback hook, other code can run too (a timer, another async task); both
 * may call `model.evaluate`. Keras lets a callback evaluate the model it is
 * training, and users do it in onEpochEnd, but a second evaluate or fit
 * started from elsewhere must still be refused.
 *
 * Where the runtime has AsyncLocalStorage (Node >= 20.16, Deno, Bun), a hook
 * runs in an async context of its own, which everything it starts and awaits
 * inherits: `active` is true exactly for the hook's own work. Elsewhere
 * (browsers), the fallback is `active` while fit is waiting for a hook, which
 * also admits code that merely runs during that wait.
 */

interface AsyncLocalStorageLike<T> {
  run<R>(store: T, fn: () => R): R;
  getStore(): T | undefined;
}

type AlsClass = new <T>() => AsyncLocalStorageLike<T>;

/** Node's AsyncLocalStorage, without a static import (browser bundles stay free of node: modules). */
function findAsyncLocalStorage(): AlsClass | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const mod = proc?.getBuiltinModule?.('node:async_hooks') as { AsyncLocalStorage?: AlsClass } | undefined;
    return mod?.AsyncLocalStorage ?? null;
  } catch {
    return null;
  }
}

const Als = findAsyncLocalStorage();
const storage: AsyncLocalStorageLike<object> | null = Als === null ? null : new Als<object>();

/** One fit's hooks: `run` calls a hook, `active` says whether the current code is one of them (or started by one). */
export class HookScope {
  private readonly token = {};
  private waiting = 0;

  /** Whether the context can be followed across awaits (false: the fallback described above). */
  static get precise(): boolean {
    return storage !== null;
  }

  async run(hook: () => Promise<void>): Promise<void> {
    this.waiting++;
    try {
      await (storage === null ? hook() : storage.run(this.token, hook));
    } finally {
      this.waiting--;
    }
  }

  get active(): boolean {
    if (this.waiting === 0) return false;
    return storage === null || storage.getStore() === this.token;
  }
}
