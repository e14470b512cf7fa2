/**
 * TimeDistributed: applies a layer to every time slice of a [batch, time,
 * ...] input (weights shared across steps; paths `time_distributed/dense/kernel`).
 *
 * Masks as in Keras 3.15.1: the output mask is the input mask, unchanged.
 * The inner layer sees the slice of the mask that describes one step only
 * when that slice is itself a mask of the step (a mask of rank 3 or more,
 * e.g. [batch, time, tokens] for an inner RNN) and the inner layer supports
 * masking; a [batch, time] mask only says which slices are valid, so the
 * inner layer gets none, and it passes through to the output.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface TimeDistributedArgs extends BaseLayerArgs {
  /** The layer applied to each time slice. */
  layer: Layer<CallArgs, boolean>;
}

export class TimeDistributed extends Layer<CallArgs> {
  readonly layer: Layer<CallArgs, boolean>;

  constructor(args: TimeDistributedArgs) {
    super(args, 'TimeDistributed');
    if (!(args?.layer instanceof Layer)) {
      throw new MasqueError('INVALID_ARGUMENT', `TimeDistributed '${this.name}': layer must be a Masque layer; received ${describe(args?.layer)}.`);
    }
    this.layer = this.trackLayer(args.layer, 'layer');
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (shape.length < 3) {
      throw new MasqueError(
        'INPUT_SHAPE_MISMATCH',
        `TimeDistributed '${this.name}': expected an input of rank 3 or more, [batch, time, ...]; received ${formatShape(shape)}.`,
      );
    }
    if (!this.layer.built) {
      const b = shape[0] === null || shape[1] === null ? null : shape[0]! * shape[1]!;
      this.layer.build([b, ...shape.slice(2)]);
      this.layer.built = true;
    }
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor {
    if (Array.isArray(inputs)) {
      throw new MasqueError('INVALID_INPUT', `TimeDistributed '${this.name}': expected one tensor [batch, time, ...]; received a list of ${inputs.length} tensors.`);
    }
    const x = inputs;
    if (x.rank < 3) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `TimeDistributed '${this.name}': expected an input of rank 3 or more, [batch, time, ...]; received ${formatShape(x.shape)}.`);
    }
    const [b, t] = x.shape as [number, number];
    const mask = Array.isArray(args.mask) ? (args.mask[0] ?? null) : (args.mask ?? null);
    if (mask !== null && mask.rank < 2) {
      throw new MasqueError(
        'MASK_SHAPE_MISMATCH',
        `TimeDistributed '${this.name}': the mask must be at least [batch, time] = ${formatShape([b, t])}; received ${formatShape(mask.shape)}.`,
      );
    }
    const flat = tf.reshape(x, [b * t, ...x.shape.slice(2)]);
    const innerMask = mask !== null && mask.rank >= 3 && this.layer.supportsMasking ? tf.reshape(mask, [b * t, ...mask.shape.slice(2)]) : null;
    const y = this.layer.call(flat, { training: args.training, mask: innerMask });
    if (Array.isArray(y)) {
      throw new MasqueError('INVALID_ARGUMENT', `TimeDistributed '${this.name}': the inner layer '${this.layer.name}' returns ${y.length} tensors; TimeDistributed needs a layer with one output.`);
    }
    return tf.reshape(y, [b, t, ...y.shape.slice(1)]);
  }

  override getConfig(): TimeDistributedArgs {
    return { ...super.getConfig(), name: this.name, layer: this.layer };
  }
}
