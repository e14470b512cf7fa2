/** MaxPooling1D: the max over sliding windows of time. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Pooling1D, type Pooling1DArgs } from './base_pooling1d.js';

export type MaxPooling1DArgs = Pooling1DArgs;

export class MaxPooling1D extends Pooling1D {
  static override readonly className = 'MaxPooling1D';

  constructor(args: MaxPooling1DArgs = {}) {
    super(args);
  }

  protected pool(x: tf.Tensor4D, size: [number, number], strides: [number, number], padding: 'valid' | 'same'): tf.Tensor4D {
    return tf.maxPool(x, size, strides, padding);
  }
}
