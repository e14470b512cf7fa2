/**
 * AveragePooling1D and MaxPooling1D share this base. Like Keras, they do not
 * support masks: under the default mask policy a masked input raises
 * MASK_NOT_SUPPORTED (departure 1). 'same' averaging counts only in-bounds
 * steps, as in Keras.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { checkDataFormat, type DataFormat } from './base_global_pooling1d.js';

export interface Pooling1DArgs extends BaseLayerArgs {
  /** Window length (Keras also accepts a one-element list). */
  poolSize?: number | [number];
  /** Step between windows (default: poolSize). */
  strides?: number | [number] | null;
  padding?: 'valid' | 'same';
  dataFormat?: DataFormat;
}

/** A positive integer from `v` or a one-element list; `allowZero` for strides. */
export function oneInt(v: unknown, what: string, where: string, allowZero = false): number {
  const x = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (!Number.isInteger(x) || (x as number) < (allowZero ? 0 : 1)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: ${what} must be a positive integer (or a one-element list); received ${describe(v)}.`);
  }
  return x as number;
}

export abstract class Pooling1D extends Layer<CallArgs> {
  readonly args: Pooling1DArgs;
  protected readonly size: number;
  protected readonly stride: number;

  constructor(args: Pooling1DArgs, className: string) {
    super(args, className);
    const where = `${className} '${this.name}'`;
    this.size = oneInt(args.poolSize ?? 2, 'poolSize', where);
    this.stride = args.strides == null ? this.size : oneInt(args.strides, 'strides', where);
    const padding = args.padding ?? 'valid';
    if (padding !== 'valid' && padding !== 'same') throw new MasqueError('INVALID_ARGUMENT', `${where}: padding must be 'valid' or 'same'; received ${describe(args.padding)}.`);
    this.args = { ...args, poolSize: this.size, strides: this.stride, padding, dataFormat: checkDataFormat(args.dataFormat, where) };
  }

  override build(inputShape: Shape): void {
    if (inputShape.length !== 3) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' expects a 3-D input; received shape ${formatShape(inputShape)}.`);
    }
  }

  /** The tfjs 2-D pooling op to use on [batch, time, 1, channels]. */
  protected abstract pool(x: tf.Tensor4D, size: [number, number], strides: [number, number], padding: 'valid' | 'same'): tf.Tensor4D;

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const first = this.args.dataFormat === 'channels_first';
    let x = inputs as tf.Tensor;
    if (first) x = tf.transpose(x, [0, 2, 1]);
    const y = tf.squeeze(this.pool(tf.expandDims(x, 2) as tf.Tensor4D, [this.size, 1], [this.stride, 1], this.args.padding!), [2]);
    return first ? tf.transpose(y, [0, 2, 1]) : y;
  }

  override getConfig(): Pooling1DArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
