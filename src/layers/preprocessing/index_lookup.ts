/**
 * The vocabulary logic shared by StringLookup and IntegerLookup (Keras
 * 3.15.1's `IndexLookup`); the output modes other than 'int' are in
 * lookup_modes.ts:
 * - ids: the mask token (when set) is 0, then `numOovIndices` OOV ids, then
 *   the vocabulary's tokens in order; in the modes other than 'int' the mask
 *   token has no id (it is dropped) and the OOV ids start at 0;
 * - `adapt` counts tokens, drops the mask and OOV tokens, and orders by count
 *   descending, ties by the token descending (UTF-8 bytes for strings),
 *   keeping `maxTokens` ids in all;
 * - `setVocabulary` takes a list with or without the special tokens in
 *   front and refuses repeats and misplaced special tokens, as Keras does;
 * - `invert` maps ids back to tokens (unknown ids to the OOV token, 0 to the
 *   mask token when set).
 * These layers make no mask (Keras's don't): an `Embedding({ maskZero })`
 * after them does.
 *
 * In 'tf_idf' mode `adapt` also learns each token's inverse document
 * frequency, and `setVocabulary` takes the weights; a `.keras` file holds
 * them as the layer's named variable `idf_weights` (`vars/idf_weights`).
 * In the modes other than 'int' the vocabulary size is fixed once set
 * (unless `padToMaxTokens`), as in Keras: the output's width depends on it.
 *
 * In a `.keras` file a vocabulary given to the constructor is saved in the
 * config; an adapted one (or one set later) is saved as the asset
 * `vocabulary.txt`, one token per line, special tokens first, as Keras
 * writes it (see `saveAssets` / `loadAssets`).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { CallArgs, OwnVariable, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { pythonSplitlines, sortByCount } from '../../ops/text_ops.js';
import { bucketHasher } from '../../ops/string_hash.js';
import {
  encodeIds, encodingShapeError, givenIdfMean, idRows, inverseDocumentFrequency, learnedIdfMean, lookupOutputShape, padIdfWeights, readIdfWeights, type LookupOutputMode,
} from './lookup_modes.js';

/** The most OOV ids a lookup takes: each is listed in the vocabulary (2^20; Keras's default is 1). */
export const MAX_OOV_INDICES = 2 ** 20;

/** The file name Keras gives a lookup layer's vocabulary asset. */
export const VOCABULARY_FILE = 'vocabulary.txt';

/** The options every lookup layer has (Keras's `IndexLookup` arguments), for one token type. */
export interface IndexLookupOptions<K> {
  maxTokens: number | null;
  numOovIndices: number;
  maskToken: K | null;
  oovToken: K | null;
  vocabulary: readonly K[] | null;
  invert: boolean;
  outputMode: LookupOutputMode;
  padToMaxTokens: boolean;
  idfWeights: readonly number[] | null;
  sparse: boolean;
  vocabularySize: number | null;
  oovMethod: 'floormod' | 'farmhash';
  /** The SipHash key of hashed OOV ids (normalized to a pair), or null for FarmHash. */
  salt: readonly [number, number] | null;
}

/** Files a layer saves beside its weights (`assets/<layer path>/<name>` in a `.keras` zip). */
export type AssetFiles = Record<string, Uint8Array>;

/** A token as Keras prints it in messages. */
export function showToken(t: unknown): string {
  return typeof t === 'string' ? JSON.stringify(t) : String(t);
}

/** Keras's checks of the lookup options that single option checks cannot see. */
export function checkLookupOptions(a: IndexLookupOptions<unknown>, where: string): void {
  if (a.invert && a.outputMode !== 'int') {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: outputMode must be 'int' when invert is true (as in Keras); received ${describe(a.outputMode)}.`);
  }
  if (a.padToMaxTokens && a.maxTokens === null) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: padToMaxTokens needs maxTokens; received maxTokens = null.`);
  }
  if (a.idfWeights !== null && a.outputMode !== 'tf_idf') {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: idfWeights are only for outputMode 'tf_idf' (as in Keras); this layer's is '${a.outputMode}'.`);
  }
  if (a.outputMode === 'tf_idf' && a.vocabulary !== null && a.idfWeights === null) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: with a vocabulary in outputMode 'tf_idf', idfWeights must be given too (as in Keras): one weight per vocabulary entry.`);
  }
  if (a.idfWeights !== null && a.vocabulary === null) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: idfWeights need the vocabulary they weigh; give vocabulary too, or call setVocabulary(vocabulary, idfWeights) (Keras keeps such weights unchecked until adapt replaces them).`);
  }
}

/**
 * The id table of a lookup layer for tokens of type `K`, with Keras's index
 * layout. Holds no tensors.
 */
export class VocabularyTable<K extends string | number> {
  private tokens: K[] = [];
  private index = new Map<K, number>();

  constructor(
    private readonly a: IndexLookupOptions<K>,
    private readonly where: string,
    private readonly compare: (x: K, y: K) => number,
  ) {}

  /**
   * 1 when the mask token takes id 0, else 0: where the OOV ids start. Only
   * 'int' mode gives the mask token an id; the other modes drop it, so it
   * has no slot (nor a place in the vocabulary), as in Keras.
   */
  get oovStart(): number {
    return this.a.maskToken !== null && this.a.outputMode === 'int' ? 1 : 0;
  }

  /** Where the vocabulary's own tokens start. */
  get tokenStart(): number {
    return this.oovStart + this.a.numOovIndices;
  }

  /** Number of ids, special ones included. */
  get size(): number {
    return this.tokenStart + this.tokens.length;
  }

  /** The vocabulary; id i is entry i (special tokens included unless asked otherwise). */
  vocabulary(includeSpecialTokens = true): K[] {
    if (!includeSpecialTokens) return [...this.tokens];
    const oov = new Array<K | null>(this.a.numOovIndices).fill(this.a.oovToken) as K[];
    return [...(this.oovStart === 1 ? [this.a.maskToken!] : []), ...oov, ...this.tokens];
  }

  /** The tokens and their ids, to put back with `restore` when a change must be undone. */
  snapshot(): { tokens: K[]; index: Map<K, number> } {
    return { tokens: this.tokens, index: this.index };
  }

  restore(s: { tokens: K[]; index: Map<K, number> }): void {
    this.tokens = s.tokens;
    this.index = s.index;
  }

  /** Sets the vocabulary, with or without the special tokens in front (Keras's `set_vocabulary`); true when they were in front. */
  set(vocabulary: readonly K[]): boolean {
    const w = this.where;
    if (!Array.isArray(vocabulary)) throw new MasqueError('INVALID_ARGUMENT', `${w}: a vocabulary must be a list of tokens; received ${describe(vocabulary)}.`);
    if (vocabulary.length === 0) throw new MasqueError('INVALID_ARGUMENT', `${w}: cannot set an empty vocabulary.`);
    const special = this.vocabulary(true).slice(0, this.tokenStart);
    const hasSpecial = special.every((t, i) => vocabulary[i] === t);
    const tokens = hasSpecial ? vocabulary.slice(special.length) : [...vocabulary];
    const seen = new Set<K>();
    const repeated = new Set<K>();
    for (const t of tokens) (seen.has(t) ? repeated : seen).add(t);
    if (repeated.size > 0) {
      throw new MasqueError('INVALID_ARGUMENT', `${w}: the vocabulary repeats ${[...repeated].map(showToken).join(', ')}; every token must be unique.`);
    }
    const order = `Either remove all mask and OOV tokens, or include them only at the start of the vocabulary in this order: [${special.map(showToken).join(', ')}]`;
    if (this.a.maskToken !== null && seen.has(this.a.maskToken)) {
      throw new MasqueError('INVALID_ARGUMENT', `${w}: found the mask token ${showToken(this.a.maskToken)} inside the vocabulary (index ${vocabulary.lastIndexOf(this.a.maskToken)}). ${order}.`);
    }
    if (this.a.invert && this.a.oovToken !== null && seen.has(this.a.oovToken)) {
      throw new MasqueError('INVALID_ARGUMENT', `${w}: found the OOV token ${showToken(this.a.oovToken)} inside the vocabulary (index ${vocabulary.lastIndexOf(this.a.oovToken)}). ${order}.`);
    }
    if (this.a.maxTokens !== null && this.tokenStart + tokens.length > this.a.maxTokens) {
      throw new MasqueError('INVALID_ARGUMENT', `${w}: the vocabulary has ${this.tokenStart + tokens.length} entries with its special tokens, more than maxTokens = ${this.a.maxTokens}.`);
    }
    this.tokens = tokens;
    this.index = new Map(tokens.map((t, i) => [t, i + this.tokenStart]));
    return hasSpecial;
  }

  /** Learns the vocabulary from token counts (Keras's `finalize_state`). */
  adapt(counts: Map<K, number>): void {
    if (this.a.maskToken !== null) counts.delete(this.a.maskToken);
    if (this.a.oovToken !== null) counts.delete(this.a.oovToken);
    const sorted = sortByCount(counts, this.compare);
    const keep = this.a.maxTokens === null ? sorted : sorted.slice(0, Math.max(0, this.a.maxTokens - this.tokenStart));
    this.tokens = keep;
    this.index = new Map(keep.map((t, i) => [t, i + this.tokenStart]));
  }

  /**
   * The id of each token: the mask token gives 0, an unknown token an OOV id
   * (`oovId(token)` for several OOV ids; with none, an error naming them).
   */
  lookup(tokens: readonly K[], oovId: (t: K) => number): Int32Array {
    const out = new Int32Array(tokens.length);
    const unknown: K[] = [];
    const { maskToken, numOovIndices } = this.a;
    // The mask token is id 0 in 'int' mode; the other modes drop it (-1).
    const maskId = this.a.outputMode === 'int' ? 0 : -1;
    tokens.forEach((t, i) => {
      if (maskToken !== null && t === maskToken) {
        out[i] = maskId;
        return;
      }
      const id = this.index.get(t);
      if (id !== undefined) out[i] = id;
      else if (numOovIndices === 1) out[i] = this.oovStart;
      else if (numOovIndices === 0) unknown.push(t);
      else out[i] = this.oovStart + oovId(t);
    });
    if (unknown.length > 0) {
      throw new MasqueError(
        'INVALID_INPUT',
        `${this.where}: with numOovIndices = 0 every input must be in the vocabulary; found ${[...new Set(unknown)].slice(0, 10).map(showToken).join(', ')}. Set numOovIndices to 1 to map unknown tokens to an OOV id.`,
      );
    }
    return out;
  }

  /** The token of each id (Keras's `invert`): 0 is the mask token when set, ids outside the vocabulary the OOV token. */
  invert(ids: ArrayLike<number>): (K | null)[] {
    const vocab = this.vocabulary(true);
    return Array.from(ids, (id) => (this.a.maskToken !== null && id === 0 ? this.a.maskToken : id >= this.tokenStart && id < vocab.length ? vocab[id]! : this.a.oovToken));
  }

  /** `vocabulary.txt` as Keras writes it: the vocabulary with special tokens, joined by "\n", UTF-8. */
  file(show: (t: K) => string): Uint8Array {
    return new TextEncoder().encode(this.vocabulary(true).map(show).join('\n'));
  }
}

/** Reads Keras's `vocabulary.txt`: Python's `splitlines`, trailing empty lines dropped (Keras's `load_assets`). */
export function readVocabularyFile(bytes: Uint8Array, where: string): string[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MasqueError('CORRUPT_FILE', `${where}: ${VOCABULARY_FILE} is not valid UTF-8.`);
  }
  const lines = pythonSplitlines(text);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The OOV id function of a lookup with several OOV ids that hashes tokens
 * (strings always; integers with oovMethod 'farmhash', as their decimal
 * digits): TensorFlow's FarmHash bucket, or SipHash keyed by `salt`. Returns
 * a maker of one function per call, which hashes each distinct unknown
 * token once (nothing is kept between calls).
 */
export function hashedOovIds<K>(numOovIndices: number, salt: readonly [number, number] | null, text: (t: K) => string): () => (t: K) => number {
  if (numOovIndices <= 1) return () => () => 0;
  const hash = bucketHasher(numOovIndices, salt);
  return () => {
    const cache = new Map<K, number>();
    return (t) => {
      let id = cache.get(t);
      if (id === undefined) {
        id = hash(text(t));
        cache.set(t, id);
      }
      return id;
    };
  };
}

/** Adapt data given as an iterable of batches (a Set, a generator, ...: not an array or a tensor). */
export function isBatchIterable(v: unknown): v is Iterable<unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof tf.Tensor) && Symbol.iterator in v;
}

/** Flattens user data for `adapt`: nested arrays, a tensor, or an iterable of batches (each an array or tensor). */
export function adaptValues(data: unknown, where: string, isToken: (v: unknown) => boolean, what: string): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 16) throw new MasqueError('INVALID_INPUT', `${where}: adapt data is nested more than 16 levels deep.`);
    if (v instanceof tf.Tensor) {
      if (v.isDisposed) throw new MasqueError('INVALID_INPUT', `${where}: adapt received a disposed tensor.`);
      const values = Array.from(v.dataSync() as unknown as ArrayLike<unknown>);
      const bad = values.find((x) => !isToken(x));
      if (bad !== undefined) throw new MasqueError('INVALID_INPUT', `${where}: adapt expects ${what}; received a ${v.dtype} tensor of shape ${formatShape(v.shape)} holding ${describe(bad)}.`);
      for (const x of values) out.push(x);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
    } else if (isToken(v)) {
      out.push(v);
    } else if (depth === 0 && isBatchIterable(v)) {
      for (const batch of v as Iterable<unknown>) walk(batch, depth + 1);
    } else {
      throw new MasqueError('INVALID_INPUT', `${where}: adapt expects ${what} (nested arrays, a tensor, or an iterable of batches); found ${describe(v)}.`);
    }
  };
  walk(data, 0);
  return out;
}

/**
 * The documents of `adapt` data in 'tf_idf' mode, as Keras reads them: the
 * rows of a [n, k] array or tensor (ragged arrays too), each token of a flat
 * [n] one, and for an iterable of batches each batch's rows, or the batch
 * itself when it is flat.
 */
export function adaptDocuments<K>(data: unknown, where: string, isToken: (v: unknown) => boolean, what: string): K[][] {
  const documentsOf = (v: unknown, flatIsOneDocument: boolean): K[][] => {
    if (v instanceof tf.Tensor) {
      if (v.isDisposed) throw new MasqueError('INVALID_INPUT', `${where}: adapt received a disposed tensor.`);
      if (v.rank > 2) throw new MasqueError('INVALID_INPUT', `${where}: in outputMode 'tf_idf' adapt takes documents as rows of a [n, k] tensor (or a flat [n] one); received shape ${formatShape(v.shape)}.`);
      const flat = adaptValues(v, where, isToken, what) as K[];
      if (v.rank < 2) return flatIsOneDocument ? [flat] : flat.map((t) => [t]);
      const k = v.shape[1]!;
      return Array.from({ length: v.shape[0]! }, (_, i) => flat.slice(i * k, (i + 1) * k));
    }
    if (Array.isArray(v)) {
      if (v.every((x) => !Array.isArray(x) && !(x instanceof tf.Tensor))) {
        const flat = adaptValues(v, where, isToken, what) as K[];
        return flatIsOneDocument ? [flat] : flat.map((t) => [t]);
      }
      return v.map((row) => {
        if (Array.isArray(row) && row.some((x) => Array.isArray(x) || x instanceof tf.Tensor)) {
          throw new MasqueError('INVALID_INPUT', `${where}: in outputMode 'tf_idf' adapt takes documents as rows of ${what} (nested two levels deep at most); found a row nested deeper.`);
        }
        return adaptValues(Array.isArray(row) || row instanceof tf.Tensor ? row : [row], where, isToken, what) as K[];
      });
    }
    throw new MasqueError('INVALID_INPUT', `${where}: adapt expects ${what} (nested arrays, a tensor, or an iterable of batches); found ${describe(v)}.`);
  };
  if (isBatchIterable(data)) return [...data].flatMap((batch) => documentsOf(batch, true));
  return documentsOf(data, false);
}

/** Counts values. */
export function countTokens<K>(values: readonly K[]): Map<K, number> {
  const counts = new Map<K, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** The error for an input of the wrong dtype. */
export function dtypeError(layer: Layer<CallArgs, boolean>, expected: string, received: { dtype: string; shape: Shape }): MasqueError {
  return new MasqueError('INVALID_INPUT', `Layer '${layer.name}' (${layer.className}) expects ${expected}; received a ${received.dtype} tensor of shape ${formatShape(received.shape)}.`);
}

/** How a lookup layer reads its tokens: the test of one token, its name in messages, and the vocabulary check. */
export interface TokenKind<K> {
  isToken: (v: unknown) => v is K;
  what: string;
  list: (v: unknown, where: string, name: string) => readonly K[] | null;
  /** One line of a vocabulary file -> a token, or undefined when the line is not one. */
  fromLine: (line: string) => K | undefined;
  toLine: (t: K) => string;
}

/**
 * What StringLookup and IntegerLookup share: adapt, the vocabulary, its size
 * as Keras records it, and the `vocabulary.txt` asset of a `.keras` file.
 */
export abstract class LookupLayer<K extends string | number> extends Layer<CallArgs> {
  declare readonly args: Readonly<{
    vocabulary: readonly K[] | null; vocabularySize: number | null; outputMode: LookupOutputMode;
    padToMaxTokens: boolean; maxTokens: number | null; idfWeights: readonly number[] | null;
  }> & Record<string, unknown>;
  protected abstract readonly table: VocabularyTable<K>;
  protected abstract readonly kind: TokenKind<K>;
  /** 'tf_idf' mode: the weight of every id, `depth` of them. */
  private idf: Float32Array | null = null;

  protected get where(): string {
    return `${this.className} '${this.name}'`;
  }

  /** Sets the vocabulary (and idf weights) given to the constructor; call at the end of the subclass's constructor. */
  protected initVocabulary(): void {
    if (this.args.vocabulary !== null) this.setVocabulary(this.args.vocabulary, this.args.idfWeights);
  }

  /**
   * Learns the vocabulary from tokens: nested arrays, a tensor, or an
   * iterable of batches. In 'tf_idf' mode it learns the idf weights too,
   * counting each row as a document (see `adaptDocuments`).
   */
  adapt(data: unknown): void {
    if (this.args.vocabulary !== null) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: cannot adapt a layer created with a fixed vocabulary.`);
    if (this.args.outputMode === 'tf_idf') this.adaptDocuments(adaptDocuments<K>(data, this.where, this.kind.isToken, this.kind.what));
    else this.adaptDocuments([adaptValues(data, this.where, this.kind.isToken, this.kind.what) as K[]]);
  }

  /** Learns the vocabulary and, in 'tf_idf' mode, the idf weights from documents of tokens. */
  adaptDocuments(documents: readonly (readonly K[])[]): void {
    if (this.args.vocabulary !== null) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: cannot adapt a layer created with a fixed vocabulary.`);
    // No token at all: Keras's finalize_state keeps the vocabulary (and idf weights) the layer had.
    if (documents.every((d) => d.length === 0)) return;
    this.change(() => {
      this.table.adapt(countTokens(documents.flat() as K[]));
      if (this.args.outputMode !== 'tf_idf') return;
      const tokens = this.table.vocabulary(false);
      if (tokens.length === 0) throw new MasqueError('INVALID_INPUT', `${this.where}: adapt found no tokens (besides mask and OOV tokens) to learn idf weights from.`);
      const inDocuments = countTokens(documents.flatMap((d) => [...new Set(d)]));
      const weights = tokens.map((t) => inverseDocumentFrequency(inDocuments.get(t) ?? 0, documents.length));
      // Keras pads the front (mask and OOV ids) with the weights' float32 mean, the back (padToMaxTokens) with zeros.
      const back = this.args.padToMaxTokens ? this.args.maxTokens! - this.table.size : 0;
      this.idf = padIdfWeights(weights, this.table.tokenStart, back, learnedIdfMean(weights));
    });
  }

  /**
   * Sets the vocabulary (with or without the special tokens in front); in
   * 'tf_idf' mode with one idf weight per entry given. Without the special
   * tokens their ids get the weights' average, as in Keras.
   */
  setVocabulary(vocabulary: readonly K[], idfWeights: readonly number[] | null = null): void {
    const list = this.kind.list(vocabulary, this.where, 'vocabulary');
    if (list === null) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: setVocabulary needs a vocabulary (a list of tokens); received null.`);
    const tfIdf = this.args.outputMode === 'tf_idf';
    if (tfIdf && idfWeights === null) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: in outputMode 'tf_idf' setVocabulary needs idfWeights, one per vocabulary entry (as in Keras).`);
    if (!tfIdf && idfWeights !== null) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: idfWeights are only for outputMode 'tf_idf' (as in Keras); this layer's is '${this.args.outputMode}'.`);
    if (idfWeights !== null) {
      readIdfWeights(idfWeights, this.where, 'idfWeights');
      if (idfWeights.length !== list.length) {
        throw new MasqueError('INVALID_ARGUMENT', `${this.where}: idfWeights must have one weight per vocabulary entry (as in Keras): the vocabulary has ${list.length} entries, idfWeights ${idfWeights.length}.`);
      }
    }
    this.change(() => {
      const hasSpecial = this.table.set(list);
      if (idfWeights !== null) {
        const front = hasSpecial ? 0 : this.table.tokenStart;
        this.idf = padIdfWeights(idfWeights, front, this.args.padToMaxTokens ? this.args.maxTokens! - front - idfWeights.length : 0, givenIdfMean(idfWeights));
      }
    });
    // A vocabulary given to the constructor lives in the config: keep the config's copy current.
    if (this.args.vocabulary !== null) {
      (this.args as { vocabulary: readonly K[] | null }).vocabulary = [...vocabulary];
      if (idfWeights !== null) (this.args as { idfWeights: readonly number[] | null }).idfWeights = [...idfWeights];
    }
  }

  /**
   * Runs a change of the vocabulary, then records its size; in the modes
   * other than 'int' without padToMaxTokens a size other than the one
   * recorded before raises (as in Keras: the output's width depends on it),
   * and the change is undone.
   */
  private change(f: () => void): void {
    const before = { table: this.table.snapshot(), idf: this.idf };
    try {
      f();
      const size = this.table.size;
      const recorded = this.args.vocabularySize;
      if (this.args.outputMode !== 'int' && !this.args.padToMaxTokens && recorded !== null && size !== recorded) {
        throw new MasqueError(
          'INVALID_ARGUMENT',
          `${this.where}: in outputMode '${this.args.outputMode}' without padToMaxTokens the vocabulary size cannot change once set (as in Keras: the output has one column per id); it is ${recorded}, the new vocabulary has ${size}. The layer keeps its vocabulary.`,
        );
      }
      this.recordSize();
    } catch (e) {
      this.table.restore(before.table);
      this.idf = before.idf;
      throw e;
    }
  }

  /** The vocabulary; id i is entry i. */
  getVocabulary(includeSpecialTokens = true): K[] {
    return this.table.vocabulary(includeSpecialTokens);
  }

  /** Number of ids, special ones included. */
  vocabularySize(): number {
    return this.table.size;
  }

  /** The idf weight of every id ('tf_idf' mode, once the vocabulary is set), as a copy. */
  idfWeights(): Float32Array | null {
    return this.idf === null ? null : this.idf.slice();
  }

  /** The width of the encoded output (modes other than 'int'): maxTokens with padToMaxTokens, else the vocabulary size as recorded. */
  get depth(): number | null {
    return this.args.padToMaxTokens ? this.args.maxTokens : this.args.vocabularySize;
  }

  protected recordSize(): void {
    (this.args as { vocabularySize: number | null }).vocabularySize = this.table.size;
  }

  /** The depth, which the modes other than 'int' need known. */
  private knownDepth(): number {
    const d = this.depth;
    if (d === null) {
      throw new MasqueError('NOT_BUILT', `${this.where}: in outputMode '${this.args.outputMode}' the vocabulary must be set before the layer is used (as in Keras): give vocabulary, call adapt(data), or set padToMaxTokens with maxTokens.`);
    }
    return d;
  }

  /** The output shape for ids of `shape` (the input's shape in 'int' mode). */
  protected outputShape(shape: Shape): Shape {
    const mode = this.args.outputMode;
    if (mode === 'int') return shape;
    const out = lookupOutputShape(shape, mode, this.knownDepth());
    if (out === null) throw encodingShapeError(this.where, mode, shape);
    return out;
  }

  /**
   * The layer's output for looked-up ids of `shape`: int32 ids in 'int'
   * mode, else their float32 encoding.
   */
  protected encode(ids: Int32Array, shape: Shape): tf.Tensor {
    const mode = this.args.outputMode;
    if (mode === 'int') return tf.tensor(ids, shape as number[], 'int32');
    const out = this.outputShape(shape) as number[];
    return tf.tensor(this.encodeRows(idRows(ids, shape, mode)), out, 'float32');
  }

  /** Encodes rows of ids (one row of all ids for 'one_hot') in this layer's mode (not 'int'). */
  encodeRows(rows: readonly ArrayLike<number>[]): Float32Array {
    const mode = this.args.outputMode as Exclude<LookupOutputMode, 'int'>;
    const depth = this.knownDepth();
    if (mode === 'tf_idf' && (this.idf === null || this.idf.length !== depth)) {
      throw new MasqueError('NOT_BUILT', `${this.where}: in outputMode 'tf_idf' the layer needs ${depth} idf weights (one per id); it has ${this.idf === null ? 'none' : this.idf.length}. Call adapt(data) or setVocabulary(vocabulary, idfWeights).`);
    }
    return encodeIds(rows, mode, depth, this.idf, this.where);
  }

  /** `vocabulary.txt` when the vocabulary is not in the config (adapted or set later), as Keras saves it. */
  saveAssets(): AssetFiles | null {
    if (this.args.vocabulary !== null) return null;
    return { [VOCABULARY_FILE]: this.table.file(this.kind.toLine) };
  }

  /** Reads the vocabulary saved by `saveAssets` (or by Keras: one token a line); the idf weights come from `loadOwnVariables`. */
  loadAssets(files: AssetFiles, where: string): void {
    if (this.args.vocabulary !== null) return;
    const bytes = files[VOCABULARY_FILE];
    if (bytes === undefined) throw new MasqueError('CORRUPT_FILE', `${where}: ${this.where} has no vocabulary in its config and the file has no ${VOCABULARY_FILE} for it.`);
    const lines = readVocabularyFile(bytes, where);
    const tokens = lines.map(this.kind.fromLine);
    const badAt = tokens.findIndex((t) => t === undefined);
    if (badAt >= 0) throw new MasqueError('CORRUPT_FILE', `${where}: line ${badAt + 1} of ${VOCABULARY_FILE} is not one of ${this.kind.what}: ${JSON.stringify(lines[badAt])}.`);
    try {
      this.change(() => this.table.set(tokens as K[]));
    } catch (e) {
      if (e instanceof MasqueError && e.code === 'INVALID_ARGUMENT') throw new MasqueError('CORRUPT_FILE', `${where}: ${VOCABULARY_FILE} does not fit the layer's config: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** 'tf_idf' mode: the idf weights, saved by name as Keras saves them (`vars/idf_weights`). */
  saveOwnVariables(): Record<string, OwnVariable> | null {
    if (this.args.outputMode !== 'tf_idf') return null;
    if (this.idf === null) {
      throw new MasqueError('NOT_BUILT', `${this.where}: in outputMode 'tf_idf' the layer has no idf weights to save yet (a file without them could not be loaded, by Masque or Keras); call adapt(data) or setVocabulary(vocabulary, idfWeights) first.`);
    }
    return { idf_weights: { shape: [this.idf.length], dtype: 'float32', data: this.idf.slice() } };
  }

  /** Reads the idf weights of a file ('tf_idf' mode; other modes have none). */
  loadOwnVariables(named: Record<string, OwnVariable>, where: string): void {
    if (this.args.outputMode !== 'tf_idf') return;
    const v = named['idf_weights'];
    if (v === undefined) throw new MasqueError('CORRUPT_FILE', `${where}: ${this.where} is in outputMode 'tf_idf' but the file has no idf_weights for it.`);
    if (v.shape.length !== 1 || !(v.data instanceof Float32Array || v.data instanceof Float64Array)) {
      throw new MasqueError('CORRUPT_FILE', `${where}: idf_weights must be a 1-D float array; received shape ${formatShape(v.shape)} of ${v.dtype}.`);
    }
    const depth = this.depth;
    if (depth !== null && v.shape[0] !== depth) throw new MasqueError('CORRUPT_FILE', `${where}: idf_weights has ${v.shape[0]} weights but the layer has ${depth} ids.`);
    this.idf = Float32Array.from(v.data as ArrayLike<number>);
  }
}
