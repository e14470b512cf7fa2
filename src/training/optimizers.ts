/**
 * Optimizers with Keras 3 update rules (keras/src/optimizers/*.py): the
 * base class, SGD, Adam, AdamW, RMSprop (Adagrad and Nadam are in their own
 * files; names resolve in optimizer_registry.ts). Each step: drop pairs without a gradient, clip
 * (clipnorm per gradient, else globalClipnorm, else clipvalue), apply
 * decoupled weight decay `v -= v·wd·lr`, run the update, then count the
 * iteration. The learning rate is a number or a function of the iteration.
 *
 * State mirrors Keras for saving: `variables()` lists `iteration`, then
 * `learning_rate` (absent with a schedule), then the slot variables, created
 * at the first step in Keras 3.15's order (each group of `slotNames()` in
 * turn; within a group, variable by variable, all the group's kinds for one
 * variable together, as `add_optimizer_variables` interleaves them) and named
 * `<optimizer>/<var path with / -> _>_<slot>`.
 * Departure: a variable first seen after the first step gets its slots
 * appended (Keras raises).
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { checkKeys } from '../option_keys.js';
import { adamUpdate, adamUpdateInPlace } from '../ops/optimizer_ops.js';

/** Learning rate as a function of the iteration count (0 at the first step). */
export type LearningRateSchedule = (iteration: number) => number;

export interface OptimizerArgs {
  learningRate?: number | LearningRateSchedule;
  name?: string;
  weightDecay?: number | null;
  clipnorm?: number | null;
  clipvalue?: number | null;
  globalClipnorm?: number | null;
}

export interface GradientPair {
  variable: tf.Variable;
  /** null: no gradient (the pair is skipped, as in Keras). */
  gradient: tf.Tensor | null;
  /** The variable's Keras path (`dense/kernel`), used to name its slots; default `variable.name`. */
  path?: string;
}

/** An optimizer state variable and its Keras path (`adam/dense_kernel_momentum`). */
export interface OptimizerVariable {
  path: string;
  variable: tf.Variable;
}

/** The options every optimizer takes. */
const BASE_KEYS = ['learningRate', 'name', 'weightDecay', 'clipnorm', 'clipvalue', 'globalClipnorm'] as const;

let counter = 0;
/** A state variable holding `value` (which it takes over). */
export function newVariable(value: tf.Tensor, path: string): tf.Variable {
  const v = tf.variable(value, false, `masque/optimizer/${path}_${++counter}`);
  value.dispose();
  return v;
}

function checkNumber(where: string, key: string, value: unknown, min: number, max = Infinity): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: ${key} must be a number in [${min}, ${max}]; received ${describe(value)}.`);
  }
}

export abstract class Optimizer<A extends OptimizerArgs = OptimizerArgs> {
  abstract readonly className: string;
  readonly name: string;
  protected readonly args: A;
  private schedule: LearningRateSchedule | null = null;
  private lr = 0;
  private lrVar: tf.Variable | null = null;
  private readonly iterationVar: tf.Variable;
  private iter = 0;
  private readonly slots = new Map<tf.Variable, tf.Variable[]>();
  private readonly slotList: OptimizerVariable[] = [];

  /** `keys` are the subclass's own option names; any other key (a typo, a snake_case Keras name) raises. */
  constructor(args: A, defaultName: string, defaultLearningRate: number, keys: readonly string[] = []) {
    const where = `${defaultName} optimizer`;
    checkKeys(args, [...BASE_KEYS, ...keys], where);
    const clips = (['clipnorm', 'clipvalue', 'globalClipnorm'] as const).filter((k) => args[k] !== null && args[k] !== undefined);
    if (clips.length > 1) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: set at most one of clipnorm, clipvalue and globalClipnorm; received ${clips.join(' and ')}.`);
    }
    for (const k of ['clipnorm', 'clipvalue', 'globalClipnorm', 'weightDecay'] as const) checkNumber(where, k, args[k], 0);
    this.args = { ...args, learningRate: args.learningRate ?? defaultLearningRate };
    this.name = args.name ?? defaultName;
    this.learningRate = this.args.learningRate!;
    this.iterationVar = newVariable(tf.scalar(0, 'int32'), `${this.name}/iteration`);
  }

  /** Number of steps applied so far. */
  get iterations(): number {
    return this.iter;
  }

  /** The learning rate for the next step (a schedule is evaluated at `iterations`). */
  get learningRate(): number {
    return this.schedule !== null ? this.schedule(this.iter) : this.lr;
  }

  /** Sets a new constant learning rate or schedule (callbacks use this). */
  set learningRate(value: number | LearningRateSchedule) {
    if (typeof value === 'function') {
      this.schedule = value;
      this.lrVar?.dispose();
      this.lrVar = null;
    } else {
      checkNumber(`${this.name} optimizer`, 'learningRate', value, 0);
      this.schedule = null;
      this.lr = value;
      if (this.lrVar === null) this.lrVar = newVariable(tf.scalar(value), `${this.name}/learning_rate`);
      else tf.tidy(() => this.lrVar!.assign(tf.scalar(value)));
    }
    this.args.learningRate = value;
  }

  /**
   * Slot kinds in Keras's creation order; a list inside is one Keras
   * `add_optimizer_variables` call, whose kinds are interleaved per variable.
   * `updateStep` gets the slots in the flattened order.
   */
  protected abstract slotNames(): (string | string[])[];

  /** One Keras `update_step` for one variable. `step` is iterations + 1. */
  protected abstract updateStep(gradient: tf.Tensor, variable: tf.Variable, slots: tf.Variable[], lr: number, step: number): void;

  /** The initial value of a slot kind (Keras: zeros, except e.g. Adagrad's accumulator). */
  protected slotInitialValue(_slot: string): number {
    return 0;
  }

  /** Runs once per step before the per-variable updates (Keras's `_backend_update_step`; Nadam's u_product). */
  protected beforeUpdateSteps(_step: number): void {}

  /** Lists a state variable that is not a slot (created by a subclass's `build`) after the slots made so far. */
  protected trackVariable(path: string, variable: tf.Variable): void {
    this.slotList.push({ path, variable });
  }

  /** Forgets (and disposes) a variable `trackVariable` added. */
  protected untrackVariable(variable: tf.Variable): void {
    const i = this.slotList.findIndex((e) => e.variable === variable);
    if (i >= 0) this.slotList.splice(i, 1);
    variable.dispose();
  }

  /** How many model variables have slots. */
  protected slotCount(): number {
    return this.slots.size;
  }

  /**
   * Creates the slot variables (Keras order); called by the first
   * `applyGradients`. Returns the variables it made slots for (those it had
   * none for), which `unbuild` takes.
   */
  build(variables: tf.Variable[], paths?: string[]): tf.Variable[] {
    const fresh = variables.map((v, i) => ({ v, path: paths?.[i] ?? v.name })).filter(({ v }) => !this.slots.has(v));
    for (const { v } of fresh) this.slots.set(v, []);
    const groups = this.slotNames().map((g) => (Array.isArray(g) ? g : [g]));
    const made = new Map<tf.Variable, Map<string, tf.Variable>>(fresh.map(({ v }) => [v, new Map()]));
    for (const group of groups) {
      for (const { v, path } of fresh) {
        for (const slot of group) {
          const full = `${this.name}/${path.replace(/\//g, '_')}_${slot}`;
          const init = this.slotInitialValue(slot);
          const s = newVariable(init === 0 ? tf.zerosLike(v) : tf.fill(v.shape, init, v.dtype), full);
          made.get(v)!.set(slot, s);
          this.slotList.push({ path: full, variable: s });
        }
      }
    }
    for (const { v } of fresh) this.slots.get(v)!.push(...groups.flat().map((slot) => made.get(v)!.get(slot)!));
    return fresh.map(({ v }) => v);
  }

  /** Disposes the slots of `variables` (what a `build` made), as before that build: a failed load undoes its build with it. */
  unbuild(variables: readonly tf.Variable[]): void {
    for (const v of variables) {
      const own = this.slots.get(v);
      if (own === undefined) continue;
      for (const slot of own) this.untrackVariable(slot);
      this.slots.delete(v);
    }
  }

  /** Applies one step to every pair with a gradient. Tensors are not disposed; the caller owns them. */
  applyGradients(pairs: GradientPair[]): void {
    if (pairs.length === 0) return;
    const live = pairs.filter((p) => p.gradient !== null && p.gradient !== undefined);
    if (live.length === 0) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.name} optimizer: no gradients provided for any variable (all ${pairs.length} gradients are null).`);
    }
    for (const p of live) {
      if (p.gradient!.shape.join() !== p.variable.shape.join()) {
        throw new MasqueError(
          'INVALID_ARGUMENT',
          `${this.name} optimizer: the gradient for '${p.path ?? p.variable.name}' must have the variable's shape [${p.variable.shape}]; received ${describe(p.gradient)}.`,
        );
      }
    }
    this.build(live.map((p) => p.variable), live.map((p) => p.path ?? p.variable.name));
    const lr = this.learningRate;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.name} optimizer: the learning rate schedule must return a finite number >= 0; it returned ${describe(lr)} at iteration ${this.iter}.`);
    }
    const step = this.iter + 1;
    tf.tidy(() => {
      const grads = this.clip(live.map((p) => p.gradient!));
      const wd = this.args.weightDecay;
      if (wd) for (const p of live) p.variable.assign(tf.sub(p.variable, tf.mul(p.variable, wd * lr)));
      this.beforeUpdateSteps(step);
      live.forEach((p, i) => this.updateStep(grads[i]!, p.variable, this.slots.get(p.variable)!, lr, step));
      this.iterationVar.assign(tf.scalar(step, 'int32'));
    });
    this.iter = step;
  }

  private clip(grads: tf.Tensor[]): tf.Tensor[] {
    const { clipnorm, globalClipnorm, clipvalue } = this.args;
    if (clipnorm && clipnorm > 0) {
      return grads.map((g) => {
        const l2sum = tf.sum(tf.square(g));
        const positive = tf.greater(l2sum, 0);
        const l2norm = tf.where(positive, tf.sqrt(tf.where(positive, l2sum, tf.onesLike(l2sum))), l2sum);
        return tf.div(tf.mul(g, clipnorm), tf.maximum(l2norm, clipnorm));
      });
    }
    if (globalClipnorm && globalClipnorm > 0) {
      const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
      // NaN when the norm is not finite, like Keras.
      const scale = tf.add(tf.mul(tf.minimum(tf.div(1, norm), 1 / globalClipnorm), globalClipnorm), tf.sub(norm, norm));
      return grads.map((g) => tf.mul(g, scale));
    }
    if (clipvalue && clipvalue > 0) return grads.map((g) => tf.clipByValue(g, -clipvalue, clipvalue));
    return grads;
  }

  /** State variables in Keras order: iteration, learning_rate (unless scheduled), then slots. */
  variables(): OptimizerVariable[] {
    const head: OptimizerVariable[] = [{ path: `${this.name}/iteration`, variable: this.iterationVar }];
    if (this.lrVar !== null) head.push({ path: `${this.name}/learning_rate`, variable: this.lrVar });
    return [...head, ...this.slotList];
  }

  /**
   * `variables()` in the order Keras creates them when it builds on the
   * variables `order` all at once (its `trainable_variables`): iteration,
   * learning_rate, each slot group over `order`, then other state (Nadam's
   * u_product). Slots of variables missing from `order` follow those of
   * `order`. A file's `optimizer/vars` are in this order.
   */
  variablesInOrder(order: readonly tf.Variable[]): OptimizerVariable[] {
    const all = this.variables();
    const out = all.slice(0, all.length - this.slotList.length);
    const entry = new Map(this.slotList.map((s) => [s.variable, s]));
    const groups = this.slotNames().map((g) => (Array.isArray(g) ? g : [g]));
    const kinds = groups.flat();
    const vars = [...order.filter((v) => this.slots.has(v)), ...[...this.slots.keys()].filter((v) => !order.includes(v))];
    const placed = new Set<OptimizerVariable>();
    for (const group of groups) {
      for (const v of vars) {
        for (const kind of group) {
          const s = entry.get(this.slots.get(v)![kinds.indexOf(kind)]!)!;
          out.push(s);
          placed.add(s);
        }
      }
    }
    for (const s of this.slotList) if (!placed.has(s)) out.push(s);
    return out;
  }

  /** Copies of the state values, in `variables()` order. */
  getWeights(): tf.Tensor[] {
    return this.variables().map((v) => tf.clone(v.variable));
  }

  /** Restores state saved by `getWeights` (the optimizer must be built on the same variables). */
  setWeights(values: tf.Tensor[]): void {
    const vars = this.variables();
    if (values.length !== vars.length) {
      throw new MasqueError('WEIGHT_COUNT_MISMATCH', `${this.name} optimizer: setWeights expects ${vars.length} values (${vars.map((v) => v.path).join(', ')}); received ${values.length}. Build the optimizer first.`);
    }
    vars.forEach(({ path, variable }, i) => {
      const v = values[i]!;
      if (v.shape.join() !== variable.shape.join()) {
        throw new MasqueError('WEIGHT_SHAPE_MISMATCH', `${this.name} optimizer: '${path}' has shape [${variable.shape}]; received ${describe(v)}.`);
      }
      tf.tidy(() => variable.assign(v.dtype === variable.dtype ? v : tf.cast(v, variable.dtype)));
    });
    this.iter = this.iterationVar.dataSync()[0]!;
    if (this.lrVar !== null) this.lr = this.lrVar.dataSync()[0]!;
  }

  /** The constructor arguments, camelCase (Keras's get_config). */
  getConfig(): A & { name: string } {
    return { ...this.args, name: this.name };
  }

  /** Frees every state variable. */
  dispose(): void {
    for (const { variable } of this.variables()) variable.dispose();
    this.slotList.length = 0;
    this.slots.clear();
    this.lrVar = null;
  }
}

function slotOf(slots: tf.Variable[], i: number): tf.Variable {
  return slots[i]!;
}

export interface SGDArgs extends OptimizerArgs {
  /** Default 0 (plain gradient descent). */
  momentum?: number;
  nesterov?: boolean;
}

/** SGD: w -= lr·g; with momentum m = μ·m - lr·g, w += m (Nesterov: w += μ·m - lr·g). */
export class SGD extends Optimizer<SGDArgs> {
  readonly className = 'SGD';
  constructor(args: SGDArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    checkNumber('SGD optimizer', 'momentum', args.momentum, 0, 1);
    super({ ...args, momentum: args.momentum ?? 0, nesterov: args.nesterov ?? false }, 'SGD', 0.01, ['momentum', 'nesterov']);
  }
  protected slotNames(): string[] {
    return this.args.momentum ? ['momentum'] : [];
  }
  protected updateStep(g: tf.Tensor, v: tf.Variable, slots: tf.Variable[], lr: number): void {
    const mu = this.args.momentum!;
    if (!mu) {
      v.assign(tf.sub(v, tf.mul(g, lr)));
      return;
    }
    const m = slotOf(slots, 0);
    m.assign(tf.sub(tf.mul(m, mu), tf.mul(g, lr)));
    v.assign(tf.add(v, this.args.nesterov ? tf.sub(tf.mul(m, mu), tf.mul(g, lr)) : m));
  }
}

export interface AdamArgs extends OptimizerArgs {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  amsgrad?: boolean;
}

/** Adam (Keras): m += (g - m)(1 - β1); v += (g² - v)(1 - β2); w -= m·α / (√v + ε), α = lr·√(1 - β2^t) / (1 - β1^t). */
export class Adam extends Optimizer<AdamArgs> {
  readonly className: string = 'Adam';
  constructor(args: AdamArgs = {}, defaultName = 'adam') {
    args ??= {}; // null means no options, as checkKeys reads it
    for (const k of ['beta1', 'beta2'] as const) checkNumber(`${defaultName} optimizer`, k, args[k], 0, 1);
    checkNumber(`${defaultName} optimizer`, 'epsilon', args.epsilon, 0);
    super({ ...args, beta1: args.beta1 ?? 0.9, beta2: args.beta2 ?? 0.999, epsilon: args.epsilon ?? 1e-7, amsgrad: args.amsgrad ?? false }, defaultName, 0.001, ['beta1', 'beta2', 'epsilon', 'amsgrad']);
  }
  protected slotNames(): (string | string[])[] {
    return this.args.amsgrad ? [['momentum', 'velocity'], 'velocity_hat'] : [['momentum', 'velocity']];
  }
  protected updateStep(g: tf.Tensor, w: tf.Variable, slots: tf.Variable[], lr: number, step: number): void {
    const { beta1, beta2, epsilon, amsgrad } = this.args as Required<AdamArgs>;
    const m = slotOf(slots, 0);
    const v = slotOf(slots, 1);
    const alpha = (lr * Math.sqrt(1 - Math.pow(beta2, step))) / (1 - Math.pow(beta1, step));
    // One fused op (ops/optimizer_ops.ts: a single SIMD pass on wasm, the same bits as the tfjs ops).
    const vHat = amsgrad ? slotOf(slots, 2) : null;
    if (adamUpdateInPlace(w, g, { m, v, vHat }, { beta1, beta2, epsilon, alpha })) return;
    const r = adamUpdate(w, g, { m, v, vHat }, { beta1, beta2, epsilon, alpha });
    m.assign(r.m);
    v.assign(r.v);
    if (vHat !== null) vHat.assign(r.vHat!);
    w.assign(r.w);
  }
}

/** AdamW: Adam with decoupled weight decay (default 0.004). */
export class AdamW extends Adam {
  override readonly className = 'AdamW';
  constructor(args: AdamArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    super({ ...args, weightDecay: args.weightDecay ?? 0.004 }, 'adamw');
  }
}

export interface RMSpropArgs extends OptimizerArgs {
  rho?: number;
  momentum?: number;
  epsilon?: number;
  centered?: boolean;
}

/** RMSprop (Keras): v = ρv + (1-ρ)g²; inc = lr·g / √(v (- ḡ²) + ε); with momentum m = μm + inc, w -= m; else w -= inc. */
export class RMSprop extends Optimizer<RMSpropArgs> {
  readonly className = 'RMSprop';
  constructor(args: RMSpropArgs = {}) {
    args ??= {}; // null means no options, as checkKeys reads it
    checkNumber('rmsprop optimizer', 'rho', args.rho, 0, 1);
    checkNumber('rmsprop optimizer', 'momentum', args.momentum, 0, 1);
    checkNumber('rmsprop optimizer', 'epsilon', args.epsilon, 0);
    super({ ...args, rho: args.rho ?? 0.9, momentum: args.momentum ?? 0, epsilon: args.epsilon ?? 1e-7, centered: args.centered ?? false }, 'rmsprop', 0.001, ['rho', 'momentum', 'epsilon', 'centered']);
  }
  protected slotNames(): string[] {
    return ['velocity', ...(this.args.momentum! > 0 ? ['momentum'] : []), ...(this.args.centered ? ['average_gradient'] : [])];
  }
  protected updateStep(g: tf.Tensor, w: tf.Variable, slots: tf.Variable[], lr: number): void {
    const { rho, momentum, epsilon, centered } = this.args as Required<RMSpropArgs>;
    const vel = slotOf(slots, 0);
    vel.assign(tf.add(tf.mul(vel, rho), tf.mul(tf.square(g), 1 - rho)));
    let denominator: tf.Tensor;
    if (centered) {
      const avg = slotOf(slots, momentum > 0 ? 2 : 1);
      avg.assign(tf.add(tf.mul(avg, rho), tf.mul(g, 1 - rho)));
      denominator = tf.add(tf.sub(vel, tf.square(avg)), epsilon);
    } else {
      denominator = tf.add(vel, epsilon);
    }
    const increment = tf.div(tf.mul(g, lr), tf.sqrt(denominator));
    if (momentum > 0) {
      const mom = slotOf(slots, 1);
      mom.assign(tf.add(tf.mul(mom, momentum), increment));
      w.assign(tf.sub(w, mom));
    } else {
      w.assign(tf.sub(w, increment));
    }
  }
}
