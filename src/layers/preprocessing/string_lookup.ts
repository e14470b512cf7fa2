/**
 * StringLookup: string tokens -> integer ids, as Keras 3.15.1's
 * `keras.layers.StringLookup` (see index_lookup.ts for the id layout, adapt
 * and the vocabulary rules). Takes a string tensor of any shape, e.g.
 * `Input({ shape: [null], dtype: 'string' })` of tokens, and returns int32
 * ids of the same shape (Keras: int64). With `invert` it maps ids back to
 * strings. The other output modes ('one_hot', 'multi_hot', 'count',
 * 'tf_idf') encode the ids as float32 vectors (see lookup_modes.ts).
 *
 * No mask comes out, as in Keras, even with a `maskToken`: the mask token's
 * id is 0, so an `Embedding({ maskZero: true })` after it makes the mask.
 *
 * With `numOovIndices` above 1 an unknown string goes to the OOV id of its
 * FarmHash64 bucket (SipHash keyed by `salt` when one is given), as
 * TensorFlow hashes it for Keras.
 *
 * Not supported (refused with a clear error): sparse outputs, a vocabulary
 * file path.
 */
import { tf } from '../../runtime/tfjs.js';
import { BASE_OPTIONS, opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { compareUtf8 } from '../../ops/text_ops.js';
import {
  LookupLayer, MAX_OOV_INDICES, VocabularyTable, checkLookupOptions, dtypeError, hashedOovIds, type IndexLookupOptions, type TokenKind,
} from './index_lookup.js';
import { NO_SPARSE, readIdfWeights, readOutputMode, type LookupOutputMode } from './lookup_modes.js';
import { readSalt } from '../../ops/string_hash.js';

export interface StringLookupArgs extends BaseLayerArgs {
  /** Number of ids in all (special ones included); null = unlimited. Keras: must be > 1. */
  maxTokens?: number | null;
  /** Number of ids for unknown tokens: 0 (unknown tokens raise), 1 (default), or more (hashed into buckets). */
  numOovIndices?: number;
  /** A token that maps to id 0 (e.g. '' for padding); null (default) = no mask token. */
  maskToken?: string | null;
  /** The token `invert` gives for unknown ids (default '[UNK]'). */
  oovToken?: string;
  /** A fixed vocabulary (with or without the special tokens in front) instead of adapt(). */
  vocabulary?: readonly string[] | null;
  /** Map ids to tokens instead. */
  invert?: boolean;
  /** 'int' (default: ids), 'one_hot', 'multi_hot', 'count' or 'tf_idf' (float32 vectors; see lookup_modes.ts). */
  outputMode?: LookupOutputMode | 'binary' | 'tf-idf';
  /** With maxTokens: encoded outputs have maxTokens columns whatever the vocabulary's size (no effect in 'int' mode). */
  padToMaxTokens?: boolean;
  /** 'tf_idf' with a given vocabulary: one weight per vocabulary entry. */
  idfWeights?: readonly number[] | null;
  /** Only false. */
  sparse?: boolean;
  /** Keras's record of the vocabulary size, kept for its configs (no effect in 'int' mode). */
  vocabularySize?: number | null;
  /** Keras's OOV hashing method for integer inputs; either value is accepted (strings are always hashed). */
  oovMethod?: 'floormod' | 'farmhash';
  /** SipHash key for the OOV buckets instead of FarmHash: an integer s (the key [s, s]) or a pair; null (default). */
  salt?: number | readonly [number, number] | null;
  /** Only 'utf-8'. */
  encoding?: 'utf-8';
}

type Own = Omit<StringLookupArgs, keyof BaseLayerArgs>;

const stringList = (v: unknown, w: string, n: string): readonly string[] | null => {
  if (v === null) return null;
  if (typeof v === 'string') {
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a list of strings; received the string ${JSON.stringify(v)} (Masque does not read vocabulary files by path: read the file and pass its lines).`);
  }
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a list of strings or null; received ${describe(v)}.`);
  return [...v] as string[];
};

/** The option table of a string lookup (shared with TextVectorization's inner layer). */
export const STRING_LOOKUP_OPTIONS = {
  maxTokens: opt.nullableInt({ min: 2, default: null }),
  numOovIndices: opt.int({ min: 0, max: MAX_OOV_INDICES, default: 1 }),
  maskToken: opt.custom<string | null>((v, w, n) => (v === null || typeof v === 'string' ? v : (() => { throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a string or null; received ${describe(v)}.`); })()), { default: null }),
  oovToken: opt.string({ default: '[UNK]' }),
  vocabulary: opt.custom<readonly string[] | null>(stringList, { default: null }),
  invert: opt.bool(false),
  outputMode: opt.custom<LookupOutputMode | 'binary' | 'tf-idf'>(readOutputMode, { default: 'int' }),
  padToMaxTokens: opt.bool(false),
  idfWeights: opt.custom<readonly number[] | null>(readIdfWeights, { default: null }),
  sparse: NO_SPARSE,
  vocabularySize: opt.nullableInt({ min: 0, default: null }),
  oovMethod: opt.oneOf(['floormod', 'farmhash'] as const, 'floormod'),
  salt: opt.custom<number | readonly [number, number] | null>(readSalt, { default: null }),
  encoding: opt.custom<'utf-8'>((v, w, n) => (v === 'utf-8' ? v : (() => { throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be 'utf-8' (Masque's strings are Unicode); received ${describe(v)}.`); })()), { default: 'utf-8' }),
  inputDtype: { ...BASE_OPTIONS.inputDtype, default: 'string' },
} satisfies OptionsOf<Own> & Record<string, unknown>;

export class StringLookup extends LookupLayer<string> {
  static override readonly className = 'StringLookup';
  static override readonly acceptsStrings = true;
  static override readonly floatInputs = false;
  static override readonly options = STRING_LOOKUP_OPTIONS;
  declare readonly args: Filled<Own> & { outputMode: LookupOutputMode };
  protected readonly table: VocabularyTable<string>;
  protected readonly kind: TokenKind<string> = {
    isToken: (v): v is string => typeof v === 'string',
    what: 'strings',
    list: stringList,
    fromLine: (l) => l,
    toLine: (t) => t,
  };

  constructor(args: StringLookupArgs = {}) {
    super(args);
    const where = `StringLookup '${this.name}'`;
    checkLookupOptions(this.args as IndexLookupOptions<unknown>, where);
    this.oovIds = hashedOovIds<string>(this.args.numOovIndices, this.args.salt as [number, number] | null, (t) => t);
    this.table = new VocabularyTable<string>(this.args as IndexLookupOptions<string>, where, compareUtf8);
    this.initVocabulary();
  }

  private readonly oovIds: () => (t: string) => number;

  /** The ids of tokens, as `call` gives them (for TextVectorization, which tokenizes first). */
  idsOf(tokens: readonly string[]): Int32Array {
    return this.table.lookup(tokens, this.oovIds());
  }

  call(x: tf.Tensor): tf.Tensor {
    if (this.args.invert) {
      const tokens = this.table.invert(x.dataSync() as ArrayLike<number>);
      return tf.tensor(tokens as string[], x.shape, 'string');
    }
    return this.encode(this.idsOf(x.dataSync() as unknown as string[]), x.shape);
  }

  /** The input's shape and int32 ids (strings with `invert`; float32 vectors in the other modes); no mask. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `StringLookup '${this.name}'`);
    if (this.args.invert) {
      if (x.dtype !== 'int32') throw dtypeError(this, 'int32 ids (invert: true)', x);
      return { shape: x.shape, dtype: 'string', mask: null };
    }
    if (x.dtype !== 'string') throw dtypeError(this, "a string tensor of tokens (Input({ shape: [null], dtype: 'string' }))", x);
    return { shape: this.outputShape(x.shape), dtype: this.args.outputMode === 'int' ? 'int32' : 'float32', mask: null };
  }
}
