/** Dense: `activation(x @ kernel + bias)` on the last axis of any rank; passes the mask through. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface DenseArgs extends BaseLayerArgs {
  units: number;
  activation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

export class Dense extends Layer<CallArgs> {
  readonly args: DenseArgs;
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(args: DenseArgs) {
    super(args, 'Dense');
    if (!Number.isInteger(args.units) || args.units < 1) {
      throw new MasqueError('INVALID_ARGUMENT', `Dense: units must be a positive integer; received ${describe(args.units)}.`);
    }
    this.args = { activation: null, useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros', ...args };
    this.act = getActivation(this.args.activation, `Dense '${this.name}'`);
    this.supportsMasking = true;
  }

  override build(inputShape: Shape): void {
    const last = inputShape[inputShape.length - 1];
    if (typeof last !== 'number') {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Dense '${this.name}': the last input dimension must be known; received input shape ${formatShape(inputShape)}.`);
    }
    this.kernel = this.addWeight('kernel', [last, this.args.units], { initializer: this.args.kernelInitializer });
    if (this.args.useBias) this.bias = this.addWeight('bias', [this.args.units], { initializer: this.args.biasInitializer });
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputs as tf.Tensor;
    const k = this.kernel.shape[0]!;
    if (x.shape[x.rank - 1] !== k) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Dense '${this.name}': expected the last input dimension to be ${k}; received input shape ${formatShape(x.shape)}.`);
    }
    const flat = tf.reshape(x, [-1, k]);
    let y = tf.matMul(flat, this.kernel);
    if (this.bias) y = tf.add(y, this.bias);
    return this.act(tf.reshape(y, [...x.shape.slice(0, -1), this.args.units]));
  }

  override getConfig(): DenseArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
