import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { attendPackedGroups, fusedInferenceAvailable, setFusedInference, type GroupRows } from './fused_attention_ops.js';
import { softmaxReplaceMasked } from './attention_ops.js';
import { layerNormLastAxisFast } from './normalization_ops.js';

const onWasm = () => tf.getBackend() === 'wasm' && fusedInferenceAvailable();

let seed = 7;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

/** The tfjs computation the kernel replaces, for one group: [count, wq, heads * dv]. */
function reference(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, g: GroupRows, heads: number, dk: number, dv: number, cols: [number, number, number], scale: number): tf.Tensor {
  return tf.tidy(() => {
    const part = (x: tf.Tensor, row: number, n: number, col: number, d: number) =>
      tf.transpose(tf.reshape(tf.slice(x, [row, col], [g.count * n, heads * d]), [g.count, n, heads, d]), [0, 2, 1, 3]);
    const qh = part(q, g.qRow, g.wq, cols[0], dk);
    const kh = part(k, g.kRow, g.wk, cols[1], dk);
    const vh = part(v, g.kRow, g.wk, cols[2], dv);
    const mask = tf.expandDims(tf.tensor3d(g.mask, [g.count, g.wq, g.wk], 'bool'), 1);
    const probs = softmaxReplaceMasked(tf.mul(tf.matMul(qh, kh, false, true), scale), mask);
    return tf.reshape(tf.transpose(tf.matMul(probs, vh), [0, 2, 1, 3]), [g.count, g.wq, heads * dv]);
  });
}

test('attendPackedGroups equals the masked softmax attention of tfjs ops, group by group (fully masked rows uniform)', (t) => {
  if (!onWasm()) return t.skip('needs the wasm backend');
  for (const [heads, dk, dv, shared] of [[2, 32, 32, true], [3, 5, 6, false], [1, 4, 3, true], [2, 7, 7, false]] as const) {
    // Groups of different windows (not multiples of 4), some keys masked, some query rows with no key at all.
    const shapes = [[2, 5, 7], [3, 4, 4], [1, 9, 1], [2, 1, 6]] as const;
    const groups: GroupRows[] = [];
    let nq = 0;
    let nk = 0;
    for (const [count, wq, wk] of shapes) {
      const mask = Uint8Array.from({ length: count * wq * wk }, () => (rand() < 0.7 ? 1 : 0));
      for (let j = 0; j < wk; j++) mask[j] = 0; // query 0 of the first row attends nothing
      groups.push({ count, wq, wk, qRow: nq, kRow: nk, mask });
      nq += count * wq;
      nk += count * wk;
    }
    const rows = Math.max(nq, nk);
    const scale = 1 / Math.sqrt(dk);
    const width = 2 * heads * dk + heads * dv;
    // Shared: one [N, q | k | v] tensor (the fused projection's layout); else three tensors, with an offset column.
    const p = tf.randomNormal([rows, width + 1], 0, 2, 'float32', 3);
    const q = shared ? p : tf.randomNormal([nq, heads * dk + 2], 0, 2, 'float32', 4);
    const k = shared ? p : tf.randomNormal([nk, heads * dk + 1], 0, 2, 'float32', 5);
    const v = shared ? p : tf.randomNormal([nk, heads * dv], 0, 2, 'float32', 6);
    const cols: [number, number, number] = shared ? [1, 1 + heads * dk, 1 + 2 * heads * dk] : [2, 1, 0];
    const qRows = shared ? tf.slice(p, [0, 0], [nq, width + 1]) : q;
    const out = attendPackedGroups({ rows: qRows, col: cols[0] }, { rows: k, col: cols[1] }, { rows: v, col: cols[2] }, groups, { heads, keyDim: dk, valueDim: dv, scale });
    assert.deepEqual(out.shape, [nq, heads * dv]);
    const got = out.dataSync();
    for (const g of groups) {
      const want = reference(qRows, k, v, g, heads, dk, dv, cols, scale);
      const w = want.dataSync();
      for (let i = 0; i < w.length; i++) {
        const a = got[g.qRow * heads * dv + i]!;
        assert.ok(Math.abs(a - w[i]!) <= 1e-5 * (1 + Math.abs(w[i]!)), `heads ${heads} dk ${dk} dv ${dv}: ${a} vs ${w[i]} at ${i} of group ${g.count}x${g.wq}x${g.wk}`);
      }
      want.dispose();
    }
    tf.dispose([p, q, k, v, qRows, out]);
  }
});

test('attendPackedGroups rejects groups that do not cover the query rows, and rows outside the heap layout', (t) => {
  if (!onWasm()) return t.skip('needs the wasm backend');
  const x = tf.ones([4, 8]);
  const h = { heads: 2, keyDim: 4, valueDim: 4, scale: 1 };
  const g = (qRow: number, count: number): GroupRows => ({ count, wq: 2, wk: 2, qRow, kRow: 0, mask: new Uint8Array(count * 4).fill(1) });
  assert.throws(() => attendPackedGroups({ rows: x, col: 0 }, { rows: x, col: 0 }, { rows: x, col: 0 }, [g(0, 1)], h), /cover 2 of 4/);
  assert.throws(() => attendPackedGroups({ rows: x, col: 0 }, { rows: x, col: 0 }, { rows: x, col: 0 }, [g(1, 2)], h), /in order/);
  assert.throws(() => attendPackedGroups({ rows: x, col: 1 }, { rows: x, col: 0 }, { rows: x, col: 0 }, [g(0, 2)], h), /from column 1/);
  x.dispose();
});

test('the fused kernels are off while a gradient is recorded and when switched off', (t) => {
  if (!onWasm()) return t.skip('needs the wasm backend');
  let inside: boolean | null = null;
  tf.grad((x: tf.Tensor) => {
    inside = fusedInferenceAvailable();
    return tf.sum(x);
  })(tf.ones([2]));
  assert.equal(inside, false);
  const prev = setFusedInference(false);
  try {
    assert.equal(fusedInferenceAvailable(), false);
    assert.equal(layerNormLastAxisFast(tf.ones([2, 3]), null, null, 1e-3), null);
  } finally {
    setFusedInference(prev);
  }
  assert.equal(fusedInferenceAvailable(), true);
});

test('layerNormLastAxisFast equals the moments of tfjs ops, with and without gamma and beta, on rows with a large mean', (t) => {
  if (!onWasm()) return t.skip('needs the wasm backend');
  tf.tidy(() => {
    for (const f of [64, 7, 1]) {
      const x = tf.add(tf.randomNormal([3, 5, f], 0, 1, 'float32', f), tf.tensor3d(Float32Array.from({ length: 15 }, (_, i) => (i % 3 === 0 ? 1000 : i)), [3, 5, 1]));
      const gamma = tf.randomNormal([f], 1, 0.5, 'float32', 9);
      const beta = tf.randomNormal([f], 0, 0.5, 'float32', 10);
      for (const [gm, bt] of [[gamma, beta], [null, beta], [gamma, null], [null, null]] as const) {
        const got = layerNormLastAxisFast(x, gm, bt, 1e-3)!;
        // float64 reference
        const xv = x.arraySync() as number[][][];
        const gv = gm?.arraySync() as number[] | undefined;
        const bv = bt?.arraySync() as number[] | undefined;
        const out = got.arraySync() as number[][][];
        xv.forEach((plane, a) =>
          plane.forEach((row, b) => {
            const mean = row.reduce((s, v) => s + v, 0) / f;
            const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / f;
            const inv = 1 / Math.sqrt(variance + 1e-3);
            row.forEach((v, c) => {
              const want = (v - mean) * inv * (gv ? gv[c]! : 1) + (bv ? bv[c]! : 0);
              assert.ok(Math.abs(out[a]![b]![c]! - want) <= 2e-5 * (1 + Math.abs(want)), `f ${f}: ${out[a]![b]![c]} vs ${want}`);
            });
          }),
        );
      }
    }
  });
});
