/** Flatten and Reshape. Neither supports masking, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface FlattenArgs extends BaseLayerArgs {
  dataFormat?: 'channels_last' | 'channels_first';
}

export class Flatten extends Layer<CallArgs> {
  readonly dataFormat: 'channels_last' | 'channels_first';

  constructor(args: FlattenArgs = {}) {
    super(args, 'Flatten');
    this.dataFormat = args.dataFormat ?? 'channels_last';
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    let x = inputs as tf.Tensor;
    if (this.dataFormat === 'channels_first' && x.rank > 2) x = tf.transpose(x, [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1]);
    return tf.reshape(x, [x.shape[0]!, -1]);
  }

  override getConfig(): FlattenArgs {
    return { ...super.getConfig(), dataFormat: this.dataFormat };
  }
}

export interface ReshapeArgs extends BaseLayerArgs {
  /** Target shape of one sample; one dimension may be -1. */
  targetShape: number[];
}

export class Reshape extends Layer<CallArgs> {
  readonly targetShape: number[];

  constructor(args: ReshapeArgs) {
    super(args, 'Reshape');
    if (!Array.isArray(args.targetShape) || args.targetShape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || args.targetShape.filter((d) => d === -1).length > 1) {
      throw new MasqueError('INVALID_ARGUMENT', `Reshape: targetShape must be a list of positive integers with at most one -1; received ${describe(args.targetShape)}.`);
    }
    this.targetShape = args.targetShape;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputs as tf.Tensor;
    const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if ((this.targetShape.includes(-1) && per % known !== 0) || (!this.targetShape.includes(-1) && per !== known)) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Reshape '${this.name}': cannot reshape a sample of shape ${formatShape(x.shape.slice(1))} (${per} values) to ${formatShape(this.targetShape)}.`);
    }
    return tf.reshape(x, [x.shape[0]!, ...this.targetShape]);
  }

  override getConfig(): ReshapeArgs {
    return { ...super.getConfig(), targetShape: this.targetShape };
  }
}
