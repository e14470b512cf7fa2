/**
 * `TextVectorizer`: the `output_mode="int"` part of Keras 3.15.1's
 * `keras.layers.TextVectorization`, as a plain class (not a layer).
 *
 * Keras semantics kept:
 * - standardize `'lower_and_strip_punctuation'` (default) lowercases ASCII
 *   letters only (TF's `tf.strings.lower` without an encoding leaves é, Ä, ...
 *   alone) and deletes the 32 ASCII punctuation characters
 *   ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``; `'lower'`, `'strip_punctuation'`,
 *   `null`, or a function (applied instead of the built-in ones).
 * - split `'whitespace'` (default) splits on runs of ASCII whitespace and
 *   drops empty pieces; `'character'` splits into Unicode code points;
 *   `null` keeps the whole string; or a function.
 * - Index 0 is the mask/padding token `''`, 1 is the OOV token `'[UNK]'`, then
 *   the adapted tokens by descending count, ties broken by the tokens' UTF-8
 *   bytes in DESCENDING order (Keras: `np.lexsort((tokens, counts))[::-1]`).
 *   `maxTokens` counts the two special tokens. `''` encodes to 0, unknown
 *   tokens to 1.
 * - Output: without `outputSequenceLength` rows are padded with 0 to the
 *   longest; with it they are cut to the first `outputSequenceLength` tokens
 *   and padded at the end. Masque defaults `padding` and `truncating` to
 *   `'post'` to match (unlike `padSequences`, whose Keras defaults are 'pre').
 *
 * Not supported: ngrams, output modes other than int, tf-idf, ragged output.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { padSequences } from './pad_sequences.js';
import { compareUtf8, sortByCount, splitText, standardizeText, type SplitSpec, type StandardizeSpec } from '../ops/text_ops.js';
import { checkKeys } from '../option_keys.js';

export { compareUtf8, type SplitSpec, type StandardizeSpec };

export interface TextVectorizerArgs {
  /** Vocabulary size including the mask and OOV tokens; null = unlimited. */
  maxTokens?: number | null;
  standardize?: StandardizeSpec;
  split?: SplitSpec;
  /** Fixed row length of encodeToTensor; null = the longest row. */
  outputSequenceLength?: number | null;
  /** Where encodeToTensor pads (default 'post', as Keras's TextVectorization). */
  padding?: 'pre' | 'post';
  /** Which end encodeToTensor cuts (default 'post': keep the first tokens, as Keras). */
  truncating?: 'pre' | 'post';
  /** A fixed vocabulary instead of adapt(); may start with '' and '[UNK]'. */
  vocabulary?: readonly string[] | null;
}

export interface EncodeToTensorOptions {
  maxlen?: number | null;
  padding?: 'pre' | 'post';
  truncating?: 'pre' | 'post';
}

export const MASK_TOKEN = '';
export const OOV_TOKEN = '[UNK]';

const VECTORIZER_KEYS = ['maxTokens', 'standardize', 'split', 'outputSequenceLength', 'padding', 'truncating', 'vocabulary'] as const;

export class TextVectorizer {
  private readonly args: Required<Omit<TextVectorizerArgs, 'vocabulary'>> & { vocabulary: readonly string[] | null };
  private tokens: string[] = [];
  private index = new Map<string, number>();

  constructor(args: TextVectorizerArgs = {}) {
    args = checkKeys(args, VECTORIZER_KEYS, 'TextVectorizer') as TextVectorizerArgs;
    const {
      maxTokens = null, standardize = 'lower_and_strip_punctuation', split = 'whitespace',
      outputSequenceLength = null, padding = 'post', truncating = 'post', vocabulary = null,
    } = args;
    if (maxTokens !== null && !(Number.isInteger(maxTokens) && maxTokens > 1)) {
      throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: maxTokens must be null or an integer greater than 1 (it counts '' and '[UNK]'); received ${describe(maxTokens)}.`);
    }
    if (outputSequenceLength !== null && !(Number.isInteger(outputSequenceLength) && outputSequenceLength >= 0)) {
      throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: outputSequenceLength must be null or a non-negative integer; received ${describe(outputSequenceLength)}.`);
    }
    const standardizes = ['lower_and_strip_punctuation', 'lower', 'strip_punctuation'];
    if (!(standardize === null || typeof standardize === 'function' || standardizes.includes(standardize))) {
      throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: standardize must be ${standardizes.map((s) => `'${s}'`).join(', ')}, null or a function; received ${describe(standardize)}.`);
    }
    if (!(split === null || typeof split === 'function' || split === 'whitespace' || split === 'character')) {
      throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: split must be 'whitespace', 'character', null or a function; received ${describe(split)}.`);
    }
    for (const [name, v] of [['padding', padding], ['truncating', truncating]] as const) {
      if (v !== 'pre' && v !== 'post') throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: ${name} must be 'pre' or 'post'; received ${describe(v)}.`);
    }
    this.args = { maxTokens, standardize, split, outputSequenceLength, padding, truncating, vocabulary: vocabulary === null ? null : [...vocabulary] };
    if (vocabulary !== null) this.setVocabulary(vocabulary);
  }

  /** Standardizes and splits one text into tokens. */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw new MasqueError('INVALID_INPUT', `TextVectorizer: expected a string text; received ${describe(text)}.`);
    const { standardize, split } = this.args;
    return splitText(standardizeText(text, standardize, 'TextVectorizer'), split, 'TextVectorizer');
  }

  /** Learns the vocabulary from texts (each text is one document). Replaces any previous vocabulary. */
  adapt(texts: Iterable<string>): void {
    if (this.args.vocabulary !== null) {
      throw new MasqueError('INVALID_ARGUMENT', 'TextVectorizer: cannot adapt a vectorizer created with a fixed `vocabulary`.');
    }
    if (texts === null || typeof texts !== 'object' || typeof (texts as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new MasqueError('INVALID_INPUT', `TextVectorizer.adapt: expected an array (or another iterable) of strings; received ${describe(texts)}.`);
    }
    const counts = new Map<string, number>();
    for (const text of texts) for (const t of this.tokenize(text)) counts.set(t, (counts.get(t) ?? 0) + 1);
    counts.delete(MASK_TOKEN);
    counts.delete(OOV_TOKEN);
    const sorted = sortByCount(counts, compareUtf8);
    const { maxTokens } = this.args;
    this.build(maxTokens === null ? sorted : sorted.slice(0, maxTokens - 2));
  }

  /** Sets the vocabulary directly (with or without the leading '' and '[UNK]'). */
  setVocabulary(vocabulary: readonly string[]): void {
    const tokens = vocabulary[0] === MASK_TOKEN && vocabulary[1] === OOV_TOKEN ? vocabulary.slice(2) : [...vocabulary];
    const seen = new Set<string>();
    for (const t of tokens) {
      if (typeof t !== 'string') throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: vocabulary entries must be strings; received ${describe(t)}.`);
      if (t === MASK_TOKEN) throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: the mask token '' may only appear first in the vocabulary, followed by '[UNK]'.`);
      if (seen.has(t)) throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: the vocabulary repeats the token ${describe(t)}; every token must be unique.`);
      seen.add(t);
    }
    const { maxTokens } = this.args;
    if (maxTokens !== null && tokens.length + 2 > maxTokens) {
      throw new MasqueError('INVALID_ARGUMENT', `TextVectorizer: the vocabulary has ${tokens.length + 2} entries with '' and '[UNK]', more than maxTokens = ${maxTokens}.`);
    }
    this.build(tokens);
  }

  private build(tokens: string[]): void {
    this.tokens = tokens;
    this.index = new Map(tokens.map((t, i) => [t, i + 2]));
  }

  /** The vocabulary; index i is the id of token i. */
  vocabulary(includeSpecialTokens = true): string[] {
    return includeSpecialTokens ? [MASK_TOKEN, OOV_TOKEN, ...this.tokens] : [...this.tokens];
  }

  /** Number of ids, including the mask and OOV tokens. */
  vocabularySize(): number {
    return this.tokens.length + 2;
  }

  /** Token ids of each text, unpadded. */
  encode(texts: readonly string[]): number[][] {
    if (!Array.isArray(texts)) throw new MasqueError('INVALID_INPUT', `TextVectorizer.encode: expected an array of strings; received ${describe(texts)}.`);
    return texts.map((text) => this.tokenize(text).map((t) => (t === MASK_TOKEN ? 0 : this.index.get(t) ?? 1)));
  }

  /** Token ids as an int32 tensor `[texts.length, length]`, padded with 0 by padSequences. */
  encodeToTensor(texts: readonly string[], options: EncodeToTensorOptions = {}): tf.Tensor2D {
    options = checkKeys(options, ['maxlen', 'padding', 'truncating'], 'TextVectorizer.encodeToTensor') as EncodeToTensorOptions;
    const { maxlen = this.args.outputSequenceLength, padding = this.args.padding, truncating = this.args.truncating } = options;
    return padSequences(this.encode(texts), { maxlen, padding, truncating, value: 0, dtype: 'int32' }) as tf.Tensor2D;
  }

  /** Same as encodeToTensor with the vectorizer's own settings (Keras's `layer(texts)`). */
  call(texts: readonly string[]): tf.Tensor2D {
    return this.encodeToTensor(texts);
  }

  /** The constructor arguments; `vocabulary` only if one was given to the constructor. */
  getConfig(): TextVectorizerArgs {
    const { vocabulary, ...rest } = this.args;
    return { ...rest, vocabulary: vocabulary === null ? null : [...vocabulary] };
  }
}
