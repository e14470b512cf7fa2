/**
 * The main job (`npm run demo`): a sentiment classifier trained on the UCI
 * Sentiment Labelled Sentences (3,000 sentences from Amazon, IMDb and Yelp
 * reviews, vendored in data/sentiment/).
 *
 * It tokenizes with TextVectorizer, trains Embedding(maskZero) →
 * Bidirectional(LSTM) → Dense(sigmoid) on per-batch padded sequences,
 * reports held-out accuracy, checks that predictions do not change when the
 * same sentences are padded to 2× and 4× the length, saves the model as a
 * Keras `.keras` file with its vocabulary, reloads it, and prints the summary
 * with the mask column.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  tf, Sequential, Embedding, Bidirectional, LSTM, Dense, Adam, TextVectorizer, padSequences, loadModel, type Model,
} from '../src/index.js';
import { loadSentimentSentences } from './sentiment_data.js';
import { shuffleInPlace, mulberry32 } from '../src/data/bucketing.js';

export interface DemoOptions {
  epochs?: number;
  /** Use only the first N shuffled sentences (tests use a few hundred). */
  limit?: number;
  /** Where to write sentiment.keras and sentiment_vocab.json (default models/). */
  outDir?: string;
  seed?: number;
  verbose?: 0 | 1 | 2;
  log?: (line: string) => void;
}

export interface DemoResult {
  trainSize: number;
  testSize: number;
  accuracy: number;
  /** Largest |p(padded to k×L) − p(padded to L)| over the test set, for k = 2 and 4, pre and post. */
  paddingDiff: number;
  /** Largest difference between the reloaded model's predictions and the trained model's. */
  reloadDiff: number;
  modelPath: string;
  vocabPath: string;
  seconds: number;
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

export async function runSentimentDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const t0 = performance.now();
  const log = options.log ?? console.log;
  const seed = options.seed ?? 1234;
  const outDir = options.outDir ?? 'models';
  const rows = loadSentimentSentences();
  shuffleInPlace(rows, mulberry32(seed));
  const data = options.limit ? rows.slice(0, options.limit) : rows;
  const nTest = Math.round(data.length * 0.2);
  const train = data.slice(nTest);
  const test = data.slice(0, nTest);
  log(`Data: ${data.length} labelled sentences (Amazon, IMDb, Yelp); ${train.length} to train, ${test.length} held out.`);

  const vectorizer = new TextVectorizer({ maxTokens: 4000 });
  vectorizer.adapt(train.map((r) => r.text));
  const trainIds = vectorizer.encode(train.map((r) => r.text));
  const testIds = vectorizer.encode(test.map((r) => r.text));
  const lengths = trainIds.map((s) => s.length).sort((a, b) => a - b);
  log(`Vocabulary: ${vectorizer.vocabularySize()} tokens (0 = padding/mask, 1 = [UNK]); sentence length median ${lengths[lengths.length >> 1]}, max ${lengths[lengths.length - 1]}.`);

  const model = new Sequential({
    name: 'sentiment',
    layers: [
      new Embedding({ inputDim: vectorizer.vocabularySize(), outputDim: 32, maskZero: true, embeddingsInitializer: { className: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed } } }),
      new Bidirectional({ layer: new LSTM({ units: 24, kernelInitializer: { className: 'GlorotUniform', config: { seed: seed + 1 } }, recurrentInitializer: { className: 'Orthogonal', config: { seed: seed + 2 } } }) }),
      new Dense({ units: 1, activation: 'sigmoid', kernelInitializer: { className: 'GlorotUniform', config: { seed: seed + 3 } } }),
    ],
  });
  const optimizer = new Adam({ learningRate: 0.01 });
  model.compile({ optimizer, loss: 'binary_crossentropy', metrics: ['accuracy'] });
  log('Training Embedding(maskZero) → Bidirectional(LSTM) → Dense; each batch is padded (padSequences, post) only to its longest sentence, batches bucketed by length:');
  await model.fit(
    { sequences: trainIds, labels: train.map((r) => r.label), padding: 'post' },
    { epochs: options.epochs ?? 6, batchSize: 32, seed, verbose: options.verbose ?? 1 },
  );

  // Held-out accuracy, on the test set padded with padSequences to its longest sentence.
  const longest = Math.max(1, ...testIds.map((s) => s.length));
  const x = padSequences(testIds, { maxlen: longest, padding: 'post' });
  const p = model.predict(x) as tf.Tensor;
  const probs = p.dataSync();
  let correct = 0;
  test.forEach((r, i) => (correct += Number((probs[i]! > 0.5 ? 1 : 0) === r.label)));
  const accuracy = correct / test.length;
  log(`Held-out accuracy: ${accuracy.toFixed(4)} (${correct}/${test.length})`);

  // Padding invariance: the same sentences padded to 2× and 4× the length, post and pre.
  let paddingDiff = 0;
  const checks: string[] = [];
  for (const padding of ['post', 'pre'] as const) {
    for (const k of [2, 4]) {
      const xk = padSequences(testIds, { maxlen: k * longest, padding });
      const pk = model.predict(xk) as tf.Tensor;
      const d = maxDiff(pk, p);
      paddingDiff = Math.max(paddingDiff, d);
      checks.push(`${padding} ${k}×: ${d.toExponential(2)}`);
      tf.dispose([xk, pk]);
    }
  }
  log(`Padding invariance on ${test.length} held-out sentences (padded to ${longest}, then 2× and 4×): largest change in any prediction = ${paddingDiff.toExponential(2)} (${checks.join(', ')}) ${paddingDiff <= 1e-5 ? 'OK' : 'FAILED'}`);

  // Save as .keras with the vocabulary, reload, compare.
  const modelPath = join(outDir, 'sentiment.keras');
  const vocabPath = join(outDir, 'sentiment_vocab.json');
  mkdirSync(dirname(modelPath), { recursive: true });
  await model.save(modelPath);
  writeFileSync(vocabPath, JSON.stringify({ vocabulary: vectorizer.vocabulary(), config: vectorizer.getConfig(), maxlen: longest }, null, 1));
  const reloaded = (await loadModel(modelPath)) as Model;
  const p2 = reloaded.predict(x) as tf.Tensor;
  const reloadDiff = maxDiff(p2, p);
  log(`Saved ${modelPath} (Keras 3 format) and ${vocabPath}; reloaded: largest prediction difference ${reloadDiff.toExponential(2)}.`);
  reloaded.summary(log);

  for (const s of ['The food was great and the staff were friendly.', 'Terrible battery, it broke after two days.']) {
    const t = padSequences(vectorizer.encode([s]), { maxlen: longest, padding: 'post' });
    const q = reloaded.predict(t) as tf.Tensor;
    log(`  "${s}" → ${q.dataSync()[0]!.toFixed(3)} (${q.dataSync()[0]! > 0.5 ? 'positive' : 'negative'})`);
    tf.dispose([t, q]);
  }
  tf.dispose([x, p, p2]);
  model.dispose();
  optimizer.dispose();
  reloaded.dispose();
  const seconds = (performance.now() - t0) / 1000;
  log(`Done in ${seconds.toFixed(1)} s on the ${tf.getBackend()} backend.`);
  return { trainSize: train.length, testSize: test.length, accuracy, paddingDiff, reloadDiff, modelPath, vocabPath, seconds };
}
