/**
 * The one check of option names for everything training takes an options
 * object for (compile, fit, evaluate, trainOnBatch, callbacks, optimizers,
 * loss and metric classes): an unknown key, a typo or a snake_case Keras
 * spelling is an INVALID_ARGUMENT error with the camelCase name to use
 * ("unknown option 'batch_size'. Did you mean 'batchSize'?"), never a
 * silently ignored setting.
 */
import { MasqueError, describe } from '../errors.js';
import { didYouMean, normalizeName } from './names.js';

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
