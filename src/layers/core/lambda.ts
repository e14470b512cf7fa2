/**
 * Lambda: wraps a function as a layer. Give `mask` to support masking: a
 * function `(inputs, mask) => outputMask`, or the string 'passthrough'.
 * Without it the layer does not support masking (as in Keras). Its output
 * spec is found by tracing (running `fn` on small made-up tensors), since a
 * function declares no shapes.
 */
import type { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs, MaskArg } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';

export interface LambdaArgs extends BaseLayerArgs {
  fn: (inputs: tf.Tensor | tf.Tensor[], args: CallArgs) => tf.Tensor | tf.Tensor[];
  mask?: ((inputs: tf.Tensor | tf.Tensor[], mask: MaskArg) => MaskArg) | 'passthrough' | null;
}

type Own = Omit<LambdaArgs, keyof BaseLayerArgs>;

export class Lambda extends Layer<CallArgs, boolean> {
  static override readonly className = 'Lambda';
  static override readonly runsUserCode = true;
  static override readonly options = {
    fn: opt.custom<Own['fn']>((v, w, n) => {
      if (typeof v === 'function') return v as Own['fn'];
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a function; received ${describe(v)}.`);
    }, { kerasKind: 'none' }),
    mask: opt.custom<NonNullable<Own['mask']> | null>((v, w, n) => {
      if (v === null || v === 'passthrough' || typeof v === 'function') return v as NonNullable<Own['mask']> | null;
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a function (inputs, mask) => mask, 'passthrough', or null; received ${describe(v)}.`);
    }, { default: null, kerasKind: 'none' }),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;

  constructor(args: LambdaArgs) {
    super(args);
    this.supportsMasking = this.args.mask !== null;
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor | tf.Tensor[] {
    return this.args.fn(inputs, args);
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): MaskArg {
    const m = this.args.mask;
    if (m === null) return null;
    if (m === 'passthrough') return mask ?? null;
    return m(inputs, mask ?? null);
  }
}
