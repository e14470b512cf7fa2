/**
 * Does the cost of masked attention follow the real tokens (sum of L_i^2)
 * or the padded batch (B * T^2)? For several length mixes, times one
 * MultiHeadAttention forward pass (and a forward + backward pass) on a
 * padded batch: with packing (Masque's default), with packing off (the
 * dense B*T^2 computation Keras does), and with the rows bucketed by exact
 * length (no padding at all, one call per distinct length). Prints a
 * Markdown table: per mix, the work ratio W(real)/W(dense) of the cost model
 * and the time ratios (train = forward + backward to the inputs).
 *
 *   npx tsx bench/attention_cost.ts [--quick]
 */
import { tf, ready, MultiHeadAttention } from '../src/index.js';
import { setAttentionPacking } from '../src/ops/packed_attention_ops.js';

const quick = process.argv.includes('--quick');
const DIM = 64;
const HEADS = 4;
const KEY_DIM = 16;

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Mix {
  name: string;
  t: number;
  lengths: number[];
  layout: 'pre' | 'post';
}

function mixes(): Mix[] {
  const r = seeded(3);
  const b = 32;
  const t = quick ? 128 : 256;
  const logNormal = (median: number) => Math.max(1, Math.min(t, Math.round(median * Math.exp(0.8 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())))));
  return [
    { name: 'uniform 1..T, post', t, lengths: Array.from({ length: b }, () => 1 + Math.floor(r() * t)), layout: 'post' },
    { name: 'log-normal median T/8, post', t, lengths: Array.from({ length: b }, () => logNormal(t / 8)), layout: 'post' },
    { name: 'log-normal median T/8, pre', t, lengths: Array.from({ length: b }, () => logNormal(t / 8)), layout: 'pre' },
    { name: 'one row of T, rest T/16', t, lengths: Array.from({ length: b }, (_, i) => (i === 0 ? t : t / 16)), layout: 'post' },
    { name: 'all T/4, padded 4x', t, lengths: new Array<number>(b).fill(t / 4), layout: 'post' },
    { name: 'all T (no padding)', t, lengths: new Array<number>(b).fill(t), layout: 'post' },
  ];
}

/**
 * Fastest wall time in ms of each function over `reps` rounds, after one
 * warm-up call each. The rounds interleave the functions, so load from other
 * processes hits them alike; the minimum is the least disturbed run.
 */
function times(fns: (() => void)[], reps: number): number[] {
  fns.forEach((f) => f());
  const best = fns.map(() => Infinity);
  for (let i = 0; i < reps; i++) {
    fns.forEach((f, k) => {
      const t0 = performance.now();
      f();
      best[k] = Math.min(best[k]!, performance.now() - t0);
    });
  }
  return best;
}

/** Work in multiply-adds of one forward pass over rows of the given lengths (projections + scores + weighted sum). */
function work(lengths: number[]): number {
  const proj = 4 * DIM * HEADS * KEY_DIM; // q, k, v, output projections per token
  const pair = 2 * HEADS * KEY_DIM; // q.k and p.v per (query, key) pair
  return lengths.reduce((w, l) => w + l * proj + l * l * pair, 0);
}

await ready();
const mha = new MultiHeadAttention({ numHeads: HEADS, keyDim: KEY_DIM });
tf.tidy(() => void mha.apply([tf.zeros([1, 1, DIM]), tf.zeros([1, 1, DIM])]));
const reps = quick ? 3 : 7;
console.log(`MultiHeadAttention(numHeads ${HEADS}, keyDim ${KEY_DIM}) on [32, T, ${DIM}], backend ${tf.getBackend()}, fastest of ${reps} interleaved runs`);
console.log('| mix | T | sum L | work real/dense | fwd dense ms | fwd packed ms | packed/dense | fwd bucketed ms | packed/bucketed | train dense ms | train packed ms | packed/dense | train bucketed ms | packed/bucketed |');
console.log('|' + ' --- |'.repeat(15));
for (const m of mixes()) {
  const b = m.lengths.length;
  const r = seeded(11);
  const x = tf.tensor3d(Float32Array.from({ length: b * m.t * DIM }, () => r() - 0.5), [b, m.t, DIM]);
  const maskData = m.lengths.flatMap((l) => Array.from({ length: m.t }, (_, i) => (m.layout === 'post' ? i < l : i >= m.t - l)));
  const mask = tf.tensor2d(maskData, [b, m.t], 'bool');
  const fwd = () => tf.tidy(() => void (mha.apply([x, x], { queryMask: mask, valueMask: mask }) as tf.Tensor).dataSync());
  const train = () => tf.tidy(() => void tf.grad((v: tf.Tensor) => tf.sum(mha.apply([v, v], { queryMask: mask, valueMask: mask }) as tf.Tensor))(x).dataSync());
  const under = (mode: 'auto' | 'never', f: () => void) => () => {
    const prev = setAttentionPacking(mode);
    try {
      f();
    } finally {
      setAttentionPacking(prev);
    }
  };
  // Bucketed: one unmasked call per distinct length on exactly the real tokens.
  const byLength = new Map<number, number[]>();
  m.lengths.forEach((l, i) => byLength.set(l, [...(byLength.get(l) ?? []), i]));
  const buckets = [...byLength].map(([l, rows]) => tf.tidy(() => tf.slice(tf.gather(x, rows), [0, m.layout === 'post' ? 0 : m.t - l, 0], [rows.length, l, DIM])));
  const bucketedFwd = () => tf.tidy(() => buckets.forEach((xb) => void (mha.apply([xb, xb]) as tf.Tensor).dataSync()));
  const bucketedTrain = () => tf.tidy(() => buckets.forEach((xb) => void tf.grad((v: tf.Tensor) => tf.sum(mha.apply([v, v]) as tf.Tensor))(xb).dataSync()));
  const [dense, packed, bucketed, denseTrain, packedTrain, bucketTrain] = times(
    [under('never', fwd), under('auto', fwd), bucketedFwd, under('never', train), under('auto', train), bucketedTrain],
    reps,
  );
  const ratio = work(m.lengths) / work(new Array<number>(b).fill(m.t));
  const sumL = m.lengths.reduce((a, c) => a + c, 0);
  const cells = [m.name, m.t, sumL, ratio.toFixed(3), dense.toFixed(0), packed.toFixed(0), (packed / dense).toFixed(3), bucketed.toFixed(0), (packed / bucketed).toFixed(2)];
  cells.push(denseTrain.toFixed(0), packedTrain.toFixed(0), (packedTrain / denseTrain).toFixed(3), bucketTrain.toFixed(0), (packedTrain / bucketTrain).toFixed(2));
  console.log(`| ${cells.join(' | ')} |`);
  tf.dispose([x, mask, ...buckets]);
}
mha.dispose();
