/**
 * AlphaDropout (for SELU networks): when training, dropped entries take
 * SELU's negative saturation and the result is rescaled to keep the mean
 * and variance (Keras's formula); the identity otherwise. Passes the mask
 * through.
 */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { alphaDropout } from '../../ops/noise_ops.js';
import { Elementwise } from '../core/activation.js';

export interface AlphaDropoutArgs extends BaseLayerArgs {
  /** Drop probability, in [0, 1]. */
  rate: number;
  seed?: number | null;
  /** Shape of the keep/drop pattern (null: the input's; a null entry: the input's size there). */
  noiseShape?: (number | null)[] | null;
}

export class AlphaDropout extends Elementwise {
  static override readonly className = 'AlphaDropout';
  static override readonly options = {
    rate: opt.number({ min: 0, max: 1 }),
    seed: opt.seed(),
    noiseShape: opt.custom<(number | null)[] | null>(
      (v, w, n) => {
        if (v === null || (Array.isArray(v) && v.every((d) => d === null || (Number.isInteger(d) && d >= 1)))) return v === null ? null : [...v];
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be null or a list of positive integers or null; received ${describe(v)}.`);
      },
      { default: null },
    ),
  } satisfies OptionsOf<Omit<AlphaDropoutArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<AlphaDropoutArgs, keyof BaseLayerArgs>>;

  constructor(args: AlphaDropoutArgs) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    if (!args.training || this.args.rate === 0) return x;
    const ns = this.args.noiseShape;
    if (ns !== null && (ns.length !== x.rank || ns.some((d, i) => d !== null && d !== 1 && d !== x.shape[i]))) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `AlphaDropout '${this.name}': noiseShape ${describe(ns)} does not broadcast to the input of shape ${formatShape(x.shape)}.`);
    }
    const shape = ns === null ? x.shape : ns.map((d, i) => d ?? x.shape[i]!);
    return alphaDropout(x, this.args.rate, shape, this.args.seed ?? undefined);
  }
}
