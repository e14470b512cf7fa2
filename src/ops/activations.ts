/** Activation functions by Keras name ('relu', 'tanh', 'hard_sigmoid', ...) or as functions. */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';

export type ActivationFn = (x: tf.Tensor) => tf.Tensor;
export type ActivationSpec = string | ActivationFn | null;

const erf = (x: tf.Tensor) => tf.erf(x);

const ACTIVATIONS: Record<string, ActivationFn> = {
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

/** Keras activation names Masque knows, in snake_case. */
export const activationNames = Object.keys(ACTIVATIONS);

/** Normalises 'hardSigmoid' / 'hard_sigmoid' / null to a Keras snake_case name. */
export function activationName(spec: ActivationSpec | undefined): string {
  if (spec === null || spec === undefined) return 'linear';
  if (typeof spec === 'function') return spec.name || 'custom';
  return spec.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Resolves an activation; unknown names raise UNKNOWN_NAME listing the known ones. */
export function getActivation(spec: ActivationSpec | undefined, where: string): ActivationFn {
  if (typeof spec === 'function') return spec;
  const name = activationName(spec);
  const fn = ACTIVATIONS[name];
  if (fn === undefined) {
    throw new MasqueError('UNKNOWN_NAME', `${where}: unknown activation ${describe(spec)}; expected one of ${activationNames.join(', ')}, or a function.`);
  }
  return fn;
}
