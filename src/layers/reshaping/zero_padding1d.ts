/** ZeroPadding1D: adds zero steps at the start and end of the time axis. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';
import { checkDataFormat, type DataFormat } from '../pooling/base_global_pooling1d.js';
import { intPair } from './cropping1d.js';

export interface ZeroPadding1DArgs extends BaseLayerArgs {
  /** Steps to add: one number for both ends, or [start, end] (default 1). */
  padding?: number | [number, number];
  dataFormat?: DataFormat;
}

export class ZeroPadding1D extends Layer<CallArgs> {
  readonly padding: [number, number];
  readonly dataFormat: DataFormat;

  constructor(args: ZeroPadding1DArgs = {}) {
    super(args, 'ZeroPadding1D');
    this.padding = intPair(args.padding ?? 1, 'padding', `ZeroPadding1D '${this.name}'`);
    this.dataFormat = checkDataFormat(args.dataFormat, `ZeroPadding1D '${this.name}'`);
  }

  override build(inputShape: Shape): void {
    if (inputShape.length !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `ZeroPadding1D '${this.name}' expects a 3-D input; received ${formatShape(inputShape)}.`);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const p: [number, number][] = this.dataFormat === 'channels_first' ? [[0, 0], [0, 0], this.padding] : [[0, 0], this.padding, [0, 0]];
    return tf.pad(inputs as tf.Tensor, p);
  }

  override getConfig(): ZeroPadding1DArgs {
    return { ...super.getConfig(), padding: this.padding, dataFormat: this.dataFormat };
  }
}
