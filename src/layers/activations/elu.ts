/**
 * ELU: `x` where `x >= 0`, else `alpha * (exp(x) - 1)` (Keras's ELU layer);
 * passes the mask through. NaN or Inf at masked steps is read as 0, so it
 * cannot make the gradients NaN (0 * exp(NaN)).
 */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { finiteAtMaskedChecked } from '../../ops/attention_ops.js';
import { elu } from '../../ops/activation_ops.js';
import { Elementwise, firstMaskOf } from '../core/activation.js';

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

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    return elu(finiteAtMaskedChecked(x, firstMaskOf(args)), this.args.alpha);
  }
}
