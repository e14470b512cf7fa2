/**
 * ActivityRegularization: returns its input (and its mask) and adds the
 * loss `(l1 * sum(|x|) + l2 * sum(x^2)) / batch` to training, as Keras
 * does, but summed over the valid steps only: Keras counts the padded
 * steps too, so its penalty grows with the padding (departure 18 in
 * docs/keras.md). Without a mask every entry counts, as in Keras.
 */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { l1l2 } from '../../engine/regularizers.js';
import { activityPenalty } from '../../ops/noise_ops.js';
import { Elementwise, firstMaskOf } from '../core/activation.js';

export interface ActivityRegularizationArgs extends BaseLayerArgs {
  /** L1 factor, >= 0 (default 0). */
  l1?: number;
  /** L2 factor, >= 0 (default 0). */
  l2?: number;
}

export class ActivityRegularization extends Elementwise {
  static override readonly className = 'ActivityRegularization';
  static override readonly options = {
    l1: opt.number({ min: 0, default: 0 }),
    l2: opt.number({ min: 0, default: 0 }),
  } satisfies OptionsOf<Omit<ActivityRegularizationArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ActivityRegularizationArgs, keyof BaseLayerArgs>>;

  constructor(args: ActivityRegularizationArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    this.addLoss(() => activityPenalty(x, firstMaskOf(args), l1l2(this.args.l1, this.args.l2)));
    return x;
  }
}
