import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { adamUpdate, adamUpdateInPlace, adamUpdateReference, type AdamResult } from './optimizer_ops.js';
import { inPlaceWriteCount, knownNonzeroRows, markSparseRows } from './heap_view.js';

const K = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, alpha: (1e-3 * Math.sqrt(1 - 0.999 ** 3)) / (1 - 0.9 ** 3) };

function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync()).buffer);
}

function state(n: number, amsgrad: boolean, seed: number) {
  const w = tf.randomNormal([n], 0, 1, 'float32', seed);
  const g = tf.randomNormal([n], 0, 0.1, 'float32', seed + 1);
  const m = tf.randomNormal([n], 0, 0.01, 'float32', seed + 2);
  const v = tf.abs(tf.randomNormal([n], 0, 1e-4, 'float32', seed + 3));
  const vHat = amsgrad ? tf.abs(tf.randomNormal([n], 0, 1e-4, 'float32', seed + 4)) : null;
  return { w, g, s: { m, v, vHat } };
}

const parts = (r: AdamResult) => [r.w, r.m, r.v, ...(r.vHat ? [r.vHat] : [])];

describe('adamUpdate (one SIMD pass on the wasm heap)', () => {
  for (const amsgrad of [false, true]) {
    for (const n of [1, 7, 64, 1003]) {
      test(`the same bits as the tfjs reference: ${n} floats${amsgrad ? ', amsgrad' : ''}`, () => {
        tf.tidy(() => {
          const { w, g, s } = state(n, amsgrad, n);
          const fast = parts(adamUpdate(w, g, s, K));
          const ref = parts(adamUpdateReference(w, g, s, K));
          assert.equal(fast.length, ref.length);
          fast.forEach((t, i) => {
            assert.deepEqual(t.shape, ref[i]!.shape);
            assert.deepEqual(bits(t), bits(ref[i]!), `output ${i}`);
          });
        });
      });
    }
  }

  test('keeps the shape of a 2-D table, and leaves its inputs unchanged', () => {
    tf.tidy(() => {
      const { w, g, s } = state(6 * 5, false, 9);
      const w2 = tf.reshape(w, [6, 5]);
      const before = bits(w2);
      const r = adamUpdate(w2, tf.reshape(g, [6, 5]), { m: tf.reshape(s.m, [6, 5]), v: tf.reshape(s.v, [6, 5]), vHat: null }, K);
      assert.deepEqual(r.w.shape, [6, 5]);
      assert.deepEqual(bits(w2), before);
    });
  });

  test('on the cpu backend it runs the reference', async () => {
    await tf.setBackend('cpu');
    try {
      tf.tidy(() => {
        const { w, g, s } = state(10, true, 3);
        parts(adamUpdate(w, g, s, K)).forEach((t, i) => assert.deepEqual(bits(t), bits(parts(adamUpdateReference(w, g, s, K))[i]!)));
      });
    } finally {
      await tf.setBackend('wasm');
    }
  });

  describe('adamUpdateInPlace', () => {
    const vars = (n: number, amsgrad: boolean, seed: number) => {
      const { w, g, s } = state(n, amsgrad, seed);
      const made = { w: tf.variable(w), g, m: tf.variable(s.m), v: tf.variable(s.v), vHat: s.vHat === null ? null : tf.variable(s.vHat) };
      tf.dispose([w, s.m, s.v, ...(s.vHat ? [s.vHat] : [])]);
      return made;
    };
    const disposeAll = (x: ReturnType<typeof vars>) => tf.dispose([x.w, x.g, x.m, x.v, ...(x.vHat ? [x.vHat] : [])]);

    for (const amsgrad of [false, true]) {
      test(`writes the same bits as adamUpdate into the variables${amsgrad ? ', amsgrad' : ''}`, () => {
        const x = vars(1003, amsgrad, 21);
        const before = tf.memory().numTensors;
        const ref = adamUpdate(x.w, x.g, { m: x.m, v: x.v, vHat: x.vHat }, K);
        const ids = [x.w, x.m, x.v].map((t) => t.dataId);
        assert.equal(adamUpdateInPlace(x.w, x.g, { m: x.m, v: x.v, vHat: x.vHat }, K), true);
        assert.deepEqual([x.w, x.m, x.v].map((t) => t.dataId), ids, 'no new data: written in place');
        const got = [x.w, x.m, x.v, ...(x.vHat ? [x.vHat] : [])];
        parts(ref).forEach((t, i) => assert.deepEqual(bits(got[i]!), bits(t), `output ${i}`));
        tf.dispose(parts(ref));
        assert.equal(tf.memory().numTensors, before);
        disposeAll(x);
      });
    }

    describe('with a gradient marked zero but at some rows (the Embedding gradient)', () => {
      // 37 rows of 5 floats (rows not 16-byte aligned, tails of 1), some state at +0 and -0.
      const R = 37, F = 5;
      const table = (amsgrad: boolean, seed: number) => {
        const x = vars(R * F, amsgrad, seed);
        const rowsKept = [30, 2, 2, 17, 36, 0];
        const keep = new Float32Array(R * F);
        for (const r of rowsKept) keep.fill(1, r * F, (r + 1) * F);
        const g = tf.reshape(tf.mul(x.g, tf.tensor1d(keep)), [R, F]);
        x.g.dispose();
        const reshaped = (t: tf.Variable) => {
          const r = tf.reshape(t, [R, F]);
          const v = tf.variable(r);
          tf.dispose([r, t]);
          return v;
        };
        const m = reshaped(x.m);
        tf.tidy(() => m.assign(tf.mul(m, tf.tensor2d(Array.from({ length: R * F }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : 1)), [R, F]))));
        return { w: reshaped(x.w), g, m, v: reshaped(x.v), vHat: x.vHat === null ? null : reshaped(x.vHat), rowsKept };
      };
      for (const amsgrad of [false, true]) {
        test(`the same bits as the reference${amsgrad ? ', amsgrad' : ''}; marks may repeat rows, come unsorted and name rows outside the table (ignored)`, () => {
          const x = table(amsgrad, 31);
          markSparseRows(x.g, Int32Array.from([...x.rowsKept, -1, R + 3, 36]), F);
          const ref = adamUpdateReference(x.w, x.g, { m: x.m, v: x.v, vHat: x.vHat }, K);
          assert.equal(adamUpdateInPlace(x.w, x.g, { m: x.m, v: x.v, vHat: x.vHat }, K), true);
          const got = [x.w, x.m, x.v, ...(x.vHat ? [x.vHat] : [])];
          parts(ref).forEach((t, i) => assert.deepEqual(bits(got[i]!), bits(t), `output ${i}`));
          tf.dispose([...parts(ref), x.g, ...got]);
        });
      }

      test('rows outside the mark are not read (the mark is what makes the pass skip them)', () => {
        const x = table(false, 41);
        // A mark that leaves out row 30, which is nonzero: the update must treat row 30 as zero.
        markSparseRows(x.g, Int32Array.from([0, 2, 17, 36]), F);
        const zeroed = tf.mul(x.g, tf.tensor2d(Array.from({ length: R * F }, (_, i) => (Math.floor(i / F) === 30 ? 0 : 1)), [R, F]));
        const ref = adamUpdateReference(x.w, zeroed, { m: x.m, v: x.v, vHat: null }, K);
        assert.equal(adamUpdateInPlace(x.w, x.g, { m: x.m, v: x.v, vHat: null }, K), true);
        [x.w, x.m, x.v].forEach((t, i) => assert.deepEqual(bits(t), bits(parts(ref)[i]!), `output ${i}`));
        tf.dispose([...parts(ref), zeroed, x.g, x.w, x.m, x.v]);
      });
    });

    test('refuses (writes nothing) while another tensor shares the data: a live reshape keeps its values', () => {
      const x = vars(64, false, 5);
      // On wasm a reshape shares its input's data (tf.clone copies it).
      const kept = tf.reshape(x.w, [8, 8]);
      assert.equal(kept.dataId, x.w.dataId);
      const keptBits = bits(kept);
      assert.equal(adamUpdateInPlace(x.w, x.g, { m: x.m, v: x.v, vHat: null }, K), false);
      assert.deepEqual(bits(x.w), keptBits);
      kept.dispose();
      assert.equal(adamUpdateInPlace(x.w, x.g, { m: x.m, v: x.v, vHat: null }, K), true);
      assert.notDeepEqual(bits(x.w), keptBits);
      disposeAll(x);
    });

    test('refuses when the gradient is one of the updated tensors', () => {
      const x = vars(16, false, 6);
      const m0 = bits(x.m);
      assert.equal(adamUpdateInPlace(x.w, x.m, { m: x.m, v: x.v, vHat: null }, K), false);
      assert.deepEqual(bits(x.m), m0);
      disposeAll(x);
    });

    test('a matMul after the update reads the new weights (the backend drops its packed copy of the old ones)', () => {
      const { w, g: g1, s: st } = state(16 * 12, false, 8);
      const as2d = (t: tf.Tensor) => {
        const r = tf.reshape(t, [16, 12]);
        const made = tf.variable(r);
        tf.dispose([r, t]);
        return made;
      };
      const [w2, m, v] = [w, st.m, st.v].map(as2d) as [tf.Variable, tf.Variable, tf.Variable];
      const g = tf.reshape(g1, [16, 12]);
      const inp = tf.randomNormal([5, 16], 0, 1, 'float32', 3);
      tf.matMul(inp, w2).dispose(); // XNNPACK packs w2 under its tensor id here
      assert.equal(adamUpdateInPlace(w2, g, { m, v, vHat: null }, K), true);
      const fresh = tf.tensor(w2.dataSync(), [16, 12]);
      assert.deepEqual(bits(tf.matMul(inp, w2)), bits(tf.matMul(inp, fresh)));
      tf.dispose([w2, g1, inp, g, m, v, fresh]);
    });

    test('forgets sparse-row marks of the data it wrote and counts the write (inPlaceWriteCount)', () => {
      const x = vars(8 * 4, false, 7);
      markSparseRows(x.m, Int32Array.from([1]), 4);
      assert.ok(knownNonzeroRows(x.m, 4) !== null);
      const before = inPlaceWriteCount(x.w);
      assert.equal(adamUpdateInPlace(x.w, x.g, { m: x.m, v: x.v, vHat: null }, K), true);
      assert.equal(knownNonzeroRows(x.m, 4), null);
      assert.equal(inPlaceWriteCount(x.w), before + 1);
      assert.equal(inPlaceWriteCount(x.g), 0);
      disposeAll(x);
    });
  });
});
