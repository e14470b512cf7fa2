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
  constructor(args: GlobalAveragePooling1DArgs = {}) {
    super(args, 'GlobalAveragePooling1D');
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor {
    const x = inputs as tf.Tensor;
    const mask = (args.mask ?? null) as tf.Tensor | null;
    return maskedMean(x, mask === null ? null : this.expandMask(mask, x), this.stepsAxis, this.args.keepdims!);
  }
}
