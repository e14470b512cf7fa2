/** ZeroPadding1D: adds zero steps at the start and end of the time axis. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';
import { dataFormatOption, type DataFormat } from '../pooling/base_global_pooling1d.js';
import { intPairOption } from './cropping1d.js';

export interface ZeroPadding1DArgs extends BaseLayerArgs {
  /** Steps to add: one number for both ends, or [start, end] (default 1). */
  padding?: number | [number, number];
  dataFormat?: DataFormat;
}

export class ZeroPadding1D extends Layer<CallArgs> {
  static override readonly className = 'ZeroPadding1D';
  static override readonly options = {
    padding: intPairOption(1),
    dataFormat: dataFormatOption(),
  } satisfies OptionsOf<Omit<ZeroPadding1DArgs, keyof BaseLayerArgs>>;
  declare readonly args: { padding: [number, number]; dataFormat: DataFormat };

  get padding(): [number, number] {
    return this.args.padding;
  }
  get dataFormat(): DataFormat {
    return this.args.dataFormat;
  }

  override build(inputShape: Shape): void {
    if (inputShape.length !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `ZeroPadding1D '${this.name}' expects a 3-D input; received ${formatShape(inputShape)}.`);
  }

  private get timeAxis(): number {
    return this.args.dataFormat === 'channels_first' ? 2 : 1;
  }

  call(x: tf.Tensor): tf.Tensor {
    const p: [number, number][] = this.timeAxis === 2 ? [[0, 0], [0, 0], this.args.padding] : [[0, 0], this.args.padding, [0, 0]];
    return tf.pad(x, p);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `ZeroPadding1D '${this.name}'`);
    const [a, b] = this.args.padding;
    return { shape: x.shape.map((d, i) => (i === this.timeAxis && d !== null ? d + a + b : d)), dtype: x.dtype, mask: null };
  }
}
