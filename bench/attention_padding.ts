/**
 * npm run bench:attention: what padding costs MultiHeadAttention. The same
 * rows (token ids, log-normal lengths) are padded to their longest length T
 * and to 4T, and timed in turns (T, 4T, T, 4T, ...) so that drift in the
 * machine's speed affects both alike; the result is the ratio of the
 * medians, by wall time and by the process's CPU time (all threads).
 *
 * Workloads, each for inference and one training step:
 *   model: Embedding(vocab, dim, maskZero) -> MultiHeadAttention (self,
 *          the Embedding's mask) -> GlobalAveragePooling1D -> Dense(1,
 *          sigmoid); predict (+ readback) and trainOnBatch (Adam, binary
 *          cross-entropy), like the RNN rows of npm run bench;
 *   layer: MultiHeadAttention alone on float [B, T, dim] inputs with the
 *          [B, T] mask; forward (+ readback), and the gradients with respect
 *          to its weights of the sum of its output's masked mean over the
 *          steps (a loss that reads the real tokens only).
 * Checks first that the model's predictions at T and at 4T agree.
 *
 *   npm run bench:attention -- [--b=32] [--median=40] [--sigma=0.8] [--max=200]
 *        [--dim=64] [--heads=4] [--vocab=2000] [--budget=4] [--paddings=post,pre] [--seed=1]
 *        [--workloads=model,layer] [--no-relaxed-simd]
 *
 * The kernel's relaxed-SIMD build by default, as in bench:tagger (on Node 20
 * this sets V8's flag for this process: demo/relaxed_simd.ts);
 * `--no-relaxed-simd` measures the plain build.
 */
import { loadavg } from 'node:os';
import { tf, ready, Input, Model, Embedding, MultiHeadAttention, GlobalAveragePooling1D, Dense, Adam, SymbolicTensor } from '../src/index.js';
import { lengthStats, makeLengths, makeRows, mulberry32, padMask, padRows, type Padding } from './rnn_data.js';
import { timeInterleaved } from './rnn_timing.js';
import { kernelBuildLabel, useRelaxedSimd } from '../demo/relaxed_simd.js';

function parseArgs(argv: string[]) {
  const o: Record<string, string> = { b: '32', median: '40', sigma: '0.8', max: '200', dim: '64', heads: '4', vocab: '2000', budget: '4', paddings: 'post,pre', seed: '1', workloads: 'model,layer' };
  let relaxed = true;
  for (const a of argv) {
    if (a === '--no-relaxed-simd') {
      relaxed = false;
      continue;
    }
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (!m || !(m[1]! in o)) throw new Error(`bench:attention: unknown argument ${a}`);
    o[m[1]!] = m[2]!;
  }
  const n = (k: string) => Number(o[k]);
  return { relaxed, b: n('b'), median: n('median'), sigma: n('sigma'), max: n('max'), dim: n('dim'), heads: n('heads'), vocab: n('vocab'), budget: n('budget'), seed: n('seed'), paddings: o['paddings']!.split(',') as Padding[], workloads: o['workloads']!.split(',') };
}

function buildModel(vocab: number, dim: number, heads: number): Model {
  const ids = Input({ shape: [null], dtype: 'int32' });
  const x = new Embedding({ inputDim: vocab, outputDim: dim, maskZero: true }).apply(ids);
  const attended = new MultiHeadAttention({ numHeads: heads, keyDim: dim / heads }).apply([x, x]) as SymbolicTensor;
  const pooled = new GlobalAveragePooling1D().apply(attended);
  const y = new Dense({ units: 1, activation: 'sigmoid' }).apply(pooled);
  const model = new Model({ inputs: ids, outputs: y });
  model.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'binary_crossentropy' });
  return model;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  useRelaxedSimd(o.relaxed);
  await ready();
  const load0 = loadavg()[0]!;
  console.log(`# bench:attention, backend ${tf.getBackend()}, kernel ${kernelBuildLabel()}, ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`# MultiHeadAttention(numHeads ${o.heads}, keyDim ${o.dim / o.heads}) self-attention, batch ${o.b}, lengths log-normal(median ${o.median}, sigma ${o.sigma}) <= ${o.max}; medians of interleaved runs, ${o.budget} s per pair`);
  const header = ['padding', 'workload', 'phase', 'runs', 'ms at T', 'ms at 4T', '4T / T wall', 'CPU ms at T', 'CPU ms at 4T', '4T / T CPU'];
  const lines: string[] = [`| ${header.join(' | ')} |`, `|${' --- |'.repeat(header.length)}`];
  for (const padding of o.paddings) {
    const rng = mulberry32(o.seed + 17);
    const lengths = makeLengths(rng, o.b, o.max, o.median, o.sigma);
    const rows = makeRows(rng, lengths, o.dim, o.vocab);
    const st = lengthStats(lengths, o.max);
    const ts = [st.max, 4 * st.max];
    console.log(`# ${padding}: lengths min ${st.min} median ${st.median} p90 ${st.p90} max ${st.max}; ${st.real} real tokens; padded to T = ${ts[0]} (fill ${(st.real / (o.b * ts[0]!)).toFixed(3)}) and 4T = ${ts[1]}`);
    const batches = ts.map((t) => {
      const { x, ids } = padRows(rows, t, padding);
      return {
        t,
        ids: tf.tensor2d(ids, [o.b, t], 'int32'),
        x: tf.tensor3d(x, [o.b, t, o.dim]),
        mask: tf.tensor2d(padMask(lengths, t, padding), [o.b, t], 'bool'),
        y: tf.tensor2d(Float32Array.from(rows.y), [o.b, 1]),
      };
    });
    const model = buildModel(o.vocab, o.dim, o.heads);
    const [p0, p1] = batches.map((q) => model.predict(q.ids) as tf.Tensor);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(p0!, p1!))).dataSync()[0]!);
    tf.dispose([p0!, p1!]);
    console.log(`# model predictions at T and 4T: max |difference| ${diff.toExponential(2)}`);
    if (!(diff < 1e-5)) throw new Error('bench:attention: padding changed the predictions');
    const add = (workload: string, phase: string, fns: (() => unknown)[]) =>
      timeInterleaved(fns, 2, o.budget, 5).then(([a, b]) => {
        const cells = [padding, workload, phase, String(a!.iters), a!.msMedian.toFixed(2), b!.msMedian.toFixed(2), `${(b!.msMedian / a!.msMedian).toFixed(3)}x`, a!.cpuMsMedian.toFixed(1), b!.cpuMsMedian.toFixed(1), `${(b!.cpuMsMedian / a!.cpuMsMedian).toFixed(3)}x`];
        lines.push(`| ${cells.join(' | ')} |`);
        console.log(lines[lines.length - 1]);
      });
    if (o.workloads.includes('model')) {
    await add('model', 'infer', batches.map((q) => async () => {
      const y = model.predict(q.ids) as tf.Tensor;
      await y.data();
      y.dispose();
    }));
    await add('model', 'train', batches.map((q) => () => model.trainOnBatch(q.ids, q.y)));
    }
    model.dispose();
    if (o.workloads.includes('layer')) {
    const mha = new MultiHeadAttention({ numHeads: o.heads, keyDim: o.dim / o.heads });
    tf.tidy(() => void mha.apply([batches[0]!.x, batches[0]!.x]));
    const pool = new GlobalAveragePooling1D();
    const vars = () => mha.weights.map((w) => w.variable);
    await add('layer', 'infer', batches.map((q) => () => tf.tidy(() => void (mha.apply([q.x, q.x], { queryMask: q.mask, valueMask: q.mask }) as tf.Tensor).dataSync())));
    await add('layer', 'train', batches.map((q) => () => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(pool.apply(mha.apply([q.x, q.x], { queryMask: q.mask, valueMask: q.mask }) as tf.Tensor) as tf.Tensor) as tf.Scalar), vars());
      tf.dispose([value, ...Object.values(grads)]);
    }));
    mha.dispose();
    }
    batches.forEach((q) => tf.dispose([q.ids, q.x, q.mask, q.y]));
  }
  console.log('\n' + lines.join('\n'));
  console.log(`\n# load average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end; process CPU ${(process.cpuUsage().user / 1e6).toFixed(1)} s user, ${(process.cpuUsage().system / 1e6).toFixed(1)} s system`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
