/**
 * The Brown tagger's Embedding(28,814, 64) + Bidirectional(LSTM 64) alone,
 * without a gradient tape, on one [256, 18] batch: projection tables off
 * (setProjectionTables({ maxBytes: 0 })) and on alternately in one process,
 * 6 rounds of 20 calls; medians of wall and CPU ms per call.
 *
 *   npx tsx bench/tagger_tables.ts [--threads N]
 */
import { ready, tf, Embedding, Bidirectional, LSTM, setProjectionTables, setKernelThreads, kernelThreads } from '../src/index.js';
await ready();
const th = process.argv.indexOf('--threads');
if (th >= 0) setKernelThreads(Number(process.argv[th + 1]));
const V = 28814, B = 256, T = 18;
const emb = new Embedding({ inputDim: V, outputDim: 64, maskZero: true });
const bi = new Bidirectional({ layer: new LSTM({ units: 64, returnSequences: true }) });
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const ids = tf.tensor2d(Array.from({ length: B * T }, (_, i) => (i % T < 4 + (Math.floor(i / T) % 15) ? 1 + Math.floor(rnd() * (V - 1)) : 0)), [B, T], 'int32');
const run = () => tf.tidy(() => { const y = bi.apply(emb.apply(ids) as tf.Tensor) as tf.Tensor; y.dataSync(); });
run();
const settings = { off: () => setProjectionTables({ maxBytes: 0 }), on: () => setProjectionTables({ buildAfter: 0 }) };
const res: Record<string, { wall: number[]; cpu: number[] }> = { off: { wall: [], cpu: [] }, on: { wall: [], cpu: [] } };
for (let round = 0; round < 6; round++) {
  for (const k of ['off', 'on'] as const) {
    settings[k]();
    run();
    const reps = 20;
    const t0 = performance.now(), c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) run();
    const c = process.cpuUsage(c0);
    res[k].wall.push((performance.now() - t0) / reps);
    res[k].cpu.push((c.user + c.system) / 1000 / reps);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tokens = (ids.dataSync() as Int32Array).filter((v) => v !== 0).length;
console.log(`threads ${kernelThreads()}, ${tokens} real tokens per call`);
for (const k of ['off', 'on'] as const) console.log(`tables ${k}: median ${med(res[k].wall).toFixed(2)} ms wall, ${med(res[k].cpu).toFixed(2)} ms CPU per call (rounds: ${res[k].wall.map((x) => x.toFixed(1)).join(' ')})`);
