import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { gatherRows, gatherRowsAndMean, packedAttention, planPackedAttention, setAttentionPacking, type PlanArgs } from './packed_attention_ops.js';
import { softmaxReplaceMasked } from './attention_ops.js';
import { embeddingLookup } from './embedding_lookup.js';
import { tableRowsOf } from './lookup_source.js';

const valid = (lengths: number[], t: number, pre = false) =>
  Uint8Array.from(lengths.flatMap((l) => Array.from({ length: t }, (_, i) => (pre ? i >= t - l : i < l) ? 1 : 0)));
const base = (over: Partial<PlanArgs>): PlanArgs => ({
  b: 3, t: 8, s: 8, qValid: null, kValid: null, causal: false, slidingWindow: null, noKey: 'fallback', costs: { pair: 10, token: 10, group: 0 }, ...over,
});

test('the plan slices each row to its own window, for pre- and post-padding alike', () => {
  for (const pre of [false, true]) {
    const v = valid([2, 5, 2], 8, pre);
    const plan = planPackedAttention(base({ qValid: v, kValid: v }))!;
    assert.ok(plan !== null && plan.cost < plan.denseCost);
    const byRow = new Map(plan.groups.flatMap((g) => g.rows.map((r, k) => [r, { wq: g.wq, q0: g.qStart[k]!, k0: g.kStart[k]! }])));
    assert.deepEqual(byRow.get(1), { wq: 5, q0: pre ? 3 : 0, k0: pre ? 3 : 0 });
    assert.equal(byRow.get(0)!.wq, 2);
    assert.equal(byRow.get(0)!.q0, pre ? 6 : 0);
    // Padded query positions read the fallback row of their batch row (offset = packed rows).
    const packedRows = plan.groups.reduce((n, g) => n + g.rows.length * g.wq, 0);
    const padPos = pre ? 0 : 7;
    assert.equal(plan.assemble[padPos], packedRows + 0);
  }
});

test('the plan returns null when packing saves nothing, and "never"/"always" override the cost model', () => {
  const full = valid([8, 8, 8], 8);
  assert.equal(planPackedAttention(base({ qValid: full, kValid: full, costs: { pair: 1, token: 1, group: 1e6 } })), null);
  const short = valid([1, 1, 1], 8);
  const cheap = base({ qValid: short, kValid: short, costs: { pair: 1, token: 1, group: 1e9 } });
  assert.equal(planPackedAttention(cheap), null);
  const prev = setAttentionPacking('always');
  try {
    assert.ok(planPackedAttention(cheap) !== null);
    setAttentionPacking('never');
    assert.equal(planPackedAttention(base({ qValid: short, kValid: short })), null);
  } finally {
    setAttentionPacking(prev);
  }
});

test('a valid query with no valid key: fallback for MHA, the full key range for Attention', () => {
  const q = valid([3, 3, 3], 8);
  const k = valid([3, 0, 3], 8);
  const fb = planPackedAttention(base({ qValid: q, kValid: k }))!;
  const packedRows = fb.groups.reduce((n, g) => n + g.rows.length * g.wq, 0);
  assert.equal(fb.assemble[8], packedRows + 1);
  const full = planPackedAttention(base({ qValid: q, kValid: k, noKey: 'full' }))!;
  const g = full.groups.find((x) => x.rows.includes(1))!;
  assert.equal(g.wk, 8);
  assert.ok(full.assemble[8]! < full.groups.reduce((n, x) => n + x.rows.length * x.wq, 0));
});

test('causal packing keeps absolute positions: pre-padded query i attends keys [start, i]', () => {
  const v = valid([3], 6, true);
  const plan = planPackedAttention(base({ b: 1, t: 6, s: 6, qValid: v, kValid: v, causal: true }))!;
  const g = plan.groups[0]!;
  assert.deepEqual([g.wq, g.wk, g.qStart[0], g.kStart[0]], [3, 3, 3, 3]);
  assert.deepEqual(Array.from(g.mask), [1, 0, 0, 1, 1, 0, 1, 1, 1]);
});

test('gatherRows: values of tf.gather, and a gradient (summing repeated rows) on every backend', () => {
  tf.tidy(() => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const idx = tf.tensor1d([2, 0, 2], 'int32');
    assert.deepEqual(gatherRows(x, idx).arraySync(), [[5, 6], [1, 2], [5, 6]]);
    const w = tf.tensor2d([[1, 10], [100, 1000], [2, 20]]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gatherRows(a, idx), w)))(x);
    assert.deepEqual(g.arraySync(), [[100, 1000], [0, 0], [3, 30]]);
  });
});

test('packedAttention equals dense masked attention at every valid query, with fallback elsewhere; no leaks', () => {
  const prev = setAttentionPacking('always');
  try {
    tf.tidy(() => void 0);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const [b, t, d] = [3, 7, 4];
      const q = tf.randomNormal([b, t, d]);
      const k = tf.randomNormal([b, t, d]);
      const lengths = [7, 3, 1];
      const v = valid(lengths, t, true);
      const m = tf.tensor2d(v, [b, t], 'bool');
      const attend = (qc: tf.Tensor, [kc]: tf.Tensor[], mask: tf.Tensor) => tf.matMul(softmaxReplaceMasked(tf.matMul(qc, kc!, false, true), mask), kc!);
      const plan = planPackedAttention(base({ b, t, s: t, qValid: v, kValid: v, causal: true }))!;
      const out = packedAttention(plan, q, [k], attend, () => tf.fill([b, d], 42));
      const causal = tf.greaterEqual(tf.reshape(tf.range(0, t), [t, 1]), tf.reshape(tf.range(0, t), [1, t]));
      const dense = attend(q, [k], tf.logicalAnd(tf.expandDims(m, 1), tf.expandDims(causal, 0)));
      const o = out.arraySync() as number[][][];
      const r = dense.arraySync() as number[][][];
      for (let i = 0; i < b; i++) {
        for (let s = 0; s < t; s++) {
          if (v[i * t + s]) o[i]![s]!.forEach((x, j) => assert.ok(Math.abs(x - r[i]![s]![j]!) < 1e-5));
          else assert.deepEqual(o[i]![s], [42, 42, 42, 42]);
        }
      }
    });
    assert.equal(tf.memory().numTensors, before);
  } finally {
    setAttentionPacking(prev);
  }
});

test('gatherRowsAndMean: the same bits as tf.gather and tf.mean over axis 1, and as their gradients; zero outside the rows when the mean gets none', () => {
  tf.tidy(() => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 7;
    const [b, s, f] = [3, 9, 6];
    const x = tf.tensor3d(Float32Array.from({ length: b * s * f }, rnd), [b, s, f]);
    const idx = Int32Array.from([1, 2, 3, 9, 10, 20, 21, 22, 23]);
    const n = idx.length;
    const ref = (a: tf.Tensor) => tf.concat([tf.gather(tf.reshape(a, [b * s, f]), tf.tensor1d(idx, 'int32')), tf.mean(a, 1)], 0);
    const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
    assert.deepEqual(bits(gatherRowsAndMean(x, idx, true)), bits(ref(x)));
    assert.deepEqual(bits(gatherRowsAndMean(x, idx, false)), bits(ref(x)).slice(0, n * f));
    const w = tf.tensor2d(Float32Array.from({ length: (n + b) * f }, rnd), [n + b, f]);
    const mine = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gatherRowsAndMean(a, idx, true), w)))(x);
    // tf.gather's gradient needs UnsortedSegmentSum (missing on wasm): the reference scatters by hand, then adds the mean's.
    const theirs = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.concat([gatherRows(tf.reshape(a, [b * s, f]), tf.tensor1d(idx, 'int32')), tf.mean(a, 1)], 0), w)))(x);
    assert.deepEqual(bits(mine), bits(theirs));
    // No gradient into the mean rows: only the gathered rows are nonzero.
    const wRows = tf.concat([tf.slice(w, [0, 0], [n, f]), tf.zeros([b, f])], 0);
    const sparse = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gatherRowsAndMean(a, idx, true), wRows)))(x);
    const flat = tf.reshape(sparse, [b * s, f]).arraySync() as number[][];
    flat.forEach((row, r) => assert.ok(idx.includes(r) || row.every((v) => v === 0), `row ${r}`));
  });
});

test('the plan without a causal or sliding-window band (rows scanned natively) equals the per-query loop, on masks with holes', () => {
  let seed = 11;
  const r = () => (seed = (seed * 69069 + 1) % 4294967296) / 4294967296;
  for (let trial = 0; trial < 200; trial++) {
    const b = 1 + Math.floor(r() * 6);
    const t = 1 + Math.floor(r() * 9);
    const s = 1 + Math.floor(r() * 9);
    // Random masks, holes and empty rows included; sometimes none.
    const mask = (n: number, p: number) => (r() < 0.15 ? null : Uint8Array.from({ length: n }, () => (r() < p ? 1 : 0)));
    const qValid = mask(b * t, r());
    const kValid = mask(b * s, r());
    for (const noKey of ['fallback', 'full'] as const) {
      const args = base({ b, t, s, qValid, kValid, noKey, force: true, costs: { pair: 1 + Math.floor(r() * 9), token: Math.floor(r() * 9), group: Math.floor(r() * 40) } });
      // A sliding window as long as both sequences restricts nothing, but takes the per-query loop.
      const looped = planPackedAttention({ ...args, slidingWindow: Math.max(t, s) });
      assert.deepEqual(planPackedAttention(args), looped, `trial ${trial}, ${noKey}`);
    }
  }
});

test('gatherRowsAndMean of an embedding lookup reads the mean from the table by the ids: the same bits as from the lookup output', () => {
  tf.tidy(() => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 5;
    // 64 features (four blocks of 16), 21 (a block of 16, one of 4, one alone), 3 (alone only).
    for (const f of [64, 21, 3]) {
      const [b, s, vocab] = [3, 11, 9];
      const table = tf.tensor2d(Float32Array.from({ length: vocab * f }, rnd), [vocab, f]);
      // Padding (id 0) after, before and around the real ids.
      const ids = tf.tensor2d([[4, 2, 2, 7, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1, 8, 3, 5], [0, 0, 6, 6, 6, 6, 6, 6, 0, 0, 0]], [b, s], 'int32');
      const x = embeddingLookup(table, ids);
      const copy = tf.clone(x);
      // Only the lookup's own output has a source (a clone is another tensor).
      assert.ok(tableRowsOf(x, b * s, f) !== null);
      assert.equal(tableRowsOf(copy, b * s, f), null);
      const idx = Int32Array.from([0, 1, 2, 3, 18, 19, 20, 21, 24, 25]);
      const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
      const fromTable = bits(gatherRowsAndMean(x, idx, true));
      assert.deepEqual(fromTable, bits(gatherRowsAndMean(copy, idx, true)), `f ${f}`);
      if (tf.getBackend() === 'wasm') assert.deepEqual(fromTable, bits(tf.concat([tf.gather(tf.reshape(copy, [b * s, f]), tf.tensor1d(idx, 'int32')), tf.mean(copy, 1)], 0)), `f ${f}: tf.mean`);
    }
  });
});

test('the plan finds the cheapest contiguous grouping (cuts between rows of equal windows never pay), and force keeps a plan that saves nothing', () => {
  const r = (() => {
    let s = 5;
    return () => (s = (s * 69069 + 1) % 4294967296) / 4294967296;
  })();
  for (let trial = 0; trial < 40; trial++) {
    const b = 2 + Math.floor(r() * 14);
    const t = 4 + Math.floor(r() * 10);
    // Few distinct lengths, so that runs of equal windows are common.
    const lengths = Array.from({ length: b }, () => 1 + Math.floor(r() * 3) * Math.floor(t / 3));
    const v = valid(lengths.map((l) => Math.min(l, t)), t);
    const costs = { pair: 1 + Math.floor(r() * 20), token: Math.floor(r() * 50), group: Math.floor(r() * 400) };
    const plan = planPackedAttention(base({ b, t, s: t, qValid: v, kValid: v, costs, force: true }))!;
    // Brute force: every contiguous partition of the rows sorted by window, cuts anywhere.
    const w = lengths.map((l) => Math.min(l, t)).sort((x, y) => y - x);
    const best = [0];
    for (let i = 1; i <= b; i++) {
      best[i] = Infinity;
      for (let j = 0; j < i; j++) best[i] = Math.min(best[i]!, best[j]! + (i - j) * (w[j]! * w[j]! * costs.pair + 2 * w[j]! * costs.token) + costs.group);
    }
    assert.equal(plan.cost, best[b]! + costs.group, `lengths ${lengths}, costs ${JSON.stringify(costs)}`);
    assert.equal(plan.groups.reduce((n, g) => n + g.rows.length, 0), b);
  }
  // All rows full: without force no plan, with force one that covers every row.
  const full = valid([8, 8, 8], 8);
  const args = base({ qValid: full, kValid: full, costs: { pair: 1, token: 1, group: 1e6 } });
  assert.equal(planPackedAttention(args), null);
  const forced = planPackedAttention({ ...args, force: true })!;
  assert.deepEqual(forced.groups.map((g) => [g.rows.length, g.wq, g.wk]), [[3, 8, 8]]);
});
