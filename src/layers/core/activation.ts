/** Activation and ReLU layers; both pass the mask through. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec, specLike } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, SpecArgs, TensorSpec } from '../../engine/types.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';

/** The one mask of a single-input call (null when none). */
export function firstMaskOf(args: CallArgs): tf.Tensor | null {
  return Array.isArray(args.mask) ? (args.mask.find((m) => m !== null) ?? null) : (args.mask ?? null);
}

/** Same shape and dtype out as in, mask passed through (the elementwise layers). */
export abstract class Elementwise<A extends CallArgs = CallArgs> extends Layer<A> {
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<A>): TensorSpec {
    return specLike(oneSpec(inputs, `${this.className} '${this.name}'`), firstMask(args.mask));
  }
}

export interface ActivationArgs extends BaseLayerArgs {
  activation: ActivationSpec;
}

export class Activation extends Elementwise {
  static override readonly className = 'Activation';
  static override readonly options = {
    activation: opt.activation<ActivationSpec>(),
  } satisfies OptionsOf<Omit<ActivationArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ActivationArgs, keyof BaseLayerArgs>>;
  private readonly fn: (x: tf.Tensor) => tf.Tensor;

  constructor(args: ActivationArgs) {
    super(args);
    this.fn = getActivation(this.args.activation, `Activation '${this.name}'`);
    this.supportsMasking = true;
  }

  get activation(): ActivationSpec {
    return this.args.activation;
  }

  call(x: tf.Tensor): tf.Tensor {
    return this.fn(x);
  }
}

export interface ReLUArgs extends BaseLayerArgs {
  maxValue?: number | null;
  negativeSlope?: number;
  threshold?: number;
}

/**
 * Keras ReLU, as Keras computes it (keras.activations.relu): the positive
 * part keeps x where x > threshold (strictly: Keras's docstring says >=, its
 * code and numbers say >), else 0; with maxValue it is clipped to
 * [0, maxValue]; with negativeSlope, `negativeSlope * relu(threshold - x)`
 * is subtracted.
 */
export class ReLU extends Elementwise {
  static override readonly className = 'ReLU';
  static override readonly options = {
    maxValue: opt.nullableNumber({ min: 0, default: null }),
    negativeSlope: opt.number({ min: 0, default: 0 }),
    threshold: opt.number({ default: 0 }),
  } satisfies OptionsOf<Omit<ReLUArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ReLUArgs, keyof BaseLayerArgs>>;

  constructor(args: ReLUArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor): tf.Tensor {
    const { maxValue, negativeSlope, threshold } = this.args;
    let y = threshold !== 0 ? tf.where(tf.greater(x, threshold), x, tf.zerosLike(x)) : tf.relu(x);
    if (maxValue !== null) y = tf.clipByValue(y, 0, maxValue);
    if (negativeSlope !== 0) y = tf.sub(y, tf.mul(tf.relu(threshold !== 0 ? tf.sub(threshold, x) : tf.neg(x)), negativeSlope));
    return y;
  }
}
