/** Shared options and checks of GlobalAveragePooling1D and GlobalMaxPooling1D. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export type DataFormat = 'channels_last' | 'channels_first';

export interface GlobalPooling1DArgs extends BaseLayerArgs {
  /** 'channels_last' ([batch, time, features], default) or 'channels_first' ([batch, features, time]). */
  dataFormat?: DataFormat;
  /** Keep the time axis with length 1. */
  keepdims?: boolean;
}

/** Checks a data format option; returns it with the default filled in. */
export function checkDataFormat(v: unknown, where: string): DataFormat {
  if (v === undefined || v === null) return 'channels_last';
  if (v !== 'channels_last' && v !== 'channels_first') {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: dataFormat must be 'channels_last' or 'channels_first'; received ${describe(v)}.`);
  }
  return v;
}

export abstract class GlobalPooling1D extends Layer<CallArgs> {
  readonly args: GlobalPooling1DArgs;

  constructor(args: GlobalPooling1DArgs, className: string) {
    super(args, className);
    this.args = { ...args, dataFormat: checkDataFormat(args.dataFormat, `${className} '${this.name}'`), keepdims: args.keepdims ?? false };
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

  override computeMask(): null {
    return null;
  }

  override getConfig(): GlobalPooling1DArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
