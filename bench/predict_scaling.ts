/**
 * predict's throughput against its batch size (issue 17): a model of
 * Masking -> GRU(U, returnSequences) -> GlobalAveragePooling1D -> Dense(1)
 * over R rows of float features (log-normal lengths, median 40, clamped to
 * [1, T], post padding), predicted with batchSize 64, 128, 512, 4096 and
 * all R rows at once; also GlobalAveragePooling1D alone on the GRU's output
 * against a hand-written masked mean, and the GRU with 1 and 2 kernel
 * threads. Prints wall and process CPU ms (median of `--reps`) and the load
 * average. A benchmark, not a test.
 *
 *   npm run bench:scaling -- [--rows 4096] [--time 100] [--features 32] [--units 64] [--reps 5] [--batches 64,128,512,4096] [--no-relaxed-simd]
 *
 * The kernel's relaxed-SIMD build by default, as in bench:tagger (on Node 20
 * this sets V8's flag for this process: demo/relaxed_simd.ts);
 * `--no-relaxed-simd` measures the plain build.
 */
import { loadavg } from 'node:os';
import { ready, tf, Sequential, Masking, GRU, GlobalAveragePooling1D, Dense, setKernelThreads, kernelThreads } from '../src/index.js';
import { kernelBuildLabel, useRelaxedSimd } from '../demo/relaxed_simd.js';

const argv = process.argv.slice(2);
const val = (n: string, d: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1]! : d;
};
const R = Number(val('--rows', '4096')), T = Number(val('--time', '100')), F = Number(val('--features', '32')), U = Number(val('--units', '64'));
const reps = Number(val('--reps', '5'));
const sizes = val('--batches', `64,128,512,4096,${R}`).split(',').map(Number).filter((v, i, a) => a.indexOf(v) === i);

useRelaxedSimd(!argv.includes('--no-relaxed-simd'));
await ready();
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
const lengths = Array.from({ length: R }, () => Math.max(1, Math.min(T, Math.round(40 * Math.exp(0.8 * gauss())))));
const tokens = lengths.reduce((a, b) => a + b, 0);
const xs = new Float32Array(R * T * F);
for (let r = 0; r < R; r++) for (let t = 0; t < lengths[r]!; t++) for (let f = 0; f < F; f++) xs[(r * T + t) * F + f] = gauss() || 1;
const x = tf.tensor3d(xs, [R, T, F]);
const model = new Sequential({ layers: [new Masking({ maskValue: 0, inputShape: [T, F] }), new GRU({ units: U, returnSequences: true }), new GlobalAveragePooling1D(), new Dense({ units: 1 })] });

function measure(f: () => void): { wall: number; cpu: number } {
  f();
  const w: number[] = [], c: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    f();
    const cu = process.cpuUsage(c0);
    w.push(performance.now() - t0);
    c.push((cu.user + cu.system) / 1000);
  }
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  return { wall: med(w), cpu: med(c) };
}

console.log(`# ${R} rows, T=${T}, F=${F}, GRU ${U} units, ${tokens} real tokens (${(tokens / (R * T)).toFixed(2)} of the cells); kernel threads ${kernelThreads()}, ${kernelBuildLabel()}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| what | batchSize | wall ms | CPU ms | real tok/s |');
console.log('| --- | --- | --- | --- | --- |');
const row = (what: string, bs: string, m: { wall: number; cpu: number }) => console.log(`| ${what} | ${bs} | ${m.wall.toFixed(0)} | ${m.cpu.toFixed(0)} | ${Math.round(tokens / (m.wall / 1000))} |`);
for (const bs of sizes) row('predict', String(bs), measure(() => tf.dispose(model.predict(x, { batchSize: bs }))));

// The pieces on the whole R rows: the GRU alone, GlobalAveragePooling1D on its output, a hand-written masked mean.
const gru = model.layers[1]!, gap = model.layers[2]!;
const mask = tf.tidy(() => tf.any(tf.notEqual(x, 0), -1));
const h = tf.tidy(() => gru.apply(x, { mask }) as tf.Tensor);
row(`GRU layer alone (${kernelThreads()} threads)`, String(R), measure(() => tf.tidy(() => void (gru.apply(x, { mask }) as tf.Tensor).dataSync())));
const before = kernelThreads();
setKernelThreads(1);
row('GRU layer alone (1 thread)', String(R), measure(() => tf.tidy(() => void (gru.apply(x, { mask }) as tf.Tensor).dataSync())));
setKernelThreads(before);
row('GlobalAveragePooling1D alone', String(R), measure(() => tf.tidy(() => void (gap.apply(h, { mask }) as tf.Tensor).dataSync())));
row('hand-written masked mean (JS)', String(R), measure(() => {
  const hv = h.dataSync() as Float32Array, mv = mask.dataSync();
  const out = new Float32Array(R * U);
  for (let r = 0; r < R; r++) {
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (!mv[r * T + t]) continue;
      n++;
      const o = (r * T + t) * U;
      for (let u = 0; u < U; u++) out[r * U + u]! += hv[o + u]!;
    }
    if (n > 0) for (let u = 0; u < U; u++) out[r * U + u]! /= n;
  }
}));
console.log(`# load at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
tf.dispose([x, mask, h]);
model.dispose();
