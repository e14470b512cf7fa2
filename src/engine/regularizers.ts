/**
 * Weight regularizers and constraints with Keras's names and numbers
 * (keras/src/regularizers, keras/src/constraints). A regularizer turns a
 * weight (or an activation) into a scalar penalty that training adds to the
 * loss; a constraint maps a weight back into its allowed set after each
 * optimizer step. Both are given by name ('l2', 'nonNeg'), as a Keras-style
 * object `{ className: 'L1L2', config: { l1: 0, l2: 0.01 } }`, or as a
 * function.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';

export type RegularizerFn = (x: tf.Tensor) => tf.Scalar;
export type ConstraintFn = (w: tf.Tensor) => tf.Tensor;
export interface KerasObjectSpec {
  className: string;
  config?: Record<string, unknown>;
}
export type RegularizerSpec = string | KerasObjectSpec | RegularizerFn;
export type ConstraintSpec = string | KerasObjectSpec | ConstraintFn;

/** A finite number >= 0 from a Keras config (Keras's `validate_float_arg`); `dflt` when absent or null. */
function factor(cfg: Record<string, unknown>, key: string, dflt: number, where: string): number {
  const v = cfg[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: ${key} must be a finite number >= 0; received ${describe(v)}.`);
  }
  return v;
}

/** Keras's L1L2: `l1 * sum(|x|) + l2 * sum(x^2)` (a term is left out when its factor is 0). */
export function l1l2(l1: number, l2: number): RegularizerFn {
  return (x) =>
    tf.tidy(() => {
      let r: tf.Tensor = tf.scalar(0);
      if (l1 !== 0) r = tf.add(r, tf.mul(l1, tf.sum(tf.abs(x))));
      if (l2 !== 0) r = tf.add(r, tf.mul(l2, tf.sum(tf.square(x))));
      return r as tf.Scalar;
    });
}

const REGULARIZERS = new Map<string, (cfg: Record<string, unknown>, where: string) => RegularizerFn>([
  // Keras's names: 'l1' / L1 and 'l2' / L2 default to 0.01, 'l1l2' / L1L2 to 0 and 0.
  ['l1', (c, w) => l1l2(factor(c, 'l1', 0.01, w), 0)],
  ['l2', (c, w) => l1l2(0, factor(c, 'l2', 0.01, w))],
  ['l1l2', (c, w) => l1l2(factor(c, 'l1', 0, w), factor(c, 'l2', 0, w))],
]);

/** Resolves a regularizer spec to a function (null stays null). */
export function getRegularizer(spec: RegularizerSpec | null, where: string): RegularizerFn | null {
  if (spec === null) return null;
  if (typeof spec === 'function') return spec;
  const name = typeof spec === 'string' ? spec : spec.className;
  const key = typeof name === 'string' ? name.replace(/_/g, '').toLowerCase() : '';
  const make = REGULARIZERS.get(key);
  if (make === undefined) {
    throw new MasqueError('UNKNOWN_NAME', `${where}: unknown regularizer ${describe(name ?? spec)}; expected 'l1', 'l2', 'l1L2', { className: 'L1L2', config: { l1, l2 } } or a function (x) => scalar.`);
  }
  return make(typeof spec === 'string' ? {} : (spec.config ?? {}), where);
}

/** Keras's axis argument of the norm constraints (default 0). */
function axisOf(cfg: Record<string, unknown>, where: string): number | number[] {
  const a = cfg['axis'] ?? 0;
  if (Number.isInteger(a) || (Array.isArray(a) && a.every((x) => Number.isInteger(x)))) return a as number | number[];
  throw new MasqueError('INVALID_ARGUMENT', `${where}: axis must be an integer or a list of integers; received ${describe(a)}.`);
}

/** `w * desired / (epsilon + norm)` with the L2 norm over `axis` (Keras's MinMaxNorm; MaxNorm and UnitNorm are cases of it). */
function normConstraint(minValue: number, maxValue: number, rate: number, axis: number | number[]): ConstraintFn {
  return (w) =>
    tf.tidy(() => {
      const norms = tf.sqrt(tf.sum(tf.square(w), axis, true));
      const desired = tf.add(tf.mul(rate, tf.clipByValue(norms, minValue, maxValue)), tf.mul(1 - rate, norms));
      return tf.mul(w, tf.div(desired, tf.add(1e-7, norms)));
    });
}

const CONSTRAINTS = new Map<string, (cfg: Record<string, unknown>, where: string) => ConstraintFn>([
  ['nonneg', () => (w) => tf.maximum(w, 0)],
  ['maxnorm', (c, w) => normConstraint(0, factor(c, 'max_value', 2, w), 1, axisOf(c, w))],
  ['unitnorm', (c, w) => (x) => tf.tidy(() => tf.div(x, tf.add(1e-7, tf.sqrt(tf.sum(tf.square(x), axisOf(c, w), true)))))],
  ['minmaxnorm', (c, w) => normConstraint(factor(c, 'min_value', 0, w), factor(c, 'max_value', 1, w), factor(c, 'rate', 1, w), axisOf(c, w))],
]);

/** Resolves a constraint spec to a function (null stays null). */
export function getConstraint(spec: ConstraintSpec | null, where: string): ConstraintFn | null {
  if (spec === null) return null;
  if (typeof spec === 'function') return spec;
  const name = typeof spec === 'string' ? spec : spec.className;
  const key = typeof name === 'string' ? name.replace(/_/g, '').toLowerCase() : '';
  const make = CONSTRAINTS.get(key);
  if (make === undefined) {
    throw new MasqueError('UNKNOWN_NAME', `${where}: unknown constraint ${describe(name ?? spec)}; expected 'nonNeg', 'maxNorm', 'unitNorm', 'minMaxNorm', { className, config } or a function (w) => w.`);
  }
  return make(typeof spec === 'string' ? {} : (spec.config ?? {}), where);
}
