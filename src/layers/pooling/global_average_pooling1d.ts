/**
 * GlobalAveragePooling1D: the mean over valid steps, `sum(x * m) / sum(m)`
 * (Keras rule 12), with masked values dropped by `where`. A row with no
 * valid step gives 0, not Keras's NaN (departure 3). No output mask.
 */
import type { tf } from '../../runtime/tfjs.js';
import type { CallArgs } from '../../engine/types.js';
import { maskedMean } from '../../ops/pooling_ops.js';
import { GlobalPooling1D, type GlobalPooling1DArgs } from './base_global_pooling1d.js';

export type GlobalAveragePooling1DArgs = GlobalPooling1DArgs;

export class GlobalAveragePooling1D extends GlobalPooling1D {
  static override readonly className = 'GlobalAveragePooling1D';

  constructor(args: GlobalAveragePooling1DArgs = {}) {
    super(args);
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    const mask = (args.mask ?? null) as tf.Tensor | null;
    return maskedMean(x, mask === null ? null : this.expandMask(mask, x), this.stepsAxis, this.args.keepdims);
  }
}
