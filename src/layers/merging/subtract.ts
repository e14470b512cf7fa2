/** Subtract: the first input minus the second; masked positions are included in the arithmetic (rule 18). Output mask: OR of the input masks if every input is masked. */
import { tf } from '../../runtime/tfjs.js';
import { Merge, type MergeArgs } from './base_merge.js';

export class Subtract extends Merge {
  protected override readonly arity = 2;

  constructor(args: MergeArgs = {}) {
    super(args, 'Subtract');
  }

  protected merge(xs: tf.Tensor[]): tf.Tensor {
    return tf.sub(xs[0]!, xs[1]!);
  }
}
