/**
 * CategoryEncoding: integer ids -> one-hot, multi-hot or count vectors, as
 * Keras 3.15.1's `keras.layers.CategoryEncoding` computes them
 * (keras/src/utils/numerical_utils.py `encode_categorical_inputs`):
 *
 * - 'one_hot': one row of `numTokens` per id; a trailing axis of 1 is
 *   replaced ([batch, 1] -> [batch, numTokens]), any other shape gains an
 *   axis ([batch, time] -> [batch, time, numTokens]).
 * - 'multi_hot' (default; 'binary' is its old name) and 'count': 1 (or the
 *   number of occurrences, weighted by the call argument `countWeights`)
 *   for each id present, over axis 1 of the input, as Keras's computation
 *   reduces it: [batch, k] -> [batch, numTokens], [batch, time, k] ->
 *   [batch, k, numTokens]. (Keras declares [batch, time, numTokens] for the
 *   last case but computes this.) A [batch] input is refused: Keras reduces
 *   it over the batch axis into one vector.
 * - Ids are cast to integers (floats are cut toward zero, as numpy's cast);
 *   an id outside [0, numTokens) raises INVALID_INPUT (Keras gives a zero
 *   row or wraps negative ids around).
 * - No mask support, as in Keras: a masked input raises MASK_NOT_SUPPORTED
 *   by default.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { oneHot } from '../../ops/one_hot.js';

export type CategoryOutputMode = 'one_hot' | 'multi_hot' | 'count';

export interface CategoryEncodingArgs extends BaseLayerArgs {
  /** The number of categories: ids are in [0, numTokens). */
  numTokens: number;
  /** 'multi_hot' (default; 'binary' is read as it), 'one_hot' or 'count'. */
  outputMode?: CategoryOutputMode | 'binary';
  /** Only false. */
  sparse?: boolean;
}

export interface CategoryEncodingCallArgs extends CallArgs {
  /** With outputMode 'count': a weight per id (the input's shape) that each occurrence adds instead of 1. */
  countWeights?: tf.Tensor | null;
}

/** The most values an encoding may hold: 1 GiB of float32 (tfjs's wasm heap is 4 GiB in all). */
export const MAX_ENCODED_VALUES = 2 ** 28;

/** The output shape of encoding ids of `shape` into `depth` categories with `mode` (null when the mode refuses the shape). */
export function encodedShape(shape: Shape, mode: CategoryOutputMode, depth: number | null): Shape | null {
  if (mode === 'one_hot') return shape.length > 1 && shape[shape.length - 1] === 1 ? [...shape.slice(0, -1), depth] : [...shape, depth];
  if (shape.length < 2) return null;
  return [shape[0]!, ...shape.slice(2), depth];
}

/**
 * Encodes int32 ids (already range-checked) as `mode` does, into float32:
 * one-hot rows, or their maximum (multi-hot) or sum (count) over axis 1.
 */
export function encodeCategorical(ids: tf.Tensor, mode: CategoryOutputMode, depth: number, countWeights: tf.Tensor | null = null): tf.Tensor {
  return tf.tidy(() => {
    let x = ids;
    if (mode === 'one_hot' && x.rank > 1 && x.shape[x.rank - 1] === 1) x = tf.squeeze(x, [-1]);
    // int32, then cast: tfjs-wasm's OneHot writes integer bits into a float32 output.
    let hot = tf.cast(tf.reshape(oneHot(tf.reshape(x, [-1]), depth), [...x.shape, depth]), 'float32');
    if (mode === 'one_hot') return hot;
    // No ids (an empty batch, or k = 0): nothing is present. (tfjs-wasm's reductions fail on empty tensors.)
    if (hot.size === 0) return tf.zeros([x.shape[0]!, ...x.shape.slice(2), depth]);
    if (countWeights !== null) hot = tf.mul(hot, tf.expandDims(countWeights, -1));
    return mode === 'count' ? tf.sum(hot, 1) : tf.max(hot, 1);
  });
}

/** Integer ids (int32) of `x`, checked to lie in [0, depth). */
export function checkedIds(x: tf.Tensor, depth: number, where: string): tf.Tensor {
  if (x.dtype === 'string' || x.dtype === 'bool') throw new MasqueError('INVALID_INPUT', `${where}: expected integer ids; received a ${x.dtype} tensor.`);
  if (x.dtype === 'float32') {
    const raw = x.dataSync();
    const bad = raw.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new MasqueError('INVALID_INPUT', `${where}: id ${raw[bad]} (element ${bad} of the input of shape ${formatShape(x.shape)}) is not a finite number; every id must be an integer in [0, ${depth - 1}].`);
  }
  const ids = x.dtype === 'int32' ? x : tf.cast(x, 'int32');
  const values = ids.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0 || v >= depth) {
      if (ids !== x) ids.dispose();
      const raw = x.dtype === 'int32' ? v : (x.dataSync()[i] as number);
      throw new MasqueError('INVALID_INPUT', `${where}: id ${raw} (element ${i} of the input of shape ${formatShape(x.shape)}) is outside [0, ${depth}); every id must be in [0, ${depth - 1}].`);
    }
  }
  return ids;
}

export class CategoryEncoding extends Layer<CategoryEncodingCallArgs> {
  static override readonly className = 'CategoryEncoding';
  /** The call arguments it takes (Layer.apply refuses others). */
  static readonly callArgNames: readonly string[] = ['training', 'mask', 'countWeights'];
  static override readonly options = {
    numTokens: opt.int({ min: 1 }),
    outputMode: opt.oneOf<CategoryOutputMode | 'binary'>(['multi_hot', 'one_hot', 'count', 'binary'], 'multi_hot'),
    sparse: opt.oneOf([false], false),
  } satisfies OptionsOf<Omit<CategoryEncodingArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<CategoryEncodingArgs, keyof BaseLayerArgs>>;

  constructor(args: CategoryEncodingArgs) {
    super(args);
    // Keras reads the old name 'binary' as 'multi_hot' and keeps the new one in its config.
    if (this.args.outputMode === 'binary') (this.args as { outputMode: CategoryOutputMode }).outputMode = 'multi_hot';
  }

  get numTokens(): number {
    return this.args.numTokens;
  }
  get outputMode(): CategoryOutputMode {
    return this.args.outputMode as CategoryOutputMode;
  }

  private get where(): string {
    return `CategoryEncoding '${this.name}'`;
  }

  private outShape(shape: Shape): Shape {
    const out = encodedShape(shape, this.outputMode, this.numTokens);
    if (out === null) {
      throw new MasqueError(
        'INPUT_SHAPE_MISMATCH',
        `${this.where}: outputMode '${this.outputMode}' needs ids of shape [batch, k] (or more axes); received ${formatShape(shape)}. Keras would reduce a [batch] input over the batch into one vector; give [batch, 1] (or use 'one_hot').`,
      );
    }
    return out;
  }

  override build(inputShape: Shape): void {
    this.outShape(inputShape);
  }

  call(x: tf.Tensor, args: CategoryEncodingCallArgs): tf.Tensor {
    this.outShape(x.shape);
    // The one-hot rows behind every mode: x.size rows of numTokens.
    if (x.size * this.numTokens > MAX_ENCODED_VALUES) {
      throw new MasqueError('INVALID_INPUT', `${this.where}: encoding ${x.size} ids into ${this.numTokens} categories would need ${x.size * this.numTokens} values, more than a tensor holds here (${MAX_ENCODED_VALUES}, 1 GiB of float32); use fewer categories or ids.`);
    }
    const w = args.countWeights ?? null;
    if (w !== null) {
      if (this.outputMode !== 'count') throw new MasqueError('INVALID_ARGUMENT', `${this.where}: countWeights is used only with outputMode 'count' (as in Keras); this layer's is '${this.outputMode}'.`);
      if (!(w instanceof tf.Tensor) || w.shape.length !== x.shape.length || w.shape.some((d, i) => d !== x.shape[i])) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: countWeights must be a tensor of the input's shape ${formatShape(x.shape)}; received ${describe(w)}.`);
      }
    }
    const ids = checkedIds(x, this.numTokens, this.where);
    return encodeCategorical(ids, this.outputMode, this.numTokens, w === null ? null : w.dtype === 'float32' ? w : tf.cast(w, 'float32'));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, this.where);
    return { shape: this.outShape(x.shape), dtype: 'float32', mask: null };
  }
}
