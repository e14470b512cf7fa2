/**
 * Softmax over `axis` (one axis or several), with Keras's masking: masked
 * inputs become -1e9 before the softmax and masked outputs are zeroed after
 * it, so a fully masked row is all 0. The mask passes through.
 *
 * The mask must broadcast to the input (rule 22). A [batch, time] mask on a
 * [batch, time, features] input does not: Keras raises "The mask must be
 * broadcastable to inputs" at call time, and Masque raises
 * MASK_SHAPE_MISMATCH. Masque requires the mask to have the input's rank
 * (each dimension 1 or equal), so it never pairs a timestep mask with the
 * feature axis because two sizes happen to coincide.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { softmaxZeroMasked } from '../../ops/attention_ops.js';

export interface SoftmaxArgs extends BaseLayerArgs {
  /** Axis or axes to normalise over (default -1). */
  axis?: number | number[];
}

export class Softmax extends Layer<CallArgs> {
  readonly axis: number | number[];

  constructor(args: SoftmaxArgs = {}) {
    super(args, 'Softmax');
    const axis = args.axis ?? -1;
    const list = Array.isArray(axis) ? axis : [axis];
    if (list.length === 0 || list.some((a) => !Number.isInteger(a))) {
      throw new MasqueError('INVALID_ARGUMENT', `Softmax '${this.name}': axis must be an integer or a list of integers; received ${describe(args.axis)}.`);
    }
    this.axis = axis;
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor {
    const x = inputs as tf.Tensor;
    const mask = (args.mask ?? null) as tf.Tensor | null;
    const axes = (Array.isArray(this.axis) ? this.axis : [this.axis]).map((a) => (a < 0 ? a + x.rank : a));
    if (axes.some((a) => a < 0 || a >= x.rank)) {
      throw new MasqueError('INVALID_ARGUMENT', `Softmax '${this.name}': axis ${describe(this.axis)} is out of range for an input of shape ${formatShape(x.shape)}.`);
    }
    if (mask !== null && (mask.rank !== x.rank || mask.shape.some((d, i) => d !== 1 && d !== x.shape[i]))) {
      throw new MasqueError(
        'MASK_SHAPE_MISMATCH',
        `Softmax '${this.name}': the mask must be broadcastable to the inputs (same rank, each dimension 1 or equal), as in Keras. ` +
          `Received: inputs.shape=${formatShape(x.shape)}, mask.shape=${formatShape(mask.shape)}. ` +
          `A [batch, time] mask from an earlier layer does not describe the softmax axis; pass an explicit mask of the input's shape, or consume the mask before this layer.`,
      );
    }
    return softmaxZeroMasked(x, mask, axes);
  }

  override getConfig(): SoftmaxArgs {
    return { ...super.getConfig(), axis: this.axis };
  }
}
