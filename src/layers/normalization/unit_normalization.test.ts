import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, getMask, UnitNormalization, MasqueError } from '../../index.js';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
};

test('over the features each step is scaled to unit length, padded steps too (as in Keras); the mask passes', () => {
  const u = new UnitNormalization();
  const x = tf.tensor3d([[[3, 4], [0, 0], [6, 8]]]);
  const mask = tf.tensor2d([[true, false, true]], undefined, 'bool');
  const y = u.apply(x, { mask }) as tf.Tensor;
  close(y.dataSync(), [0.6, 0.8, 0, 0, 0.6, 0.8], 1e-6, 'unit rows');
  assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 0, 1]);
  assert.deepEqual(u.getConfig()['axis'], -1);
});

test('departure: over time, the norm counts valid steps only, whatever the padding holds', () => {
  const u = new UnitNormalization({ axis: 1 });
  const x = tf.tensor3d([[[3, 1], [4, 1], [50, 50]], [[NaN, 7], [3, 1], [4, 1]]]);
  const mask = tf.tensor2d([[true, true, false], [false, true, true]], undefined, 'bool');
  const y = u.apply(x, { mask }) as tf.Tensor;
  const out = y.arraySync() as number[][][];
  const s2 = Math.SQRT2;
  close(out[0]!.slice(0, 2).flat(), [0.6, 1 / s2, 0.8, 1 / s2], 1e-6, 'post-padded');
  close(out[1]!.slice(1).flat(), [0.6, 1 / s2, 0.8, 1 / s2], 1e-6, 'pre-padded');
  // Over time and features (axis [1, 2]): one norm per sample over its valid steps.
  const both = new UnitNormalization({ axis: [1, 2] }).apply(x, { mask }) as tf.Tensor;
  const n = Math.sqrt(9 + 1 + 16 + 1);
  close((both.arraySync() as number[][][])[0]!.slice(0, 2).flat(), [3 / n, 1 / n, 4 / n, 1 / n], 1e-6, 'axis [1, 2]');
  assert.throws(() => new UnitNormalization({ axis: 3 }).apply(x), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH');
});
