/**
 * Discretization: numbers -> the index of their bin, as Keras 3.15.1's
 * `keras.layers.Discretization` (keras/src/layers/preprocessing/
 * discretization.py): a value x goes to bin i where boundaries[i - 1] <= x
 * < boundaries[i] (numpy's `digitize`: a value on a boundary goes up, NaN
 * to the last bin), compared in double as numpy compares float32 inputs
 * with its float64 boundaries.
 *
 * - `binBoundaries` (ascending), or `numBins` and `adapt(data)`, which
 *   computes the boundaries with Keras's own quantile summary (`summarize`,
 *   `merge_summaries`, `compress_summary`; float32 and float64 steps as
 *   numpy takes them), one update per batch as Keras's adapt takes them: a
 *   tensor is one batch (its valid positions only, when it carries a mask or
 *   one is given), a JS array is a list of batches.
 * - outputMode 'int' (int32 bin ids, the input's shape), 'one_hot',
 *   'multi_hot' or 'count' (float32, over `numBins` = boundaries + 1
 *   categories, as CategoryEncoding encodes them).
 * - No mask support, as in Keras.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import { getMask } from '../../engine/masks.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { checkKeys } from '../../option_keys.js';
import { encodeCategorical, encodedShape, type CategoryOutputMode } from './category_encoding.js';

export interface DiscretizationArgs extends BaseLayerArgs {
  /** Ascending bin boundaries (n boundaries make n + 1 bins); or null, with numBins and adapt(). */
  binBoundaries?: number[] | null;
  /** The number of bins adapt() makes. */
  numBins?: number | null;
  /** The relative error of adapt()'s quantiles (default 0.01). */
  epsilon?: number;
  /** 'int' (default), 'one_hot', 'multi_hot' or 'count'. */
  outputMode?: 'int' | CategoryOutputMode;
  /** Only false. */
  sparse?: boolean;
}

type Own = Omit<DiscretizationArgs, keyof BaseLayerArgs>;

/** A summary of Keras's quantile algorithm: sorted values and their weights, both float32. */
interface Summary {
  values: Float32Array;
  weights: Float32Array;
}

/** Keras's `summarize`: every step-th sorted value, each with weight step. */
function summarize(values: Float32Array, epsilon: number): Summary {
  const sorted = Float32Array.from(values).sort();
  const n = sorted.length;
  const step = Math.max(n / (1 / epsilon), 1);
  const start = Math.trunc(step - 1);
  const stride = Math.trunc(step);
  const out: number[] = [];
  for (let i = start; i < n; i += stride) out.push(sorted[i]!);
  return { values: Float32Array.from(out), weights: new Float32Array(out.length).fill(Math.fround(step)) };
}

/** numpy's `interp(x, xp, fp)` for increasing xp, in double. */
function interp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>): number {
  const last = xp.length - 1;
  if (x < xp[0]!) return fp[0]!;
  if (x > xp[last]!) return fp[last]!;
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    // The last j with xp[j] <= x.
    const mid = (lo + hi + 1) >> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  const j = lo;
  if (j === last || xp[j] === x) return fp[j]!;
  const slope = (fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!);
  return slope * (x - xp[j]!) + fp[j]!;
}

/** Keras's `compress_summary`: the summary re-cut at the cumulative-weight fractions epsilon, 2·epsilon, ..., 1. */
function compress(s: Summary, epsilon: number): Summary {
  if (s.values.length * epsilon < 1) return s;
  const cum = new Float32Array(s.weights.length);
  let acc = 0;
  s.weights.forEach((w, i) => (cum[i] = acc = Math.fround(acc + w)));
  const total = cum[cum.length - 1]!;
  const cumPercents = cum.map((c) => Math.fround(c / total));
  // numpy's arange(0.0, 1.0, epsilon): ceil(1 / epsilon) values i·epsilon.
  const count = Math.ceil((1.0 - 0.0) / epsilon);
  const values = new Float32Array(count);
  const weights = new Float32Array(count);
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const p = epsilon + i * epsilon;
    values[i] = interp(p, cumPercents, s.values);
    const c = interp(p, cumPercents, cum);
    weights[i] = c - prev;
    prev = c;
  }
  return { values, weights };
}

/** Keras's `merge_summaries`: both summaries sorted together by value (the earlier first on ties), then compressed. */
function merge(prev: Summary, next: Summary, epsilon: number): Summary {
  const n = prev.values.length + next.values.length;
  const vals = new Float32Array(n);
  const wts = new Float32Array(n);
  vals.set(prev.values);
  vals.set(next.values, prev.values.length);
  wts.set(prev.weights);
  wts.set(next.weights, prev.weights.length);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => vals[a]! - vals[b]! || a - b);
  return compress({ values: Float32Array.from(order, (i) => vals[i]!), weights: Float32Array.from(order, (i) => wts[i]!) }, epsilon);
}

/** The smallest float32 >= b: comparing float32 x >= it is numpy's comparison of x with the double b. */
function float32AtLeast(b: number): number {
  const f = Math.fround(b);
  if (f >= b || !Number.isFinite(b)) return f;
  const buf = new Float32Array([f]);
  const bits = new Int32Array(buf.buffer);
  bits[0]! += f >= 0 ? 1 : -1; // the next float32 up (f < b, so f is not -0 at the top)
  if (f === 0) bits[0] = 1; // f = -0 or 0 below a positive b: the smallest positive float32
  return buf[0]!;
}

export class Discretization extends Layer<CallArgs> {
  static override readonly className = 'Discretization';
  /** Keras's config has no `trainable` (its constructor refuses one) and a plain string dtype. */
  static readonly kerasOmits = ['trainable'] as const;
  static readonly kerasBase = { dtype: 'float32' };
  static override readonly options = {
    binBoundaries: opt.custom<number[] | null>(
      (v, w, n) => {
        if (v === null || v === undefined) return null;
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && !Number.isNaN(x))) throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be null or a list of numbers; received ${describe(v)}.`);
        if (v.some((x, i) => i > 0 && x < v[i - 1]!)) throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be in ascending order; received ${describe(v)}.`);
        return [...(v as number[])];
      },
      { default: null },
    ),
    numBins: opt.nullableInt({ min: 0, default: null }),
    epsilon: opt.number({ min: 0, default: 0.01 }),
    outputMode: opt.oneOf<'int' | CategoryOutputMode>(['int', 'one_hot', 'multi_hot', 'count'], 'int'),
    sparse: opt.oneOf([false], false),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;

  constructor(args: DiscretizationArgs) {
    super(args);
    const a = this.args;
    if (a.binBoundaries === null && a.numBins === null) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: give binBoundaries, or numBins and call adapt(data); received neither.`);
    if (a.epsilon <= 0) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: epsilon must be > 0; received ${a.epsilon}.`);
  }

  private get where(): string {
    return `Discretization '${this.name}'`;
  }

  /** The bin boundaries (given or adapted); null before adapt(). */
  get binBoundaries(): number[] | null {
    return this.args.binBoundaries;
  }

  /** The number of bins the output encodes: boundaries + 1 (numBins before adapt). */
  private get depth(): number {
    return this.args.binBoundaries !== null ? this.args.binBoundaries.length + 1 : this.args.numBins!;
  }

  private outShape(shape: Shape): Shape {
    if (this.args.outputMode === 'int') return shape;
    const out = encodedShape(shape, this.args.outputMode, this.depth);
    if (out === null) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: outputMode '${this.args.outputMode}' needs values of shape [batch, k] (or more axes); received ${formatShape(shape)}.`);
    return out;
  }

  override build(inputShape: Shape): void {
    this.outShape(inputShape);
  }

  call(x: tf.Tensor): tf.Tensor {
    const bounds = this.args.binBoundaries;
    if (bounds === null) throw new MasqueError('NOT_BUILT', `${this.where}: the layer has no bin boundaries yet; call adapt(data) first (or give binBoundaries).`);
    if (x.dtype === 'string' || x.dtype === 'bool') throw new MasqueError('INVALID_INPUT', `${this.where}: expected numbers; received a ${x.dtype} tensor.`);
    this.outShape(x.shape);
    return tf.tidy(() => {
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      let ids: tf.Tensor = tf.zeros(xf.shape, 'int32');
      for (const b of bounds) ids = tf.add(ids, tf.cast(tf.greaterEqual(xf, float32AtLeast(b)), 'int32'));
      // numpy's digitize puts NaN after every boundary.
      ids = tf.where(tf.isNaN(xf), tf.fill(xf.shape, bounds.length, 'int32'), ids);
      return this.args.outputMode === 'int' ? ids : encodeCategorical(ids, this.args.outputMode, bounds.length + 1);
    });
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, this.where);
    return { shape: this.outShape(x.shape), dtype: this.args.outputMode === 'int' ? 'int32' : 'float32', mask: null };
  }

  /**
   * Computes `numBins - 1` boundaries from the quantiles of `data` with
   * Keras's algorithm. A tensor is one batch; only its valid positions count
   * when it carries a mask (or `options.mask` is given, over its leading
   * axes). A JS array is a list of batches, each a number or a nested array
   * (Keras's adapt iterates a list the same way). Non-finite values raise.
   */
  adapt(data: tf.Tensor | unknown[], options: { mask?: tf.Tensor | null } = {}): void {
    const where = `${this.where}.adapt`;
    options = checkKeys(options, ['mask'], where) as { mask?: tf.Tensor | null };
    if (options.mask !== undefined && options.mask !== null && !(options.mask instanceof tf.Tensor)) throw new MasqueError('INVALID_ARGUMENT', `${where}: options.mask must be a tensor or null; received ${describe(options.mask)}.`);
    const numBins = this.args.numBins;
    if (numBins === null) throw new MasqueError('INVALID_ARGUMENT', `${where}: the layer was given binBoundaries; adapt needs numBins (as in Keras).`);
    if (numBins < 1) throw new MasqueError('INVALID_ARGUMENT', `${where}: numBins must be at least 1 to adapt; received ${numBins}.`);
    const batches: Float32Array[] = [];
    if (data instanceof tf.Tensor) {
      if (data.dtype === 'string' || data.dtype === 'bool') throw new MasqueError('INVALID_INPUT', `${where}: expected numbers; received a ${data.dtype} tensor.`);
      const mask = options.mask ?? getMask(data);
      const values = data.dataSync() as ArrayLike<number>;
      if (mask === null) batches.push(Float32Array.from(values));
      else {
        if (mask.rank > data.rank || mask.shape.some((d, i) => d !== data.shape[i])) {
          throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}: the mask of shape ${formatShape(mask.shape)} does not match the leading axes of the data of shape ${formatShape(data.shape)}.`);
        }
        const m = mask.dataSync();
        const per = values.length / Math.max(1, m.length);
        batches.push(Float32Array.from(Array.from(values).filter((_, i) => m[Math.floor(i / per)] !== 0)));
      }
    } else if (Array.isArray(data)) {
      if (options.mask !== undefined && options.mask !== null) throw new MasqueError('INVALID_ARGUMENT', `${where}: options.mask goes with tensor data; a list holds its batches unpadded.`);
      data.forEach((b, i) => batches.push(flatNumbers(b, `${where}: batch ${i}`)));
    } else {
      throw new MasqueError('INVALID_INPUT', `${where}: expected a tensor or a list of batches; received ${describe(data)}.`);
    }
    batches.forEach((b, i) => {
      const bad = b.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new MasqueError('INVALID_INPUT', `${where}: value ${b[bad]} (element ${bad} of batch ${i}) is not finite; adapt takes finite numbers (mask out the padding).`);
    });
    if (batches.every((b) => b.length === 0)) throw new MasqueError('INVALID_INPUT', `${where}: the data holds no value.`);
    const eps = this.args.epsilon;
    let summary: Summary = { values: new Float32Array(0), weights: new Float32Array(0) };
    for (const b of batches) summary = merge(summarize(b, eps), summary, eps);
    const cut = compress(summary, 1 / numBins).values;
    (this.args as { binBoundaries: number[] | null }).binBoundaries = Array.from(cut.subarray(0, Math.max(0, cut.length - 1)));
  }
}

/** The numbers of a number or nested array, flat, as float32; raises on anything else. */
function flatNumbers(v: unknown, where: string): Float32Array {
  const out: number[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (typeof x === 'number') out.push(x);
    else if (Array.isArray(x) && depth < 16) x.forEach((y) => walk(y, depth + 1));
    else throw new MasqueError('INVALID_INPUT', `${where}: expected numbers or nested arrays of numbers; found ${describe(x)}.`);
  };
  walk(v, 0);
  return Float32Array.from(out);
}
