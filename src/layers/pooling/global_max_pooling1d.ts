/**
 * GlobalMaxPooling1D: the max over valid steps. Keras ignores the mask here
 * and includes the padding (rule 13); Masque uses it (departure 2). A row
 * with no valid step gives 0. No output mask.
 */
import type { tf } from '../../runtime/tfjs.js';
import type { CallArgs } from '../../engine/types.js';
import { maskedMax } from '../../ops/pooling_ops.js';
import { GlobalPooling1D, type GlobalPooling1DArgs } from './base_global_pooling1d.js';

export type GlobalMaxPooling1DArgs = GlobalPooling1DArgs;

export class GlobalMaxPooling1D extends GlobalPooling1D {
  static override readonly className = 'GlobalMaxPooling1D';

  constructor(args: GlobalMaxPooling1DArgs = {}) {
    super(args);
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    const mask = (args.mask ?? null) as tf.Tensor | null;
    return maskedMax(x, mask === null ? null : this.expandMask(mask, x), this.stepsAxis, this.args.keepdims);
  }
}
