/**
 * AlphaDropout (for SELU networks): when training, dropped entries take
 * SELU's negative saturation and the result is rescaled to keep the mean
 * and variance (Keras's formula); the identity otherwise. Passes the mask
 * through.
 */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { alphaDropout } from '../../ops/noise_ops.js';
import { Elementwise } from '../core/activation.js';
import { NOISE_SHAPE_OPTION, noiseShapeOf } from '../core/dropout.js';

export interface AlphaDropoutArgs extends BaseLayerArgs {
  /** Drop probability, in [0, 1]. */
  rate: number;
  seed?: number | null;
  /** Shape of the keep/drop pattern (null: the input's; a null entry: the input's size there). */
  noiseShape?: (number | null)[] | null;
}

export class AlphaDropout extends Elementwise {
  static override readonly className = 'AlphaDropout';
  static override readonly options = {
    rate: opt.number({ min: 0, max: 1 }),
    seed: opt.seed(),
    noiseShape: NOISE_SHAPE_OPTION,
  } satisfies OptionsOf<Omit<AlphaDropoutArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<AlphaDropoutArgs, keyof BaseLayerArgs>>;

  constructor(args: AlphaDropoutArgs) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    if (!args.training || this.args.rate === 0) return x;
    const shape = noiseShapeOf(this.args.noiseShape, x, `AlphaDropout '${this.name}'`);
    return alphaDropout(x, this.args.rate, shape, this.args.seed ?? undefined);
  }
}
