/**
 * What `fit({ callbacks })` accepts: `Callback` objects, and plain objects
 * with hook methods, as tfjs-layers takes them
 * (`{ onEpochEnd: (epoch, logs) => ... }`), alone or in a list. A plain
 * object is wrapped in a `CustomCallback`; anything else is refused with an
 * error that names the entry.
 */
import { MasqueError, describe } from '../errors.js';
import { Callback, type Logs } from './callbacks.js';
import { didYouMean } from '../option_keys.js';

type Hook = void | Promise<void>;

/** The hooks a plain-object callback may define; each is optional and may be async. */
export interface CallbackHooks {
  onTrainBegin?(logs?: Logs): Hook;
  onTrainEnd?(logs?: Logs): Hook;
  onEpochBegin?(epoch: number, logs?: Logs): Hook;
  onEpochEnd?(epoch: number, logs?: Logs): Hook;
  onBatchBegin?(batch: number, logs?: Logs): Hook;
  onBatchEnd?(batch: number, logs?: Logs): Hook;
  /** Called instead of onTrainEnd when fit fails (see Callback.onTrainError). */
  onTrainError?(error: unknown): Hook;
}

/** A callback as `fit` takes it. */
export type CallbackLike = Callback | CallbackHooks;

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd', 'onTrainError'] as const;
/** The hooks every Callback has (a Callback from another copy of Masque may predate onTrainError). */
const CORE_HOOKS = HOOKS.slice(0, 6);

/** A `Callback` that calls the hooks of a plain object (with the object as `this`). */
export class CustomCallback extends Callback {
  constructor(readonly hooks: CallbackHooks) {
    super();
  }
  override onTrainBegin(logs: Logs = {}): Hook {
    return this.hooks.onTrainBegin?.(logs);
  }
  override onTrainEnd(logs: Logs = {}): Hook {
    return this.hooks.onTrainEnd?.(logs);
  }
  override onEpochBegin(epoch: number, logs: Logs = {}): Hook {
    return this.hooks.onEpochBegin?.(epoch, logs);
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): Hook {
    return this.hooks.onEpochEnd?.(epoch, logs);
  }
  override onBatchBegin(batch: number, logs: Logs = {}): Hook {
    return this.hooks.onBatchBegin?.(batch, logs);
  }
  override onBatchEnd(batch: number, logs: Logs = {}): Hook {
    return this.hooks.onBatchEnd?.(batch, logs);
  }
  override onTrainError(error: unknown): Hook {
    return this.hooks.onTrainError?.(error);
  }
}

/** True for a Callback made by another copy of Masque (same methods, different class). */
function callbackShaped(v: object): v is Callback {
  const c = v as Record<string, unknown>;
  return typeof c['setModel'] === 'function' && typeof c['setParams'] === 'function' && CORE_HOOKS.every((h) => typeof c[h] === 'function');
}

function toCallback(v: unknown, at: string): Callback {
  if (v instanceof Callback) return v;
  const expected = `a Callback or an object with hook methods (${CORE_HOOKS.join(', ')})`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new MasqueError('INVALID_ARGUMENT', `${at} must be ${expected}; received ${describe(v)}.`);
  }
  if (callbackShaped(v)) return v;
  // Hooks may be own properties or methods of the object's class.
  const o = v as Record<string, unknown>;
  for (const hook of HOOKS) {
    if (o[hook] !== undefined && typeof o[hook] !== 'function') {
      throw new MasqueError('INVALID_ARGUMENT', `${at}.${hook} must be a function; received ${describe(o[hook])}.`);
    }
  }
  const known = new Set<string>(HOOKS);
  for (const key of Object.keys(v)) {
    if (!known.has(key) && /^on[A-Z]/.test(key)) {
      const hint = didYouMean(key.toLowerCase(), HOOKS.map((h) => [h.toLowerCase(), h] as const));
      throw new MasqueError('INVALID_ARGUMENT', `${at} has an unknown hook '${key}'.${hint} The hooks are ${HOOKS.join(', ')}.`);
    }
  }
  if (!HOOKS.some((h) => typeof o[h] === 'function')) {
    throw new MasqueError('INVALID_ARGUMENT', `${at} must be ${expected}; received an object with none of them (keys: ${Object.keys(v).join(', ') || 'none'}).`);
  }
  return new CustomCallback(v as CallbackHooks);
}

/** `fit`'s `callbacks` option (one callback or a list; undefined for none) as a list of Callbacks. */
export function toCallbacks(value: unknown, where: string): Callback[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [toCallback(value, `${where}: callbacks`)];
  return value.map((v, i) => toCallback(v, `${where}: callbacks[${i}]`));
}
