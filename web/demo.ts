/**
 * The mask visualizer's logic, without the DOM: tokenising, padding, the
 * model (the demo's saved sentiment model or a small bundled one), the mask
 * after each layer, and predictions under different paddings.
 *
 * Every function takes the Masque module as its first argument, so the page
 * runs it on the browser bundle and the Chromium test runs the very same
 * code on `src/index.ts` in Node to check what the page shows.
 */
import type * as Index from '../src/index.js';
import type { maskRole as MaskRoleFn, MaskRole } from '../src/models/summary.js';

/** The parts of Masque the visualizer uses: the public API plus `maskRole` (exported by the browser entry). */
export type Masque = typeof Index & { maskRole: typeof MaskRoleFn };
type Tensor = Index.tf.Tensor;
type Model = Index.Model;

export type Side = 'pre' | 'post';

/** A vocabulary and the TextVectorizer that encodes with it (0 = padding '', 1 = unknown '[UNK]'). */
export interface Vocabulary {
  /** id -> token. */
  tokens: string[];
  vectorizer: Index.TextVectorizer;
}

export interface Demo {
  model: Model;
  vocab: Vocabulary;
  /** Where the model came from, shown on the page. */
  source: string;
  /** A fixed padded length when the model's input requires one. */
  fixedLength: number | null;
  /** The same model with its Embedding's mask turned off (see `maskOff`), or null. */
  unmasked: Model | null;
}

/** Frees a demo's models. */
export function disposeDemo(demo: Demo): void {
  demo.model.dispose();
  demo.unmasked?.dispose();
}

// ---- vocabulary and tokens ----

/**
 * A vocabulary from a token list (index = id; '' and '[UNK]' first, added
 * when missing), tokenised with `config` (a `TextVectorizer` config, as
 * `getConfig()` returns it) when given.
 */
export function makeVocabulary(m: Masque, tokens: readonly string[], config: Index.TextVectorizerArgs = {}): Vocabulary {
  const vectorizer = new m.TextVectorizer({ ...config, vocabulary: tokens });
  return { tokens: vectorizer.vocabulary(), vectorizer };
}

/**
 * Reads a vocabulary JSON: a list of tokens (index = id, as
 * `TextVectorizer.vocabulary()` returns it); or an object holding one under
 * `vocabulary`, `vocab` or `tokens`, with the vectorizer's `config` beside
 * it (as the demo saves it: `{ vocabulary, config, maxlen }`); or an
 * object `{token: id}`.
 */
export function parseVocabulary(m: Masque, json: unknown): Vocabulary {
  if (Array.isArray(json)) return makeVocabulary(m, json.map(String));
  if (json !== null && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    const key = ['vocabulary', 'vocab', 'tokens'].find((k) => Array.isArray(o[k]));
    if (key !== undefined) {
      const config = o['config'] !== null && typeof o['config'] === 'object' ? (o['config'] as Index.TextVectorizerArgs) : {};
      return makeVocabulary(m, (o[key] as unknown[]).map(String), config);
    }
    const tokens: string[] = [];
    for (const [t, id] of Object.entries(o)) if (typeof id === 'number') tokens[id] = t;
    return makeVocabulary(m, Array.from(tokens, (t, i) => t ?? (i === 0 ? '' : `[${i}]`)));
  }
  throw new Error('vocabulary JSON: expected a list of tokens or an object mapping tokens to ids');
}

/** The words of a sentence, as the vectorizer splits them (lower case, no punctuation). */
export function tokenize(vocab: Vocabulary, sentence: string): string[] {
  return vocab.vectorizer.tokenize(sentence);
}

/** Token ids of a sentence (unknown words -> 1). */
export function encode(vocab: Vocabulary, sentence: string): number[] {
  return vocab.vectorizer.encode([sentence])[0]!;
}

/** Splits text into sentences: one per non-empty line. */
export function splitSentences(text: string): string[] {
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The ids a row keeps after truncation to `maxlen` (Keras's pad_sequences rule). */
export function truncate(ids: number[], maxlen: number, truncating: Side): number[] {
  if (ids.length <= maxlen) return ids;
  return truncating === 'pre' ? ids.slice(ids.length - maxlen) : ids.slice(0, maxlen);
}

/** Pads with `padSequences` (0 = padding) and returns plain rows. */
export function pad(m: Masque, seqs: number[][], maxlen: number, padding: Side, truncating: Side): number[][] {
  const out = m.padSequences(seqs, { maxlen, padding, truncating });
  const rows = out.arraySync() as number[][];
  out.dispose();
  return rows;
}

// ---- loading ----

/** Fetches a URL's body, or null on 404 / network failure. */
export type Fetcher = (url: string) => Promise<Uint8Array | null>;

/** Where a model and its vocabulary are fetched from, relative to the page. */
export interface ModelFiles {
  keras: string;
  vocab: string;
  /** Shown on the page. */
  label: string;
}

/** The demo's trained model, as `npm run demo` saves it (served from the repository's models/ folder). */
export const DEMO_FILES: ModelFiles = { keras: 'models/sentiment.keras', vocab: 'models/sentiment_vocab.json', label: "the demo's trained model (models/sentiment.keras)" };
/** The small bundled model (web/bundled/, made by web/bundled_model.ts; hand-set weights). */
export const BUNDLED_FILES: ModelFiles = { keras: 'bundled/sentiment.keras', vocab: 'bundled/sentiment_vocab.json', label: 'the bundled model (web/bundled/sentiment.keras, hand-set weights; run the demo to train one)' };

/** Loads a `.keras` model and its vocabulary JSON from bytes. */
export async function demoFromBytes(m: Masque, keras: Uint8Array, vocabJson: Uint8Array, source: string): Promise<Demo> {
  const model = await m.loadModelFromBytes(keras);
  const vocab = parseVocabulary(m, JSON.parse(new TextDecoder().decode(vocabJson)));
  const len = model.inputs[0]!.shape[1];
  return { model, vocab, source, fixedLength: typeof len === 'number' ? len : null, unmasked: maskOff(m, model) };
}

/**
 * The same model and weights with every Embedding's `maskZero` turned off:
 * padding ids then flow through as if they were words. Shows what the mask
 * is for. Null when no Embedding makes a mask.
 */
export function maskOff(m: Masque, model: Model): Model | null {
  const config = m.modelToKerasConfig(model);
  let changed = false;
  const visit = (o: unknown): void => {
    if (Array.isArray(o)) o.forEach(visit);
    else if (o !== null && typeof o === 'object') {
      const r = o as Record<string, unknown>;
      const c = r['config'] as Record<string, unknown> | undefined;
      if (r['class_name'] === 'Embedding' && c?.['mask_zero'] === true) {
        c['mask_zero'] = false;
        changed = true;
      }
      // A functional config records the masks Keras passed as call arguments (made by op nodes such as NotEqual): drop them too.
      const kwargs = r['kwargs'] as Record<string, unknown> | undefined;
      if (Array.isArray(r['args']) && kwargs !== null && typeof kwargs === 'object' && 'mask' in kwargs) delete kwargs['mask'];
      Object.values(r).forEach(visit);
    }
  };
  visit(config);
  if (!changed) return null;
  const weights = model.getWeights();
  const copy = m.modelFromKerasConfig(config, weights);
  m.tf.dispose(weights);
  return copy;
}

/**
 * Loads the first of `candidates` whose `.keras` file and vocabulary can
 * both be fetched (by default the demo's model, then the bundled one).
 */
export async function loadDemo(m: Masque, fetchBytes: Fetcher, candidates: readonly ModelFiles[] = [DEMO_FILES, BUNDLED_FILES]): Promise<Demo> {
  const tried: string[] = [];
  for (const files of candidates) {
    const [keras, vocab] = await Promise.all([fetchBytes(files.keras), fetchBytes(files.vocab)]);
    if (keras !== null && vocab !== null) return demoFromBytes(m, keras, vocab, files.label);
    tried.push(`${files.keras} + ${files.vocab}`);
  }
  throw new Error(`no model found: tried ${tried.join('; ')}`);
}

// ---- running ----

export interface LayerTrace {
  name: string;
  className: string;
  role: MaskRole;
  /** The output shape of this layer for the batch. */
  shape: number[];
  /** The mask on the layer's output, as 0/1 rows (flattened beyond [batch, time]), or null. */
  mask: number[][] | null;
}

export interface Row {
  sentence: string;
  words: string[];
  /** Ids before padding (after truncation). */
  kept: number[];
  /** The padded row. */
  ids: number[];
  /** The mask made from the ids (1 = real token). */
  mask: number[];
}

export interface Prediction {
  /** With the chosen padding and length. */
  value: number;
  /** With the other padding side. */
  otherSide: number;
  /** The sentence alone, without padding (null for an empty sentence). */
  alone: number | null;
  /** Padded to twice the length. */
  longer: number;
  /** Largest difference between the four. */
  maxDiff: number;
  /** With the mask turned off (`Demo.unmasked`): padded as shown, and padded on the other side; null without such a model. */
  maskOff: [number, number] | null;
}

export interface Result {
  maxlen: number;
  rows: Row[];
  layers: LayerTrace[];
  predictions: Prediction[];
}

const tracers = new WeakMap<Model, Model>();

/** A model with the same input whose outputs are every layer's first output (cached per model). */
function tracer(m: Masque, model: Model): Model {
  let t = tracers.get(model);
  if (!t) {
    const outputs = layerNodes(model).map((n) => n.outputs[0]!);
    t = new m.Model({ inputs: model.inputs, outputs, maskPolicy: model.maskPolicy, name: `${model.name}_trace` });
    tracers.set(model, t);
  }
  return t;
}

/** The model's graph nodes without its inputs, in order. */
function layerNodes(model: Model): Model['graphNodes'] {
  return model.graphNodes.filter((n) => n.layer.className !== 'InputLayer');
}

/** Runs `fn` in a tidy scope and returns its plain (non-tensor) result. */
function scoped<T>(m: Masque, fn: () => T): T {
  let out: T | undefined;
  m.tf.tidy(() => {
    out = fn();
  });
  return out as T;
}

function rowsOf(t: Tensor): number[][] {
  const b = t.shape[0]!;
  const data = Array.from(t.dataSync() as ArrayLike<number | boolean>, Number);
  const w = b === 0 ? 0 : data.length / b;
  return Array.from({ length: b }, (_, i) => data.slice(i * w, (i + 1) * w));
}

/** First output value of each row. */
function predictRows(m: Masque, model: Model, rows: number[][]): number[] {
  return scoped(m, () => {
    const out = model.predict(m.tf.tensor2d(rows, [rows.length, rows[0]?.length ?? 0], 'int32'));
    const t = Array.isArray(out) ? out[0]! : out;
    return rowsOf(t).map((r) => r[0]!);
  });
}

/** Everything the page shows for `text` padded `padding` to `maxlen`. */
export function run(m: Masque, demo: Demo, text: string, maxlen: number, padding: Side, truncating: Side): Result {
  const sentences = splitSentences(text);
  const encoded = sentences.map((s) => encode(demo.vocab, s));
  const len = demo.fixedLength ?? maxlen;
  const ids = pad(m, encoded, len, padding, truncating);
  const rows: Row[] = sentences.map((sentence, i) => {
    const kept = truncate(encoded[i]!, len, truncating);
    return { sentence, words: tokenize(demo.vocab, sentence), kept, ids: ids[i]!, mask: ids[i]!.map((v) => (v !== 0 ? 1 : 0)) };
  });
  if (rows.length === 0) return { maxlen: len, rows, layers: [], predictions: [] };

  const layers: LayerTrace[] = scoped(m, () => {
    const out = tracer(m, demo.model).predict(m.tf.tensor2d(ids, [ids.length, len], 'int32'));
    const outs = Array.isArray(out) ? out : [out];
    return layerNodes(demo.model).map((node, k) => {
      const mask = m.getMask(outs[k]!);
      return { name: node.layer.name, className: node.layer.className, role: m.maskRole(node), shape: outs[k]!.shape, mask: mask === null ? null : rowsOf(mask) };
    });
  });

  const value = predictRows(m, demo.model, ids);
  const other = pad(m, encoded, len, padding === 'pre' ? 'post' : 'pre', truncating);
  const otherSide = predictRows(m, demo.model, other);
  const longer = demo.fixedLength === null ? predictRows(m, demo.model, pad(m, rows.map((r) => r.kept), 2 * len, padding, truncating)) : value;
  const off = demo.unmasked === null ? null : [predictRows(m, demo.unmasked, ids), predictRows(m, demo.unmasked, other)];
  const predictions = rows.map((r, i) => {
    const alone = r.kept.length > 0 && demo.fixedLength === null ? predictRows(m, demo.model, [r.kept])[0]! : null;
    const all = [value[i]!, otherSide[i]!, longer[i]!, ...(alone === null ? [] : [alone])];
    const maxDiff = Math.max(...all.map((v) => Math.abs(v - value[i]!)));
    return { value: value[i]!, otherSide: otherSide[i]!, alone, longer: longer[i]!, maxDiff, maskOff: off === null ? null : [off[0]![i]!, off[1]![i]!] as [number, number] };
  });
  return { maxlen: len, rows, layers, predictions };
}
