/**
 * UnitNormalization (Keras 3.15.1): `x · min(rsqrt(sum(x²)), 1e12)`, the sum
 * over `axis` (an integer or a list). Over the features of each step it is
 * exactly Keras's; the mask passes through.
 *
 * Departure: when the normalized axes include a masked axis (time, for a
 * `[batch, time]` mask), the sum counts valid positions only and scales
 * every position (Keras counts the padding, so padding changes the valid
 * outputs). A slice with no valid position is scaled by 1e12, as Keras
 * scales an all-zero slice.
 */
import type { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { firstMask, oneSpec, specLike } from '../../engine/specs.js';
import type { Filled, OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs, SpecArgs, TensorSpec } from '../../engine/types.js';
import { l2Normalize, maskLike } from '../../ops/normalization_ops.js';
import { axisOption } from './layer_normalization.js';
import { oneMask, resolveAxes } from './norm_common.js';

export interface UnitNormalizationArgs extends BaseLayerArgs {
  /** The axis or axes to normalize over (default -1, the features). */
  axis?: number | number[];
}

type Own = Omit<UnitNormalizationArgs, keyof BaseLayerArgs>;

export class UnitNormalization extends Layer<CallArgs> {
  static override readonly className = 'UnitNormalization';
  static override readonly options = {
    axis: axisOption(-1),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;

  constructor(args: UnitNormalizationArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  private axes(shape: (number | null)[]): number[] {
    return resolveAxes([this.args.axis].flat(), shape, `UnitNormalization '${this.name}'`, false);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const x = oneSpec(inputs, `UnitNormalization '${this.name}'`);
    this.axes(x.shape);
    return specLike(x, firstMask(args.mask));
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    const axes = this.axes(x.shape);
    const mask = oneMask(args.mask);
    // The mask matters only when a normalized axis is one it varies along.
    const masked = mask !== null && axes.some((a) => a < mask.rank && mask.shape[a]! > 1);
    return l2Normalize(x, axes, masked ? maskLike(mask, x) : null);
  }
}
