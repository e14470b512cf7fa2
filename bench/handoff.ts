/**
 * The cost of one hand-off to a kernel helper thread, with and without
 * polling (`setKernelSpin`, src/runtime/worker_pool.ts): a Dense product so
 * small ([2, 4] x [4, 4], split over two threads) that the time is the
 * hand-off's, timed around each call, with the calling thread busy for
 * `gap` ms between calls (a training step's work between two hand-offs).
 * Settings alternate in blocks of 500 calls, in one process; medians and
 * the 10th and 90th percentiles in microseconds.
 *
 *   npx tsx bench/handoff.ts [--gaps 0.2,2] [--blocks 6]
 */
import { ready, tf, setKernelSpin } from '../src/index.js';
import { fusedDenseProduct } from '../src/ops/dense_ops.js';
import { withForcedSplit } from '../src/ops/rnn/parallel.js';

const argv = process.argv.slice(2);
const opt = (name: string, d: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : d);
const gaps = opt('--gaps', '0.2,2').split(',').map(Number);
const blocks = Number(opt('--blocks', '6'));
await ready();
const x = tf.randomNormal([2, 4]);
const w = tf.randomNormal([4, 4]);
const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const pct = (ts: number[], p: number) => (ts[Math.min(ts.length - 1, Math.floor(ts.length * p))]! * 1000).toFixed(1);
console.log('| gap between hand-offs | spin | median us | p10 | p90 |');
console.log('| --- | --- | --- | --- | --- |');
for (const gap of gaps) {
  const times: Record<string, number[]> = { '0': [], '1': [] };
  for (let b = 0; b < blocks; b++) {
    for (const spin of b % 2 === 0 ? ['0', '1'] : ['1', '0']) {
      setKernelSpin(Number(spin));
      for (let i = 0; i < 500; i++) {
        const t0 = performance.now();
        withForcedSplit(2, () => fusedDenseProduct(x, w, null, false)!).dispose();
        if (i >= 20) times[spin]!.push(performance.now() - t0);
        busy(gap);
      }
    }
  }
  for (const spin of ['0', '1']) {
    const ts = times[spin]!.sort((a, b) => a - b);
    console.log(`| ${gap} ms | ${spin === '0' ? 'off (0)' : '1 ms (default)'} | ${pct(ts, 0.5)} | ${pct(ts, 0.1)} | ${pct(ts, 0.9)} |`);
  }
}
setKernelSpin();
tf.dispose([x, w]);
