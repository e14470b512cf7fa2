/**
 * Option keys and names as users spell them: the one check of option names
 * for every function that takes an options object outside the layers
 * (compile, fit, optimizers, callbacks, metrics, the data helpers,
 * embeddingLookup, the importers), and the "did you mean" hint of unknown
 * names. An unknown key, a typo or a snake_case Keras spelling is an
 * INVALID_ARGUMENT error with the camelCase name to use ("unknown option
 * 'batch_size'. Did you mean 'batchSize'?"), never a silently ignored
 * setting. (Layers check theirs against their option tables, engine/options.ts.)
 */
import { MasqueError, describe } from './errors.js';

/** Keras names in any style to one key: 'mean_squared_error', 'meanSquaredError', 'MeanSquaredError' -> 'meansquarederror'. */
export function normalizeName(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
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

/**
 * Checks that `args` is an options object (or undefined/null) with only
 * `keys`; returns its own properties among `keys`. `where` starts the
 * message ("fit", "EarlyStopping").
 */
export function checkKeys(args: unknown, keys: readonly string[], where: string): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: options must be an object such as { ${keys.slice(0, 2).join(', ')} }; received ${describe(args)}.`);
  }
  for (const key of Object.keys(args)) {
    if (!keys.includes(key)) {
      const hint = didYouMean(normalizeName(key), keys.map((k) => [normalizeName(k), k] as const));
      throw new MasqueError('INVALID_ARGUMENT', `${where}: unknown option '${key}'.${hint} The options are ${keys.join(', ')}.`);
    }
  }
  const own: Record<string, unknown> = {};
  for (const key of keys) if (Object.hasOwn(args, key)) own[key] = (args as Record<string, unknown>)[key];
  return own;
}
