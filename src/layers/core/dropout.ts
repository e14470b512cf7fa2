/** Dropout and GaussianNoise: active only when training; both pass the mask through. */
import { tf } from '../../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { Elementwise } from './activation.js';

/** The `noiseShape` option of the dropout layers: null, or a list of positive integers or null. */
export const NOISE_SHAPE_OPTION = opt.custom<(number | null)[] | null>(
  (v, w, n) => {
    if (v === null || (Array.isArray(v) && v.every((d) => d === null || (Number.isInteger(d) && d >= 1)))) return v === null ? null : [...v];
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be null or a list of positive integers or null; received ${describe(v)}.`);
  },
  { default: null },
);

/** The shape of the keep/drop pattern for `x` (a null entry takes x's size); a noiseShape that does not broadcast to x raises. */
export function noiseShapeOf(noiseShape: readonly (number | null)[] | null, x: tf.Tensor, where: string): number[] {
  if (noiseShape === null) return x.shape;
  if (noiseShape.length !== x.rank || noiseShape.some((d, i) => d !== null && d !== 1 && d !== x.shape[i])) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: noiseShape ${describe(noiseShape)} does not broadcast to the input of shape ${formatShape(x.shape)}.`);
  }
  return noiseShape.map((d, i) => d ?? x.shape[i]!);
}

export interface DropoutArgs extends BaseLayerArgs {
  rate: number;
  noiseShape?: (number | null)[] | null;
  seed?: number | null;
}

export class Dropout extends Elementwise {
  static override readonly className = 'Dropout';
  static override readonly options = {
    rate: opt.number({ min: 0, max: 1 }),
    noiseShape: NOISE_SHAPE_OPTION,
    seed: opt.seed(),
  } satisfies OptionsOf<Omit<DropoutArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<DropoutArgs, keyof BaseLayerArgs>>;

  constructor(args: DropoutArgs) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    const rate = this.args.rate;
    if (!args.training || rate === 0) return x;
    // Keras drops everything at rate 1 (its 1 / (1 - rate) scale would be infinite).
    if (rate === 1) return tf.zerosLike(x);
    const shape = noiseShapeOf(this.args.noiseShape, x, `Dropout '${this.name}'`);
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', this.args.seed ?? undefined), rate), x.dtype);
    return tf.div(tf.mul(x, keep), 1 - rate);
  }
}

export interface GaussianNoiseArgs extends BaseLayerArgs {
  stddev: number;
  seed?: number | null;
}

export class GaussianNoise extends Elementwise {
  static override readonly className = 'GaussianNoise';
  static override readonly options = {
    stddev: opt.number({ min: 0 }),
    seed: opt.seed(),
  } satisfies OptionsOf<Omit<GaussianNoiseArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<GaussianNoiseArgs, keyof BaseLayerArgs>>;

  constructor(args: GaussianNoiseArgs) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    if (!args.training || this.args.stddev === 0) return x;
    return tf.add(x, tf.randomNormal(x.shape, 0, this.args.stddev, 'float32', this.args.seed ?? undefined));
  }
}
