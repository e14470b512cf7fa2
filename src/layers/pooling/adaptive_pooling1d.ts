/**
 * AdaptiveAveragePooling1D and AdaptiveMaxPooling1D: pool any number of steps
 * into `outputSize` bins, as Keras (and PyTorch) do: bin i covers steps
 * floor(i*T/O) to ceil((i+1)*T/O), so bins may overlap and, when O > T,
 * repeat steps; none is empty. No mask support, as in Keras (under the
 * default mask policy a masked input raises MASK_NOT_SUPPORTED): the bins
 * count padded steps.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';
import { dataFormatOption, type DataFormat } from './base_global_pooling1d.js';
import { oneIntOption } from './base_pooling1d.js';
import { maskedMax } from '../../ops/pooling_ops.js';

export interface AdaptivePooling1DArgs extends BaseLayerArgs {
  /** The number of output steps (bins). */
  outputSize: number | [number];
  dataFormat?: DataFormat;
}

/** For `t` steps into `o` bins: each bin's steps, padded to the widest bin with step `t` (a zero step appended to the input), and how many are its own. */
export function adaptiveBins(t: number, o: number): { index: Int32Array; counts: Int32Array; width: number } {
  const start = (i: number) => Math.floor((i * t) / o);
  const end = (i: number) => Math.ceil(((i + 1) * t) / o);
  let width = 1;
  for (let i = 0; i < o; i++) width = Math.max(width, end(i) - start(i));
  const index = new Int32Array(o * width);
  const counts = new Int32Array(o);
  for (let i = 0; i < o; i++) {
    counts[i] = end(i) - start(i);
    for (let j = 0; j < width; j++) index[i * width + j] = j < counts[i]! ? start(i) + j : t;
  }
  return { index, counts, width };
}

abstract class AdaptivePooling1D extends Layer<CallArgs> {
  static override readonly options = {
    outputSize: oneIntOption(),
    dataFormat: dataFormatOption(),
  } satisfies OptionsOf<Omit<AdaptivePooling1DArgs, keyof BaseLayerArgs>>;
  declare readonly args: { outputSize: number; dataFormat: DataFormat };

  get outputSize(): number {
    return this.args.outputSize;
  }

  private check(shape: Shape): void {
    const t = shape[this.args.dataFormat === 'channels_first' ? 2 : 1];
    if (shape.length !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' expects a 3-D input; received ${formatShape(shape)}.`);
    if (t === 0) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}': the input has 0 time steps; each bin needs at least one.`);
  }

  override build(inputShape: Shape): void {
    this.check(inputShape);
  }

  /** The bins' values [B, O, width, C] reduced over the width, given each bin's own-step count. */
  protected abstract reduce(binned: tf.Tensor4D, counts: Int32Array, width: number): tf.Tensor;

  call(input: tf.Tensor): tf.Tensor {
    this.check(input.shape);
    const first = this.args.dataFormat === 'channels_first';
    const x = first ? tf.transpose(input, [0, 2, 1]) : input;
    const [b, t, c] = x.shape as [number, number, number];
    const o = this.args.outputSize;
    if (b === 0) {
      // tfjs-backend-wasm's gather and reductions fail on an empty batch; its output is empty anyway.
      return tf.zeros(first ? [0, c, o] : [0, o, c]);
    }
    const { index, counts, width } = adaptiveBins(t, o);
    const padded = tf.concat([x, tf.zeros([b, 1, c])], 1);
    const binned = tf.reshape(tf.gather(padded, tf.tensor1d(index, 'int32'), 1), [b, o, width, c]) as tf.Tensor4D;
    const y = this.reduce(binned, counts, width);
    return first ? tf.transpose(y, [0, 2, 1]) : y;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `${this.className} '${this.name}'`);
    this.check(x.shape);
    const o = this.args.outputSize;
    const shape = this.args.dataFormat === 'channels_first' ? [x.shape[0] ?? null, x.shape[1] ?? null, o] : [x.shape[0] ?? null, o, x.shape[2] ?? null];
    return { shape, dtype: 'float32', mask: null };
  }
}

/** [1, O, width, 1]: true where the slot is one of the bin's own steps, false in the padding slots. */
function ownSlots(counts: Int32Array, width: number): tf.Tensor4D {
  const v = new Uint8Array(counts.length * width);
  counts.forEach((n, i) => v.fill(1, i * width, i * width + n));
  return tf.tensor4d(v, [1, counts.length, width, 1], 'bool');
}

export class AdaptiveAveragePooling1D extends AdaptivePooling1D {
  static override readonly className = 'AdaptiveAveragePooling1D';

  constructor(args: AdaptivePooling1DArgs) {
    super(args);
  }

  protected reduce(binned: tf.Tensor4D, counts: Int32Array): tf.Tensor {
    // The mean of each bin's own steps: their sum (the padding slots hold zeros) over their count.
    return tf.div(tf.sum(binned, 2), tf.tensor2d(Float32Array.from(counts), [counts.length, 1]));
  }
}

export class AdaptiveMaxPooling1D extends AdaptivePooling1D {
  static override readonly className = 'AdaptiveMaxPooling1D';

  constructor(args: AdaptivePooling1DArgs) {
    super(args);
  }

  protected reduce(binned: tf.Tensor4D, counts: Int32Array, width: number): tf.Tensor {
    // Over each bin's own steps; tied maxima share the gradient, as in Keras (a RepeatVector's copies tie).
    return maskedMax(binned, ownSlots(counts, width), 2, false);
  }
}
