/**
 * Adagrad with Keras 3's update rule (keras/src/optimizers/adagrad.py):
 *   accumulator += g²;  w -= lr·g / √(accumulator + ε)
 * The accumulator starts at `initialAccumulatorValue` (default 0.1); slots
 * are named `<name>/<var path>_accumulator` as in Keras.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { Optimizer, type OptimizerArgs } from './optimizers.js';

export interface AdagradArgs extends OptimizerArgs {
  /** Starting value of the accumulators (>= 0; default 0.1). */
  initialAccumulatorValue?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

function nonNegative(key: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw new MasqueError('INVALID_ARGUMENT', `adagrad optimizer: ${key} must be a number in [0, Infinity]; received ${describe(v)}.`);
  }
}

export class Adagrad extends Optimizer<AdagradArgs> {
  readonly className = 'Adagrad';
  constructor(args: AdagradArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    nonNegative('initialAccumulatorValue', args?.initialAccumulatorValue);
    nonNegative('epsilon', args?.epsilon);
    super({ ...args, initialAccumulatorValue: args?.initialAccumulatorValue ?? 0.1, epsilon: args?.epsilon ?? 1e-7 }, 'adagrad', 0.001, ['initialAccumulatorValue', 'epsilon']);
  }
  protected slotNames(): string[] {
    return ['accumulator'];
  }
  protected override slotInitialValue(): number {
    return this.args.initialAccumulatorValue!;
  }
  protected updateStep(g: tf.Tensor, w: tf.Variable, slots: tf.Variable[], lr: number): void {
    const acc = slots[0]!;
    acc.assign(tf.add(acc, tf.square(g)));
    w.assign(tf.sub(w, tf.div(tf.mul(g, lr), tf.sqrt(tf.add(acc, this.args.epsilon!)))));
  }
}
