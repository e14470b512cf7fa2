/**
 * The Dense layer's three paths A/B in one process, in turns (the machine
 * is shared, so separate runs cannot show a 10-20% change): the tagger of
 * bench/tagger_masque.ts trained for one epoch on its first 8,000
 * sentences (batch 32) and run over the held-out sentences (batch 256), per
 * path and round; wall and CPU seconds (all threads), medians.
 *
 *   npx tsx bench/dense_ab.ts [--rounds 3] [--train-limit 8000] [--no-train] [--paths tfjs,alone,split] [--split-from N]
 *
 * Paths (src/ops/dense_ops.ts): tfjs = tfjs's ops (as with
 * setKernelThreads(1) or before the kernel path existed); alone = the
 * kernel on the calling thread; split = the default (the kernel, split over
 * two threads when large enough).
 */
import { ready, tf } from '../src/index.js';
import { setDenseThresholds } from '../src/ops/dense_ops.js';
import { loadTagger } from '../demo/tagger/brown.js';
import { BATCH, buildTagger, inferPass, sortedBatches, INFER_BATCH } from './tagger_masque.js';

const argv = process.argv.slice(2);
const val = (n: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? Number(argv[i + 1]) : undefined;
};
await ready();
const rounds = val('--rounds') ?? 3;
const data = loadTagger({ trainLimit: val('--train-limit') ?? 8000 });
const model = buildTagger(data.words.length, data.tags.length, 1234, false);
const batches = sortedBatches(data.test.ids, INFER_BATCH);
const paths: Record<string, { kernel?: number; split?: number }> = { tfjs: { kernel: Infinity }, alone: { split: Infinity }, split: {} };
// --split-from N: a fourth path, 'low', that splits from N FLOP per thread (the default is MIN_SPLIT_WORK, 3e7).
if (val('--split-from') !== undefined) paths['low'] = { split: val('--split-from')! };
const train = { sequences: data.train.ids, labels: data.train.labels, labelsPerStep: true, padding: 'post' as const };
const results: Record<string, { infer: [number, number][]; fit: [number, number][] }> = {};
for (const p of Object.keys(paths)) results[p] = { infer: [], fit: [] };
inferPass(model, data, batches);
const only = argv.indexOf('--paths') >= 0 ? argv[argv.indexOf('--paths') + 1]!.split(',') : null;
const names = Object.keys(paths).filter((p) => only === null || only.includes(p));
for (let r = 0; r < rounds; r++) {
  // Rotate the order each round.
  for (const p of [...names.slice(r % names.length), ...names.slice(0, r % names.length)]) {
    setDenseThresholds(paths[p]);
    const i = inferPass(model, data, batches);
    results[p]!.infer.push([i.seconds, i.cpuSeconds]);
    if (!argv.includes('--no-train')) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await model.fit(train, undefined, { epochs: 1, batchSize: BATCH, seed: r, verbose: 0 });
      const c = process.cpuUsage(c0);
      results[p]!.fit.push([(performance.now() - t0) / 1000, (c.user + c.system) / 1e6]);
    }
  }
}
setDenseThresholds();
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const show = (xs: [number, number][]) => (xs.length === 0 ? '-' : `${med(xs.map((x) => x[0])).toFixed(3)} / ${med(xs.map((x) => x[1])).toFixed(3)} (${xs.map(([w, c]) => `${w.toFixed(2)}/${c.toFixed(2)}`).join(', ')})`);
console.log('| path | inference pass, wall / CPU s median (each round) | training epoch, wall / CPU s median (each round) |');
console.log('| --- | --- | --- |');
for (const p of names) console.log(`| ${p} | ${show(results[p]!.infer)} | ${show(results[p]!.fit)} |`);
console.log(`# tensors ${tf.memory().numTensors}`);
