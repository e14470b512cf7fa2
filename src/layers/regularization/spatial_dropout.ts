/**
 * SpatialDropout1D: when training, drops whole feature channels of a
 * [batch, time, features] input (one keep/drop draw per sample and channel,
 * shared over time) and scales the rest by 1 / (1 - rate); the identity
 * otherwise. Passes the mask through (it subclasses Dropout in Keras).
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs, SpecArgs, TensorSpec } from '../../engine/types.js';
import { firstMask, oneSpec, specLike } from '../../engine/specs.js';
import { MasqueError, formatShape } from '../../errors.js';
import { dropoutWithNoiseShape } from '../../ops/noise_ops.js';
import { Elementwise } from '../core/activation.js';

export interface SpatialDropout1DArgs extends BaseLayerArgs {
  /** Drop probability, in [0, 1]. */
  rate: number;
  seed?: number | null;
}

export class SpatialDropout1D extends Elementwise {
  static override readonly className = 'SpatialDropout1D';
  static override readonly options = {
    rate: opt.number({ min: 0, max: 1 }),
    seed: opt.seed(),
  } satisfies OptionsOf<Omit<SpatialDropout1DArgs, keyof BaseLayerArgs>>;
  /** Keras's config of this class has no `trainable` (its constructor takes rate, seed, name and dtype only) and a plain dtype. */
  static readonly kerasOmits = ['trainable'] as const;
  static readonly kerasBase = { dtype: 'float32' };
  declare readonly args: Filled<Omit<SpatialDropout1DArgs, keyof BaseLayerArgs>>;

  constructor(args: SpatialDropout1DArgs) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    if (!args.training || this.args.rate === 0) return x;
    if (this.args.rate === 1) return tf.zerosLike(x);
    return dropoutWithNoiseShape(x, this.args.rate, [x.shape[0]!, 1, x.shape[2]!], this.args.seed ?? undefined);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const x = oneSpec(inputs, `SpatialDropout1D '${this.name}'`);
    if (x.shape.length !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `SpatialDropout1D '${this.name}' expects a [batch, time, features] input; received shape ${formatShape(x.shape)}.`);
    return specLike(x, firstMask(args.mask));
  }
}
