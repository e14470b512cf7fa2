import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { matMul, matMulReference } from './matmul.js';

function close(a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void {
  assert.deepEqual(a.shape, b.shape, what);
  const x = a.dataSync(), y = b.dataSync();
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= tol * (1 + Math.abs(y[i]!)), `${what}[${i}]: ${x[i]} vs ${y[i]}`);
}

/** Value and gradients (of a non-linear function of the product) under `mm`. */
function run(mm: typeof matMul, a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): tf.Tensor[] {
  const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.sin(mm(x, y, ta, tb)));
  const { value, grads } = tf.valueAndGrads(f)([a, b]);
  return [mm(a, b, ta, tb), value, ...grads];
}

describe('matMul (plain products forward and backward on wasm)', () => {
  const cases: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { name: 'rank 2', a: [7, 5], b: [5, 6], ta: false, tb: false },
    { name: 'rank 2, transposeA', a: [5, 7], b: [5, 6], ta: true, tb: false },
    { name: 'rank 2, transposeB', a: [7, 5], b: [6, 5], ta: false, tb: true },
    { name: 'rank 2, both', a: [5, 7], b: [6, 5], ta: true, tb: true },
    { name: 'rank 3', a: [3, 4, 5], b: [3, 5, 2], ta: false, tb: false },
    { name: 'rank 4, transposeB (attention scores)', a: [2, 3, 4, 8], b: [2, 3, 6, 8], ta: false, tb: true },
  ];
  for (const c of cases) {
    test(`${c.name}: value and gradients equal tf.matMul's`, () => {
      tf.tidy(() => {
        const a = tf.randomNormal(c.a, 0, 1, 'float32', 1);
        const b = tf.randomNormal(c.b, 0, 1, 'float32', 2);
        const ours = run(matMul, a, b, c.ta, c.tb);
        const ref = run(matMulReference, a, b, c.ta, c.tb);
        ['product', 'value', 'dA', 'dB'].forEach((w, i) => close(ours[i]!, ref[i]!, 1e-5, `${c.name} ${w}`));
      });
    });
  }

  test('broadcasting batch axes fall back to tf.matMul', () => {
    tf.tidy(() => {
      const a = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 5);
      const b = tf.randomNormal([1, 5, 3], 0, 1, 'float32', 6);
      assert.deepEqual(matMul(a, b).arraySync(), tf.matMul(a, b).arraySync());
    });
  });

  test('on the cpu backend it is tf.matMul', async () => {
    await tf.setBackend('cpu');
    try {
      tf.tidy(() => {
        const a = tf.randomNormal([3, 4], 0, 1, 'float32', 3);
        const b = tf.randomNormal([3, 5], 0, 1, 'float32', 4);
        assert.deepEqual(matMul(a, b, true).arraySync(), tf.matMul(a, b, true).arraySync());
      });
    } finally {
      await tf.setBackend('wasm');
    }
  });

  test('leaves no tensors behind, under a gradient too', () => {
    const a = tf.randomNormal([6, 4]);
    const b = tf.randomNormal([5, 4]);
    const before = tf.memory().numTensors;
    tf.dispose(tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y, false, true)))([a, b]));
    tf.dispose(matMul(a, b, false, true));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([a, b]);
  });
});
