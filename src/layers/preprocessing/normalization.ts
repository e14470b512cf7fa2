/**
 * Normalization (Keras 3.15.1): `(x - mean) / max(sqrt(variance), 1e-7)`,
 * or with `invert` `mean + x · max(sqrt(variance), 1e-7)`, with statistics
 * per index of the kept `axis` (default -1, the features; null or [] for
 * one scalar pair). The statistics are given (`mean`, `variance`) or learnt
 * by `adapt(data)`, which counts valid positions only: those of the mask
 * the data carries (or `options.mask`), or the real steps of a list of
 * sequences of different lengths. The mask passes through; padded steps are
 * transformed like the rest, so zeros become `-mean / std` (as in Keras).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { getMask } from '../../engine/masks.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec, specLike } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { checkKeys } from '../../option_keys.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { chunksOfArrays, validMoments, type DataChunk, type NestedNumbers } from '../../ops/normalization_stats.js';
import { checkBuiltSizes, resolveAxes } from '../normalization/norm_common.js';

export interface NormalizationArgs extends BaseLayerArgs {
  /** The kept axis or axes (one statistic per index); null or [] for scalar statistics. Kept as a list, as Keras writes it. */
  axis?: number | number[] | null;
  /** Given statistics: numbers or nested arrays, aligned to the kept axes from the right; both or neither. */
  mean?: NestedNumbers | null;
  variance?: NestedNumbers | null;
  invert?: boolean;
}

type Own = Omit<NormalizationArgs, keyof BaseLayerArgs>;

/** Options of `adapt`. */
export interface AdaptOptions {
  /** Valid positions of the data ([batch, time] for sequences); default: the mask the data tensor carries. */
  mask?: tf.Tensor | null;
}

const numbersOption = opt.custom<NestedNumbers | null>(
  (v, w, n) => {
    const ok = (x: unknown, depth: number): boolean => (typeof x === 'number' && Number.isFinite(x)) || (Array.isArray(x) && depth < 8 && x.every((y) => ok(y, depth + 1)));
    if (v === null || ok(v, 0)) return v as NestedNumbers | null;
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be null, a finite number or a nested array of finite numbers; received ${describe(v)}.`);
  },
  { default: null },
);

/** The shape of a regular nested array (numbers are rank 0). */
const shapeOfNumbers = (v: NestedNumbers): number[] => (Array.isArray(v) ? [v.length, ...(v.length > 0 ? shapeOfNumbers(v[0]!) : [])] : []);

export class Normalization extends Layer<CallArgs> {
  static override readonly className = 'Normalization';
  static override readonly options = {
    axis: opt.custom<number | number[] | null>(
      (v, w, n) => {
        if (v === null) return [];
        if (Number.isInteger(v)) return [v as number];
        if (Array.isArray(v) && v.every((a) => Number.isInteger(a))) return [...(v as number[])];
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an integer, a list of integers, or null; received ${describe(v)}.`);
      },
      { default: [-1] },
    ),
    invert: opt.bool(false),
    mean: numbersOption,
    variance: numbersOption,
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  /** Learnt statistics (when `mean` and `variance` are not given): Keras's weights mean, variance, count. */
  adaptMean: tf.Variable | null = null;
  adaptVariance: tf.Variable | null = null;
  count: tf.Variable | null = null;
  private keep: number[] = [];
  private keptSizes: number[] = [];

  constructor(args: NormalizationArgs = {}) {
    super(args);
    const { mean, variance } = this.args as { mean: NestedNumbers | null; variance: NestedNumbers | null };
    const where = `Normalization '${this.name}'`;
    if ((mean === null) !== (variance === null)) throw new MasqueError('INVALID_ARGUMENT', `${where}: give both mean and variance, or neither (and call adapt); received only ${mean === null ? 'variance' : 'mean'}.`);
    if (mean !== null && variance !== null) {
      const ms = shapeOfNumbers(mean);
      if (JSON.stringify(ms) !== JSON.stringify(shapeOfNumbers(variance))) throw new MasqueError('INVALID_ARGUMENT', `${where}: mean and variance must have the same shape; received ${formatShape(ms)} and ${formatShape(shapeOfNumbers(variance))}.`);
      if (ms.length > this.axes.length) throw new MasqueError('INVALID_ARGUMENT', `${where}: the rank of mean (${ms.length}) must be at most the number of kept axes (${this.axes.length}).`);
    }
    this.supportsMasking = true;
  }

  private get axes(): number[] {
    return this.args.axis as number[];
  }

  override build(inputShape: Shape): void {
    const where = `Normalization '${this.name}'`;
    this.keep = resolveAxes(this.axes, inputShape, where, true).sort((a, b) => a - b);
    this.keptSizes = this.keep.map((a) => inputShape[a] as number);
    if (this.args.mean === null) {
      this.adaptMean = this.addWeight('mean', this.keptSizes, { initializer: 'zeros', trainable: false });
      this.adaptVariance = this.addWeight('variance', this.keptSizes, { initializer: 'ones', trainable: false });
      this.count = this.addWeight('count', [], { initializer: 'zeros', trainable: false, dtype: 'int32' });
    } else {
      // Keras aligns given statistics to the kept axes from the right.
      const ms = shapeOfNumbers(this.args.mean);
      if (ms.some((d, i) => d !== 1 && d !== this.keptSizes[this.keptSizes.length - ms.length + i])) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: mean of shape ${formatShape(ms)} does not fit the kept sizes ${formatShape(this.keptSizes)} of input shape ${formatShape(inputShape)}.`);
      }
    }
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const where = `Normalization '${this.name}'`;
    const x = oneSpec(inputs, where);
    const keep = resolveAxes(this.axes, x.shape, where, false).sort((a, b) => a - b);
    if (this.built) checkBuiltSizes(keep, this.keptSizes, x.shape, where);
    return specLike(x, firstMask(args.mask), x.shape, 'float32');
  }

  /** Mean and variance shaped to broadcast against an input of `rank` dims (sizes at the kept axes). */
  private statistics(rank: number): [tf.Tensor, tf.Tensor] {
    const bshape = Array.from({ length: rank }, (_, i) => (this.keep.includes(i) ? this.keptSizes[this.keep.indexOf(i)]! : 1));
    if (this.adaptMean !== null) return [tf.reshape(this.adaptMean, bshape), tf.reshape(this.adaptVariance!, bshape)];
    const expanded = new Array<number>(rank).fill(1);
    const given = (v: NestedNumbers) => {
      const s = shapeOfNumbers(v);
      s.forEach((d, i) => (expanded[this.keep[this.keep.length - s.length + i]!] = d));
      const t = tf.reshape(tf.tensor(typeof v === 'number' ? [v] : ((v as unknown[]).flat(Infinity) as number[]), s.length === 0 ? [1] : s), expanded);
      return tf.add(t, tf.zeros(bshape));
    };
    return [given(this.args.mean!), given(this.args.variance!)];
  }

  call(x: tf.Tensor): tf.Tensor {
    const [mean, variance] = this.statistics(x.rank);
    const std = tf.maximum(tf.sqrt(variance), 1e-7);
    return this.args.invert ? tf.add(mean, tf.mul(x, std)) : tf.div(tf.sub(x, mean), std);
  }

  /**
   * Learns the mean and variance from `data`: a tensor (its mask, or
   * `options.mask`, marks the valid positions), a regular nested array, or a
   * list of sequences of different lengths (each [T_i, ...features]). Only
   * valid positions count; statistics are taken over every axis but the kept
   * ones, in float64. Only for a layer built without given statistics.
   */
  adapt(data: tf.Tensor | NestedNumbers[], options: AdaptOptions = {}): void {
    const where = `Normalization '${this.name}'.adapt`;
    options = checkKeys(options, ['mask'], where) as AdaptOptions;
    if (options.mask !== undefined && options.mask !== null && !(options.mask instanceof tf.Tensor)) throw new MasqueError('INVALID_ARGUMENT', `${where}: options.mask must be a tensor or null; received ${describe(options.mask)}.`);
    if (this.args.mean !== null) throw new MasqueError('INVALID_ARGUMENT', `${where}: the layer was given mean and variance; adapt learns them only when neither is given.`);
    let chunks: DataChunk[];
    if (data instanceof tf.Tensor) {
      if (data.dtype === 'string') throw new MasqueError('INVALID_INPUT', `${where}: expected numeric data; received a string tensor.`);
      const mask = options.mask ?? getMask(data);
      if (mask !== null && (mask.rank > data.rank || mask.shape.some((d, i) => d !== data.shape[i]))) {
        throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}: the mask of shape ${formatShape(mask.shape)} does not match the leading dims of the data of shape ${formatShape(data.shape)}.`);
      }
      chunks = [{ values: data.dataSync() as ArrayLike<number>, shape: data.shape, mask: mask === null ? null : (mask.dataSync() as ArrayLike<number>), maskShape: mask?.shape ?? [] }];
    } else {
      if (options.mask !== undefined && options.mask !== null) throw new MasqueError('INVALID_ARGUMENT', `${where}: options.mask goes with tensor data; for arrays, give the sequences unpadded.`);
      chunks = chunksOfArrays(data, where);
    }
    const first = chunks[0]?.shape ?? [];
    this.maybeBuild([null, ...first.slice(1)]);
    if (chunks.some((c) => c.shape.length !== first.length)) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: every part of the data must have the same rank.`);
    const m = validMoments(chunks, this.keep, this.keptSizes, where);
    tf.tidy(() => {
      this.adaptMean!.assign(tf.tensor(Array.from(m.mean), this.keptSizes));
      this.adaptVariance!.assign(tf.tensor(Array.from(m.variance), this.keptSizes));
    });
  }
}
