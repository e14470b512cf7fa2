/** RepeatVector: repeats a [batch, features] input n times along a new time axis. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';

export interface RepeatVectorArgs extends BaseLayerArgs {
  /** How many times to repeat the input (the output's number of steps). */
  n: number;
}

export class RepeatVector extends Layer<CallArgs> {
  static override readonly className = 'RepeatVector';
  static override readonly options = {
    n: opt.int({ min: 1 }),
  } satisfies OptionsOf<Omit<RepeatVectorArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<RepeatVectorArgs, keyof BaseLayerArgs>>;

  get n(): number {
    return this.args.n;
  }

  private check(shape: Shape): void {
    if (shape.length !== 2) throw new MasqueError('INPUT_SHAPE_MISMATCH', `RepeatVector '${this.name}' expects a 2-D input [batch, features]; received ${formatShape(shape)}.`);
  }

  override build(inputShape: Shape): void {
    this.check(inputShape);
  }

  call(x: tf.Tensor): tf.Tensor {
    this.check(x.shape);
    return tf.tile(tf.expandDims(x, 1), [1, this.args.n, 1]);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `RepeatVector '${this.name}'`);
    this.check(x.shape);
    return { shape: [x.shape[0] ?? null, this.args.n, x.shape[1] ?? null], dtype: x.dtype, mask: null };
  }
}
