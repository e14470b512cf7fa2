/**
 * BatchNormalization over the channels of `axis` (Keras 3.15.1). At
 * inference (and whenever the layer is not trainable: Keras 3 freezes a
 * non-trainable BatchNormalization into inference mode) it normalizes with
 * the moving statistics. In training it normalizes with the batch's
 * moments, taken over valid positions only when the input has a mask
 * (`sum(x·m) / (sum(m) + 1e-7)`, the variance likewise, as Keras does), and
 * moves the moving statistics toward them by `1 - momentum`. Every position,
 * padding included, is normalized; the mask passes through.
 *
 * Departure: one channel with a mask in training works (Keras raises an
 * IndexError there, having squeezed the moments to scalars).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec, specLike } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { getInitializer, type InitializerSpec } from '../../engine/initializers.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { maskLike, maskedMoments, scaleShift, stopGradient } from '../../ops/normalization_ops.js';
import { channelAxis, checkBuiltSizes, intAxis, oneMask } from './norm_common.js';

/** Bounds of the batch renormalization correction: r in [rmin, rmax], d in [-dmax, dmax] (missing: unbounded, rmin 0). */
export interface RenormClipping {
  rmax?: number | null;
  rmin?: number | null;
  dmax?: number | null;
}

export interface BatchNormalizationArgs extends BaseLayerArgs {
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerSpec;
  gammaInitializer?: InitializerSpec;
  movingMeanInitializer?: InitializerSpec;
  movingVarianceInitializer?: InitializerSpec;
  /** Cross-replica statistics; Keras supports it on TensorFlow only, Masque not at all. */
  synchronized?: false;
  /** Batch renormalization (Ioffe 2017). */
  renorm?: boolean;
  renormClipping?: RenormClipping | null;
  renormMomentum?: number;
}

type Own = Omit<BatchNormalizationArgs, keyof BaseLayerArgs>;

const clippingOption = opt.custom<RenormClipping | null>(
  (v, w, n) => {
    if (v === null) return null;
    const ok = typeof v === 'object' && !Array.isArray(v) && Object.entries(v as object).every(([k, x]) => ['rmax', 'rmin', 'dmax'].includes(k) && (x === null || (typeof x === 'number' && !Number.isNaN(x))));
    if (!ok) throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be null or an object with optional numbers rmax, rmin, dmax; received ${describe(v)}.`);
    const c = { ...(v as RenormClipping) };
    if (typeof c.rmax === 'number' && typeof c.rmin === 'number' && c.rmax < c.rmin) throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n}.rmax must be >= rmin; received rmax ${c.rmax}, rmin ${c.rmin}.`);
    if (typeof c.dmax === 'number' && c.dmax < 0) throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n}.dmax must be >= 0; received ${c.dmax}.`);
    return c;
  },
  { default: null },
);

/** Keras's backend.epsilon(), added to the count of valid positions. */
const COUNT_EPSILON = 1e-7;

export class BatchNormalization extends Layer<CallArgs> {
  static override readonly className = 'BatchNormalization';
  // In the order of Keras's get_config.
  static override readonly options = {
    axis: intAxis(-1),
    momentum: opt.number({ default: 0.99 }),
    epsilon: opt.number({ min: 0, minOpen: true, default: 1e-3 }),
    center: opt.bool(true),
    scale: opt.bool(true),
    betaInitializer: opt.initializer<InitializerSpec>('zeros'),
    gammaInitializer: opt.initializer<InitializerSpec>('ones'),
    movingMeanInitializer: opt.initializer<InitializerSpec>('zeros'),
    movingVarianceInitializer: opt.initializer<InitializerSpec>('ones'),
    synchronized: opt.oneOf([false] as const, false),
    renorm: opt.bool(false),
    renormClipping: clippingOption,
    renormMomentum: opt.number({ default: 0.99 }),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  gamma: tf.Variable | null = null;
  beta: tf.Variable | null = null;
  movingMean!: tf.Variable;
  movingVariance!: tf.Variable;
  movingStddev: tf.Variable | null = null;
  renormMean: tf.Variable | null = null;
  renormStddev: tf.Variable | null = null;
  private builtRank = 0;
  private channel = 0;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  override build(inputShape: Shape): void {
    this.channel = channelAxis(this.args.axis, inputShape, `BatchNormalization '${this.name}'`);
    this.builtRank = inputShape.length;
    const shape = [inputShape[this.channel] as number];
    const a = this.args;
    if (a.scale) this.gamma = this.addWeight('gamma', shape, { initializer: a.gammaInitializer });
    if (a.center) this.beta = this.addWeight('beta', shape, { initializer: a.betaInitializer });
    this.movingMean = this.addWeight('moving_mean', shape, { initializer: a.movingMeanInitializer, trainable: false });
    this.movingVariance = this.addWeight('moving_variance', shape, { initializer: a.movingVarianceInitializer, trainable: false });
    if (a.renorm) {
      const variance = getInitializer(a.movingVarianceInitializer, `${this.name}.moving_stddev`);
      const stddev = (s: number[], d: tf.DataType) => tf.tidy(() => tf.sqrt(variance(s, d)));
      this.movingStddev = this.addWeight('moving_stddev', shape, { initializer: stddev, trainable: false });
      this.renormMean = this.addWeight('renorm_mean', shape, { initializer: a.movingMeanInitializer, trainable: false });
      this.renormStddev = this.addWeight('renorm_stddev', shape, { initializer: stddev, trainable: false });
    }
  }

  /** Keras's input checks: the built rank and channel count, and a mask one dim short of the input. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const where = `BatchNormalization '${this.name}'`;
    const x = oneSpec(inputs, where);
    const channel = channelAxis(this.args.axis, x.shape, where, false);
    if (this.built) {
      if (x.shape.length !== this.builtRank) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: expected inputs of rank ${this.builtRank} (as when the layer was built); received input shape ${formatShape(x.shape)}.`);
      checkBuiltSizes([channel], this.movingMean.shape, x.shape, where);
    }
    const mask = firstMask(args.mask);
    if (mask !== null && mask.shape.length !== x.shape.length - 1) {
      throw new MasqueError(
        'MASK_SHAPE_MISMATCH',
        `${where}: the mask must have one dimension less than the input (as Keras requires); received a mask of shape ${formatShape(mask.shape)} for input shape ${formatShape(x.shape)}.`,
      );
    }
    return specLike(x, mask);
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    // An empty batch normalizes nothing and moves no statistic (numpy's moments of nothing are NaN).
    if (x.size === 0) return tf.zerosLike(x);
    const bshape = x.shape.map((d, i) => (i === this.channel ? d : 1));
    const param = (v: tf.Variable | null) => (v === null ? null : tf.reshape(v, bshape));
    let gamma: tf.Tensor | null = param(this.gamma);
    let beta: tf.Tensor | null = param(this.beta);
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (args.training === true && this.isTrainable()) {
      const mask = oneMask(args.mask);
      const axes = x.shape.flatMap((_, i) => (i === this.channel ? [] : [i]));
      ({ mean, variance } = maskedMoments(x, mask === null ? null : maskLike(mask, x), axes, mask === null ? 0 : COUNT_EPSILON));
      if (this.args.renorm) [gamma, beta] = this.renormalize(mean, variance, gamma, beta);
      else this.updateMoving(mean, variance);
    } else {
      mean = tf.reshape(this.movingMean, bshape);
      variance = tf.reshape(this.movingVariance, bshape);
    }
    // Keras's batch_normalization: x · inv + (beta - mean · inv), inv = gamma / sqrt(variance + epsilon).
    let inv = tf.div(1, tf.sqrt(tf.add(variance, this.args.epsilon)));
    if (gamma !== null) inv = tf.mul(inv, gamma);
    let res = tf.neg(tf.mul(mean, inv));
    if (beta !== null) res = tf.add(res, beta);
    return scaleShift(x, inv, res);
  }

  /** moving = moving · momentum + batch · (1 - momentum). */
  private updateMoving(mean: tf.Tensor, variance: tf.Tensor): void {
    const m = this.args.momentum;
    const next = (v: tf.Variable, batch: tf.Tensor) => tf.add(tf.mul(v, m), tf.mul(tf.reshape(batch, v.shape), 1 - m));
    const nm = next(this.movingMean, mean);
    const nv = next(this.movingVariance, variance);
    this.movingMean.assign(nm);
    this.movingVariance.assign(nv);
  }

  /** Batch renormalization: the corrected gamma and beta (r and d without gradient), and the renorm and moving statistics moved. */
  private renormalize(mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null): [tf.Tensor, tf.Tensor] {
    const eps = this.args.epsilon;
    const shape = mean.shape;
    const rMean = tf.reshape(this.renormMean!, shape);
    const rStd = tf.reshape(this.renormStddev!, shape);
    const stddev = tf.sqrt(tf.add(variance, eps));
    const floor = tf.maximum(rStd, Math.sqrt(Math.fround(eps)));
    let r = tf.div(stddev, floor);
    let d = tf.div(tf.sub(mean, rMean), floor);
    const { rmin, rmax, dmax } = this.args.renormClipping ?? {};
    if (typeof rmin === 'number') r = tf.maximum(r, rmin);
    if (typeof rmax === 'number') r = tf.minimum(r, rmax);
    if (typeof dmax === 'number') d = tf.clipByValue(d, -dmax, dmax);
    r = stopGradient(r);
    d = stopGradient(d);
    const g = gamma === null ? r : tf.mul(r, gamma);
    let b = gamma === null ? d : tf.mul(d, gamma);
    if (beta !== null) b = tf.add(b, beta);

    const rm = this.args.renormMomentum;
    const m = this.args.momentum;
    const flat = (t: tf.Tensor) => tf.reshape(t, this.movingMean.shape);
    const newRenormMean = tf.add(tf.mul(this.renormMean!, rm), tf.mul(flat(mean), 1 - rm));
    const newRenormStd = tf.add(tf.mul(this.renormStddev!, rm), tf.mul(flat(stddev), 1 - rm));
    const newMean = tf.add(tf.mul(this.movingMean, m), tf.mul(flat(mean), 1 - m));
    const newStd = tf.add(tf.mul(this.movingStddev!, m), tf.mul(flat(stddev), 1 - m));
    const newVariance = tf.relu(tf.sub(tf.mul(newStd, newStd), eps));
    this.renormMean!.assign(newRenormMean);
    this.renormStddev!.assign(newRenormStd);
    this.movingMean.assign(newMean);
    this.movingStddev!.assign(newStd);
    this.movingVariance.assign(newVariance);
    return [g, b];
  }
}
