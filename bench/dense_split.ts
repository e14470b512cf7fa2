/**
 * The Dense product split over two threads (src/ops/dense_ops.ts) against
 * the plain tfjs ops (matMul + add + softmax, tfjs gradients through
 * src/ops/matmul.ts) and against the same kernel path on the calling thread
 * alone, at the Brown tagger's Dense shape ([n, 128] x
 * [128, 132] + bias, softmax) for several row counts n: forward alone
 * (inference) and forward + backward (training). Both kernel paths are
 * forced at every n, which shows the break-evens (MIN_KERNEL_WORK and
 * MIN_SPLIT_WORK in src/ops/dense_ops.ts). Minimum and median wall ms.
 *
 *   npx tsx bench/dense_split.ts [--k 128] [--m 132] [--n rows]
 */
import { ready, tf } from '../src/index.js';
import { matMul } from '../src/ops/matmul.js';
import { setDenseThresholds, fusedDenseProduct } from '../src/ops/dense_ops.js';
import { withForcedSplit } from '../src/ops/rnn/parallel.js';

await ready();
const argv = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const k = opt('--k', 128);
const m = opt('--m', 132);

/** [min, median] wall ms and mean CPU ms (all threads) of fn over about `budgetMs` (at least 7 calls), after 3 warm-up calls. */
function time(fn: () => unknown, budgetMs = 300): [number, number, number] {
  for (let i = 0; i < 3; i++) tf.dispose(fn() as tf.Tensor);
  const ts: number[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (ts.length < 7 || performance.now() - t0 < budgetMs) {
    const s = performance.now();
    tf.dispose(fn() as tf.Tensor);
    ts.push(performance.now() - s);
  }
  const c = process.cpuUsage(c0);
  ts.sort((a, b) => a - b);
  return [ts[0]!, ts[Math.floor(ts.length / 2)]!, (c.user + c.system) / 1000 / ts.length];
}

const w = tf.variable(tf.randomNormal([k, m], 0, 0.1));
const b = tf.variable(tf.randomNormal([m], 0, 0.1));
/** The tfjs path (what Dense runs with `setKernelThreads(1)`, or below the kernel's threshold). */
const plain = (x: tf.Tensor) => {
  setDenseThresholds({ kernel: Infinity });
  try {
    return tf.softmax(tf.add(matMul(x, w), b));
  } finally {
    setDenseThresholds();
  }
};
const split = (x: tf.Tensor) => withForcedSplit(2, () => fusedDenseProduct(x, w, b, true)!);
const alone = (x: tf.Tensor) => {
  setDenseThresholds({ kernel: 0, split: Infinity });
  try {
    return fusedDenseProduct(x, w, b, true)!;
  } finally {
    setDenseThresholds();
  }
};
const train = (f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, r: tf.Tensor) => () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(x), r)) as tf.Scalar, [w, b]);
    tf.dispose(Object.values(grads));
    return value;
  });
const fmt = ([a, c, cpu]: [number, number, number]) => `${a.toFixed(3)} / ${c.toFixed(3)} / ${cpu.toFixed(3)}`;
console.log(`[n, ${k}] x [${k}, ${m}] + bias, softmax; wall ms min / median / CPU ms per call`);
console.log('| n | forward: tfjs ops | kernel, calling thread | kernel, split | train step: tfjs ops | kernel, calling thread | kernel, split |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
const ns = argv.includes('--n') ? [opt('--n', 704)] : [16, 32, 64, 128, 256, 512, 704, 1408, 5632, 23000];
for (const n of ns) {
  const x = tf.randomNormal([n, k]);
  const r = tf.randomNormal([n, m]);
  const xv = tf.variable(x);
  const cells = [time(() => plain(x)), time(() => alone(x)), time(() => split(x)), time(train(plain, xv, r)), time(train(alone, xv, r)), time(train(split, xv, r))];
  console.log(`| ${n} | ${cells.map(fmt).join(' | ')} |`);
  tf.dispose([x, r, xv]);
}
