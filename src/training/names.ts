/**
 * Name tables (losses, metrics, optimizers by name; option keys) and the
 * "did you mean" hint of their errors. Tables are Maps keyed by the
 * normalised name, so 'constructor', '__proto__' or 'toString' are unknown
 * names like any other, never something found on Object.prototype.
 */

/** Keras names in any style to one key: 'mean_squared_error', 'meanSquaredError', 'MeanSquaredError' -> 'meansquarederror'. */
export function normalizeName(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

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

/** Edit distance (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * ' Did you mean 'x'?' when some candidate key is close to `key` (at most a
 * third of its length away, and at least 1 edit allowed), else ''.
 * `candidates` are [key to compare, name to show].
 */
export function didYouMean(key: string, candidates: readonly (readonly [string, string])[]): string {
  let best: string | null = null;
  let bestD = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const [k, shown] of candidates) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [shown, d];
  }
  return best === null ? '' : ` Did you mean '${best}'?`;
}
