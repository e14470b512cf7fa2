/**
 * IntegerLookup: integer tokens -> contiguous ids, as Keras 3.15.1's
 * `keras.layers.IntegerLookup` (see index_lookup.ts for the id layout, adapt
 * and the vocabulary rules; lookup_modes.ts for the output modes other than
 * 'int'). The OOV token defaults
 * to -1 and there is no mask token unless `maskToken` is given (e.g. 0).
 * With several OOV ids an unknown token t goes to `t mod numOovIndices`
 * (floor modulo, Keras's default `oovMethod: 'floormod'`), or with
 * `oovMethod: 'farmhash'` to the FarmHash64 bucket of its decimal digits
 * (SipHash keyed by `salt` when one is given), as TensorFlow hashes it. Takes int32
 * tokens of any shape (float32 holding whole numbers is accepted too) and
 * returns int32 ids of the same shape (Keras: int64); `invert` maps ids back.
 *
 * No mask comes out, as in Keras: an `Embedding({ maskZero: true })` after
 * it makes one from the mask token's id 0.
 */
import { tf } from '../../runtime/tfjs.js';
import { BASE_OPTIONS, opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import {
  LookupLayer, MAX_OOV_INDICES, VocabularyTable, checkLookupOptions, dtypeError, hashedOovIds, showToken, type IndexLookupOptions, type TokenKind,
} from './index_lookup.js';
import { NO_SPARSE, readIdfWeights, readOutputMode, type LookupOutputMode } from './lookup_modes.js';
import { readSalt } from '../../ops/string_hash.js';

export interface IntegerLookupArgs extends BaseLayerArgs {
  /** Number of ids in all (special ones included); null = unlimited. Keras: must be > 1. */
  maxTokens?: number | null;
  /** Number of ids for unknown tokens (default 1; 0 = unknown tokens raise). */
  numOovIndices?: number;
  /** A token that maps to id 0 (e.g. 0 for padding); null (default) = none. */
  maskToken?: number | null;
  /** The token `invert` gives for unknown ids (default -1). */
  oovToken?: number;
  /** A fixed vocabulary (with or without the special tokens in front) instead of adapt(). */
  vocabulary?: readonly number[] | null;
  /** Only 'int64' (Keras's only choice; Masque computes in int32). */
  vocabularyDtype?: 'int64';
  invert?: boolean;
  /** 'int' (default: ids), 'one_hot', 'multi_hot', 'count' or 'tf_idf' (float32 vectors; see lookup_modes.ts). */
  outputMode?: LookupOutputMode | 'binary' | 'tf-idf';
  /** With maxTokens: encoded outputs have maxTokens columns whatever the vocabulary's size (no effect in 'int' mode). */
  padToMaxTokens?: boolean;
  /** 'tf_idf' with a given vocabulary: one weight per vocabulary entry. */
  idfWeights?: readonly number[] | null;
  sparse?: boolean;
  /** Keras's record of the vocabulary size, kept for its configs. */
  vocabularySize?: number | null;
  /** How several OOV ids are chosen: 'floormod' (default) or 'farmhash' (the hash of the integer's decimal digits). */
  oovMethod?: 'floormod' | 'farmhash';
  /** With oovMethod 'farmhash': SipHash key instead of FarmHash, an integer s (the key [s, s]) or a pair; null (default). */
  salt?: number | readonly [number, number] | null;
}

type Own = Omit<IntegerLookupArgs, keyof BaseLayerArgs>;

const INT32_MAX = 2 ** 31 - 1;
const isToken = (v: unknown): v is number => Number.isInteger(v) && Math.abs(v as number) <= INT32_MAX;

const intList = (v: unknown, w: string, n: string): readonly number[] | null => {
  if (v === null) return null;
  if (!Array.isArray(v) || !v.every(isToken)) throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a list of int32 integers or null; received ${describe(v)}.`);
  return [...v] as number[];
};
const intOrNull = (v: unknown, w: string, n: string): number | null => {
  if (v === null || isToken(v)) return v as number | null;
  throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be an int32 integer or null; received ${describe(v)}.`);
};

export class IntegerLookup extends LookupLayer<number> {
  static override readonly className = 'IntegerLookup';
  static override readonly floatInputs = false;
  static override readonly options = {
    maxTokens: opt.nullableInt({ min: 2, default: null }),
    numOovIndices: opt.int({ min: 0, max: MAX_OOV_INDICES, default: 1 }),
    maskToken: opt.custom<number | null>(intOrNull, { default: null }),
    oovToken: opt.custom<number>((v, w, n) => intOrNull(v, w, n) ?? -1, { default: -1 }),
    vocabulary: opt.custom<readonly number[] | null>(intList, { default: null }),
    vocabularyDtype: opt.oneOf(['int64'] as const, 'int64'),
    invert: opt.bool(false),
    outputMode: opt.custom<LookupOutputMode | 'binary' | 'tf-idf'>(readOutputMode, { default: 'int' }),
    padToMaxTokens: opt.bool(false),
    idfWeights: opt.custom<readonly number[] | null>(readIdfWeights, { default: null }),
    sparse: NO_SPARSE,
    vocabularySize: opt.nullableInt({ min: 0, default: null }),
    oovMethod: opt.oneOf(['floormod', 'farmhash'] as const, 'floormod'),
    salt: opt.custom<number | readonly [number, number] | null>(readSalt, { default: null }),
    inputDtype: { ...BASE_OPTIONS.inputDtype, default: 'int32' },
  } satisfies OptionsOf<Own> & Record<string, unknown>;
  declare readonly args: Filled<Own> & { outputMode: LookupOutputMode };
  protected readonly table: VocabularyTable<number>;
  private readonly oovIds: () => (t: number) => number;
  protected readonly kind: TokenKind<number> = {
    isToken,
    what: 'int32 integers',
    list: intList,
    fromLine: (l) => (/^\s*[+-]?\d+\s*$/.test(l) && isToken(Number(l)) ? Number(l) : undefined),
    toLine: String,
  };

  constructor(args: IntegerLookupArgs = {}) {
    super(args);
    const where = `IntegerLookup '${this.name}'`;
    checkLookupOptions(this.args as IndexLookupOptions<unknown>, where);
    if (this.args.salt !== null && this.args.oovMethod !== 'farmhash') {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: salt is only used with oovMethod 'farmhash' (as in Keras); received salt ${describe(this.args.salt)} with oovMethod '${this.args.oovMethod}'.`);
    }
    const n = this.args.numOovIndices;
    this.oovIds = this.args.oovMethod === 'farmhash' ? hashedOovIds<number>(n, this.args.salt as [number, number] | null, String) : () => (t) => ((t % n) + n) % n;
    this.table = new VocabularyTable<number>(this.args as IndexLookupOptions<number>, where, (a, b) => a - b);
    this.initVocabulary();
  }

  call(x: tf.Tensor): tf.Tensor {
    const values = Array.from(x.dataSync() as ArrayLike<number>);
    const bad = values.find((v) => !isToken(v));
    if (bad !== undefined) throw new MasqueError('INVALID_INPUT', `IntegerLookup '${this.name}' expects whole numbers; received ${showToken(bad)}.`);
    if (this.args.invert) return tf.tensor(this.table.invert(values) as number[], x.shape, 'int32');
    return this.encode(this.table.lookup(values, this.oovIds()), x.shape);
  }

  /** The input's shape and int32 ids (float32 vectors in the other modes); no mask. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `IntegerLookup '${this.name}'`);
    if (x.dtype !== 'int32' && x.dtype !== 'float32') throw dtypeError(this, 'integer tokens (an int32 tensor)', x);
    if (this.args.invert) return { shape: x.shape, dtype: 'int32', mask: null };
    return { shape: this.outputShape(x.shape), dtype: this.args.outputMode === 'int' ? 'int32' : 'float32', mask: null };
  }
}
