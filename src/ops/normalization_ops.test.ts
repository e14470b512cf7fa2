import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { groupNormalize, l2Normalize, maskLike, maskedMoments, rmsNormalize, scaleShift, stopGradient } from './normalization_ops.js';
import { chunksOfArrays, validMoments } from './normalization_stats.js';

/** Seeded normals. */
function normals(seed: number, n: number): number[] {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
};

/** The plain version: per channel of the last axis, the valid values listed, then their mean and population variance. */
function plainMoments(x: number[], valid: boolean[], b: number, t: number, f: number, offset: number): { mean: number[]; variance: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  for (let k = 0; k < f; k++) {
    const vals: number[] = [];
    for (let i = 0; i < b * t; i++) if (valid[i]) vals.push(x[i * f + k]!);
    const n = vals.length + offset;
    const m = vals.length === 0 ? 0 : vals.reduce((p, q) => p + q, 0) / n;
    mean.push(m);
    variance.push(vals.length === 0 ? 0 : vals.reduce((p, q) => p + (q - m) ** 2, 0) / n);
  }
  return { mean, variance };
}

test('maskedMoments equals the plain moments of the valid values (with and without Keras\'s count offset); NaN padding does not leak', () => {
  const [b, t, f] = [3, 5, 2];
  const x = normals(1, b * t * f);
  const valid = [1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0].map(Boolean);
  const withNaN = x.map((v, i) => (valid[Math.floor(i / f)] ? v : NaN));
  tf.tidy(() => {
    const xt = tf.tensor3d(withNaN, [b, t, f]);
    const m = maskLike(tf.tensor2d(valid, [b, t], 'bool'), xt);
    for (const offset of [0, 1e-7]) {
      const got = maskedMoments(xt, m, [0, 1], offset);
      const want = plainMoments(x, valid, b, t, f, offset);
      assert.deepEqual(got.mean.shape, [1, 1, f]);
      close(got.mean.dataSync(), want.mean, 1e-6, 'mean');
      close(got.variance.dataSync(), want.variance, 1e-6, 'variance');
    }
    const plain = maskedMoments(tf.tensor3d(x, [b, t, f]), null, [0, 1]);
    close(plain.variance.dataSync(), plainMoments(x, new Array(b * t).fill(true), b, t, f, 0).variance, 1e-6, 'unmasked variance');
    // A slice without a valid position: mean 0 and variance 0.
    const none = maskedMoments(xt, maskLike(tf.zeros([b, t], 'bool'), xt), [0, 1]);
    assert.deepEqual(Array.from(none.mean.dataSync()), [0, 0]);
    assert.deepEqual(Array.from(none.variance.dataSync()), [0, 0]);
    // Gradients reach valid positions only, and stay finite.
    const g = tf.grad((a: tf.Tensor) => tf.sum(maskedMoments(a, m, [0, 1]).variance))(xt);
    const gd = g.dataSync();
    gd.forEach((v, i) => assert.ok(valid[Math.floor(i / f)] ? Number.isFinite(v) : v === 0, `gradient ${i} is ${v}`));
  });
});

test('scaleShift is x·a + b with the plain gradients on finite data, and a zero cotangent ignores NaN in x', () => {
  tf.tidy(() => {
    const x = tf.tensor3d(normals(2, 12), [2, 3, 2]);
    const a = tf.tensor3d([0.5, -2], [1, 1, 2]);
    const b = tf.tensor3d([[[1]], [[3]]], [2, 1, 1]);
    const w = tf.tensor3d(normals(3, 12), [2, 3, 2]);
    close(scaleShift(x, a, b).dataSync(), tf.add(tf.mul(x, a), b).dataSync(), 1e-7, 'value');
    const ours = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(scaleShift(p, q, r), w)))([x, a, b]);
    const plain = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.mul(p, q), r), w)))([x, a, b]);
    ours.forEach((g, i) => {
      assert.deepEqual(g.shape, plain[i]!.shape);
      close(g.dataSync(), plain[i]!.dataSync(), 1e-6, `gradient ${i}`);
    });
    // NaN at positions whose cotangent is 0: the gradients of a and b stay finite.
    const xn = tf.tensor3d([1, NaN, 2, NaN, 3, 4, NaN, NaN, 5, 6, 7, 8], [2, 3, 2]);
    const wn = tf.tensor3d([1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1], [2, 3, 2]);
    const [gx, ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(scaleShift(p, q, r), wn)))([xn, a, b]);
    for (const g of [gx!, ga!, gb!]) assert.ok(Array.from(g.dataSync()).every(Number.isFinite), `gradient ${Array.from(g.dataSync())}`);
    assert.deepEqual(Array.from(tf.grad((p: tf.Tensor) => tf.sum(stopGradient(tf.mul(p, 2))))(a).dataSync()), [0, 0]);
  });
});

test('l2Normalize is Keras\'s x · min(rsqrt(sum x²), 1e12); with a mask the sum counts valid positions only', () => {
  tf.tidy(() => {
    const x = tf.tensor3d([[[3, 4], [0, 0], [1, 0]]]);
    assert.deepEqual(Array.from(l2Normalize(x, [2], null).dataSync()), [0.6000000238418579, 0.800000011920929, 0, 0, 1, 0]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(l2Normalize(a, [2], null)))(x);
    assert.ok(Array.from(g.dataSync()).every(Number.isFinite), 'the gradient at an all-zero step is finite');
    // Over time, with step 2 masked: norms of [3, 0] and [4, 0].
    const m = maskLike(tf.tensor2d([[true, true, false]], [1, 3], 'bool'), x);
    close(l2Normalize(x, [1], m).dataSync(), [1, 1, 0, 0, 1 / 3, 0], 1e-7, 'masked over time');
  });
});

test('rmsNormalize and groupNormalize match plain loops; masked groups use valid positions only', () => {
  tf.tidy(() => {
    const [b, t, c] = [2, 3, 4];
    const xs = normals(4, b * t * c);
    const x = tf.tensor3d(xs, [b, t, c]);
    const scale = tf.tensor1d([1, 2, 3, 4]);
    const want: number[] = [];
    for (let i = 0; i < b * t; i++) {
      const row = xs.slice(i * c, (i + 1) * c);
      const r = 1 / Math.sqrt(row.reduce((p, q) => p + q * q, 0) / c + 1e-6);
      row.forEach((v, k) => want.push(v * r * (k + 1)));
    }
    close(rmsNormalize(x, [2], scale, 1e-6).dataSync(), want, 1e-5, 'rms');
    const valid = [true, true, false, true, false, false];
    const gn = groupNormalize(x, tf.tensor2d(valid, [b, t], 'bool'), { groups: 2, axis: 2, epsilon: 1e-3, gamma: null, beta: null }).dataSync();
    for (let s = 0; s < b; s++) {
      for (let g = 0; g < 2; g++) {
        const idx: number[] = [];
        for (let step = 0; step < t; step++) for (let k = g * 2; k < g * 2 + 2; k++) idx.push((s * t + step) * c + k);
        const vals = idx.filter((i) => valid[Math.floor(i / c)]).map((i) => xs[i]!);
        const mean = vals.reduce((p, q) => p + q, 0) / vals.length;
        const inv = 1 / Math.sqrt(vals.reduce((p, q) => p + (q - mean) ** 2, 0) / vals.length + 1e-3);
        close(idx.map((i) => gn[i]!), idx.map((i) => (xs[i]! - mean) * inv), 1e-5, `group ${s}/${g}`);
      }
    }
  });
});

test('validMoments: mean and variance of the valid values per kept index, from a masked batch or from sequences', () => {
  // Two sequences [[1, 10], [3, 30]] and [[5, 50]], as a masked padded batch and as arrays.
  const batch = { values: [1, 10, 3, 30, 5, 50, 99, 99], shape: [2, 2, 2], mask: [1, 1, 1, 0], maskShape: [2, 2] };
  const a = validMoments([batch], [2], [2], 'test');
  const b = validMoments(chunksOfArrays([[[1, 10], [3, 30]], [[5, 50]]], 'test'), [2], [2], 'test');
  for (const m of [a, b]) {
    assert.deepEqual(Array.from(m.mean), [3, 30]);
    close(m.variance, [8 / 3, 800 / 3], 1e-12, 'variance');
  }
  assert.throws(() => validMoments([{ ...batch, mask: [0, 0, 0, 0] }], [2], [2], 'adapt'), /adapt: the data has no valid value/);
  assert.throws(() => validMoments([{ ...batch, values: [NaN, 1, 1, 1, 1, 1, 1, 1] }], [2], [2], 'adapt'), /finite/);
  assert.throws(() => chunksOfArrays([[1, 2], 'x'], 'adapt'), /expected a tensor/);
});

test('LayerNormalization under a tape (the heap kernel and its one-pass gradient) gives the values and gradients of its tfjs ops; a padded row with zero cotangent and NaN adds nothing', { skip: tf.getBackend() !== 'wasm' }, async () => {
  const { LayerNormalization } = await import('../index.js');
  const { setFusedInference } = await import('./fused_attention_ops.js');
  for (const [rows, f, center, scale] of [[6, 5, true, true], [22, 64, true, true], [3, 7, false, true], [4, 9, true, false], [2, 1, true, true]] as [number, number, boolean, boolean][]) {
    const layer = new LayerNormalization({ center, scale, epsilon: 1e-3, gammaInitializer: { className: 'RandomNormal', config: { seed: 3 } }, betaInitializer: { className: 'RandomNormal', config: { seed: 4 } } });
    const x = tf.tensor3d(normals(rows + f, rows * f).map((v, i) => v * (1 + (i % 3)) + 0.5), [1, rows, f]);
    const r = tf.tensor3d(normals(7 * f, rows * f), [1, rows, f]);
    tf.dispose(layer.apply(x) as tf.Tensor);
    const vars = layer.trainableWeights.map((w) => w.variable);
    const run = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar, [...vars]);
      const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx) as tf.Tensor, r)))(x);
      const out = { value: value.dataSync()[0]!, y: Array.from((layer.apply(x) as tf.Tensor).dataSync()), dx: Array.from(dx.dataSync()), g: vars.map((v) => Array.from(grads[v.name]!.dataSync())) };
      tf.dispose([value, dx, ...Object.values(grads)]);
      return out;
    };
    const fused = run();
    const before = setFusedInference(false);
    let plain: ReturnType<typeof run>;
    try {
      plain = run();
    } finally {
      setFusedInference(before);
    }
    const what = `rows ${rows}, f ${f}, center ${center}, scale ${scale}`;
    close([fused.value], [plain.value], 1e-5, `loss ${what}`);
    close(fused.dx, plain.dx, 1e-4, `dx ${what}`);
    fused.g.forEach((g, k) => close(g, plain.g[k]!, 1e-4, `${vars[k]!.name} ${what}`));
    tf.dispose([x, r]);
    layer.dispose();
  }
  // NaN in a row whose cotangent is 0 (padding under a masked loss): finite gradients everywhere.
  const layer = new LayerNormalization({});
  const xs = normals(5, 3 * 4);
  xs[8] = NaN;
  const x = tf.tensor2d(xs, [3, 4]);
  const r = tf.tensor2d([...normals(6, 8), 0, 0, 0, 0], [3, 4]);
  tf.dispose(layer.apply(x) as tf.Tensor);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar, layer.trainableWeights.map((w) => w.variable));
  const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx) as tf.Tensor, r)))(x);
  for (const g of [...Object.values(grads), dx]) assert.ok(Array.from(g.dataSync()).every(Number.isFinite), `finite: ${g.dataSync()}`);
  assert.deepEqual(Array.from(dx.dataSync()).slice(8), [0, 0, 0, 0]);
  tf.dispose([x, r, dx, ...Object.values(grads)]);
  layer.dispose();
});

test('LayerNormalization of a nearly constant row (two adjacent float32 values) matches float64, over one axis or several, with and without the kernel', async () => {
  const { LayerNormalization } = await import('../index.js');
  const { setFusedInference } = await import('./fused_attention_ops.js');
  // 4.53729057 and the next float32 up: the row's spread is one unit in the last place, its variance far below epsilon.
  const a = Math.fround(4.53729057);
  const b = new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([a]).buffer)[0]! + 1]).buffer)[0]!;
  const flat = [a, a, a, a, a, a, b, a, b, a, b, a, b, b, b, b];
  const spread = normals(11, 16).map((v) => Math.fround(v * 2 + 4));
  const epsilon = 1e-5;
  for (const [shape, axis] of [[[2, 16, 1], [-2, -1]], [[2, 1, 16], -1], [[2, 4, 4], [1, 2]]] as [number[], number | number[]][]) {
    for (const fusedOn of [true, false]) {
      const layer = new LayerNormalization({ axis, epsilon, gammaInitializer: { className: 'RandomNormal', config: { seed: 5 } }, betaInitializer: { className: 'RandomNormal', config: { seed: 6 } } });
      const x = tf.tensor(Float32Array.from([...spread, ...flat]), shape);
      const before = setFusedInference(fusedOn);
      let y: Float32Array;
      try {
        const out = layer.apply(x) as tf.Tensor;
        y = out.dataSync() as Float32Array;
        out.dispose();
      } finally {
        setFusedInference(before);
      }
      const gamma = layer.trainableWeights[0]!.variable.dataSync();
      const beta = layer.trainableWeights[1]!.variable.dataSync();
      // float64 from the float32 inputs and weights; gamma and beta are laid out like one row (16 values).
      const want: number[] = [];
      for (const row of [spread, flat]) {
        const mean = row.reduce((p, q) => p + q, 0) / 16;
        const variance = row.reduce((p, q) => p + (q - mean) ** 2, 0) / 16;
        row.forEach((v, i) => want.push(((v - mean) / Math.sqrt(variance + epsilon)) * gamma[i]! + beta[i]!));
      }
      close(y, want, 1e-6, `axis ${JSON.stringify(axis)}, shape [${shape}], kernel ${fusedOn ? 'allowed' : 'off'}`);
      x.dispose();
      layer.dispose();
    }
  }
});
