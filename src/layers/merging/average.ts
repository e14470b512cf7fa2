/** Average: the mean of the inputs; masked positions are included in the arithmetic (rule 18). Output mask: OR of the input masks if every input is masked. */
import { tf } from '../../runtime/tfjs.js';
import { Merge } from './base_merge.js';

export class Average extends Merge {
  static override readonly className = 'Average';

  protected merge(xs: tf.Tensor[]): tf.Tensor {
    return tf.div(xs.reduce((a, x) => tf.add(a, x)), xs.length);
  }

  protected override outputDtype(): tf.DataType {
    return 'float32';
  }
}
