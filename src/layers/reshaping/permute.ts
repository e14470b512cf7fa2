/** Permute: reorders the non-batch axes of its input by a pattern that counts from 1. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface PermuteArgs extends BaseLayerArgs {
  /** The new order of the axes after the batch axis, counting from 1: [2, 1] swaps time and features. */
  dims: number[];
}

export class Permute extends Layer<CallArgs> {
  static override readonly className = 'Permute';
  static override readonly options = {
    dims: opt.custom<number[]>((v, w, n) => {
      if (Array.isArray(v) && v.length >= 1 && v.every((d) => Number.isInteger(d)) && [...v].sort((a, b) => a - b).every((d, i) => d === i + 1)) return [...v];
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a permutation of 1..k (the axes after the batch axis, counting from 1), e.g. [2, 1]; received ${describe(v)}.`);
    }),
  } satisfies OptionsOf<Omit<PermuteArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<PermuteArgs, keyof BaseLayerArgs>>;

  get dims(): number[] {
    return [...this.args.dims];
  }

  private check(shape: Shape): void {
    if (shape.length !== this.args.dims.length + 1) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Permute '${this.name}' with dims ${formatShape(this.args.dims)} expects a ${this.args.dims.length + 1}-D input; received ${formatShape(shape)}.`);
    }
  }

  override build(inputShape: Shape): void {
    this.check(inputShape);
  }

  call(x: tf.Tensor): tf.Tensor {
    this.check(x.shape);
    return tf.transpose(x, [0, ...this.args.dims]);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `Permute '${this.name}'`);
    this.check(x.shape);
    return { shape: [x.shape[0] ?? null, ...this.args.dims.map((d) => x.shape[d] ?? null)], dtype: x.dtype, mask: null };
  }
}
