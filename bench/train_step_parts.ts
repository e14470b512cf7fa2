/**
 * The pieces of a Brown-tagger training step outside the recurrent kernel,
 * each alone at the tagger's shapes (batch 32 x 22 steps, V = 28,814, D =
 * 64, 128 -> 132 classes), CPU ms per call (process CPU time, medians of
 * rounds). Runs on older code too (pieces it lacks are skipped), so two
 * checkouts can be compared in turns:
 *
 *   npx tsx bench/train_step_parts.ts [--rounds 5] [--reps 200]
 *
 * - embedding: forward lookup and the [V, D] gradient of 704 ids under
 *   variableGrads (inside `reuseEmbeddingGradients` where it exists, as in
 *   fit), one Adam step on the table, then a 16 MB fill elsewhere that
 *   evicts the caches as the rest of a training step does;
 * - loss: the masked sparse crossentropy over [32, 22, 132], value and gradient;
 * - concatReversed: Bidirectional's merge of two [32, 22, 64] outputs, value and gradient;
 * - dense: the Dense softmax product [704, 128] x [128, 132] + bias in the kernel, value and gradient.
 */
import { ready, tf, Adam } from '../src/index.js';
import * as lookup from '../src/ops/embedding_lookup.js';
import { sparseCrossentropyMasked } from '../src/ops/loss_ops.js';
import { concatReversed } from '../src/ops/sequence_ops.js';
import { fusedDenseProduct } from '../src/ops/dense_ops.js';

const argv = process.argv.slice(2);
const val = (n: string) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : undefined);
const rounds = val('--rounds') ?? 5;
const reps = val('--reps') ?? 200;
await ready();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const B = 32, T = 22, V = 28814, D = 64, H = 128, C = 132;
const mk = (t: tf.Tensor) => {
  const v = tf.variable(t);
  t.dispose();
  return v;
};
const table = mk(tf.randomUniform([V, D], -0.05, 0.05, 'float32', 1));
const ids = tf.tensor2d(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t < T - (b % 4) ? 1 + ((b * 7919 + t * 104729) % (V - 1)) : 0))), [B, T], 'int32');
const upstream = tf.randomNormal([B, T, D], 0, 1, 'float32', 2);
const probs = tf.softmax(tf.randomNormal([B, T, C], 0, 1, 'float32', 3));
const labels = tf.randomUniform([B, T], 0, C, 'int32', 4);
const mask = tf.notEqual(ids, 0);
const fwdOut = tf.randomNormal([B, T, D], 0, 1, 'float32', 5);
const bwdOut = tf.randomNormal([B, T, D], 0, 1, 'float32', 6);
const merged = tf.randomNormal([B, T, H], 0, 1, 'float32', 7);
const x = tf.randomNormal([B * T, H], 0, 1, 'float32', 8);
const kernel = mk(tf.randomNormal([H, C], 0, 0.1, 'float32', 9));
const bias = mk(tf.zeros([C]));
const evict = new Float32Array(4 << 20);
const adam = new Adam({ learningRate: 1e-3 });

const reuse = (lookup as { reuseEmbeddingGradients?: () => { dispose(): void } }).reuseEmbeddingGradients?.() ?? null;
const pieces: Record<string, () => void> = {
  'embedding lookup + gradient + Adam step on the table': () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(lookup.embeddingLookup(table, ids), upstream)) as tf.Scalar, [table]);
    adam.applyGradients([{ variable: table, gradient: grads[table.name]! }]);
    tf.dispose([value, grads[table.name]!]);
    evict.fill(1);
  },
  'masked sparse crossentropy': () => {
    const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => tf.sum(sparseCrossentropyMasked(labels, p, mask)))(probs);
    tf.dispose([value, grad]);
  },
  'concatReversed (Bidirectional merge)': () => {
    const gs = tf.grads((a: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(concatReversed(a, r), merged)))([fwdOut, bwdOut]);
    tf.dispose(gs);
  },
  'Dense softmax product (kernel path)': () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(fusedDenseProduct(x, kernel, bias, true) ?? tf.softmax(tf.add(tf.matMul(x, kernel), bias))) as tf.Scalar, [kernel, bias]);
    tf.dispose([value, ...Object.values(grads)]);
  },
};
const times: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(pieces)) {
    if (r === 0) for (let i = 0; i < 20; i++) f();
    const c0 = cpu();
    for (let i = 0; i < reps; i++) f();
    (times[name] ??= []).push((cpu() - c0) / reps);
  }
}
const evictCost = (() => {
  const c0 = cpu();
  for (let i = 0; i < reps; i++) evict.fill(1);
  return (cpu() - c0) / reps;
})();
reuse?.dispose();
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`| piece | CPU ms per call, median of ${rounds} rounds of ${reps} (each round) |`);
console.log('| --- | --- |');
for (const [name, xs] of Object.entries(times)) console.log(`| ${name} | ${med(xs).toFixed(3)} (${xs.map((v) => v.toFixed(3)).join(', ')}) |`);
console.log(`(the embedding row includes a 16 MB cache-evicting fill that costs ${evictCost.toFixed(3)} ms alone; tensors left: ${tf.memory().numTensors})`);
