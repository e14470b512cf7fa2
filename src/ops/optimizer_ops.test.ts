import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { adamUpdate, adamUpdateReference, type AdamResult } from './optimizer_ops.js';

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
});
