/**
 * Declared layer options. A layer class lists its options once, in a static
 * `options` table: each entry says what values it takes (checked at run
 * time, with a message that names the layer, the option, what was expected
 * and what was received), its default, and how it maps to Keras (the
 * `kerasKind`; `src/io` derives the snake_case key and converts values).
 * `readOptions` validates an options object against the table: unknown keys,
 * misspellings and snake_case spellings raise INVALID_ARGUMENT with the
 * closest valid option ("did you mean maskZero?"). `getConfig`, Keras import
 * and export and the summary all read the same table.
 */
import { MasqueError, describe } from '../errors.js';

/** How `src/io` converts an option to and from a Keras config value. */
export type KerasKind =
  /** JSON value as is. */
  | 'value'
  /** An initializer: a name or `{ className, config }` <-> Keras's serialized initializer. */
  | 'initializer'
  /** An activation name <-> Keras's snake_case name. */
  | 'activation'
  /** A regularizer: a name or `{ className, config }` <-> Keras's serialized regularizer (null stays null). */
  | 'regularizer'
  /** A constraint: a name or `{ className, config }` <-> Keras's serialized constraint (null stays null). */
  | 'constraint'
  /** A nested layer <-> Keras's serialized layer. */
  | 'layer'
  /** A list of nested layers <-> a list of Keras's serialized layers (StackedRNNCells' cells). */
  | 'layers'
  /** A dtype name ('int64') <-> Keras's dtype policy object (`{ class_name: 'DTypePolicy', config: { name } }`). */
  | 'dtypePolicy'
  /** Not in Keras configs (Masque only); never exported, never imported. */
  | 'none';

/** One declared option. */
export interface OptionSpec<T = unknown> {
  /** Checks a given value and returns it normalised; throws INVALID_ARGUMENT naming `where` and `name`. */
  check(value: unknown, where: string, name: string): T;
  /** The value when the option is not given; `required` options have none. */
  readonly default?: T;
  readonly required: boolean;
  readonly kerasKind: KerasKind;
  /** The Keras config key, when it is not the snake_case form of the option name. */
  readonly kerasName?: string;
}

/** A layer's option table: option name (camelCase, Keras's name) -> spec. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The table for an options interface `A`: every key of `A` (besides the base options) declared. */
export type OptionsOf<A> = { readonly [K in keyof A]-?: OptionSpec<A[K]> };

/** An options interface with every declared default filled in. */
export type Filled<A> = { readonly [K in keyof A]-?: Exclude<A[K], undefined> };

function fail(where: string, name: string, expected: string, value: unknown): never {
  throw new MasqueError('INVALID_ARGUMENT', `${where}: ${name} must be ${expected}; received ${describe(value)}.`);
}

interface Common<T> {
  default?: T;
  required?: boolean;
  kerasKind?: KerasKind;
  kerasName?: string;
}

/** An option from a check function (the building block of the helpers below). */
export function option<T>(check: (v: unknown, where: string, name: string) => T, c: Common<T> = {}): OptionSpec<T> {
  const required = c.required ?? !('default' in c);
  return { check, required, kerasKind: c.kerasKind ?? 'value', ...('default' in c ? { default: c.default } : {}), ...(c.kerasName ? { kerasName: c.kerasName } : {}) };
}

interface NumberRange {
  min?: number;
  max?: number;
  /** Exclude `min` / `max` themselves. */
  minOpen?: boolean;
  maxOpen?: boolean;
}

function rangeText(r: NumberRange): string {
  const lo = r.min === undefined ? '' : `${r.minOpen ? '>' : '>='} ${r.min}`;
  const hi = r.max === undefined ? '' : `${r.maxOpen ? '<' : '<='} ${r.max}`;
  return [lo, hi].filter((s) => s !== '').join(' and ');
}

/** 'a positive integer', 'a non-negative integer', or 'an integer >= 2 and <= 8'. */
function intText(r: NumberRange): string {
  if (r.max === undefined && !r.minOpen && r.min === 1) return 'a positive integer';
  if (r.max === undefined && !r.minOpen && r.min === 0) return 'a non-negative integer';
  return `an integer${rangeText(r) ? ` ${rangeText(r)}` : ''}`;
}

function inRange(v: number, r: NumberRange): boolean {
  if (r.min !== undefined && (r.minOpen ? !(v > r.min) : !(v >= r.min))) return false;
  if (r.max !== undefined && (r.maxOpen ? !(v < r.max) : !(v <= r.max))) return false;
  return true;
}

/** Option builders: `opt.int({ min: 1 })`, `opt.bool(false)`, `opt.oneOf(['valid', 'same'], 'valid')`, ... */
export const opt = {
  /** An integer (in range); with `nullable`, null is allowed too. */
  int(r: NumberRange & Common<number> = {}): OptionSpec<number> {
    const what = intText(r);
    return option((v, w, n) => (Number.isInteger(v) && inRange(v as number, r) ? (v as number) : fail(w, n, what, v)), r);
  },
  nullableInt(r: NumberRange & Common<number | null> = {}): OptionSpec<number | null> {
    const what = `${intText(r)} or null`;
    return option((v, w, n) => (v === null || (Number.isInteger(v) && inRange(v as number, r)) ? (v as number | null) : fail(w, n, what, v)), r);
  },
  /** A finite number (in range). */
  number(r: NumberRange & Common<number> = {}): OptionSpec<number> {
    const what = `a finite number${rangeText(r) ? ` ${rangeText(r)}` : ''}`;
    return option((v, w, n) => (typeof v === 'number' && Number.isFinite(v) && inRange(v, r) ? v : fail(w, n, what, v)), r);
  },
  nullableNumber(r: NumberRange & Common<number | null> = {}): OptionSpec<number | null> {
    const what = `a finite number${rangeText(r) ? ` ${rangeText(r)}` : ''} or null`;
    return option((v, w, n) => (v === null || (typeof v === 'number' && Number.isFinite(v) && inRange(v, r)) ? (v as number | null) : fail(w, n, what, v)), r);
  },
  /** Any number, NaN and infinities included (Masking's maskValue). */
  anyNumber(c: Common<number> = {}): OptionSpec<number> {
    return option((v, w, n) => (typeof v === 'number' ? v : fail(w, n, 'a number', v)), c);
  },
  bool(dflt?: boolean, c: Common<boolean> = {}): OptionSpec<boolean> {
    return option((v, w, n) => (typeof v === 'boolean' ? v : fail(w, n, 'true or false', v)), dflt === undefined ? c : { ...c, default: dflt });
  },
  string(c: Common<string> = {}): OptionSpec<string> {
    return option((v, w, n) => (typeof v === 'string' ? v : fail(w, n, 'a string', v)), c);
  },
  /** One of a fixed list of values. */
  oneOf<T extends string | number | boolean | null>(values: readonly T[], dflt?: T, c: Common<T> = {}): OptionSpec<T> {
    const what = `one of ${values.map((x) => describe(x)).join(', ')}`;
    return option((v, w, n) => (values.includes(v as T) ? (v as T) : fail(w, n, what, v)), dflt === undefined ? c : { ...c, default: dflt });
  },
  /** A random seed: an integer or null. */
  seed(): OptionSpec<number | null> {
    return opt.nullableInt({ default: null });
  },
  /** A shape: a list of non-negative integers or null. */
  shape(c: Common<(number | null)[]> = {}): OptionSpec<(number | null)[]> {
    return option(
      (v, w, n) => (Array.isArray(v) && v.every((d) => d === null || (Number.isInteger(d) && d >= 0)) ? [...v] : fail(w, n, 'a list of non-negative integers or null', v)),
      c,
    );
  },
  /** An initializer: a name, `{ className, config }`, or a function (shape, dtype) => Tensor. */
  initializer<T>(dflt: T): OptionSpec<T> {
    return option(
      (v, w, n) =>
        typeof v === 'string' || typeof v === 'function' || (v !== null && typeof v === 'object' && typeof (v as { className?: unknown }).className === 'string')
          ? (v as T)
          : fail(w, n, "an initializer name (e.g. 'glorotUniform'), { className, config }, or a function (shape, dtype) => Tensor", v),
      { default: dflt, kerasKind: 'initializer' },
    );
  },
  /** A weight or activity regularizer: null, a name ('l2'), `{ className, config }`, or a function (x) => scalar. */
  regularizer<T>(): OptionSpec<T> {
    return option(
      (v, w, n) =>
        v === null || typeof v === 'string' || typeof v === 'function' || (v !== null && typeof v === 'object' && typeof (v as { className?: unknown }).className === 'string')
          ? (v as T)
          : fail(w, n, "null, a regularizer name (e.g. 'l2'), { className, config }, or a function (x) => scalar", v),
      { default: null as T, kerasKind: 'regularizer' },
    );
  },
  /** A weight constraint: null, a name ('nonNeg'), `{ className, config }`, or a function (w) => w. */
  constraint<T>(): OptionSpec<T> {
    return option(
      (v, w, n) =>
        v === null || typeof v === 'string' || typeof v === 'function' || (v !== null && typeof v === 'object' && typeof (v as { className?: unknown }).className === 'string')
          ? (v as T)
          : fail(w, n, "null, a constraint name (e.g. 'nonNeg'), { className, config }, or a function (w) => w", v),
      { default: null as T, kerasKind: 'constraint' },
    );
  },
  /** An activation: a name (e.g. 'relu'), a function, or null (linear); required when no default is given. Names are checked by the layer. */
  activation<T>(...dflt: [] | [T]): OptionSpec<T> {
    return option(
      (v, w, n) => (v === null || typeof v === 'string' || typeof v === 'function' ? (v as T) : fail(w, n, "an activation name (e.g. 'relu'), a function, or null", v)),
      dflt.length === 0 ? { kerasKind: 'activation' } : { default: dflt[0], kerasKind: 'activation' },
    );
  },
  /** Any value the layer checks itself (`check` normalises or throws). */
  custom<T>(check: (v: unknown, where: string, name: string) => T, c: Common<T> = {}): OptionSpec<T> {
    return option(check, c);
  },
};

/** The options every layer takes (Keras's base layer arguments). */
export const BASE_OPTIONS = {
  name: opt.custom<string | undefined>(
    (v, w, n) => (typeof v === 'string' && v !== '' && !v.includes('/') ? v : fail(w, n, "a non-empty string without '/'", v)),
    { default: undefined },
  ),
  trainable: opt.bool(true),
  /** Shape of one sample (no batch dim) for a first layer, as in tfjs and Keras 2. */
  inputShape: opt.custom<(number | null)[] | undefined>(
    (v, w, n) => (Array.isArray(v) && v.every((d) => d === null || (Number.isInteger(d) && d >= 0)) ? [...v] : fail(w, n, 'a list of non-negative integers or null (one sample, no batch dim)', v)),
    { default: undefined, kerasKind: 'none' },
  ),
  batchSize: opt.custom<number | null | undefined>((v, w, n) => (v === null || (Number.isInteger(v) && (v as number) >= 1) ? (v as number | null) : fail(w, n, 'a positive integer or null', v)), {
    default: undefined,
    kerasKind: 'none',
  }),
  inputDtype: opt.custom<'float32' | 'int32' | 'bool' | 'string' | undefined>(
    (v, w, n) => (v === 'float32' || v === 'int32' || v === 'bool' || v === 'string' ? v : fail(w, n, "one of 'float32', 'int32', 'bool', 'string'", v)),
    { default: undefined, kerasKind: 'none' },
  ),
} satisfies OptionTable;

/** Lower case without underscores, dashes or spaces: `mask_zero`, `maskZero` and `MaskZero` compare equal. */
function squash(s: string): string {
  return s.replace(/[_\-\s]/g, '').toLowerCase();
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The valid option closest to `key` (same letters in another case/spelling, or a small typo), or null. */
export function closestOption(key: string, valid: readonly string[]): string | null {
  const k = squash(key);
  const same = valid.find((v) => squash(v) === k);
  if (same !== undefined) return same;
  let best: string | null = null;
  let bestD = Infinity;
  for (const v of valid) {
    const d = editDistance(k, squash(v));
    if (d < bestD) {
      bestD = d;
      best = v;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(k.length / 4)) ? best : null;
}

/** The error for an option `key` that `where` does not take. */
export function unknownOptionError(where: string, key: string, valid: readonly string[]): MasqueError {
  const near = closestOption(key, valid);
  const hint = near === null ? '' : /_/.test(key) && squash(key) === squash(near) ? ` Did you mean ${near}? (Masque spells Keras's options in camelCase.)` : ` Did you mean ${near}?`;
  return new MasqueError('INVALID_ARGUMENT', `${where}: unknown option '${key}'.${hint} Valid options: ${valid.join(', ')}.`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Validates `given` against `table` and returns every option filled in
 * (given values checked and normalised, defaults for the rest). Unknown keys
 * raise INVALID_ARGUMENT with the closest valid option; so do missing
 * required options and values of the wrong kind. `undefined` counts as not
 * given. Only own keys of `given` are read.
 */
export function readOptions(table: OptionTable, given: unknown, where: string): Record<string, unknown> {
  if (given === undefined || given === null) given = {};
  if (!isPlainObject(given)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: expected an options object { ${Object.keys(table).join(', ')} }; received ${describe(given)}.`);
  }
  const valid = Object.keys(table);
  for (const key of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(table, key)) throw unknownOptionError(where, key, valid);
  }
  const out: Record<string, unknown> = {};
  for (const key of valid) {
    const spec = table[key]!;
    const v = given[key];
    if (v === undefined) {
      if (spec.required) throw new MasqueError('INVALID_ARGUMENT', `${where}: the option ${key} is required; received none.`);
      out[key] = spec.default;
    } else {
      out[key] = spec.check(v, where, key);
    }
  }
  return out;
}

/** The names of the options in `table` that Keras configs hold (in declaration order). */
export function kerasOptionNames(table: OptionTable): string[] {
  return Object.keys(table).filter((k) => table[k]!.kerasKind !== 'none');
}
