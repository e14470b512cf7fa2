/** Activation and ReLU layers; both pass the mask through. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';

export interface ActivationArgs extends BaseLayerArgs {
  activation: ActivationSpec;
}

export class Activation extends Layer<CallArgs> {
  readonly activation: ActivationSpec;
  private readonly fn: (x: tf.Tensor) => tf.Tensor;

  constructor(args: ActivationArgs) {
    super(args, 'Activation');
    this.activation = args.activation;
    this.fn = getActivation(args.activation, `Activation '${this.name}'`);
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.fn(inputs as tf.Tensor);
  }

  override getConfig(): ActivationArgs {
    return { ...super.getConfig(), activation: this.activation };
  }
}

export interface ReLUArgs extends BaseLayerArgs {
  maxValue?: number | null;
  negativeSlope?: number;
  threshold?: number;
}

/** Keras ReLU: `x >= threshold ? min(x, maxValue) : negativeSlope * (x - threshold)`. */
export class ReLU extends Layer<CallArgs> {
  readonly args: ReLUArgs;

  constructor(args: ReLUArgs = {}) {
    super(args, 'ReLU');
    this.args = { maxValue: null, negativeSlope: 0, threshold: 0, ...args };
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputs as tf.Tensor;
    const { maxValue, negativeSlope, threshold } = this.args as Required<ReLUArgs>;
    let pos: tf.Tensor = x;
    if (maxValue !== null) pos = tf.minimum(pos, maxValue);
    const neg = negativeSlope === 0 ? tf.zerosLike(x) : tf.mul(tf.sub(x, threshold), negativeSlope);
    return tf.where(tf.greaterEqual(x, threshold), pos, neg);
  }

  override getConfig(): ReLUArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
