/** Flatten and Reshape. Neither supports masking, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { knownSize, oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface FlattenArgs extends BaseLayerArgs {
  dataFormat?: 'channels_last' | 'channels_first';
}

export class Flatten extends Layer<CallArgs> {
  static override readonly className = 'Flatten';
  static override readonly options = {
    dataFormat: opt.oneOf(['channels_last', 'channels_first'] as const, 'channels_last'),
  } satisfies OptionsOf<Omit<FlattenArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<FlattenArgs, keyof BaseLayerArgs>>;

  get dataFormat(): 'channels_last' | 'channels_first' {
    return this.args.dataFormat;
  }

  call(input: tf.Tensor): tf.Tensor {
    let x = input;
    if (this.args.dataFormat === 'channels_first' && x.rank > 2) x = tf.transpose(x, [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1]);
    return tf.reshape(x, [x.shape[0]!, x.shape.slice(1).reduce((a, b) => a * b, 1)]);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `Flatten '${this.name}'`);
    return { shape: [x.shape[0] ?? null, knownSize(x.shape.slice(1))], dtype: x.dtype, mask: null };
  }
}

export interface ReshapeArgs extends BaseLayerArgs {
  /** Target shape of one sample; one dimension may be -1. */
  targetShape: number[];
}

export class Reshape extends Layer<CallArgs> {
  static override readonly className = 'Reshape';
  static override readonly options = {
    targetShape: opt.custom<number[]>((v, w, n) => {
      if (Array.isArray(v) && v.every((d) => Number.isInteger(d) && (d >= 1 || d === -1)) && v.filter((d) => d === -1).length <= 1) return [...v];
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a list of positive integers with at most one -1; received ${describe(v)}.`);
    }),
  } satisfies OptionsOf<Omit<ReshapeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<ReshapeArgs, keyof BaseLayerArgs>>;

  get targetShape(): number[] {
    return this.args.targetShape;
  }

  /** The target shape with -1 resolved for a sample of `per` values; throws when it cannot hold them. */
  private resolve(per: number | null, sample: (number | null)[]): (number | null)[] {
    const target = this.args.targetShape;
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (per === null) return target.map((d) => (d === -1 ? null : d));
    if ((target.includes(-1) && per % known !== 0) || (!target.includes(-1) && per !== known)) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Reshape '${this.name}': cannot reshape a sample of shape ${formatShape(sample)} (${per} values) to ${formatShape(target)}.`);
    }
    return target.map((d) => (d === -1 ? per / known : d));
  }

  call(x: tf.Tensor): tf.Tensor {
    const sample = x.shape.slice(1);
    const shape = this.resolve(sample.reduce((a, b) => a * b, 1), sample) as number[];
    return tf.reshape(x, [x.shape[0]!, ...shape]);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `Reshape '${this.name}'`);
    const sample = x.shape.slice(1);
    return { shape: [x.shape[0] ?? null, ...this.resolve(knownSize(sample), sample)], dtype: x.dtype, mask: null };
  }
}
