/**
 * TextVectorization: raw strings -> token ids, as Keras 3.15.1's
 * `keras.layers.TextVectorization`. In `outputMode` 'int' (the default) it is a first layer
 * of a model: `Input({ shape: [], dtype: 'string' })` (one text a row; [B, 1]
 * works too), output int32 ids `[batch, outputSequenceLength]` (Keras:
 * int64), or `[batch, longest text]` when `outputSequenceLength` is null.
 *
 * - standardize (default 'lower_and_strip_punctuation'), split (default
 *   'whitespace') and their functions: see ops/text_ops.ts for TensorFlow's
 *   exact semantics (ASCII-only lowercasing, the 32 ASCII punctuation marks,
 *   ASCII whitespace, code points). A function standardize takes and returns
 *   one string; a function split returns the tokens of one string.
 * - ids: 0 is the padding/mask token '', 1 is '[UNK]', then the vocabulary
 *   (adapted: by count, ties by the token's UTF-8 bytes, descending; maxTokens
 *   counts '' and '[UNK]'). Rows are cut to their first
 *   `outputSequenceLength` tokens and padded with 0 at the end.
 * - No mask comes out, as in Keras: put `Embedding({ maskZero: true })`
 *   after it, and the padding is masked from there on.
 * - The ids come from an inner StringLookup with maskToken '' (Keras's
 *   `_lookup_layer`), which a `.keras` file saves as its own group; an
 *   adapted vocabulary is saved as the asset `vocabulary.txt` of both, as
 *   Keras saves it, so a saved text model takes raw strings after loading,
 *   in Masque and in Keras.
 *
 * With `split: null` each text is one token and the ids keep the input's
 * shape, as in Keras: [batch] for [batch] texts, [batch, 1] (or [batch,
 * outputSequenceLength]) for [batch, 1] texts. Keras cuts the batch axis
 * when it is also given an outputSequenceLength on [batch] texts; Masque
 * refuses that combination.
 *
 * - `ngrams`: n (all n-grams of 1..n tokens) or a list of widths; each
 *   text's tokens become its n-grams of the first width, then of the next,
 *   joined by one space (TensorFlow's `strings.ngrams`), in every mode and
 *   in `adapt`.
 * - The other output modes ('multi_hot', 'count', 'tf_idf', 'one_hot')
 *   give one float32 row per text, [batch, depth] (depth: maxTokens with
 *   padToMaxTokens, else the vocabulary size); the padding token '' is
 *   dropped, unknown tokens count at '[UNK]'s id 1 (see lookup_modes.ts).
 *   'tf_idf' learns idf weights in `adapt` (each text a document) or takes
 *   `idfWeights` with a vocabulary. 'one_hot' encodes one token a text,
 *   so it needs `split: null`.
 *
 * Not supported (refused with a clear error): sparse and ragged outputs,
 * encodings other than UTF-8.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { BASE_OPTIONS, opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, OwnVariable, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { SPLIT_NAMES, STANDARDIZE_NAMES, splitText, standardizeText, type SplitSpec, type StandardizeSpec } from '../../ops/text_ops.js';
import { StringLookup } from './string_lookup.js';
import { adaptValues, checkLookupOptions, dtypeError, isBatchIterable, type AssetFiles, type IndexLookupOptions } from './index_lookup.js';
import { NO_SPARSE, encodingShapeError, readIdfWeights, readOutputMode, type LookupOutputMode } from './lookup_modes.js';

export interface TextVectorizationArgs extends BaseLayerArgs {
  /** Vocabulary size including '' and '[UNK]'; null = unlimited. Keras: must be > 1. */
  maxTokens?: number | null;
  /** 'lower_and_strip_punctuation' (default), 'lower', 'strip_punctuation', null, or a function of one text. */
  standardize?: StandardizeSpec;
  /** 'whitespace' (default), 'character', null (the whole text), or a function of one text returning its tokens. */
  split?: SplitSpec;
  /** n-grams of the tokens: n (widths 1..n), a list of widths, or null (default: the tokens themselves). */
  ngrams?: number | readonly number[] | null;
  /** 'int' (default: ids), 'multi_hot', 'count', 'tf_idf' or 'one_hot' (float32 rows; see lookup_modes.ts). */
  outputMode?: LookupOutputMode | 'binary' | 'tf-idf';
  /** 'int' mode: row length of the output: longer texts are cut, shorter padded with 0 at the end; null = the longest text of the batch. */
  outputSequenceLength?: number | null;
  /** With maxTokens: encoded outputs have maxTokens columns whatever the vocabulary's size (no effect in 'int' mode). */
  padToMaxTokens?: boolean;
  /** A fixed vocabulary (with or without '' and '[UNK]' in front) instead of adapt(). */
  vocabulary?: readonly string[] | null;
  /** 'tf_idf' with a given vocabulary: one weight per vocabulary entry. */
  idfWeights?: readonly number[] | null;
  /** Only false. */
  sparse?: boolean;
  /** Only false (Masque pads rows to one length). */
  ragged?: boolean;
  /** Only 'utf-8'. */
  encoding?: 'utf-8';
  /** Keras's record of the vocabulary size, kept for its configs. */
  vocabularySize?: number | null;
}

type Own = Omit<TextVectorizationArgs, keyof BaseLayerArgs>;

function refuse(w: string, n: string, v: unknown, why: string): never {
  throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} ${why}; received ${describe(v)}.`);
}

export class TextVectorization extends Layer<CallArgs> {
  static override readonly className = 'TextVectorization';
  static override readonly acceptsStrings = true;
  static override readonly floatInputs = false;
  static override readonly options = {
    maxTokens: opt.nullableInt({ min: 2, default: null }),
    standardize: opt.custom<StandardizeSpec>(
      (v, w, n) => (v === null || typeof v === 'function' || (STANDARDIZE_NAMES as readonly unknown[]).includes(v) ? (v as StandardizeSpec) : refuse(w, n, v, `must be ${STANDARDIZE_NAMES.map((s) => `'${s}'`).join(', ')}, null or a function`)),
      { default: 'lower_and_strip_punctuation' },
    ),
    split: opt.custom<SplitSpec>(
      (v, w, n) => (v === null || typeof v === 'function' || (SPLIT_NAMES as readonly unknown[]).includes(v) ? (v as SplitSpec) : refuse(w, n, v, "must be 'whitespace', 'character', null or a function")),
      { default: 'whitespace' },
    ),
    ngrams: opt.custom<number | readonly number[] | null>(
      (v, w, n) => (v === null || (Number.isInteger(v) && (v as number) >= 1) ? (v as number | null)
        : Array.isArray(v) && v.length > 0 && v.every((k) => Number.isInteger(k) && k >= 1) ? [...v] as number[]
          : refuse(w, n, v, 'must be null, a positive integer n (n-grams of 1..n tokens) or a non-empty list of positive widths')),
      { default: null },
    ),
    outputMode: opt.custom<LookupOutputMode | 'binary' | 'tf-idf'>(readOutputMode, { default: 'int' }),
    outputSequenceLength: opt.nullableInt({ min: 0, default: null }),
    padToMaxTokens: opt.bool(false),
    vocabulary: opt.custom<readonly string[] | null>(
      (v, w, n) => (v === null ? null : Array.isArray(v) && v.every((t) => typeof t === 'string') ? [...v] : refuse(w, n, v, 'must be a list of strings or null (Masque does not read vocabulary files by path)')),
      { default: null },
    ),
    idfWeights: opt.custom<readonly number[] | null>(readIdfWeights, { default: null }),
    sparse: NO_SPARSE,
    ragged: opt.bool(false),
    encoding: opt.custom<'utf-8'>((v, w, n) => (v === 'utf-8' ? v : refuse(w, n, v, "must be 'utf-8'")), { default: 'utf-8' }),
    vocabularySize: opt.nullableInt({ min: 0, default: null }),
    inputDtype: { ...BASE_OPTIONS.inputDtype, default: 'string' },
  } satisfies OptionsOf<Own> & Record<string, unknown>;
  declare readonly args: Filled<Own> & { outputMode: LookupOutputMode };
  /** The inner StringLookup (maskToken ''), Keras's `_lookup_layer`. */
  readonly lookup: StringLookup;

  constructor(args: TextVectorizationArgs = {}) {
    super(args);
    const where = this.where;
    const a = this.args;
    checkLookupOptions({ ...a, numOovIndices: 1, maskToken: '', oovToken: '[UNK]', invert: false, oovMethod: 'floormod', salt: null } as IndexLookupOptions<unknown>, where);
    if (a.ragged) throw new MasqueError('INVALID_ARGUMENT', `${where}: ragged must be false (Masque pads every row to one length); received true.`);
    if (a.outputMode !== 'int' && a.outputSequenceLength !== null) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: outputSequenceLength must be null when outputMode is not 'int' (as in Keras: the output has one column per id); received ${a.outputSequenceLength} with outputMode '${a.outputMode}'.`);
    }
    if (a.outputMode === 'one_hot' && a.split !== null) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: outputMode 'one_hot' encodes one token a text, so split must be null; received split ${describe(a.split)}. Use 'multi_hot' or 'count' for the tokens of split texts.`);
    }
    this.lookup = this.trackLayer(
      new StringLookup({
        maxTokens: a.maxTokens, vocabulary: a.vocabulary, idfWeights: a.idfWeights, padToMaxTokens: a.padToMaxTokens, maskToken: '',
        outputMode: a.outputMode, vocabularySize: a.vocabularySize,
      }),
      '_lookup_layer',
    );
    this.recordSize();
  }

  private get where(): string {
    return `TextVectorization '${this.name}'`;
  }

  /** Standardizes and splits one text into its tokens, and makes their n-grams when `ngrams` is set. */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw new MasqueError('INVALID_INPUT', `${this.where}: expected a string text; received ${describe(text)}.`);
    const tokens = splitText(standardizeText(text, this.args.standardize, this.where), this.args.split, this.where);
    const n = this.args.ngrams;
    if (n === null) return tokens;
    // Widths beyond the text's length give nothing: n = 1e9 costs no more than the text.
    return ngramsOf(tokens, typeof n === 'number' ? Array.from({ length: Math.min(n, tokens.length) }, (_, i) => i + 1) : n);
  }

  /**
   * Learns the vocabulary from texts: an array of strings, a string tensor,
   * or an iterable of batches; in 'tf_idf' mode also the idf weights, each
   * text a document. Replaces any previous vocabulary.
   */
  adapt(data: unknown): void {
    if (this.args.vocabulary !== null) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: cannot adapt a layer created with a fixed vocabulary.`);
    const isText = (v: unknown) => typeof v === 'string';
    let documents: string[][];
    if (isBatchIterable(data) && this.args.split === null) {
      // Keras keeps a flat batch of unsplit texts at rank 1: it counts as one document (tf_idf),
      // and n-grams would run across its texts, which Masque refuses.
      documents = [...data].flatMap((batch) => {
        const rows = (adaptValues(batch, this.where, isText, 'texts (strings)') as string[]).map((t) => this.tokenize(t));
        const flat = batch instanceof tf.Tensor ? batch.rank <= 1 : Array.isArray(batch) && batch.every((x) => !Array.isArray(x));
        if (!flat) return rows;
        if (this.args.ngrams !== null) {
          throw new MasqueError('INVALID_INPUT', `${this.where}: with split null and ngrams, give each batch of adapt data as [n, 1] texts (Keras would make n-grams across a flat batch's texts).`);
        }
        return [rows.flat()];
      });
    } else {
      documents = (adaptValues(data, this.where, isText, 'texts (strings)') as string[]).map((t) => this.tokenize(t));
    }
    this.lookup.adaptDocuments(documents);
    this.recordSize();
  }

  /** Sets the vocabulary directly (with or without '' and '[UNK]' in front); in 'tf_idf' mode with one idf weight per entry. */
  setVocabulary(vocabulary: readonly string[], idfWeights: readonly number[] | null = null): void {
    this.lookup.setVocabulary(vocabulary, idfWeights);
    if (this.args.vocabulary !== null) {
      (this.args as { vocabulary: readonly string[] | null }).vocabulary = [...vocabulary];
      if (idfWeights !== null) (this.args as { idfWeights: readonly number[] | null }).idfWeights = [...idfWeights];
    }
    this.recordSize();
  }

  /** The idf weight of every id ('tf_idf' mode), as a copy. */
  idfWeights(): Float32Array | null {
    return this.lookup.idfWeights();
  }

  /** The vocabulary; id i is entry i ('' and '[UNK]' first unless asked otherwise). */
  getVocabulary(includeSpecialTokens = true): string[] {
    return this.lookup.getVocabulary(includeSpecialTokens);
  }

  /** Number of ids, '' and '[UNK]' included. */
  vocabularySize(): number {
    return this.lookup.vocabularySize();
  }

  private recordSize(): void {
    (this.args as { vocabularySize: number | null }).vocabularySize = this.lookup.vocabularySize();
  }

  call(x: tf.Tensor): tf.Tensor {
    const texts = x.dataSync() as unknown as string[];
    if (this.args.outputMode !== 'int') {
      const spec = this.computeOutputSpec({ shape: x.shape, dtype: 'string', mask: null });
      const ids = texts.map((t) => this.lookup.idsOf(this.tokenize(t)));
      const rows = this.args.outputMode === 'one_hot' ? [Int32Array.from(ids, (r) => r[0] ?? -1)] : ids;
      return tf.tensor(this.lookup.encodeRows(rows), spec.shape as number[], 'float32');
    }
    if (this.args.split === null && x.rank === 1) return tf.tensor1d(this.lookup.idsOf(texts.map((t) => this.tokenize(t)[0]!)), 'int32');
    const rows = texts.map((t) => this.lookup.idsOf(this.tokenize(t)));
    const len = this.args.outputSequenceLength ?? rows.reduce((m, r) => Math.max(m, r.length), 0);
    const out = new Int32Array(rows.length * len);
    rows.forEach((r, i) => out.set(r.length > len ? r.subarray(0, len) : r, i * len));
    return tf.tensor2d(out, [rows.length, len], 'int32');
  }

  /** [batch, outputSequenceLength] int32 ids from [batch] (or [batch, 1]) strings; no mask. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, this.where);
    if (x.dtype !== 'string') throw dtypeError(this, "texts: a string tensor (Input({ shape: [], dtype: 'string' }))", x);
    if (!(x.shape.length === 1 || (x.shape.length === 2 && (x.shape[1] === 1 || x.shape[1] === null)))) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: expects one text a row, [batch] or [batch, 1] (Keras: "the input rank must be 1 or the last shape dimension must be 1"); received ${formatShape(x.shape)}.`);
    }
    if (this.args.split === null && x.shape.length === 1 && this.args.ngrams !== null) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: with split null and ngrams, give the texts as [batch, 1] (on [batch] texts Keras would make n-grams across the batch); received ${formatShape(x.shape)}.`);
    }
    const mode = this.args.outputMode;
    if (mode !== 'int') {
      const depth = this.lookup.depth;
      // Texts are split into rows of tokens, or (split null) each text is a one-token row.
      if (mode !== 'one_hot' && this.args.split === null && x.shape.length === 1) throw encodingShapeError(this.where, mode, x.shape);
      if (depth === null) {
        throw new MasqueError('NOT_BUILT', `${this.where}: in outputMode '${mode}' the vocabulary must be set before the layer is used (as in Keras): give vocabulary, call adapt(texts), or set padToMaxTokens with maxTokens.`);
      }
      return { shape: [x.shape[0]!, depth], dtype: 'float32', mask: null };
    }
    const len = this.args.outputSequenceLength;
    if (this.args.split === null && x.shape.length === 1) {
      if (len !== null) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: with split null and outputSequenceLength ${len}, give the texts as [batch, 1] (on [batch] texts Keras would cut the batch axis); received ${formatShape(x.shape)}.`);
      }
      return { shape: [x.shape[0]!], dtype: 'int32', mask: null };
    }
    return { shape: [x.shape[0]!, len ?? (this.args.split === null ? 1 : null)], dtype: 'int32', mask: null };
  }

  /** `vocabulary.txt` when the vocabulary is not in the config, as Keras's TextVectorization saves it (its inner lookup saves one too). */
  saveAssets(): AssetFiles | null {
    return this.lookup.saveAssets();
  }

  /** Reads the vocabulary saved by `saveAssets` (or by Keras). */
  loadAssets(files: AssetFiles, where: string): void {
    this.lookup.loadAssets(files, where);
    this.recordSize();
  }

  /** 'tf_idf' mode: the idf weights (Keras saves them in this layer's group and in its inner lookup's). */
  saveOwnVariables(): Record<string, OwnVariable> | null {
    return this.lookup.saveOwnVariables();
  }

  loadOwnVariables(named: Record<string, OwnVariable>, where: string): void {
    this.lookup.loadOwnVariables(named, where);
  }
}

/** TensorFlow's `strings.ngrams` of one row (no padding): the n-grams of each width in turn, tokens joined by one space. */
export function ngramsOf(tokens: readonly string[], widths: readonly number[]): string[] {
  const out: string[] = [];
  for (const w of widths) for (let i = 0; i + w <= tokens.length; i++) out.push(tokens.slice(i, i + w).join(' '));
  return out;
}
