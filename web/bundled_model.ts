/**
 * The mask visualizer's bundled sentiment model, used until the demo has
 * trained one (`models/sentiment.keras`). It is built with Masque and saved
 * as a Keras `.keras` file, so the page always loads a model the same way:
 * `loadModelFromBytes` on fetched bytes.
 *
 *   npx tsx web/bundled_model.ts     rewrites web/bundled/sentiment.keras and sentiment_vocab.json
 *
 * The weights are set by hand (no training): the LSTM's first unit adds up
 * the sentiment of the words (+1 positive, -1 negative) and the head turns
 * the sum into a probability. The padding row of the embedding (id 0) is not
 * zero: a model that ignored the mask would lean positive on padded rows,
 * so the page's padding check has something to catch.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Index from '../src/index.js';

type M = typeof Index;

const POSITIVE = ['good', 'great', 'love', 'loved', 'excellent', 'wonderful', 'fun', 'best', 'enjoyed', 'amazing', 'like', 'nice', 'happy', 'brilliant', 'beautiful'];
const NEGATIVE = ['bad', 'terrible', 'awful', 'boring', 'worst', 'hate', 'hated', 'poor', 'dull', 'waste', 'disappointing', 'sad', 'slow', 'mess', 'weak'];
const NEUTRAL = ['the', 'a', 'an', 'movie', 'film', 'it', 'was', 'is', 'this', 'and', 'but', 'not', 'very', 'plot', 'acting', 'i', 'really', 'story', 'so', 'of', 'to', 'too', 'with', 'end', 'music'];

/** The bundled vocabulary: index = token id ('' = padding, '[UNK]' = unknown). */
export const BUNDLED_VOCABULARY: readonly string[] = ['', '[UNK]', ...POSITIVE, ...NEGATIVE, ...NEUTRAL];

/** Folder of the bundled files (copied to `bundled/` beside the page by the build). */
export const BUNDLED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'bundled');

/** A deterministic value in [-0.5, 0.5). */
function wobble(i: number, j: number): number {
  const x = Math.sin(12.9898 * (i + 1) + 78.233 * (j + 1)) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

const DIM = 4;
const UNITS = 4;

/**
 * Embedding(maskZero) -> Dropout -> LSTM -> Dense(sigmoid): the Embedding
 * makes the mask, Dropout passes it, the LSTM consumes it (it returns its
 * last valid state), and the head sees no mask.
 */
export function buildBundledModel(m: M): Index.Model {
  const vocab = BUNDLED_VOCABULARY;
  const tokens = m.Input({ shape: [null], dtype: 'int32', name: 'tokens' });
  const embedded = new m.Embedding({ inputDim: vocab.length, outputDim: DIM, maskZero: true, name: 'embedding' }).apply(tokens);
  const dropped = new m.Dropout({ rate: 0.2, name: 'dropout' }).apply(embedded);
  const state = new m.LSTM({ units: UNITS, name: 'lstm' }).apply(dropped);
  const out = new m.Dense({ units: 1, activation: 'sigmoid', name: 'sentiment' }).apply(state);
  const model = new m.Model({ inputs: tokens, outputs: out, name: 'bundled_sentiment' });

  const pos = new Set(POSITIVE);
  const neg = new Set(NEGATIVE);
  // Feature 0 is the word's sentiment; the padding row gets 0.8.
  const table = vocab.flatMap((t, i) => [pos.has(t) ? 1 : neg.has(t) ? -1 : i === 0 ? 0.8 : 0, ...[1, 2, 3].map((j) => 0.5 * wobble(i, j))]);
  // Keras's gate order: i, f, c, o (UNITS columns each).
  const gate = { i: 0, f: UNITS, c: 2 * UNITS, o: 3 * UNITS };
  const kernel = Array.from({ length: DIM * 4 * UNITS }, (_, k) => 0.3 * wobble(k, 11));
  for (let u = 0; u < 4 * UNITS; u++) kernel[u] = 0; // feature 0 drives only unit 0's candidate
  kernel[gate.c] = 1.5;
  const recurrent = Array.from({ length: UNITS * 4 * UNITS }, (_, k) => 0.1 * wobble(k, 13));
  for (let r = 0; r < UNITS; r++) for (const g of [gate.i, gate.f, gate.c, gate.o]) recurrent[r * 4 * UNITS + g] = 0;
  // Input, forget and output gates open (sigmoid(3) = 0.95): unit 0 keeps a running sum.
  const bias = Array.from({ length: 4 * UNITS }, (_, k) => (k < gate.c || k >= gate.o ? 3 : 0));
  model.setWeights([table, kernel, recurrent, bias, [3, 0.3, -0.2, 0.1], [0]]);
  return model;
}

/** Writes `sentiment.keras` and `sentiment_vocab.json` into `dir`. */
export async function writeBundledModel(m: M, dir: string = BUNDLED_DIR): Promise<void> {
  const model = buildBundledModel(m);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sentiment.keras'), await m.saveModelToBytes(model));
  writeFileSync(join(dir, 'sentiment_vocab.json'), `${JSON.stringify(BUNDLED_VOCABULARY)}\n`);
  model.dispose();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const m = await import('../src/index.js');
  await m.ready();
  await writeBundledModel(m);
  console.log(`wrote ${join(BUNDLED_DIR, 'sentiment.keras')} and sentiment_vocab.json`);
}
