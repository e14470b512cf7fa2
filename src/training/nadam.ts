/**
 * Nadam with Keras 3's update rule (keras/src/optimizers/nadam.py). With
 * μ(t) = β1·(1 - ½·0.96^t) and the running product Π(t) = μ(1)···μ(t)
 * (the state variable `u_product`, updated once per step before the
 * variables):
 *   m += (g - m)(1 - β1);  v += (g² - v)(1 - β2)
 *   m̂ = μ(t+1)·m / (1 - Π(t)·μ(t+1)) + (1 - μ(t))·g / (1 - Π(t))
 *   v̂ = v / (1 - β2^t);   w -= lr·m̂ / (√v̂ + ε)
 * State in Keras's order: iteration, learning_rate, the momentums, the
 * velocities (interleaved per variable), then u_product (path
 * `<name>/variable`, as Keras names it).
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { Optimizer, newVariable, type OptimizerArgs } from './optimizers.js';

export interface NadamArgs extends OptimizerArgs {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

function inRange(key: string, v: unknown, max: number): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)) {
    throw new MasqueError('INVALID_ARGUMENT', `nadam optimizer: ${key} must be a number in [0, ${max}]; received ${describe(v)}.`);
  }
}

export class Nadam extends Optimizer<NadamArgs> {
  readonly className = 'Nadam';
  private uProduct: tf.Variable | null = null;
  /** Π(t) in float64, mirrored from `u_product` (which holds it in float32, as Keras). */
  private uProductValue = 1;

  constructor(args: NadamArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    inRange('beta1', args?.beta1, 1);
    inRange('beta2', args?.beta2, 1);
    inRange('epsilon', args?.epsilon, Infinity);
    super({ ...args, beta1: args?.beta1 ?? 0.9, beta2: args?.beta2 ?? 0.999, epsilon: args?.epsilon ?? 1e-7 }, 'nadam', 0.001, ['beta1', 'beta2', 'epsilon']);
  }

  protected slotNames(): string[][] {
    return [['momentum', 'velocity']];
  }

  override build(variables: tf.Variable[], paths?: string[]): tf.Variable[] {
    const fresh = super.build(variables, paths);
    if (this.uProduct === null) {
      this.uProduct = newVariable(tf.scalar(1), `${this.name}/variable`);
      this.uProductValue = 1;
      this.trackVariable(`${this.name}/variable`, this.uProduct);
    }
    return fresh;
  }

  override unbuild(variables: readonly tf.Variable[]): void {
    super.unbuild(variables);
    // Unbuilt again: u_product goes too, as before the first build.
    if (this.slotCount() === 0 && this.uProduct !== null) {
      this.untrackVariable(this.uProduct);
      this.uProduct = null;
      this.uProductValue = 1;
    }
  }

  /** μ(t) = β1·(1 - ½·0.96^t). */
  private mu(t: number): number {
    return this.args.beta1! * (1 - 0.5 * Math.pow(0.96, t));
  }

  protected override beforeUpdateSteps(step: number): void {
    // u_product is a float32 variable in Keras too.
    this.uProductValue = Math.fround(this.uProductValue * this.mu(step));
    this.uProduct!.assign(tf.scalar(this.uProductValue));
  }

  override setWeights(values: tf.Tensor[]): void {
    super.setWeights(values);
    if (this.uProduct !== null) this.uProductValue = this.uProduct.dataSync()[0]!;
  }

  protected updateStep(g: tf.Tensor, w: tf.Variable, slots: tf.Variable[], lr: number, step: number): void {
    const { beta1, beta2, epsilon } = this.args as Required<NadamArgs>;
    const [m, v] = [slots[0]!, slots[1]!];
    const uT = this.mu(step);
    const uT1 = this.mu(step + 1);
    const uProductT = this.uProductValue;
    const uProductT1 = uProductT * uT1;
    m.assign(tf.add(m, tf.mul(tf.sub(g, m), 1 - beta1)));
    v.assign(tf.add(v, tf.mul(tf.sub(tf.square(g), v), 1 - beta2)));
    const mHat = tf.add(tf.mul(m, uT1 / (1 - uProductT1)), tf.mul(g, (1 - uT) / (1 - uProductT)));
    const vHat = tf.div(v, 1 - Math.pow(beta2, step));
    w.assign(tf.sub(w, tf.div(tf.mul(mHat, lr), tf.add(tf.sqrt(vHat), epsilon))));
  }

  override dispose(): void {
    super.dispose();
    this.uProduct = null;
  }
}
