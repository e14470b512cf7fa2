/** UpSampling1D: repeats each step `size` times along the time axis. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';

export interface UpSampling1DArgs extends BaseLayerArgs {
  /** How many times each step is repeated (default 2). */
  size?: number;
}

export class UpSampling1D extends Layer<CallArgs> {
  static override readonly className = 'UpSampling1D';
  static override readonly options = {
    size: opt.int({ min: 1, default: 2 }),
  } satisfies OptionsOf<Omit<UpSampling1DArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<UpSampling1DArgs, keyof BaseLayerArgs>>;

  get size(): number {
    return this.args.size;
  }

  private check(shape: Shape): void {
    if (shape.length !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `UpSampling1D '${this.name}' expects a 3-D input [batch, time, features]; received ${formatShape(shape)}.`);
  }

  override build(inputShape: Shape): void {
    this.check(inputShape);
  }

  call(x: tf.Tensor): tf.Tensor {
    this.check(x.shape);
    const [b, t, c] = x.shape as [number, number, number];
    // Step i of the output is step floor(i / size) of the input: each step's row repeated in place.
    return tf.reshape(tf.tile(tf.expandDims(x, 2), [1, 1, this.args.size, 1]), [b, t * this.args.size, c]);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `UpSampling1D '${this.name}'`);
    this.check(x.shape);
    const t = x.shape[1] ?? null;
    return { shape: [x.shape[0] ?? null, t === null ? null : t * this.args.size, x.shape[2] ?? null], dtype: x.dtype, mask: null };
  }
}
