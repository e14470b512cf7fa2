/**
 * Lambda: wraps a function as a layer. Give `mask` to support masking: a
 * function `(inputs, mask) => outputMask`, or the string 'passthrough'.
 * Without it the layer does not support masking (as in Keras).
 */
import type { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, MaskArg } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';

export interface LambdaArgs extends BaseLayerArgs {
  fn: (inputs: tf.Tensor | tf.Tensor[], args: CallArgs) => tf.Tensor | tf.Tensor[];
  mask?: ((inputs: tf.Tensor | tf.Tensor[], mask: MaskArg) => MaskArg) | 'passthrough';
}

export class Lambda extends Layer<CallArgs, boolean> {
  readonly args: LambdaArgs;

  constructor(args: LambdaArgs) {
    super(args, 'Lambda');
    if (typeof args.fn !== 'function') throw new MasqueError('INVALID_ARGUMENT', `Lambda: fn must be a function; received ${describe(args.fn)}.`);
    this.args = args;
    this.supportsMasking = args.mask !== undefined;
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor | tf.Tensor[] {
    return this.args.fn(inputs, args);
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask: MaskArg | undefined): MaskArg {
    if (this.args.mask === undefined) return null;
    if (this.args.mask === 'passthrough') return mask ?? null;
    return this.args.mask(inputs, mask ?? null);
  }

  override getConfig(): LambdaArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
