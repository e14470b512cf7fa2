/** Shared options and checks of GlobalAveragePooling1D and GlobalMaxPooling1D. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';

export type DataFormat = 'channels_last' | 'channels_first';

/** The dataFormat option of the 1-D layers. */
export const dataFormatOption = () => opt.oneOf(['channels_last', 'channels_first'] as const, 'channels_last');

export interface GlobalPooling1DArgs extends BaseLayerArgs {
  /** 'channels_last' ([batch, time, features], default) or 'channels_first' ([batch, features, time]). */
  dataFormat?: DataFormat;
  /** Keep the time axis with length 1. */
  keepdims?: boolean;
}

type Own = Omit<GlobalPooling1DArgs, keyof BaseLayerArgs>;

export abstract class GlobalPooling1D extends Layer<CallArgs> {
  static override readonly options = {
    dataFormat: dataFormatOption(),
    keepdims: opt.bool(false),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;

  constructor(args: GlobalPooling1DArgs) {
    super(args);
    this.supportsMasking = true;
  }

  override build(inputShape: Shape): void {
    if (inputShape.length !== 3) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' expects a 3-D input [batch, time, features]; received shape ${formatShape(inputShape)}.`);
    }
  }

  /** The time axis of the input. */
  protected get stepsAxis(): number {
    return this.args.dataFormat === 'channels_first' ? 2 : 1;
  }

  /** A [batch, time] mask expanded so it broadcasts against the input. */
  protected expandMask(mask: tf.Tensor, x: tf.Tensor): tf.Tensor {
    if (mask.rank !== 2) {
      throw new MasqueError('MASK_SHAPE_MISMATCH', `${this.className} '${this.name}': expected a [batch, time] mask; received shape ${formatShape(mask.shape)} for input ${formatShape(x.shape)}.`);
    }
    return tf.expandDims(mask, this.stepsAxis === 1 ? 2 : 1);
  }

  override computeMask(_inputs?: tf.Tensor | tf.Tensor[], _mask?: MaskArg): null {
    return null;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `${this.className} '${this.name}'`);
    const a = this.stepsAxis;
    const shape = this.args.keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
    return { shape, dtype: x.dtype, mask: null };
  }
}
