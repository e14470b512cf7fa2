/**
 * Minimum: elementwise minimum with Keras's sequential rule (rule 19): where an
 * input is masked it takes the running result, and where the running result
 * is masked it takes the input. Output mask: OR of the masks if all are masked.
 */
import { tf } from '../../runtime/tfjs.js';
import { maskedPairwise, onCommonShape } from '../../ops/merge_ops.js';
import { Merge } from './base_merge.js';

export class Minimum extends Merge {
  static override readonly className = 'Minimum';

  protected merge(xs: tf.Tensor[], masks: (tf.Tensor | null)[]): tf.Tensor {
    return maskedPairwise(xs, masks, onCommonShape((a, b) => tf.minimum(a, b)));
  }
}
