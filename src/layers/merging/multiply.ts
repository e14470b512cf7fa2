/**
 * Multiply: elementwise product (rule 19). Masked entries of masked inputs
 * count as 1; when every input is masked, entries outside the OR of the
 * masks are set to 0. Output mask: OR of the input masks if all are masked.
 */
import type { tf } from '../../runtime/tfjs.js';
import { maskedProduct } from '../../ops/merge_ops.js';
import { Merge } from './base_merge.js';

export class Multiply extends Merge {
  static override readonly className = 'Multiply';

  protected merge(xs: tf.Tensor[], masks: (tf.Tensor | null)[]): tf.Tensor {
    return maskedProduct(xs, masks);
  }
}
