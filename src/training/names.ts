/**
 * Name tables (losses, metrics, optimizers by name), with the
 * "did you mean" hint of their errors (src/option_keys.ts). Tables are Maps keyed by the
 * normalised name, so 'constructor', '__proto__' or 'toString' are unknown
 * names like any other, never something found on Object.prototype.
 */

import { didYouMean, normalizeName } from '../option_keys.js';

/** A table from Keras names (in any style) to things; `names` are the spellings shown to users. */
export class NameTable<T> {
  private readonly byKey = new Map<string, { name: string; value: T }>();

  constructor(entries: readonly (readonly [string, T])[]) {
    for (const [name, value] of entries) this.byKey.set(normalizeName(name), { name, value });
  }

  /** The thing called `name` in any style, or undefined. */
  get(name: string): T | undefined {
    return this.byKey.get(normalizeName(name))?.value;
  }

  /** ' Did you mean 'x'?' for the nearest known name, or ''. */
  hint(name: string): string {
    return didYouMean(normalizeName(name), [...this.byKey].map(([key, { name: shown }]) => [key, shown] as const));
  }
}
