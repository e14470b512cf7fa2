import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, getMask, Normalization, Masking, MasqueError, padSequences } from '../../index.js';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
};

test('given statistics: (x - mean) / sqrt(variance) per feature, padded zeros become -mean/std (as in Keras), the mask passes; invert undoes it', () => {
  const x = tf.tensor3d([[[1, 2], [0, 0]]]);
  const mask = tf.tensor2d([[true, false]], undefined, 'bool');
  const n = new Normalization({ mean: [1, -2], variance: [4, 0.25] });
  const y = n.apply(x, { mask }) as tf.Tensor;
  close(y.dataSync(), [0, 8, -0.5, 4], 1e-6, 'normalized');
  assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 0]);
  assert.equal(n.weights.length, 0);
  assert.deepEqual(n.getConfig()['axis'], [-1]);
  const back = new Normalization({ mean: [1, -2], variance: [4, 0.25], invert: true }).apply(y) as tf.Tensor;
  close(back.dataSync(), [1, 2, 0, 0], 1e-6, 'inverted');
  // axis null: one scalar pair (Keras writes axis []).
  const s = new Normalization({ axis: null, mean: 1, variance: 4 });
  close((s.apply(x) as tf.Tensor).dataSync(), [0, 0.5, -0.5, -0.5], 1e-6, 'scalar');
  assert.deepEqual(s.getConfig()['axis'], []);
});

test('given statistics are checked as Keras checks them', () => {
  const bad = (args: object, re: RegExp) => assert.throws(() => new Normalization(args), (e: unknown) => e instanceof MasqueError && re.test(e.message));
  bad({ mean: [1] }, /both mean and variance/);
  bad({ mean: [1, 2], variance: [1] }, /same shape/);
  bad({ axis: null, mean: [1], variance: [1] }, /rank of mean/);
  assert.throws(() => new Normalization({ mean: [1, 2, 3], variance: [1, 1, 1] }).apply(tf.zeros([1, 2, 2])), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH');
});

test('adapt counts valid steps only: a masked batch, the same sequences as arrays, and the unpadded values agree', () => {
  const seqs = [[[1, 10], [3, 30]], [[5, 50]], [[7, 70], [9, 90], [11, 110]]];
  const flat = seqs.flat();
  const mean = [0, 1].map((k) => flat.reduce((s, r) => s + r[k]!, 0) / flat.length);
  const variance = [0, 1].map((k) => flat.reduce((s, r) => s + (r[k]! - mean[k]!) ** 2, 0) / flat.length);
  const padded = padSequences(seqs, { padding: 'post', dtype: 'float32' });
  const masked = new Masking().apply(padded) as tf.Tensor;
  for (const data of [masked, seqs]) {
    const n = new Normalization();
    n.adapt(data as never);
    close(n.adaptMean!.dataSync(), mean, 1e-6, 'mean');
    close(n.adaptVariance!.dataSync(), variance, 1e-6, 'variance');
    assert.deepEqual(n.weights.map((w) => `${w.name}:${w.variable.dtype}:${w.trainable}`), ['mean:float32:false', 'variance:float32:false', 'count:int32:false']);
    close((n.apply(tf.tensor3d([[[mean[0]!, mean[1]!]]])) as tf.Tensor).dataSync(), [0, 0], 1e-6, 'the mean maps to 0');
  }
  // An explicit mask for a plain tensor; the padding counts when there is no mask, as in Keras.
  const m = new Normalization();
  m.adapt(padded, { mask: getMask(masked)! });
  close(m.adaptMean!.dataSync(), mean, 1e-6, 'explicit mask');
  const all = new Normalization();
  all.adapt(padded);
  close(all.adaptMean!.dataSync(), [0, 1].map((k) => (flat.reduce((s, r) => s + r[k]!, 0)) / 9), 1e-6, 'padding counts without a mask');
  assert.throws(() => new Normalization({ mean: 0, variance: 1 }).adapt(padded), /adapt learns them only when neither is given/);
  assert.throws(() => new Normalization().adapt(padded, { mask: tf.zeros([3, 3], 'bool') }), /no valid value/);
});
