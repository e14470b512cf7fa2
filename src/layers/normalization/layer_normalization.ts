/** LayerNormalization over the last axis (or `axis`); passes the mask through. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { MasqueError, formatShape } from '../../errors.js';

export interface LayerNormalizationArgs extends BaseLayerArgs {
  axis?: number | number[];
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  gammaInitializer?: InitializerSpec;
  betaInitializer?: InitializerSpec;
}

export class LayerNormalization extends Layer<CallArgs> {
  readonly args: LayerNormalizationArgs;
  gamma: tf.Variable | null = null;
  beta: tf.Variable | null = null;
  private axes: number[] = [];

  constructor(args: LayerNormalizationArgs = {}) {
    super(args, 'LayerNormalization');
    this.args = { axis: -1, epsilon: 1e-3, center: true, scale: true, gammaInitializer: 'ones', betaInitializer: 'zeros', ...args };
    this.supportsMasking = true;
  }

  override build(inputShape: Shape): void {
    const rank = inputShape.length;
    const axes = (Array.isArray(this.args.axis) ? this.args.axis : [this.args.axis!]).map((a) => (a < 0 ? a + rank : a));
    const shape = axes.map((a) => inputShape[a]);
    if (axes.some((a) => a < 1 || a >= rank) || shape.some((d) => typeof d !== 'number')) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `LayerNormalization '${this.name}': axis ${JSON.stringify(this.args.axis)} must name known, non-batch dimensions of the input shape ${formatShape(inputShape)}.`);
    }
    this.axes = axes;
    const paramShape = shape as number[];
    if (this.args.scale) this.gamma = this.addWeight('gamma', paramShape, { initializer: this.args.gammaInitializer });
    if (this.args.center) this.beta = this.addWeight('beta', paramShape, { initializer: this.args.betaInitializer });
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputs as tf.Tensor;
    const { mean, variance } = tf.moments(x, this.axes, true);
    const bshape = x.shape.map((d, i) => (this.axes.includes(i) ? d : 1));
    const inv = tf.rsqrt(tf.add(variance, this.args.epsilon!));
    const scale = this.gamma ? tf.mul(inv, tf.reshape(this.gamma, bshape)) : inv;
    let y = tf.mul(tf.sub(x, mean), scale);
    if (this.beta) y = tf.add(y, tf.reshape(this.beta, bshape));
    return y;
  }

  override getConfig(): LayerNormalizationArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
