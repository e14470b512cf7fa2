/** Average: the mean of the inputs; masked positions are included in the arithmetic (rule 18). Output mask: OR of the input masks if every input is masked. */
import { tf } from '../../runtime/tfjs.js';
import { Merge, type MergeArgs } from './base_merge.js';

export class Average extends Merge {
  constructor(args: MergeArgs = {}) {
    super(args, 'Average');
  }

  protected merge(xs: tf.Tensor[]): tf.Tensor {
    return tf.div(xs.reduce((a, x) => tf.add(a, x)), xs.length);
  }
}
