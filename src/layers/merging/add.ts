/** Add: the sum of the inputs; masked positions are included in the arithmetic (rule 18). Output mask: OR of the input masks if every input is masked. */
import { tf } from '../../runtime/tfjs.js';
import { Merge } from './base_merge.js';

export class Add extends Merge {
  static override readonly className = 'Add';

  protected merge(xs: tf.Tensor[]): tf.Tensor {
    return xs.reduce((a, x) => tf.add(a, x));
  }
}
