/** Subtract: the first input minus the second; masked positions are included in the arithmetic (rule 18). Output mask: OR of the input masks if every input is masked. */
import { tf } from '../../runtime/tfjs.js';
import { Merge } from './base_merge.js';

export class Subtract extends Merge {
  static override readonly className = 'Subtract';
  protected override readonly arity = 2;

  protected merge(xs: tf.Tensor[]): tf.Tensor {
    return tf.sub(xs[0]!, xs[1]!);
  }
}
