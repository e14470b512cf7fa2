import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, getMask, BatchNormalization, Embedding, Dense, GlobalAveragePooling1D, Sequential, Input, MasqueError, Masking } from '../../index.js';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
};

/** Channel-wise masked moments and the expected BN output, in float64 (Keras's count offset 1e-7). */
function reference(x: number[][][], mask: boolean[][], gamma: number[], beta: number[], eps: number) {
  const f = gamma.length;
  const mean = new Array<number>(f).fill(0);
  const variance = new Array<number>(f).fill(0);
  let n = 0;
  x.forEach((row, b) => row.forEach((step, t) => mask[b]![t] && (n++, step.forEach((v, k) => (mean[k]! += v)))));
  for (let k = 0; k < f; k++) mean[k]! /= n + 1e-7;
  x.forEach((row, b) => row.forEach((step, t) => mask[b]![t] && step.forEach((v, k) => (variance[k]! += (v - mean[k]!) ** 2))));
  for (let k = 0; k < f; k++) variance[k]! /= n + 1e-7;
  const y = x.flatMap((row) => row.flatMap((step) => step.map((v, k) => ((v - mean[k]!) / Math.sqrt(variance[k]! + eps)) * gamma[k]! + beta[k]!)));
  return { mean, variance, y };
}

test('inference uses the moving statistics at every position and passes the mask; weights are named and ordered as in Keras', () => {
  const bn = new BatchNormalization({ name: 'bn' });
  const x = tf.tensor3d([[[1, 2], [3, 4]], [[0, 0], [5, -1]]]);
  const mask = tf.tensor2d([[true, true], [false, true]], undefined, 'bool');
  const y = bn.apply(x, { mask }) as tf.Tensor;
  assert.deepEqual(bn.weights.map((w) => `${w.path}:${w.trainable}`), ['bn/gamma:true', 'bn/beta:true', 'bn/moving_mean:false', 'bn/moving_variance:false']);
  bn.setWeights([tf.tensor1d([2, 1]), tf.tensor1d([0.5, 0]), tf.tensor1d([1, 2]), tf.tensor1d([4, 1])]);
  const z = bn.apply(x, { mask }) as tf.Tensor;
  close(z.dataSync(), [1, 2, 3, 4, 0, 0, 5, -1].map((v, i) => (i % 2 === 0 ? ((v - 1) / Math.sqrt(4.001)) * 2 + 0.5 : (v - 2) / Math.sqrt(1.001))), 1e-6, 'inference');
  assert.deepEqual(Array.from(getMask(z)!.dataSync()), [1, 1, 0, 1]);
  assert.deepEqual(Array.from(bn.movingMean.dataSync()), [1, 2], 'inference leaves the moving statistics alone');
  tf.dispose([x, mask, y, z]);
  bn.dispose();
});

test('training: moments over valid steps only, every position normalized, moving statistics moved by 1 - momentum; trainable false means inference', () => {
  const xs = [[[1, 2], [3, 5], [100, -100]], [[0.5, 1], [-50, 70], [-2, 4]]];
  const ms = [[true, true, false], [true, false, true]];
  const x = tf.tensor3d(xs);
  const mask = tf.tensor2d(ms, undefined, 'bool');
  const bn = new BatchNormalization({ momentum: 0.8, epsilon: 0.01, gammaInitializer: { className: 'Constant', config: { value: 1.5 } } });
  const y = bn.apply(x, { mask, training: true }) as tf.Tensor;
  const want = reference(xs, ms, [1.5, 1.5], [0, 0], 0.01);
  close(y.dataSync(), want.y, 1e-5, 'training output');
  close(bn.movingMean.dataSync(), want.mean.map((m) => 0.2 * m), 1e-6, 'moving mean');
  close(bn.movingVariance.dataSync(), want.variance.map((v) => 0.8 + 0.2 * v), 1e-6, 'moving variance');
  assert.deepEqual(Array.from(getMask(y)!.dataSync()), ms.flat().map(Number));
  // A frozen layer runs in inference mode even with training: true, and updates nothing.
  bn.trainable = false;
  const before = Array.from(bn.movingMean.dataSync());
  const z = bn.apply(x, { mask, training: true }) as tf.Tensor;
  assert.deepEqual(Array.from(bn.movingMean.dataSync()), before);
  const inf = bn.apply(x, { mask, training: false }) as tf.Tensor;
  assert.deepEqual(Array.from(z.dataSync()), Array.from(inf.dataSync()));
  tf.dispose([x, mask, y, z, inf]);
  bn.dispose();
});

test('departure: one channel with a mask in training works (Keras raises IndexError) and gives the masked moments', () => {
  const xs = [[[1], [2], [0]], [[4], [0], [0]]];
  const ms = [[true, true, false], [true, false, false]];
  const x = tf.tensor3d(xs);
  const bn = new BatchNormalization({ momentum: 0.5 });
  const y = bn.apply(x, { mask: tf.tensor2d(ms, undefined, 'bool'), training: true }) as tf.Tensor;
  const want = reference(xs, ms, [1], [0], 1e-3);
  close(y.dataSync(), want.y, 1e-5, 'one channel');
  close(bn.movingMean.dataSync(), [0.5 * want.mean[0]!], 1e-6, 'moving mean');
  close(bn.movingVariance.dataSync(), [0.5 + 0.5 * want.variance[0]!], 1e-6, 'moving variance');
  tf.dispose([x, y]);
  bn.dispose();
});

test('renorm: r and d corrections, moving stddev and renorm statistics as in Keras', () => {
  const xs = [[[1, 2], [3, 5]], [[0.5, 1], [-2, 4]]];
  const x = tf.tensor3d(xs);
  const bn = new BatchNormalization({ renorm: true, momentum: 0.5, renormMomentum: 0.25, renormClipping: { rmax: 1.5, rmin: 0.5, dmax: 0.3 } });
  const y = bn.apply(x, { training: true }) as tf.Tensor;
  assert.deepEqual(bn.weights.map((w) => w.name), ['gamma', 'beta', 'moving_mean', 'moving_variance', 'moving_stddev', 'renorm_mean', 'renorm_stddev']);
  const all = xs.flat();
  const mean = [0, 1].map((k) => all.reduce((s, r) => s + r[k]!, 0) / 4);
  const variance = [0, 1].map((k) => all.reduce((s, r) => s + (r[k]! - mean[k]!) ** 2, 0) / 4);
  const std = variance.map((v) => Math.sqrt(v + 1e-3));
  // renorm_stddev starts at sqrt(1) = 1 and renorm_mean at 0: r = std, d = mean, clipped.
  const r = std.map((s) => Math.min(1.5, Math.max(0.5, s)));
  const d = mean.map((m) => Math.min(0.3, Math.max(-0.3, m)));
  close(y.dataSync(), all.flatMap((row) => row.map((v, k) => ((v - mean[k]!) / std[k]!) * r[k]! + d[k]!)), 1e-5, 'output');
  close(bn.renormMean!.dataSync(), mean.map((m) => 0.75 * m), 1e-6, 'renorm mean');
  close(bn.renormStddev!.dataSync(), std.map((s) => 0.25 + 0.75 * s), 1e-6, 'renorm stddev');
  const ms = std.map((s) => 0.5 + 0.5 * s);
  close(bn.movingStddev!.dataSync(), ms, 1e-6, 'moving stddev');
  close(bn.movingVariance.dataSync(), ms.map((s) => Math.max(0, s * s - 1e-3)), 1e-6, 'moving variance');
  tf.dispose([x, y]);
  bn.dispose();
});

test('checks at the door: a mask of the wrong rank, an axis out of range, synchronized, bad renorm clipping', () => {
  const bn = new BatchNormalization();
  const x = tf.zeros([2, 3, 4]);
  assert.throws(() => bn.apply(x, { mask: tf.ones([2], 'bool') }), (e: unknown) => e instanceof MasqueError && e.code === 'MASK_SHAPE_MISMATCH' && /one dimension less/.test(e.message));
  assert.throws(() => new BatchNormalization({ axis: 3 }).apply(x), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH');
  assert.throws(() => new BatchNormalization({ axis: 0 }).apply(x), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH');
  assert.throws(() => bn.apply(tf.zeros([2, 3, 5])), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH' && /sizes \[4\]/.test(e.message));
  assert.throws(() => new BatchNormalization({ synchronized: true as never }), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => new BatchNormalization({ renorm: true, renormClipping: { rmax: 0.1, rmin: 1 } }), /rmax must be >= rmin/);
  assert.throws(() => new BatchNormalization({ renormClipping: { rmaxx: 1 } as never }), /rmax, rmin, dmax/);
  tf.dispose(x);
  bn.dispose();
});

test('fit through a model with BatchNormalization trains: the loss falls, gamma and beta move, the moving statistics follow valid steps', async () => {
  const model = new Sequential([
    Input({ shape: [null], dtype: 'int32' }),
    new Embedding({ inputDim: 12, outputDim: 4, maskZero: true }),
    new BatchNormalization({ momentum: 0.5 }),
    new GlobalAveragePooling1D(),
    new Dense({ units: 1, activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'binary_crossentropy' });
  const sequences = Array.from({ length: 32 }, (_, i) => Array.from({ length: 2 + (i % 5) }, (_, t) => 1 + ((i * 7 + t * 3) % 11)));
  const labels = sequences.map((s) => (s.includes(3) ? 1 : 0));
  const bn = model.layers[1] as BatchNormalization;
  const gamma0 = Array.from(bn.gamma!.dataSync());
  const h = await model.fit({ sequences, labels }, { epochs: 15, batchSize: 8, verbose: 0, seed: 1 });
  const losses = h.history['loss']!;
  assert.ok(losses[losses.length - 1]! < losses[0]! * 0.9, `losses ${losses.join(', ')}`);
  assert.notDeepEqual(Array.from(bn.gamma!.dataSync()), gamma0);
  assert.ok(Array.from(bn.movingVariance.dataSync()).every((v) => Number.isFinite(v) && v > 0));
  model.dispose();
});

test('training-mode gradients (input, gamma, beta) equal those of the plain masked formula, through the batch moments', () => {
  const xs = [[[1, 2], [3, 5], [7, -1]], [[0.5, 1], [-5, 7], [-2, 4]]];
  const x = tf.tensor3d(xs);
  const mask = tf.tensor2d([[true, true, false], [true, false, true]], undefined, 'bool');
  const w = tf.tensor3d([[[1, -2], [0.5, 3], [0, 0]], [[2, 1], [0, 0], [-1, 0.25]]]);
  const bn = new BatchNormalization({ gammaInitializer: { className: 'Constant', config: { value: 1.3 } }, betaInitializer: { className: 'Constant', config: { value: -0.2 } } });
  bn.apply(x, { mask });
  const loss = (a: tf.Tensor) => tf.sum(tf.mul(bn.apply(a, { mask, training: true }) as tf.Tensor, w)) as tf.Scalar;
  const gx = tf.grad(loss)(x);
  const { grads } = tf.variableGrads(() => loss(x), [bn.gamma!, bn.beta!]);
  const got = [gx, grads[bn.gamma!.name]!, grads[bn.beta!.name]!];
  // The plain version: Keras's formulas with tf ops, m as a float mask.
  const m = tf.expandDims(tf.cast(mask, 'float32'), 2);
  const plain = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const n = tf.add(tf.sum(tf.mul(m, tf.onesLike(a)), [0, 1], true), 1e-7);
    const mean = tf.div(tf.sum(tf.mul(a, m), [0, 1], true), n);
    const variance = tf.div(tf.sum(tf.mul(tf.square(tf.sub(a, mean)), m), [0, 1], true), n);
    const y = tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-3))), g), b);
    return tf.sum(tf.mul(y, w));
  });
  const want = plain([x, tf.fill([2], 1.3), tf.fill([2], -0.2)]);
  got.forEach((g, i) => close(g.dataSync(), want[i]!.dataSync(), 1e-4, `gradient ${i}`));
  bn.dispose();
});

test('Masking -> BatchNormalization: a 2-D input with a [batch] mask leaves masked samples out of the moments', () => {
  const x = tf.tensor2d([[1, 2], [0, 0], [3, 6]]);
  const bn = new BatchNormalization({ momentum: 0 });
  const y = bn.apply(new Masking().apply(x) as tf.Tensor, { training: true }) as tf.Tensor;
  close(bn.movingMean.dataSync(), [4 / (2 + 1e-7), 8 / (2 + 1e-7)], 1e-6, 'moving mean = batch mean of the two valid rows');
  tf.dispose([x, y]);
  bn.dispose();
});
