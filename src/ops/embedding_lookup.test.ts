import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { EmbeddingGradientBuffers, embeddingLookup, scatterAddRows } from './embedding_lookup.js';
import { markSparseRows } from './heap_view.js';

function gradOf(lookup: (e: tf.Tensor, ids: tf.Tensor) => tf.Tensor, emb: number[][], ids: number[][], w: number[][][]): number[][] {
  return tf.tidy(() => {
    const e = tf.tensor2d(emb);
    const i = tf.tensor2d(ids, undefined, 'int32');
    const wt = tf.tensor3d(w);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(lookup(x, i), wt)))(e);
    return g.arraySync() as number[][];
  });
}

const V = 6;
const D = 3;
const EMB = Array.from({ length: V }, (_, v) => Array.from({ length: D }, (_, d) => Math.sin(v * 7 + d)));
const IDS = [
  [1, 4, 4, 0],
  [5, 1, 1, 1],
];
const W = IDS.map((row, b) => row.map((_, t) => Array.from({ length: D }, (_, d) => Math.cos(b * 11 + t * 3 + d))));

describe('embeddingLookup', () => {
  test('forward equals gather; shape is ids.shape + [D]', () => {
    tf.tidy(() => {
      const e = tf.tensor2d(EMB);
      const ids = tf.tensor2d(IDS, undefined, 'int32');
      const out = embeddingLookup(e, ids);
      assert.deepEqual(out.shape, [2, 4, D]);
      assert.deepEqual(out.arraySync(), tf.gather(e, ids).arraySync());
      // float ids are cast like Keras
      assert.deepEqual(embeddingLookup(e, tf.cast(ids, 'float32')).arraySync(), out.arraySync());
    });
  });

  test("the wasm gradient equals the cpu backend's tf.gather gradient", async () => {
    assert.equal(tf.getBackend(), 'wasm');
    const wasmGrad = gradOf(embeddingLookup, EMB, IDS, W);
    // tf.gather's own gradient works on wasm too, through the UnsortedSegmentSum kernel Masque registers (src/runtime/kernels.ts).
    const wasmGather = gradOf((e, i) => tf.gather(e, i), EMB, IDS, W);
    await tf.setBackend('cpu');
    let cpuGather: number[][];
    let cpuOurs: number[][];
    try {
      cpuGather = gradOf((e, i) => tf.gather(e, i), EMB, IDS, W);
      cpuOurs = gradOf(embeddingLookup, EMB, IDS, W);
    } finally {
      await tf.setBackend('wasm');
    }
    assert.equal(tf.getBackend(), 'wasm');
    for (const other of [cpuGather, cpuOurs, wasmGather]) {
      wasmGrad.forEach((row, v) => row.forEach((x, d) => assert.ok(Math.abs(x - other[v]![d]!) < 1e-6, `[${v}, ${d}]: ${x} vs ${other[v]![d]}`)));
    }
  });

  test('repeated ids accumulate; unused rows get zero', () => {
    const g = gradOf(embeddingLookup, EMB, [[2, 2, 2]], [[[1, 0, 0], [2, 0, 1], [3, 1, 0]]]);
    assert.deepEqual(g[2], [6, 1, 1]);
    for (const v of [0, 1, 3, 4, 5]) assert.deepEqual(g[v], [0, 0, 0]);
  });

  test('gradient w.r.t. a Variable through variableGrads, with no leaks over many steps', () => {
    const e = tf.variable(tf.tensor2d(EMB));
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const before = tf.memory().numTensors;
    for (let step = 0; step < 20; step++) {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(embeddingLookup(e, ids))) as tf.Scalar, [e]);
      const g = grads[e.name]!;
      assert.deepEqual(g.shape, [V, D]);
      // d/de sum(e[id]^2) = 2·e[id]·count(id); id 1 appears 4 times.
      const row1 = (g.arraySync() as number[][])[1]!;
      row1.forEach((x, d) => assert.ok(Math.abs(x - 8 * EMB[1]![d]!) < 1e-5));
      tf.dispose([value, g]);
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([e, ids]);
  });

  test('out-of-range ids raise INVALID_INPUT naming the id, inputDim and position', () => {
    const e = tf.tensor2d(EMB);
    const before = tf.memory().numTensors;
    for (const bad of [V, -1, 1000]) {
      const ids = tf.tensor2d([[0, 1], [2, bad]], undefined, 'int32');
      assert.throws(
        () => embeddingLookup(e, ids, { layerName: 'embedding' }),
        (err: Error & { code?: string }) =>
          err.code === 'INVALID_INPUT' &&
          err.message.includes(`id ${bad}`) &&
          err.message.includes(`inputDim ${V}`) &&
          err.message.includes('[1, 1]') &&
          err.message.includes("'embedding'"),
      );
      ids.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    e.dispose();
  });

  test('a larger lookup (runs of padding, repeats) equals gather through the heap kernel (int32 ids) and the JavaScript path (float ids); with the check off, ids outside [0, V) give zero rows in both', () => {
    tf.tidy(() => {
      const V = 50;
      const dim = 12;
      const e = tf.tensor2d(Array.from({ length: V * dim }, (_, i) => Math.sin(i * 0.37) + 0.01), [V, dim]);
      const ids = Array.from({ length: 7 * 23 }, (_, i) => (i % 23 > 15 ? 0 : (i * 13) % V));
      const i32 = tf.tensor2d(ids, [7, 23], 'int32');
      const want = tf.gather(e, i32).arraySync();
      assert.deepEqual(embeddingLookup(e, i32).arraySync(), want, 'int32 ids');
      assert.deepEqual(embeddingLookup(e, tf.cast(i32, 'float32')).arraySync(), want, 'float ids');
      const bad = ids.map((v, i) => (i === 3 ? -2 : i === 40 ? V : i === 41 ? V + 100 : v));
      const zeroed = tf.tensor2d(bad.map((v) => (v < 0 || v >= V ? 0 : v)), [7, 23], 'int32');
      const wantBad = tf.gather(e, zeroed).arraySync() as unknown as number[][][];
      for (const [r, t] of [[0, 3], [1, 17], [1, 18]] as const) wantBad[r]![t] = new Array(dim).fill(0);
      for (const dtype of ['int32', 'float32'] as const) {
        const got = embeddingLookup(e, tf.tensor2d(bad, [7, 23], dtype), { checkIds: false }).arraySync();
        assert.deepEqual(got, wantBad, `${dtype} ids outside [0, V), unchecked`);
      }
    });
  });

  test('scatterAddRows skips out-of-range ids when the check is off', () => {
    const g = scatterAddRows(Int32Array.from([0, 9, 0]), Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 2);
    assert.deepEqual(g.arraySync(), [[6, 8], [0, 0]]);
    g.dispose();
  });
});

test('scatterAddRows with the known nonzero rows equals the full scatter when the other rows are zero', () => {
  const ids = Int32Array.from([0, 2, 0, 1, 2, 0]);
  const rows = new Float32Array(6 * 2);
  rows.set([1, 2], 1 * 2);
  rows.set([3, -4], 4 * 2);
  rows.set([5, 6], 3 * 2);
  const full = scatterAddRows(ids, rows, 3, 2);
  const sparse = scatterAddRows(ids, rows, 3, 2, Int32Array.from([4, 1, 3]));
  assert.deepEqual(sparse.arraySync(), full.arraySync());
  assert.deepEqual(full.arraySync(), [[0, 0], [5, 6], [4, -2]]);
  tf.dispose([full, sparse]);
});

// Rows of 4 floats, and of 7 (the heap kernel's scatter adds 4 lanes at a time, then the rest one by one).
for (const DR of [4, 7]) describe(`EmbeddingGradientBuffers (the gradient buffer kept between steps), rows of ${DR}`, () => {
  const VR = 50;
  const table = () => tf.variable(tf.randomNormal([VR, DR], 0, 1, 'float32', 7));
  // Steps with different ids: a row left over from an earlier step must not stay in the gradient.
  const STEP_IDS = [[[3, 7, 7, 0]], [[12, 3, 49, 0]], [[1, 1, 1, 1]], [[49, 48, 2, 0]]];
  const gradAt = (e: tf.Variable, ids: number[][], step: number, sparse = false) => {
    const i = tf.tensor2d(ids, undefined, 'int32');
    const wt = tf.randomNormal([1, ids[0]!.length, DR], 0, 1, 'float32', 100 + step);
    const { value, grads } = tf.variableGrads(() => {
      let y = embeddingLookup(e, i);
      if (sparse) {
        // The upstream gradient is zero at the last step and says so (as a recurrent layer marks padding).
        y = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
          value: tf.clone(args[0] as tf.Tensor),
          gradFunc: (dy: tf.Tensor) => {
            const z = tf.mul(dy, tf.tensor3d([1, 1, 1, 0], [1, 4, 1]));
            markSparseRows(z, Int32Array.from([0, 1, 2]), DR);
            return z;
          },
        }))(y) as tf.Tensor;
      }
      return tf.sum(tf.mul(y, wt)) as tf.Scalar;
    }, [e]);
    tf.dispose([i, wt, value]);
    return grads[e.name]!;
  };
  const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

  for (const sparse of [false, true]) {
    test(`the same gradients step after step as fresh buffers${sparse ? ' (upstream rows marked sparse)' : ''}, and nothing left after close`, () => {
      const e = table();
      const before = tf.memory().numTensors;
      const fresh = STEP_IDS.map((ids, s) => {
        const g = gradAt(e, ids, s, sparse);
        const b = bits(g);
        g.dispose();
        return b;
      });
      assert.equal(tf.memory().numTensors, before);
      const reuse = new EmbeddingGradientBuffers();
      try {
        STEP_IDS.forEach((ids, s) => {
          const g = reuse.run(() => gradAt(e, ids, s, sparse));
          assert.deepEqual(bits(g), fresh[s], `step ${s}`);
          g.dispose();
        });
        assert.equal(reuse.size, 1);
        assert.equal(tf.memory().numTensors, before + 1, 'one kept buffer');
      } finally {
        reuse.dispose();
      }
      assert.equal(reuse.size, 0);
      assert.equal(tf.memory().numTensors, before);
      e.dispose();
    });
  }

  test('a gradient still held from an earlier step keeps its values (the next step takes a new buffer)', () => {
    const e = table();
    const reuse = new EmbeddingGradientBuffers();
    try {
      const g0 = reuse.run(() => gradAt(e, STEP_IDS[0]!, 0));
      const kept = bits(g0);
      const g1 = reuse.run(() => gradAt(e, STEP_IDS[1]!, 1));
      assert.deepEqual(bits(g0), kept);
      assert.notDeepEqual(bits(g1), kept);
      g0.dispose();
      const kept1 = bits(g1);
      const g2 = reuse.run(() => gradAt(e, STEP_IDS[2]!, 2));
      assert.deepEqual(bits(g1), kept1);
      assert.notDeepEqual(bits(g2), kept1);
      tf.dispose([g1, g2]);
    } finally {
      reuse.dispose();
    }
    e.dispose();
  });

  test('a second lookup of the same table in one step adds into a separate buffer', () => {
    const e = table();
    const i = tf.tensor2d([[3, 7]], undefined, 'int32');
    const run = () => {
      const { value, grads } = tf.variableGrads(() => tf.add(tf.sum(embeddingLookup(e, i)), tf.sum(tf.mul(embeddingLookup(e, i), 2))) as tf.Scalar, [e]);
      value.dispose();
      const b = bits(grads[e.name]!);
      grads[e.name]!.dispose();
      return b;
    };
    const fresh = run();
    const before = tf.memory().numTensors;
    const reuse = new EmbeddingGradientBuffers();
    try {
      for (let s = 0; s < 3; s++) assert.deepEqual(reuse.run(run), fresh);
    } finally {
      reuse.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    i.dispose();
    e.dispose();
  });

  test("owners keep their own buffers: the innermost running one is used; disposing one leaves the other; a gone variable's buffer is freed", () => {
    const e = table();
    const e2 = table();
    const before = tf.memory().numTensors;
    const outer = new EmbeddingGradientBuffers();
    const inner = new EmbeddingGradientBuffers();
    outer.run(() => {
      gradAt(e, STEP_IDS[0]!, 0).dispose();
      inner.run(() => gradAt(e, STEP_IDS[1]!, 1).dispose());
    });
    assert.deepEqual([outer.size, inner.size], [1, 1]);
    // Outside run: fresh buffers, nothing kept.
    gradAt(e, STEP_IDS[2]!, 2).dispose();
    assert.deepEqual([outer.size, inner.size], [1, 1]);
    inner.dispose();
    inner.dispose();
    assert.deepEqual([outer.size, inner.size], [1, 0]);
    assert.equal(tf.memory().numTensors, before + 1);
    // The variable goes; the owner's next step frees its buffer.
    e.dispose();
    outer.run(() => gradAt(e2, STEP_IDS[3]!, 3).dispose());
    assert.equal(outer.size, 1, "e's buffer freed, e2's kept");
    outer.dispose();
    assert.equal(tf.memory().numTensors, before - 1, 'only e is gone');
    e2.dispose();
  });
});
