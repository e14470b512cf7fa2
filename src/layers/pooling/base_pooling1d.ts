/**
 * AveragePooling1D and MaxPooling1D share this base. Like Keras, they do not
 * support masks: under the default mask policy a masked input raises
 * MASK_NOT_SUPPORTED (departure 1). 'same' averaging counts only in-bounds
 * steps, as in Keras. A window longer than a 'valid' input, and an input
 * with no steps, raise INPUT_SHAPE_MISMATCH before tfjs sees them.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { dataFormatOption, type DataFormat } from './base_global_pooling1d.js';

export interface Pooling1DArgs extends BaseLayerArgs {
  /** Window length (Keras also accepts a one-element list). */
  poolSize?: number | [number];
  /** Step between windows (default: poolSize). */
  strides?: number | [number] | null;
  padding?: 'valid' | 'same';
  dataFormat?: DataFormat;
}

/** An option that takes a positive integer or a one-element list of one, and stores the integer. */
export function oneIntOption(dflt?: number) {
  return opt.custom<number>(
    (v, w, n) => {
      const x = Array.isArray(v) && v.length === 1 ? v[0] : v;
      if (Number.isInteger(x) && (x as number) >= 1) return x as number;
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a positive integer (or a one-element list); received ${describe(v)}.`);
    },
    dflt === undefined ? {} : { default: dflt },
  );
}

/**
 * The output length of a 1-D window op over `t` steps (null when unknown),
 * checking the input as Keras does: a 'valid' window longer than the input
 * leaves no output, an error there and here; so does an input of 0 steps.
 */
export function windowOutputLength(t: number | null, span: number, stride: number, padding: 'valid' | 'same' | 'causal', where: string): number | null {
  if (t === null) return null;
  if (t === 0) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the input has 0 time steps; a window needs at least one.`);
  if (padding === 'valid') {
    if (t < span) {
      throw new MasqueError(
        'INPUT_SHAPE_MISMATCH',
        `${where}: the window spans ${span} steps but the input has only ${t} (padding 'valid' leaves no output). Pad the sequences to at least ${span} steps, or use padding 'same'.`,
      );
    }
    return Math.floor((t - span) / stride) + 1;
  }
  return Math.ceil(t / stride);
}

type Own = Omit<Pooling1DArgs, keyof BaseLayerArgs>;

export abstract class Pooling1D extends Layer<CallArgs> {
  static override readonly options = {
    poolSize: oneIntOption(2),
    strides: opt.custom<number | null>((v, w, n) => (v === null ? null : oneIntOption().check(v, w, n)), { default: null }),
    padding: opt.oneOf(['valid', 'same'] as const, 'valid'),
    dataFormat: dataFormatOption(),
  } satisfies OptionsOf<Own>;
  declare readonly args: Omit<Filled<Own>, 'poolSize' | 'strides'> & { poolSize: number; strides: number | null };

  protected get stride(): number {
    return this.args.strides ?? this.args.poolSize;
  }

  override build(inputShape: Shape): void {
    if (inputShape.length !== 3) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' expects a 3-D input; received shape ${formatShape(inputShape)}.`);
    }
  }

  /** The tfjs 2-D pooling op to use on [batch, time, 1, channels]. */
  protected abstract pool(x: tf.Tensor4D, size: [number, number], strides: [number, number], padding: 'valid' | 'same'): tf.Tensor4D;

  private outLength(t: number | null): number | null {
    return windowOutputLength(t, this.args.poolSize, this.stride, this.args.padding, `${this.className} '${this.name}'`);
  }

  call(input: tf.Tensor): tf.Tensor {
    const first = this.args.dataFormat === 'channels_first';
    let x = input;
    if (first) x = tf.transpose(x, [0, 2, 1]);
    const t = this.outLength(x.shape[1]!)!;
    // tfjs's wasm pooling kernels fail on an empty batch: its output is empty anyway.
    if (x.shape[0] === 0) return tf.zeros(first ? [0, x.shape[2]!, t] : [0, t, x.shape[2]!]);
    const y = tf.squeeze(this.pool(tf.expandDims(x, 2) as tf.Tensor4D, [this.args.poolSize, 1], [this.stride, 1], this.args.padding), [2]);
    return first ? tf.transpose(y, [0, 2, 1]) : y;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `${this.className} '${this.name}'`);
    const a = this.args.dataFormat === 'channels_first' ? 2 : 1;
    return { shape: x.shape.map((d, i) => (i === a ? this.outLength(d) : d)), dtype: x.dtype, mask: null };
  }
}
