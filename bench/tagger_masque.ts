/**
 * Masque on the Brown part-of-speech job (issue 17), through the public API,
 * the counterpart of bench/tagger_torch.py (same data, same JSON shape):
 *
 *   npx tsx bench/tagger_masque.ts [--epochs N] [--train-limit N] [--json] [--seed S] [--metrics] [--init keras|torch] [--lr 0.001] [--no-relaxed-simd]
 *
 * (`--no-relaxed-simd`: the kernel's plain build; by default its relaxed-SIMD
 * build, turned on for this process on Node 20: demo/relaxed_simd.ts.)
 *
 * Model: Embedding(V, 64, maskZero) -> Bidirectional(LSTM(64,
 * returnSequences)) -> Dense(n_tags, softmax) at every step; Keras's default
 * initializers (the embedding uniform in ±0.05), or with `--init torch`
 * PyTorch's (embedding N(0, 1); LSTM and Dense weights and biases uniform in
 * ±1/sqrt(fan), no unit forget bias), which learn much faster at lr 1e-3;
 * Adam 1e-3; sparse categorical cross-entropy, which Masque
 * averages over the valid (unmasked) steps. `--metrics` also compiles
 * 'accuracy' (off by default: the torch script computes no training metric).
 *
 * Training: fit({ sequences, labels, labelsPerStep: true }) at batch 32 with
 * fit's own batching: shuffled, bucketed by length in pools of 50 batches,
 * each batch padded (post) to its longest sentence. Inference: the held-out
 * sentences sorted by length (longest first, ties by index, as the torch
 * script), batches of 256 padded with padSequences, `predictClasses` (the
 * argmax of the final Dense layer's logits, without its softmax: what the
 * torch script's argmax of its Linear output computes); the rate is the
 * median of 3 passes. evaluate() at batch 256 on the same sorted
 * sentences is timed too (`evaluateSeconds`).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import {
  ready, tf, Sequential, Model, Input, Embedding, Bidirectional, LSTM, Dense, Adam, MultiHeadAttention, Add, LayerNormalization,
  padSequences, planBatches, kernelThreads, relaxedSimd, type SymbolicTensor,
} from '../src/index.js';
import { loadTagger, type TaggerData } from '../demo/tagger/brown.js';
import { useRelaxedSimd } from '../demo/relaxed_simd.js';

export const EMBED = 64;
export const UNITS = 64;
export const BATCH = 32;
export const INFER_BATCH = 256;

export interface TaggerOptions {
  epochs: number;
  trainLimit?: number;
  seed: number;
  metrics: boolean;
  json: boolean;
  init: 'keras' | 'torch';
  lr: number;
  relaxedSimd: boolean;
}

export function parseArgs(argv: string[]): TaggerOptions {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const i = argv.indexOf('--init');
  const init = i >= 0 ? argv[i + 1] : 'keras';
  if (init !== 'keras' && init !== 'torch') throw new Error(`--init must be keras or torch; received ${init}`);
  const opts: TaggerOptions = { epochs: value('--epochs') ?? 1, seed: value('--seed') ?? 1234, metrics: argv.includes('--metrics'), json: argv.includes('--json'), init, lr: value('--lr') ?? 1e-3, relaxedSimd: !argv.includes('--no-relaxed-simd') };
  const limit = value('--train-limit');
  if (limit !== undefined) opts.trainLimit = limit;
  return opts;
}

export function buildTagger(vocab: number, nTags: number, seed: number, metrics: boolean, init: 'keras' | 'torch' = 'keras', lr = 1e-3): Sequential {
  const uniform = (limit: number, k: number) => ({ className: 'RandomUniform', config: { minval: -limit, maxval: limit, seed: seed + k } });
  const torch = init === 'torch';
  const model = new Sequential({
    name: 'tagger',
    layers: [
      new Embedding({
        inputDim: vocab,
        outputDim: EMBED,
        maskZero: true,
        embeddingsInitializer: torch ? { className: 'RandomNormal', config: { mean: 0, stddev: 1, seed } } : uniform(0.05, 0),
      }),
      new Bidirectional({
        layer: new LSTM({
          units: UNITS,
          returnSequences: true,
          kernelInitializer: torch ? uniform(1 / Math.sqrt(UNITS), 1) : { className: 'GlorotUniform', config: { seed: seed + 1 } },
          recurrentInitializer: torch ? uniform(1 / Math.sqrt(UNITS), 2) : { className: 'Orthogonal', config: { seed: seed + 2 } },
          ...(torch ? { biasInitializer: uniform(1 / Math.sqrt(UNITS), 4), unitForgetBias: false } : {}),
        }),
      }),
      new Dense({
        units: nTags,
        activation: 'softmax',
        kernelInitializer: torch ? uniform(1 / Math.sqrt(2 * UNITS), 3) : { className: 'GlorotUniform', config: { seed: seed + 3 } },
        ...(torch ? { biasInitializer: uniform(1 / Math.sqrt(2 * UNITS), 5) } : {}),
      }),
    ],
  });
  model.compile({ optimizer: new Adam({ learningRate: lr }), loss: 'sparse_categorical_crossentropy', metrics: metrics ? ['accuracy'] : [] });
  return model;
}

/**
 * The transformer-encoder variant (issue 17; `npm run bench:tagger -- --model
 * transformer`), a functional model whose masks flow from the embedding:
 * Embedding(V, 64, maskZero) -> x + MultiHeadAttention(2 heads, keyDim 32)(x, x)
 * -> LayerNormalization -> x + Dense(64)(Dense(128, relu)(x)) ->
 * LayerNormalization -> Dense(n_tags, softmax) at every step: one post-norm
 * encoder block, the same sizes as PyTorch's
 * nn.TransformerEncoderLayer(d_model=64, nhead=2, dim_feedforward=128,
 * dropout=0). No positional encoding (nor on the PyTorch side). Keras's
 * default initializers (PyTorch uses its own); Adam `lr`.
 */
export function buildTransformerTagger(vocab: number, nTags: number, seed: number, lr = 1e-3): Model {
  const one = (t: SymbolicTensor | SymbolicTensor[]) => t as SymbolicTensor;
  const ids = Input({ shape: [null], dtype: 'int32' });
  const x = one(new Embedding({ inputDim: vocab, outputDim: EMBED, maskZero: true, embeddingsInitializer: { className: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed } } }).apply(ids));
  // Every initializer seeded: each build (each round of bench:tagger) starts from the same weights.
  // (As in Keras, MultiHeadAttention gives its query, key and value projections the same seeded initializer.)
  const glorot = (k: number) => ({ className: 'GlorotUniform', config: { seed: seed + k } });
  const att = one(new MultiHeadAttention({ numHeads: 2, keyDim: EMBED / 2, kernelInitializer: glorot(1) }).apply([x, x]));
  const h1 = one(new LayerNormalization({}).apply(one(new Add().apply([x, att]))));
  const ff = one(new Dense({ units: EMBED, kernelInitializer: glorot(3) }).apply(one(new Dense({ units: 128, activation: 'relu', kernelInitializer: glorot(2) }).apply(h1))));
  const h2 = one(new LayerNormalization({}).apply(one(new Add().apply([h1, ff]))));
  const y = one(new Dense({ units: nTags, activation: 'softmax', kernelInitializer: glorot(4) }).apply(h2));
  const model = new Model({ inputs: ids, outputs: y, name: 'transformer_tagger' });
  model.compile({ optimizer: new Adam({ learningRate: lr }), loss: 'sparse_categorical_crossentropy', metrics: [] });
  return model;
}

/** Indices sorted by length, longest first, ties by index; cut into batches of `size`. */
export function sortedBatches(ids: number[][], size: number): number[][] {
  const order = ids.map((_, i) => i).sort((a, b) => ids[b]!.length - ids[a]!.length || a - b);
  const out: number[][] = [];
  for (let s = 0; s < order.length; s += size) out.push(order.slice(s, s + size));
  return out;
}

/**
 * Forward + argmax over the held-out batches (`classesOf` a padded batch:
 * by default `predictClasses`); returns the counts and the time.
 */
export function inferPass(
  model: Model,
  data: TaggerData,
  batches: number[][],
  classesOf: (x: tf.Tensor) => tf.Tensor = (x) => model.predictClasses(x, { batchSize: INFER_BATCH }),
): { correct: number; total: number; seconds: number; cpuSeconds: number } {
  let correct = 0, total = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (const rows of batches) {
    const seqs = rows.map((i) => data.test.ids[i]!);
    const x = padSequences(seqs, { maxlen: seqs[0]!.length, padding: 'post' });
    const pred = classesOf(x);
    const p = pred.dataSync();
    const t = x.shape[1]!;
    rows.forEach((i, r) => {
      const gold = data.test.labels[i]!;
      for (let j = 0; j < gold.length; j++) if (p[r * t + j] === gold[j]) correct++;
      total += gold.length;
    });
    tf.dispose([x, pred]);
  }
  const c = process.cpuUsage(c0);
  return { correct, total, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
}

export function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', nproc: cpus().length, node: process.version };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const log = opts.json ? (s: string) => console.error(s) : (s: string) => console.log(s);
  useRelaxedSimd(opts.relaxedSimd);
  await ready();
  let t0 = performance.now();
  const data = loadTagger(opts.trainLimit === undefined ? {} : { trainLimit: opts.trainLimit });
  const vocab = data.words.length, nTags = data.tags.length;
  const { trainTokens, testTokens, trainSentences, testSentences } = data.counts;
  const lengths = data.train.ids.map((s) => s.length);
  const plan = planBatches(lengths, { batchSize: BATCH, shuffle: true, bucketing: true, seed: opts.seed });
  const padded = plan.reduce((a, b) => a + b.length * Math.max(...Array.from(b, (i) => lengths[i]!)), 0);
  const testBatches = sortedBatches(data.test.ids, INFER_BATCH);
  const sortedTest = testBatches.flat();
  log(
    `data: ${trainSentences} training sentences (${trainTokens} tokens, ${(trainTokens / padded).toFixed(3)} of the padded cells real), ` +
      `${testSentences} held out (${testTokens} tokens); V=${vocab}, ${nTags} tags; prepared in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const model = buildTagger(vocab, nTags, opts.seed, opts.metrics, opts.init, opts.lr);
  const train = { sequences: data.train.ids, labels: data.train.labels, labelsPerStep: true, padding: 'post' as const };
  const loadBefore = loadavg()[0]!;
  const epochSeconds: number[] = [], epochCpu: number[] = [], losses: number[] = [], accs: number[] = [];
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    t0 = performance.now();
    const c0 = process.cpuUsage();
    const h = await model.fit(train, undefined, { epochs: 1, batchSize: BATCH, seed: opts.seed + epoch, verbose: 0 });
    const c = process.cpuUsage(c0);
    epochSeconds.push((performance.now() - t0) / 1000);
    epochCpu.push((c.user + c.system) / 1e6);
    losses.push(h.history['loss']![0]!);
    const r = inferPass(model, data, testBatches);
    accs.push(r.correct / r.total);
    log(`epoch ${epoch + 1}: ${epochSeconds[epoch]!.toFixed(1)} s, ${(trainTokens / epochSeconds[epoch]!).toFixed(0)} real tokens/s, loss ${losses[epoch]!.toFixed(4)}, held-out accuracy ${accs[epoch]!.toFixed(4)}`);
  }
  const passes = [0, 1, 2].map(() => inferPass(model, data, testBatches));
  const mid = <T>(xs: T[], key: (x: T) => number) => xs.map(key).sort((a, b) => a - b)[1]!;
  t0 = performance.now();
  const ev = (await model.evaluate(
    { sequences: sortedTest.map((i) => data.test.ids[i]!), labels: sortedTest.map((i) => data.test.labels[i]!), labelsPerStep: true, padding: 'post' },
    { batchSize: INFER_BATCH, verbose: 0 },
  )) as number;
  const evaluateSeconds = (performance.now() - t0) / 1000;
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const result = {
    framework: 'masque',
    version,
    init: opts.init,
    threads: kernelThreads(),
    relaxedSimd: relaxedSimd(),
    machine: machine(),
    epochs: opts.epochs,
    trainSentences,
    trainTokens,
    testTokens,
    vocab,
    tags: nTags,
    batchSize: BATCH,
    inferBatchSize: INFER_BATCH,
    trainRealFraction: trainTokens / padded,
    epochSeconds,
    epochCpuSeconds: epochCpu,
    trainTokensPerSec: (trainTokens * opts.epochs) / epochSeconds.reduce((a, b) => a + b, 0),
    inferTokensPerSec: testTokens / mid(passes, (p) => p.seconds),
    inferCpuSeconds: mid(passes, (p) => p.cpuSeconds),
    loadAverage: [loadBefore, loadavg()[0]!],
    loss: losses,
    heldOutAccuracyPerEpoch: accs,
    heldOutAccuracy: accs[accs.length - 1]!,
    evaluateSeconds,
    evaluateLoss: ev,
  };
  log(
    `training ${result.trainTokensPerSec.toFixed(0)} real tokens/s; inference ${result.inferTokensPerSec.toFixed(0)} tokens/s (batch 256); ` +
      `held-out accuracy ${result.heldOutAccuracy.toFixed(4)}; evaluate() ${evaluateSeconds.toFixed(1)} s`,
  );
  if (opts.json) console.log(JSON.stringify(result));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
