/** ELU: `x` where `x >= 0`, else `alpha * (exp(x) - 1)` (Keras's ELU layer); passes the mask through. */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs } from '../../engine/types.js';
import { elu } from '../../ops/activation_ops.js';
import { Elementwise } from '../core/activation.js';

export interface ELUArgs extends BaseLayerArgs {
  /** Scale of the negative part (default 1). */
  alpha?: number;
}

export class ELU extends Elementwise {
  static override readonly className = 'ELU';
  static override readonly options = {
    alpha: opt.number({ default: 1 }),
  } satisfies OptionsOf<Omit<ELUArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ELUArgs, keyof BaseLayerArgs>>;

  constructor(args: ELUArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor): tf.Tensor {
    return elu(x, this.args.alpha);
  }
}
