/** LeakyReLU: `max(x, negativeSlope * x)` (Keras's LeakyReLU layer, default slope 0.3); passes the mask through. */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs } from '../../engine/types.js';
import { leakyRelu } from '../../ops/activation_ops.js';
import { Elementwise } from '../core/activation.js';

export interface LeakyReLUArgs extends BaseLayerArgs {
  /** Slope of the negative part, >= 0 (default 0.3). Keras's deprecated `alpha` is not taken. */
  negativeSlope?: number;
}

export class LeakyReLU extends Elementwise {
  static override readonly className = 'LeakyReLU';
  static override readonly options = {
    negativeSlope: opt.number({ min: 0, default: 0.3 }),
  } satisfies OptionsOf<Omit<LeakyReLUArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<LeakyReLUArgs, keyof BaseLayerArgs>>;

  constructor(args: LeakyReLUArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor): tf.Tensor {
    return leakyRelu(x, this.args.negativeSlope);
  }
}
