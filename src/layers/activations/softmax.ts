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
import type { Filled, OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { softmaxZeroMasked } from '../../ops/attention_ops.js';
import { Elementwise } from '../core/activation.js';
import { axisOption } from '../normalization/layer_normalization.js';

export interface SoftmaxArgs extends BaseLayerArgs {
  /** Axis or axes to normalise over (default -1). */
  axis?: number | number[];
}

export class Softmax extends Elementwise {
  static override readonly className = 'Softmax';
  static override readonly options = {
    axis: axisOption(-1),
  } satisfies OptionsOf<Omit<SoftmaxArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<SoftmaxArgs, keyof BaseLayerArgs>>;

  constructor(args: SoftmaxArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  get axis(): number | number[] {
    return this.args.axis;
  }

  /** The axes for an input of `rank`, checked. */
  private axes(shape: Shape): number[] {
    const axes = (Array.isArray(this.args.axis) ? this.args.axis : [this.args.axis]).map((a) => (a < 0 ? a + shape.length : a));
    if (axes.some((a) => a < 0 || a >= shape.length)) {
      throw new MasqueError('INVALID_ARGUMENT', `Softmax '${this.name}': axis ${describe(this.args.axis)} is out of range for an input of shape ${formatShape(shape)}.`);
    }
    return axes;
  }

  /** Keras's rule: the mask must broadcast to the input. */
  private checkMask(mask: Shape | null, x: Shape): void {
    if (mask !== null && (mask.length !== x.length || mask.some((d, i) => d !== 1 && d !== null && x[i] !== null && d !== x[i]))) {
      throw new MasqueError(
        'MASK_SHAPE_MISMATCH',
        `Softmax '${this.name}': the mask must be broadcastable to the inputs (same rank, each dimension 1 or equal), as in Keras. ` +
          `Received: inputs.shape=${formatShape(x)}, mask.shape=${formatShape(mask)}. ` +
          `A [batch, time] mask from an earlier layer does not describe the softmax axis; pass an explicit mask of the input's shape, or consume the mask before this layer.`,
      );
    }
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    const mask = (args.mask ?? null) as tf.Tensor | null;
    const axes = this.axes(x.shape);
    this.checkMask(mask === null ? null : mask.shape, x.shape);
    // As in Keras (numpy computes integer logits in float), integer and bool inputs count as float32.
    return softmaxZeroMasked(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), mask, axes);
  }

  /** Keras builds a model whatever the mask; a mask that does not broadcast fails at the call (checked in `call`). */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const spec = super.computeOutputSpec(inputs, args);
    this.axes(spec.shape);
    return spec;
  }
}
