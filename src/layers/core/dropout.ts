/** Dropout and GaussianNoise: active only when training; both pass the mask through. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';

export interface DropoutArgs extends BaseLayerArgs {
  rate: number;
  noiseShape?: (number | null)[] | null;
  seed?: number | null;
}

export class Dropout extends Layer<CallArgs> {
  readonly args: DropoutArgs;

  constructor(args: DropoutArgs) {
    super(args, 'Dropout');
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate <= 1)) {
      throw new MasqueError('INVALID_ARGUMENT', `Dropout: rate must be a number in [0, 1]; received ${describe(args.rate)}.`);
    }
    this.args = { noiseShape: null, seed: null, ...args };
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor {
    const x = inputs as tf.Tensor;
    if (!args.training || this.args.rate === 0) return x;
    const shape = this.args.noiseShape ? this.args.noiseShape.map((d, i) => d ?? x.shape[i]!) : x.shape;
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', this.args.seed ?? undefined), this.args.rate), x.dtype);
    return tf.div(tf.mul(x, keep), 1 - this.args.rate);
  }

  override getConfig(): DropoutArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}

export interface GaussianNoiseArgs extends BaseLayerArgs {
  stddev: number;
  seed?: number | null;
}

export class GaussianNoise extends Layer<CallArgs> {
  readonly args: GaussianNoiseArgs;

  constructor(args: GaussianNoiseArgs) {
    super(args, 'GaussianNoise');
    if (typeof args.stddev !== 'number' || !(args.stddev >= 0)) {
      throw new MasqueError('INVALID_ARGUMENT', `GaussianNoise: stddev must be a non-negative number; received ${describe(args.stddev)}.`);
    }
    this.args = { seed: null, ...args };
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor {
    const x = inputs as tf.Tensor;
    if (!args.training || this.args.stddev === 0) return x;
    return tf.add(x, tf.randomNormal(x.shape, 0, this.args.stddev, 'float32', this.args.seed ?? undefined));
  }

  override getConfig(): GaussianNoiseArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
