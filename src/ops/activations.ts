/** Activation functions by Keras name ('relu', 'tanh', 'hard_sigmoid', ...) or as functions. */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';

export type ActivationFn = (x: tf.Tensor) => tf.Tensor;
export type ActivationSpec = string | ActivationFn | null;

const erf = (x: tf.Tensor) => tf.erf(x);

const TABLE: Record<string, ActivationFn> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  relu6: (x) => tf.relu6(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  softmax: (x) => tf.softmax(x, -1),
  log_softmax: (x) => tf.logSoftmax(x, -1),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  softplus: (x) => tf.softplus(x),
  softsign: (x) => tf.div(x, tf.add(tf.abs(x), 1)),
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
  silu: (x) => tf.mul(x, tf.sigmoid(x)),
  gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, erf(tf.div(x, Math.SQRT2)))),
  hard_sigmoid: (x) => tf.div(tf.relu6(tf.add(x, 3)), 6),
  exponential: (x) => tf.exp(x),
  leaky_relu: (x) => tf.leakyRelu(x, 0.2),
};

/** Keras activation names Masque knows (Keras's snake_case spelling). */
export const activationNames = Object.keys(TABLE);

/** Names compared without case and underscores: 'hardSigmoid', 'hard_sigmoid' and 'HardSigmoid' are one name. */
const BY_KEY = new Map(activationNames.map((n) => [n.replace(/_/g, '').toLowerCase(), n]));

/**
 * The Keras name of an activation given by name in any spelling
 * ('hardSigmoid' -> 'hard_sigmoid'; null -> 'linear'), the function's name
 * for a function, or null for an unknown name.
 */
export function activationName(spec: ActivationSpec | undefined): string | null {
  if (spec === null || spec === undefined) return 'linear';
  if (typeof spec === 'function') return spec.name || 'custom';
  return typeof spec === 'string' ? (BY_KEY.get(spec.replace(/_/g, '').toLowerCase()) ?? null) : null;
}

/** Resolves an activation; unknown names raise UNKNOWN_NAME listing the known ones. */
export function getActivation(spec: ActivationSpec | undefined, where: string): ActivationFn {
  if (typeof spec === 'function') return spec;
  const name = activationName(spec);
  const fn = name === null ? undefined : TABLE[name];
  if (fn === undefined) {
    throw new MasqueError('UNKNOWN_NAME', `${where}: unknown activation ${describe(spec)}; expected one of ${activationNames.join(', ')}, or a function.`);
  }
  return fn;
}
