/**
 * The vocabulary logic shared by StringLookup and IntegerLookup (Keras
 * 3.15.1's `IndexLookup`), in `output_mode="int"`:
 * - ids: the mask token (when set) is 0, then `numOovIndices` OOV ids, then
 *   the vocabulary's tokens in order;
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
 * In a `.keras` file a vocabulary given to the constructor is saved in the
 * config; an adapted one (or one set later) is saved as the asset
 * `vocabulary.txt`, one token per line, special tokens first, as Keras
 * writes it (see `saveAssets` / `loadAssets`).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { CallArgs, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { pythonSplitlines, sortByCount } from '../../ops/text_ops.js';

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
  outputMode: 'int';
  padToMaxTokens: boolean;
  idfWeights: null;
  sparse: boolean;
  vocabularySize: number | null;
  oovMethod: 'floormod' | 'farmhash';
  salt: null;
}

/** Files a layer saves beside its weights (`assets/<layer path>/<name>` in a `.keras` zip). */
export type AssetFiles = Record<string, Uint8Array>;

/** A token as Keras prints it in messages. */
export function showToken(t: unknown): string {
  return typeof t === 'string' ? JSON.stringify(t) : String(t);
}

/** Keras's checks of the lookup options that single option checks cannot see. */
export function checkLookupOptions(a: IndexLookupOptions<unknown>, where: string): void {
  if (a.outputMode !== 'int') {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: outputMode must be 'int' (token ids, which an Embedding turns into vectors); received ${describe(a.outputMode)}. Masque does not implement Keras's 'one_hot', 'multi_hot', 'count' and 'tf_idf' modes.`);
  }
  if (a.padToMaxTokens && a.maxTokens === null) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: padToMaxTokens needs maxTokens; received maxTokens = null.`);
  }
  if (a.sparse) throw new MasqueError('INVALID_ARGUMENT', `${where}: sparse must be false with outputMode 'int' (as in Keras); received true.`);
  if (a.idfWeights !== null) throw new MasqueError('INVALID_ARGUMENT', `${where}: idfWeights are for outputMode 'tf_idf', which Masque does not implement; received ${describe(a.idfWeights)}.`);
  if (a.salt !== null) throw new MasqueError('INVALID_ARGUMENT', `${where}: salt (SipHash OOV buckets) is not supported; received ${describe(a.salt)}.`);
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

  /** 1 when the mask token takes id 0, else 0: where the OOV ids start. */
  get oovStart(): number {
    return this.a.maskToken !== null ? 1 : 0;
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
    return [...(this.a.maskToken !== null ? [this.a.maskToken] : []), ...oov, ...this.tokens];
  }

  /** Sets the vocabulary, with or without the special tokens in front (Keras's `set_vocabulary`). */
  set(vocabulary: readonly K[]): void {
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
    tokens.forEach((t, i) => {
      if (maskToken !== null && t === maskToken) {
        out[i] = 0;
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

/** Flattens user data for `adapt`: nested arrays, a tensor, or an iterable of batches (each an array or tensor). */
export function adaptValues(data: unknown, where: string, isToken: (v: unknown) => boolean, what: string): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 16) throw new MasqueError('INVALID_INPUT', `${where}: adapt data is nested more than 16 levels deep.`);
    if (v instanceof tf.Tensor) {
      if (v.isDisposed) throw new MasqueError('INVALID_INPUT', `${where}: adapt received a disposed tensor.`);
      for (const x of Array.from(v.dataSync() as unknown as ArrayLike<unknown>)) out.push(x);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
    } else if (isToken(v)) {
      out.push(v);
    } else if (depth === 0 && v !== null && typeof v === 'object' && Symbol.iterator in v) {
      for (const batch of v as Iterable<unknown>) walk(batch, depth + 1);
    } else {
      throw new MasqueError('INVALID_INPUT', `${where}: adapt expects ${what} (nested arrays, a tensor, or an iterable of batches); found ${describe(v)}.`);
    }
  };
  walk(data, 0);
  return out;
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
  declare readonly args: Readonly<{ vocabulary: readonly K[] | null; vocabularySize: number | null }> & Record<string, unknown>;
  protected abstract readonly table: VocabularyTable<K>;
  protected abstract readonly kind: TokenKind<K>;

  protected get where(): string {
    return `${this.className} '${this.name}'`;
  }

  /** Learns the vocabulary from tokens: nested arrays, a tensor, or an iterable of batches. */
  adapt(data: unknown): void {
    if (this.args.vocabulary !== null) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: cannot adapt a layer created with a fixed vocabulary.`);
    this.table.adapt(countTokens(adaptValues(data, this.where, this.kind.isToken, this.kind.what) as K[]));
    this.recordSize();
  }

  /** Sets the vocabulary (with or without the special tokens in front). */
  setVocabulary(vocabulary: readonly K[]): void {
    this.table.set(this.kind.list(vocabulary, this.where, 'vocabulary')!);
    // A vocabulary given to the constructor lives in the config: keep the config's copy current.
    if (this.args.vocabulary !== null) (this.args as { vocabulary: readonly K[] | null }).vocabulary = [...vocabulary];
    this.recordSize();
  }

  /** The vocabulary; id i is entry i. */
  getVocabulary(includeSpecialTokens = true): K[] {
    return this.table.vocabulary(includeSpecialTokens);
  }

  /** Number of ids, special ones included. */
  vocabularySize(): number {
    return this.table.size;
  }

  protected recordSize(): void {
    (this.args as { vocabularySize: number | null }).vocabularySize = this.table.size;
  }

  /** `vocabulary.txt` when the vocabulary is not in the config (adapted or set later), as Keras saves it. */
  saveAssets(): AssetFiles | null {
    if (this.args.vocabulary !== null) return null;
    return { [VOCABULARY_FILE]: this.table.file(this.kind.toLine) };
  }

  /** Reads the vocabulary saved by `saveAssets` (or by Keras: one token a line). */
  loadAssets(files: AssetFiles, where: string): void {
    if (this.args.vocabulary !== null) return;
    const bytes = files[VOCABULARY_FILE];
    if (bytes === undefined) throw new MasqueError('CORRUPT_FILE', `${where}: ${this.where} has no vocabulary in its config and the file has no ${VOCABULARY_FILE} for it.`);
    const lines = readVocabularyFile(bytes, where);
    const tokens = lines.map(this.kind.fromLine);
    const badAt = tokens.findIndex((t) => t === undefined);
    if (badAt >= 0) throw new MasqueError('CORRUPT_FILE', `${where}: line ${badAt + 1} of ${VOCABULARY_FILE} is not one of ${this.kind.what}: ${JSON.stringify(lines[badAt])}.`);
    this.table.set(tokens as K[]);
    this.recordSize();
  }
}
