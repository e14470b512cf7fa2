/**
 * Micro-timings behind bench/tagger_profile.ts: the single tfjs ops (wasm
 * backend) that the tagger's step and inference run, at the tagger's shapes
 * (batch 32 × 22 steps for training, 256 × 22 for inference; 64 units per
 * direction, 132 tags, 28,814 × 64 embedding table), each against a plain
 * JavaScript loop doing the same work, which bounds what a fused kernel
 * could save. Minimum and median of repeated calls (wall ms; on a machine
 * shared with other jobs the minimum is the better estimate of the cost).
 * Last, whole training steps (trainOnBatch) and predictions of the tagger
 * at the same shapes.
 *
 *   npx tsx bench/tagger_micro.ts
 */
import { ready, tf, padSequences } from '../src/index.js';
import { buildTagger } from './tagger_masque.js';

await ready();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** [min, median] wall ms of fn over about `budgetMs` (at least 5 calls), after 2 warm-up calls. */
function time(fn: () => unknown, budgetMs = 400): [number, number] {
  for (let i = 0; i < 2; i++) tf.dispose(fn() as tf.Tensor);
  const ts: number[] = [];
  const t0 = performance.now();
  while (ts.length < 5 || performance.now() - t0 < budgetMs) {
    const s = performance.now();
    const r = fn();
    ts.push(performance.now() - s);
    tf.dispose(r as tf.Tensor);
  }
  return [Math.min(...ts), median(ts)];
}

const rows: [string, number, number, string][] = [];
const row = (name: string, [min, med]: [number, number], note = '') => {
  rows.push([name, min, med, note]);
  console.log(`${name.padEnd(64)} min ${min.toFixed(3).padStart(8)}  median ${med.toFixed(3).padStart(8)} ms  ${note}`);
};

const V = 28814, D = 64, U = 64, C = 132;
for (const [b, t] of [[32, 22], [256, 22]] as const) {
  const n = b * t;
  console.log(`--- batch ${b} x ${t} steps (${n} cells)`);
  const mask = tf.tidy(() => tf.less(tf.tile(tf.expandDims(tf.range(0, t), 0), [b, 1]), tf.randomUniform([b, 1], 1, t + 1, 'int32')));
  const m3 = tf.expandDims(mask, -1);
  row(`Tile (broadcastTo) bool [${b},${t},1] -> [${b},${t},${C}]`, time(() => tf.broadcastTo(m3, [b, t, C])), 'loss: fillMasked');
  const mf = tf.cast(m3, 'float32');
  row(`Tile (broadcastTo) float32 [${b},${t},1] -> [${b},${t},${C}]`, time(() => tf.broadcastTo(mf, [b, t, C])));
  row(`Multiply by ones (broadcast) float32 -> [${b},${t},${C}]`, time(() => tf.mul(mf, tf.ones([1, 1, C]))), 'a broadcast that avoids Tile');
  const h = tf.randomNormal([b, t, U]);
  row(`Reverse float32 [${b},${t},${U}] axis 1`, time(() => tf.reverse(h, 1)), 'Bidirectional');
  const hd = h.dataSync() as Float32Array;
  row(`  JS reverse of the same (Float32Array copyWithin per row)`, time(() => {
    const out = new Float32Array(hd.length);
    for (let i = 0; i < b; i++) for (let s = 0; s < t; s++) out.set(hd.subarray((i * t + s) * U, (i * t + s + 1) * U), (i * t + (t - 1 - s)) * U);
    return null;
  }));
  const packed = tf.randomNormal([b, t + 2, U]);
  row(`Slice [${b},${t + 2},${U}] -> [${b},${t},${U}]`, time(() => tf.slice(packed, [0, 0, 0], [b, t, U])), 'fused RNN output');
  const h2 = tf.randomNormal([b, t, U]);
  row(`Concat 2 x [${b},${t},${U}] -> [${b},${t},${2 * U}]`, time(() => tf.concat([h, h2], -1)), 'Bidirectional merge');
  const x = tf.randomNormal([n, 2 * U]);
  const w = tf.randomNormal([2 * U, C]);
  const dy = tf.randomNormal([n, C]);
  row(`BatchMatMul [${n},128] x [128,${C}]`, time(() => tf.matMul(x, w)), 'Dense forward');
  row(`BatchMatMul dy [${n},${C}] x W^T (transposeB)`, time(() => tf.matMul(dy, w, false, true)), 'Dense dX');
  row(`BatchMatMul x^T [128,${n}] x dy (transposeA)`, time(() => tf.matMul(x, dy, true, false)), 'Dense dW');
  row(`  Transpose x then BatchMatMul (no transposeA)`, time(() => tf.tidy(() => tf.matMul(tf.transpose(x), dy))), 'Dense dW, alternative');
  const logits = tf.randomNormal([b, t, C]);
  row(`Softmax [${b},${t},${C}]`, time(() => tf.softmax(logits)), 'Dense activation');
  const ids = tf.randomUniform([b, t], 0, C, 'int32');
  row(`OneHot [${b},${t}] depth ${C}`, time(() => tf.oneHot(ids, C)), 'loss');
  const p = tf.softmax(logits);
  row(`sparse CE as Masque computes it (fwd only, with fillMasked)`, time(() => tf.tidy(() => {
    const pm = tf.where(tf.broadcastTo(m3, p.shape), p, tf.fill(p.shape, 0.5));
    const lp = tf.log(tf.clipByValue(tf.div(pm, tf.sum(pm, -1, true)), 1e-7, 1 - 1e-7));
    return tf.neg(tf.sum(tf.mul(tf.oneHot(ids, C), lp), -1));
  })));
  row(`sparse CE picked at [B,T] first (fwd only, [B,T] selects)`, time(() => tf.tidy(() => {
    const pl = tf.sum(tf.mul(tf.oneHot(ids, C), p), -1);
    const s = tf.sum(p, -1);
    const q = tf.div(tf.where(mask, pl, tf.fill(pl.shape, 0.5)), tf.where(mask, s, tf.onesLike(s)));
    return tf.neg(tf.log(tf.clipByValue(q, 1e-7, 1 - 1e-7)));
  })), 'same values at valid steps');
  tf.dispose([mask, m3, mf, h, packed, h2, x, w, dy, logits, ids, p]);
}

console.log('--- Adam on the embedding table [28814, 64] (1.84 M weights)');
const wv = tf.variable(tf.randomNormal([V, D]));
const mv = tf.variable(tf.zeros([V, D]));
const vv = tf.variable(tf.zeros([V, D]));
const g = tf.randomNormal([V, D]);
row('Adam step as Masque does it (12 tfjs ops, 3 assigns)', time(() => {
  tf.tidy(() => {
    mv.assign(tf.add(mv, tf.mul(tf.sub(g, mv), 0.1)));
    vv.assign(tf.add(vv, tf.mul(tf.sub(tf.square(g), vv), 0.001)));
    wv.assign(tf.sub(wv, tf.div(tf.mul(mv, 1e-3), tf.add(tf.sqrt(vv), 1e-7))));
  });
  return null;
}), 'per training step');
const W = new Float32Array(V * D), M = new Float32Array(V * D), Vv = new Float32Array(V * D), G = g.dataSync() as Float32Array;
row('  one scalar JS loop over w, m, v, g (same arithmetic, no SIMD)', time(() => {
  for (let i = 0; i < W.length; i++) {
    const gi = G[i]!;
    const m = (M[i] = M[i]! + (gi - M[i]!) * 0.1);
    const v = (Vv[i] = Vv[i]! + (gi * gi - Vv[i]!) * 0.001);
    W[i] = W[i]! - (m * 1e-3) / (Math.sqrt(v) + 1e-7);
  }
  return null;
}), 'one pass, but scalar');

console.log('--- the tagger (V 28814, 132 tags), all rows 22 steps long');
const model = buildTagger(V, C, 1234, false);
for (const b of [32, 256]) {
  const ids = Array.from({ length: b }, (_, i) => Array.from({ length: 22 }, (_, j) => 2 + ((i * 7919 + j * 104729) % (V - 2))));
  const labels = ids.map((r) => r.map((id) => id % C));
  const x = padSequences(ids, { maxlen: 22, padding: 'post' });
  const y = tf.tensor2d(labels, [b, 22], 'float32');
  if (b === 32) row(`trainOnBatch [32, 22] (one training step)`, time(() => (model.trainOnBatch(x, y), null), 3000), 'fwd + loss + bwd + Adam');
  row(`predict [${b}, 22]`, time(() => model.predict(x, { batchSize: b }), 2000), 'inference');
  tf.dispose([x, y]);
}

console.log(JSON.stringify(rows));
