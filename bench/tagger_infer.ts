/**
 * Inference of the Brown tagger alone (issue 17): predictClasses over the
 * held-out sentences at batch 256 (sorted by length), and evaluate() at 256,
 * on an untrained model (the cost does not depend on the weights). For
 * profiling (`node --cpu-prof --import tsx bench/tagger_infer.ts`) and for
 * before/after ratios: prints wall and CPU seconds of each pass and the load
 * average.
 *
 *   npx tsx bench/tagger_infer.ts [--passes 5] [--threads N] [--no-evaluate] [--model bilstm|transformer] [--no-tables]
 *
 * `--model transformer`: the transformer-encoder tagger of
 * `npm run bench:tagger -- --model transformer` (buildTransformerTagger).
 * `--no-tables`: the LSTM projects every token's input instead of reading it
 * from its projection table (setProjectionTables({ maxBytes: 0 })).
 * `--compare-argmax N`: N pairs of passes in turns (the order alternating),
 * `predict` + `tf.argMax` against `predictClasses`, and the median of the
 * pairs' ratios.
 */
import { loadavg } from 'node:os';
import { ready, tf, setKernelThreads, kernelThreads, setProjectionTables } from '../src/index.js';
import { loadTagger } from '../demo/tagger/brown.js';
import { buildTagger, buildTransformerTagger, inferPass, sortedBatches, INFER_BATCH } from './tagger_masque.js';

function med(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

const argv = process.argv.slice(2);
const val = (n: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? Number(argv[i + 1]) : undefined;
};
await ready();
const th = val('--threads');
if (th !== undefined) setKernelThreads(th);
const passes = val('--passes') ?? 5;
const tables = !argv.includes('--no-tables');
if (!tables) setProjectionTables({ maxBytes: 0 });
const mi = argv.indexOf('--model');
const kind = mi >= 0 ? argv[mi + 1] : 'bilstm';
if (kind !== 'bilstm' && kind !== 'transformer') throw new Error(`--model must be bilstm or transformer; received ${kind}`);
const data = loadTagger({ trainLimit: 2000 });
const model = kind === 'transformer' ? buildTransformerTagger(data.words.length, data.tags.length, 1234) : buildTagger(data.words.length, data.tags.length, 1234, false);
const batches = sortedBatches(data.test.ids, INFER_BATCH);
const tokens = data.counts.testTokens;
console.log(`# ${kind}: ${tokens} held-out tokens, ${batches.length} batches of ${INFER_BATCH}; kernel threads ${kernelThreads()}; projection tables ${tables ? 'on' : 'off'}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
inferPass(model, data, batches);
const pairs = val('--compare-argmax');
if (pairs !== undefined) compareArgmax(pairs);
const walls: number[] = [], cpus: number[] = [];
for (let p = 0; p < passes; p++) {
  const r = inferPass(model, data, batches);
  walls.push(r.seconds);
  cpus.push(r.cpuSeconds);
  console.log(`predict pass ${p}: ${r.seconds.toFixed(3)} s wall, ${r.cpuSeconds.toFixed(3)} CPU s, ${Math.round(tokens / r.seconds)} tok/s, checksum ${r.correct}`);
}
console.log(`predict median: ${med(walls).toFixed(3)} s wall (${Math.round(tokens / med(walls))} tok/s), ${med(cpus).toFixed(3)} CPU s; min ${Math.min(...walls).toFixed(3)} s`);
if (!argv.includes('--no-evaluate')) {
  const order = batches.flat();
  for (let p = 0; p < 3; p++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const ev = (await model.evaluate(
      { sequences: order.map((i) => data.test.ids[i]!), labels: order.map((i) => data.test.labels[i]!), labelsPerStep: true, padding: 'post' },
      { batchSize: INFER_BATCH, verbose: 0 },
    )) as number;
    const c = process.cpuUsage(c0);
    console.log(`evaluate pass ${p}: ${((performance.now() - t0) / 1000).toFixed(3)} s wall, ${((c.user + c.system) / 1e6).toFixed(3)} CPU s, loss ${ev}`);
  }
}
/** The held-out pass with predict + tf.argMax (what `inferPass` did before predictClasses). */
function argmaxPass(): { seconds: number; correct: number } {
  return inferPass(model, data, batches, (x) => tf.tidy(() => tf.argMax(model.predict(x, { batchSize: INFER_BATCH }) as tf.Tensor, -1)));
}

function compareArgmax(n: number): void {
  const a: number[] = [], b: number[] = [], ratio: number[] = [];
  argmaxPass();
  for (let i = 0; i < n; i++) {
    let x: { seconds: number; correct: number }, y: { seconds: number; correct: number };
    if (i % 2 === 0) {
      x = argmaxPass();
      y = inferPass(model, data, batches);
    } else {
      y = inferPass(model, data, batches);
      x = argmaxPass();
    }
    if (x.correct !== y.correct) throw new Error(`the two passes disagree: ${x.correct} against ${y.correct} correct`);
    a.push(x.seconds);
    b.push(y.seconds);
    ratio.push(y.seconds / x.seconds);
  }
  console.log(`predict + tf.argMax median ${med(a).toFixed(3)} s, predictClasses median ${med(b).toFixed(3)} s; paired ratios ${ratio.map((r) => r.toFixed(2)).join(' ')}: median ${med(ratio).toFixed(3)}, ${ratio.filter((r) => r < 1).length} of ${n} below 1`);
}

console.log(`# load at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}; tensors ${tf.memory().numTensors}`);
model.dispose();
