/**
 * The UCI "Sentiment Labelled Sentences" data set (Kotzias et al., KDD 2015),
 * vendored in `data/sentiment/` from the npm package sentiment@5.0.2 (see the
 * README there for attribution and checksums). Node only: reads files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasqueError, describe } from '../src/errors.js';

export type SentimentSource = 'amazon' | 'imdb' | 'yelp';

export interface SentimentSentence {
  /** The sentence, verbatim (IMDb sentences keep their trailing spaces). */
  text: string;
  /** 1 = positive, 0 = negative. */
  label: 0 | 1;
  source: SentimentSource;
}

export const SENTIMENT_SOURCES: readonly SentimentSource[] = ['amazon', 'imdb', 'yelp'];

/**
 * Finds `data/sentiment/` by walking up from this module's folder, so it works
 * from `demo/` (tsx) as well as from any folder inside the repository.
 */
export function defaultSentimentDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'data', 'sentiment');
    if (existsSync(join(candidate, 'amazon.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'sentiment');
}

/**
 * Loads the 3,000 labelled sentences (1,000 per source, half positive), in
 * file order: amazon, imdb, yelp. `dir` defaults to the repository's
 * `data/sentiment/`. Skips the empty entry that ends each file.
 */
export function loadSentimentSentences(dir: string = defaultSentimentDir()): SentimentSentence[] {
  const rows: SentimentSentence[] = [];
  for (const source of SENTIMENT_SOURCES) {
    const path = join(dir, `${source}.json`);
    if (!existsSync(path)) {
      throw new MasqueError('INVALID_ARGUMENT', `loadSentimentSentences: expected the file ${path} (the UCI Sentiment Labelled Sentences as JSON, see data/sentiment/README.md), but it does not exist. Pass the folder that holds amazon.json, imdb.json and yelp.json.`);
    }
    let entries: unknown;
    try {
      entries = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new MasqueError('CORRUPT_FILE', `loadSentimentSentences: ${path} is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(entries)) {
      throw new MasqueError('CORRUPT_FILE', `loadSentimentSentences: ${path} should hold an array of {text, class}; received ${describe(entries)}.`);
    }
    entries.forEach((e: { text?: unknown; class?: unknown }, i) => {
      if (e?.class === null && e.text === '') return; // trailing empty line of the original file
      if (typeof e?.text !== 'string' || (e.class !== 0 && e.class !== 1)) {
        throw new MasqueError('CORRUPT_FILE', `loadSentimentSentences: entry ${i} of ${path} should be {text: string, class: 0 | 1}; received ${JSON.stringify(e).slice(0, 120)}.`);
      }
      rows.push({ text: e.text, label: e.class, source });
    });
  }
  return rows;
}
