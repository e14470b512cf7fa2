/** GaussianDropout: multiplies by noise N(1, sqrt(rate / (1 - rate))) when training; the identity otherwise. Passes the mask through. */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { gaussianDropout } from '../../ops/noise_ops.js';
import { Elementwise } from '../core/activation.js';

export interface GaussianDropoutArgs extends BaseLayerArgs {
  /** Drop probability, in [0, 1) (Keras accepts 1 and divides by zero when training). */
  rate: number;
  seed?: number | null;
}

export class GaussianDropout extends Elementwise {
  static override readonly className = 'GaussianDropout';
  static override readonly options = {
    rate: opt.number({ min: 0, max: 1, maxOpen: true }),
    seed: opt.seed(),
  } satisfies OptionsOf<Omit<GaussianDropoutArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<GaussianDropoutArgs, keyof BaseLayerArgs>>;

  constructor(args: GaussianDropoutArgs) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    if (!args.training || this.args.rate === 0) return x;
    return gaussianDropout(x, this.args.rate, this.args.seed ?? undefined);
  }
}
