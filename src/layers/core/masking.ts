/**
 * Masking: marks a timestep as padding when every feature equals `maskValue`,
 * and zeroes masked steps (with 0, whatever `maskValue` is, as Keras does).
 * Departure: `maskValue: NaN` matches NaN features (in Keras NaN never
 * equals itself, so NaN steps can never be masked).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { maskSteps, stepMask } from '../../ops/mask_ops.js';

export interface MaskingArgs extends BaseLayerArgs {
  /** The padding value (default 0). */
  maskValue?: number;
}

export class Masking extends Layer<CallArgs> {
  readonly maskValue: number;

  constructor(args: MaskingArgs = {}) {
    super(args, 'Masking');
    this.maskValue = args.maskValue ?? 0;
    if (typeof this.maskValue !== 'number') {
      throw new MasqueError('INVALID_ARGUMENT', `Masking: maskValue must be a number; received ${describe(args.maskValue)}.`);
    }
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return maskSteps(inputs as tf.Tensor, this.maskValue).output;
  }

  /** One step-mask computation serves both the output and its mask. */
  protected override callAndMask(inputs: tf.Tensor | tf.Tensor[]): { outputs: tf.Tensor; masks: tf.Tensor } {
    const { output, mask } = maskSteps(inputs as tf.Tensor, this.maskValue);
    return { outputs: output, masks: mask };
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return stepMask(inputs as tf.Tensor, this.maskValue);
  }

  protected override maskDetail(): string {
    return `maskValue ${this.maskValue}`;
  }

  override getConfig(): MaskingArgs {
    return { ...super.getConfig(), maskValue: this.maskValue };
  }
}
