import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { maskedMax, maskedMean } from './pooling_ops.js';
import { knownNonzeroRows, onCpuMemoryBackend } from './heap_view.js';

test('maskedMean and maskedMax use only valid steps; a fully masked row gives 0; NaN padding does not leak', () => {
  tf.tidy(() => {
    const x = tf.tensor3d([[[1, -5], [3, -1], [NaN, 100]], [[NaN, Infinity], [7, 8], [9, 10]]]);
    const m = tf.expandDims(tf.tensor2d([[true, true, false], [false, false, false]], undefined, 'bool'), 2);
    assert.deepEqual(maskedMean(x, m, 1, false).arraySync(), [[2, -3], [0, 0]]);
    assert.deepEqual(maskedMax(x, m, 1, false).arraySync(), [[3, -1], [0, 0]]);
    assert.deepEqual(maskedMax(x, m, 1, true).shape, [2, 1, 2]);
    assert.deepEqual(maskedMean(tf.tensor3d([[[1], [3]]]), null, 1, false).arraySync(), [[2]]);
  });
});

test('maskedMean and maskedMax have finite gradients that vanish at masked steps', () => {
  tf.tidy(() => {
    const x = tf.tensor3d([[[1], [3], [NaN]]]);
    const m = tf.expandDims(tf.tensor2d([[true, true, false]], undefined, 'bool'), 2);
    assert.deepEqual(Array.from(tf.grad((a: tf.Tensor) => tf.sum(maskedMean(a, m, 1, false)))(x).dataSync()), [0.5, 0.5, 0]);
    assert.deepEqual(Array.from(tf.grad((a: tf.Tensor) => tf.sum(maskedMax(a, m, 1, false)))(x).dataSync()), [0, 1, 0]);
  });
});

test('maskedMean in inference (one pass over the valid steps) equals the tfjs ops exactly, holes, empty rows and NaN padding included', () => {
  tf.tidy(() => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const [b, t, f] = [6, 11, 13];
    const xs = Array.from({ length: b * t * f }, () => (rnd() - 0.5) * 10);
    const ms = Array.from({ length: b * t }, (_, i) => (Math.floor(i / t) === 2 ? false : rnd() < 0.6));
    xs.forEach((_, i) => (ms[Math.floor(i / f)] ? 0 : (xs[i] = NaN)));
    const x = tf.tensor3d(xs, [b, t, f]);
    const m = tf.tensor3d(ms, [b, t, 1], 'bool');
    const ref = tf.div(tf.sum(tf.where(tf.tile(m, [1, 1, f]), x, tf.zerosLike(x)), 1), tf.maximum(tf.sum(tf.cast(m, 'float32'), 1), 1));
    assert.deepEqual(Array.from(maskedMean(x, m, 1, false).dataSync()), Array.from(ref.dataSync()));
    assert.deepEqual(maskedMean(x, m, 1, true).shape, [b, 1, f]);
    assert.deepEqual(Array.from(maskedMean(x, m, 1, true).dataSync()), Array.from(ref.dataSync()));
  });
});

test('maskedMean under a gradient tape: the tfjs ops\' values and gradient exactly, and the gradient is marked zero outside the valid steps', () => {
  tf.tidy(() => {
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const [b, t, f] = [5, 9, 7];
    const xs = Array.from({ length: b * t * f }, () => (rnd() - 0.5) * 10);
    const ms = Array.from({ length: b * t }, (_, i) => (Math.floor(i / t) === 1 ? false : rnd() < 0.6));
    const x = tf.tensor3d(xs, [b, t, f]);
    const m = tf.tensor3d(ms, [b, t, 1], 'bool');
    const w = tf.tensor2d(Array.from({ length: b * f }, () => rnd() * 3), [b, f]);
    const ref = (a: tf.Tensor) => tf.div(tf.sum(tf.where(tf.tile(m, [1, 1, f]), a, tf.zerosLike(a)), 1), tf.maximum(tf.sum(tf.cast(m, 'float32'), 1), 1));
    const mineG = tf.valueAndGrad((a: tf.Tensor) => tf.sum(tf.mul(maskedMean(a, m, 1, false), w)) as tf.Scalar)(x);
    const refG = tf.valueAndGrad((a: tf.Tensor) => tf.sum(tf.mul(ref(a), w)) as tf.Scalar)(x);
    assert.deepEqual(Array.from(mineG.value.dataSync()), Array.from(refG.value.dataSync()));
    assert.deepEqual(Array.from(mineG.grad.dataSync()), Array.from(refG.grad.dataSync()));
    if (onCpuMemoryBackend()) {
      const rows = knownNonzeroRows(mineG.grad, f);
      assert.deepEqual(Array.from(rows!), ms.flatMap((v, i) => (v ? [i] : [])));
    }
  });
});

test("maskedMax's gradient splits dy equally among tied maxima (TensorFlow's and Keras's rule), masked or not", () => {
  tf.tidy(() => {
    // Row 0, feature 0: the max 4 is held by steps 0 and 2 (and step 3, which is masked); feature 1 has one max.
    const x = tf.tensor3d([[[4, 1], [2, 5], [4, 3], [4, 9]]]);
    const r = tf.tensor2d([[6, 10]]);
    const m = tf.expandDims(tf.tensor2d([[true, true, true, false]], undefined, 'bool'), 2);
    const masked = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maskedMax(a, m, 1, false), r)))(x);
    assert.deepEqual(masked.arraySync(), [[[3, 0], [0, 10], [3, 0], [0, 0]]]);
    // Unmasked: three ties share 6; keepdims gives the same gradient.
    const plain = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maskedMax(a, null, 1, true), tf.expandDims(r, 1))))(x);
    assert.deepEqual(plain.arraySync(), [[[2, 0], [0, 0], [2, 0], [2, 10]]]);
    // A fully masked row gives 0 and no gradient.
    const none = tf.expandDims(tf.tensor2d([[false, false, false, false]], undefined, 'bool'), 2);
    assert.deepEqual(tf.grad((a: tf.Tensor) => tf.sum(maskedMax(a, none, 1, false)))(x).arraySync(), [[[0, 0], [0, 0], [0, 0], [0, 0]]]);
  });
});
