/**
 * Optimizers by name (keras/src/optimizers/__init__.py's `get`): 'sgd',
 * 'adam', 'adamw', 'rmsprop', 'adagrad', 'nadam' in any case or style, an
 * Optimizer instance, or Keras's `{ className, config }` with camelCase keys.
 */
import { MasqueError, describe } from '../errors.js';
import { NameTable } from './names.js';
import { Adam, AdamW, Optimizer, RMSprop, SGD, type OptimizerArgs } from './optimizers.js';
import { Adagrad } from './adagrad.js';
import { Nadam } from './nadam.js';

const OPTIMIZERS = new NameTable<(config: OptimizerArgs) => Optimizer>([
  ['sgd', (c) => new SGD(c)],
  ['adam', (c) => new Adam(c)],
  ['adamw', (c) => new AdamW(c)],
  ['rmsprop', (c) => new RMSprop(c)],
  ['adagrad', (c) => new Adagrad(c)],
  ['nadam', (c) => new Nadam(c)],
]);

/** A serialized optimizer: Keras's `{class_name, config}` with camelCase keys. */
export interface OptimizerSpec {
  className: string;
  config?: OptimizerArgs & Record<string, unknown>;
}

/**
 * Resolves an optimizer: an instance (returned as is), a name ('adam',
 * 'sgd', 'rmsprop', 'adamw', 'adagrad', 'nadam'; any case) with Keras
 * defaults, or `{ className, config }`.
 */
export function getOptimizer(identifier: string | Optimizer | OptimizerSpec): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  const name = typeof identifier === 'string' ? identifier : identifier?.className;
  const make = typeof name === 'string' ? OPTIMIZERS.get(name) : undefined;
  if (make === undefined) {
    const hint = typeof name === 'string' ? OPTIMIZERS.hint(name) : '';
    throw new MasqueError(
      'UNKNOWN_NAME',
      `getOptimizer: unknown optimizer ${describe(name ?? identifier)}.${hint} Known: 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'nadam', an Optimizer instance, or { className, config }.`,
    );
  }
  return make(typeof identifier === 'string' ? {} : (identifier.config ?? {}));
}
