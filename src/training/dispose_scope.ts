/**
 * The one way the training code frees what it made: a `DisposeScope`
 * collects tensors (and anything else with `dispose()`, such as data
 * sources) as they are made, and frees them all at once, last made first, on
 * the success path and on every error path alike.
 *
 *   const scope = new DisposeScope();
 *   try {
 *     const a = scope.track(tf.tensor(...));
 *     const xs = scope.own(list.tensors, list.owned); // only the tensors made here
 *     ...
 *   } finally {
 *     scope.dispose();
 *   }
 *
 * or, when the scope lives exactly as long as one call, `withScope(fn)` /
 * `withScopeAsync(fn)`; `building(fn)` makes something that keeps its
 * tensors, freeing them only if making it fails. Disposing a tensor also
 * disposes its attached mask.
 */

/** A tensor, a data source, or anything else that frees itself. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed?: boolean;
}

export class DisposeScope {
  private items: Disposable[] = [];

  /** Frees `t` with the scope; null and undefined pass through. */
  track<T extends Disposable | null | undefined>(t: T): T {
    if (t !== null && t !== undefined) this.items.push(t);
    return t;
  }

  /** Frees every item of `list` with the scope. */
  trackAll<T extends Disposable[]>(list: T): T {
    for (const t of list) this.items.push(t);
    return list;
  }

  /** Frees the items of `list` whose `owned` flag is set (those made by the callee, not the user's). */
  own<T extends Disposable>(list: readonly T[], owned: readonly boolean[]): T[] {
    list.forEach((t, i) => owned[i] && this.items.push(t));
    return [...list];
  }

  /** Frees every tracked item once, last tracked first (an item tracked twice, or already freed, is skipped). */
  dispose(): void {
    const list = this.items;
    this.items = [];
    const seen = new Set<Disposable>();
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i]!;
      if (seen.has(t) || t.isDisposed === true) continue;
      seen.add(t);
      t.dispose();
    }
  }
}

/** Runs `fn` with a fresh scope and frees the scope when `fn` returns or throws. */
export function withScope<T>(fn: (scope: DisposeScope) => T): T {
  const scope = new DisposeScope();
  try {
    return fn(scope);
  } finally {
    scope.dispose();
  }
}

/** `withScope` for async work: the scope is freed when the promise settles. */
export async function withScopeAsync<T>(fn: (scope: DisposeScope) => Promise<T>): Promise<T> {
  const scope = new DisposeScope();
  try {
    return await fn(scope);
  } finally {
    scope.dispose();
  }
}

/**
 * Makes something that keeps the tensors it is made of: runs `fn` with a
 * fresh scope and frees the scope only if `fn` throws. On success the
 * tensors belong to what `fn` returned (it may keep the scope to free them later).
 */
export function building<T>(fn: (scope: DisposeScope) => T): T {
  const scope = new DisposeScope();
  try {
    return fn(scope);
  } catch (e) {
    scope.dispose();
    throw e;
  }
}
