/**
 * RMSNormalization (Keras 3.15.1): `x · rsqrt(mean(x²) + epsilon) · scale`,
 * the mean over `axis`. Like Keras's, it does not support masking: a masked
 * input raises MASK_NOT_SUPPORTED under the default mask policy, and under
 * 'warn' or 'ignore' the mask is dropped and the output has none.
 */
import type { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec, specLike } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { rmsNormalize } from '../../ops/normalization_ops.js';
import { checkBuiltSizes, resolveAxes } from './norm_common.js';

export interface RMSNormalizationArgs extends BaseLayerArgs {
  /** The axis or axes to normalize over (default -1); kept as a sorted list, as Keras keeps it once built. */
  axis?: number | number[];
  epsilon?: number;
}

type Own = Omit<RMSNormalizationArgs, keyof BaseLayerArgs>;

export class RMSNormalization extends Layer<CallArgs> {
  static override readonly className = 'RMSNormalization';
  static override readonly options = {
    axis: opt.custom<number | number[]>(
      (v, w, n) => {
        if (Number.isInteger(v)) return [v as number];
        if (Array.isArray(v) && v.length > 0 && v.every((a) => Number.isInteger(a))) return [...(v as number[])].sort((a, b) => a - b);
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer or a non-empty list of integers; received ${describe(v)}.`);
      },
      { default: [-1] },
    ),
    epsilon: opt.number({ min: 0, minOpen: true, default: 1e-6 }),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  scale!: tf.Variable;

  constructor(args: RMSNormalizationArgs = {}) {
    super(args);
  }

  private axes(shape: Shape, needSize: boolean): number[] {
    // Increasing positions: the scale's dims follow the input's (Keras's
    // sorted list gives the same order unless it mixes signs).
    return resolveAxes([this.args.axis].flat(), shape, `RMSNormalization '${this.name}'`, needSize).sort((a, b) => a - b);
  }

  override build(inputShape: Shape): void {
    const axes = this.axes(inputShape, true);
    this.scale = this.addWeight('scale', axes.map((a) => inputShape[a] as number), { initializer: 'ones' });
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const where = `RMSNormalization '${this.name}'`;
    const x = oneSpec(inputs, where);
    const axes = this.axes(x.shape, false);
    if (this.built) checkBuiltSizes(axes, this.scale.shape, x.shape, where);
    return specLike(x, null);
  }

  call(x: tf.Tensor): tf.Tensor {
    return rmsNormalize(x, this.axes(x.shape, true), this.scale, this.args.epsilon);
  }
}
