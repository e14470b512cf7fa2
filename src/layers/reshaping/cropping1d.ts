/** Cropping1D: removes steps from the start and end of the time axis. No mask support, as in Keras. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

export interface Cropping1DArgs extends BaseLayerArgs {
  /** Steps to remove: one number for both ends, or [start, end] (default [1, 1]). */
  cropping?: number | [number, number];
}

/** A pair of non-negative integers from a number or a pair. */
export function intPair(v: unknown, what: string, where: string): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: ${what} must be a non-negative integer or a pair of them; received ${describe(v)}.`);
  }
  return [p[0], p[1]];
}

export class Cropping1D extends Layer<CallArgs> {
  readonly cropping: [number, number];

  constructor(args: Cropping1DArgs = {}) {
    super(args, 'Cropping1D');
    this.cropping = intPair(args.cropping ?? [1, 1], 'cropping', `Cropping1D '${this.name}'`);
  }

  override build(inputShape: Shape): void {
    if (inputShape.length !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `Cropping1D '${this.name}' expects a 3-D input; received ${formatShape(inputShape)}.`);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputs as tf.Tensor;
    const [a, b] = this.cropping;
    const t = x.shape[1]!;
    if (a + b >= t) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Cropping1D '${this.name}': cropping [${a}, ${b}] must leave at least one step of an input of length ${t} (shape ${formatShape(x.shape)}).`);
    }
    return tf.slice(x, [0, a, 0], [-1, t - a - b, -1]);
  }

  override getConfig(): Cropping1DArgs {
    return { ...super.getConfig(), cropping: this.cropping };
  }
}
