/**
 * Masking: marks a timestep as padding when every feature equals `maskValue`,
 * and zeroes masked steps (with 0, whatever `maskValue` is, as Keras does).
 * Departure: `maskValue: NaN` matches NaN features (in Keras NaN never
 * equals itself, so NaN steps can never be masked).
 */
import { tf } from '../../engine/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { stepMask, zeroMaskedSteps } from '../../ops/mask_ops.js';

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
    const x = inputs as tf.Tensor;
    return zeroMaskedSteps(x, stepMask(x, this.maskValue));
  }

  /** One step-mask computation serves both the output and its mask. */
  protected override callAndMask(inputs: tf.Tensor | tf.Tensor[]): { outputs: tf.Tensor; masks: tf.Tensor } {
    const x = inputs as tf.Tensor;
    if (this.maskValue === 0 && x.dtype === 'float32') {
      // One reduction gives both the mask (sum |x| != 0) and whether every
      // value is finite (sum |x| is NaN or Inf at a step otherwise), so the
      // output is a plain product x · mask unless something is not finite.
      const s = tf.sum(tf.abs(x), -1);
      const m = tf.notEqual(s, 0);
      const finite = tf.all(tf.isFinite(s)).dataSync()[0] === 1;
      return { outputs: finite ? tf.mul(x, tf.expandDims(tf.cast(m, 'float32'), -1)) : zeroMaskedSteps(x, m), masks: m };
    }
    const m = stepMask(x, this.maskValue);
    return { outputs: zeroMaskedSteps(x, m), masks: m };
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
