/** AveragePooling1D: the mean over sliding windows of time. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { avgPool1d } from '../../ops/conv_ops.js';
import { Pooling1D, type Pooling1DArgs } from './base_pooling1d.js';

export type AveragePooling1DArgs = Pooling1DArgs;

export class AveragePooling1D extends Pooling1D {
  static override readonly className = 'AveragePooling1D';

  constructor(args: AveragePooling1DArgs = {}) {
    super(args);
  }

  protected pool(x: tf.Tensor4D, size: [number, number], strides: [number, number], padding: 'valid' | 'same'): tf.Tensor4D {
    return avgPool1d(x, size[0], strides[0], padding);
  }
}
