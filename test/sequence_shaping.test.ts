// The sequence-shaping layers of the fourteenth round (RepeatVector,
// Permute, UpSampling1D, Conv1DTranspose, DepthwiseConv1D, SeparableConv1D,
// AdaptiveAveragePooling1D, AdaptiveMaxPooling1D): properties that hold
// without Keras (their outputs and gradients against Keras are the
// keras-3.15.1-seqshape cases of test/conformance_gradients.test.ts), their
// errors, masks, and a leak-free training run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ready, tf, Input, Model, Masking, LSTM, Dense, Conv1D, Flatten, MaxPooling1D, RepeatVector, Permute, UpSampling1D, Conv1DTranspose, DepthwiseConv1D,
  SeparableConv1D, AdaptiveAveragePooling1D, AdaptiveMaxPooling1D, Adam, type SymbolicTensor,
} from '../src/index.js';
import { expectCode, normals, rng } from './helpers.js';

const random = (r: () => number, shape: number[]): tf.Tensor => tf.tensor(normals(r, shape.reduce((a, b) => a * b, 1)), shape);
const dot = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.sum(tf.mul(a, b)).dataSync()[0]!);

test('Conv1DTranspose is the adjoint of Conv1D with the same kernel: <conv(z), x> = <z, convT(x)> for every stride, padding and dilation', async () => {
  await ready();
  const r = rng(7);
  let checked = 0;
  for (const padding of ['valid', 'same'] as const) {
    for (const strides of [1, 2, 3]) {
      for (const dilationRate of strides === 1 ? [1, 2] : [1]) {
        for (const kernelSize of [1, 2, 3, 4]) {
          for (const lz of [5, 6, 7, 8]) {
            // conv: z [2, lz, 3] -> x [2, L, 2] with kernel [k, 3, 2]; the transpose reads that kernel as [k, filters 3, in 2].
            const conv = new Conv1D({ filters: 2, kernelSize, strides, padding, dilationRate, useBias: false });
            const convT = new Conv1DTranspose({ filters: 3, kernelSize, strides, padding, dilationRate, useBias: false });
            const z = random(r, [2, lz, 3]);
            let y: tf.Tensor;
            try {
              y = conv.apply(z) as tf.Tensor;
            } catch {
              z.dispose();
              continue; // a 'valid' kernel longer than z
            }
            const x = random(r, y.shape);
            convT.apply(x);
            convT.kernel.assign(conv.kernel);
            const back = convT.apply(x) as tf.Tensor;
            // Keras's transpose length for L steps is one of the lengths that conv maps to L; compare where it is lz.
            if (back.shape[1] === lz) {
              const lhs = dot(y, x);
              const rhs = dot(z, back);
              assert.ok(Math.abs(lhs - rhs) <= 1e-5 * (1 + Math.abs(lhs)), `${padding} s${strides} d${dilationRate} k${kernelSize} lz${lz}: ${lhs} vs ${rhs}`);
              checked++;
            }
            tf.dispose([z, y, x, back]);
            conv.dispose();
            convT.dispose();
          }
        }
      }
    }
  }
  assert.ok(checked >= 80, `only ${checked} configurations had matching lengths`);
});

test('DepthwiseConv1D is Conv1D with one group per channel (channel c * depthMultiplier + m), and SeparableConv1D is that followed by a 1-step Conv1D', async () => {
  await ready();
  const r = rng(11);
  const x = random(r, [2, 9, 3]);
  for (const o of [{ padding: 'same' as const, strides: 2 }, { padding: 'valid' as const, dilationRate: 2 }]) {
    const dw = new DepthwiseConv1D({ kernelSize: 3, depthMultiplier: 2, useBias: false, ...o });
    const grouped = new Conv1D({ filters: 6, kernelSize: 3, groups: 3, useBias: false, ...o });
    dw.apply(x);
    grouped.apply(x);
    // [k, 3, 2] -> [k, 1, 6]: the grouped kernel's filter 2c + m is channel c's filter m.
    grouped.kernel.assign(tf.reshape(dw.kernel, [3, 1, 6]));
    const a = dw.apply(x) as tf.Tensor;
    const b = grouped.apply(x) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! < 1e-6, JSON.stringify(o));
    const sep = new SeparableConv1D({ filters: 4, kernelSize: 3, depthMultiplier: 2, ...o, biasInitializer: 'ones' });
    const point = new Conv1D({ filters: 4, kernelSize: 1, biasInitializer: 'ones' });
    sep.apply(x);
    sep.depthwiseKernel.assign(dw.kernel);
    point.apply(a);
    point.kernel.assign(sep.pointwiseKernel);
    const c = sep.apply(x) as tf.Tensor;
    const d = point.apply(a) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(c, d))).dataSync()[0]! < 1e-5, JSON.stringify(o));
    tf.dispose([a, b, c, d]);
    [dw, grouped, sep, point].forEach((l) => l.dispose());
  }
  x.dispose();
});

test('the adaptive poolings cover every step: with as many bins as steps they are the identity, with one bin a global mean or max', async () => {
  await ready();
  const x = random(rng(3), [2, 5, 3]);
  const near = (a: tf.Tensor, b: tf.Tensor) => assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! < 1e-6);
  near(new AdaptiveAveragePooling1D({ outputSize: 5 }).apply(x) as tf.Tensor, x);
  near(new AdaptiveMaxPooling1D({ outputSize: [5] }).apply(x) as tf.Tensor, x);
  near(new AdaptiveAveragePooling1D({ outputSize: 1 }).apply(x) as tf.Tensor, tf.mean(x, 1, true));
  near(new AdaptiveMaxPooling1D({ outputSize: 1 }).apply(x) as tf.Tensor, tf.max(x, 1, true));
  // channels_first pools the last axis.
  near(new AdaptiveMaxPooling1D({ outputSize: 1, dataFormat: 'channels_first' }).apply(x) as tf.Tensor, tf.max(x, 2, true));
  // More bins than steps: [1, 3, 2] into 5 bins (Keras: [1, 2, 3, 2.5, 2] and [1, 3, 3, 3, 2]).
  const s = tf.tensor3d([[[1], [3], [2]]]);
  assert.deepEqual(Array.from((new AdaptiveAveragePooling1D({ outputSize: 5 }).apply(s) as tf.Tensor).dataSync()), [1, 2, 3, 2.5, 2]);
  assert.deepEqual(Array.from((new AdaptiveMaxPooling1D({ outputSize: 5 }).apply(s) as tf.Tensor).dataSync()), [1, 3, 3, 3, 2]);
});

test('AdaptiveMaxPooling1D splits the gradient among tied maxima, so copies of one value (RepeatVector) get it once', async () => {
  await ready();
  const v = tf.tensor2d([[2, -1]]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(new AdaptiveMaxPooling1D({ outputSize: 2 }).apply(new RepeatVector({ n: 6 }).apply(a) as tf.Tensor) as tf.Tensor))(v);
  // Two bins of three copies each: d/dv of (max + max) is 2 per feature.
  assert.deepEqual(Array.from(g.dataSync()), [2, 2]);
});

test('the shaping layers: RepeatVector, UpSampling1D and Permute move values, and their gradients add the copies back', async () => {
  await ready();
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  assert.deepEqual((new RepeatVector({ n: 3 }).apply(x) as tf.Tensor).arraySync(), [[[1, 2], [1, 2], [1, 2]], [[3, 4], [3, 4], [3, 4]]]);
  const s = tf.tensor3d([[[1, 2], [3, 4]]]);
  assert.deepEqual((new UpSampling1D({ size: 2 }).apply(s) as tf.Tensor).arraySync(), [[[1, 2], [1, 2], [3, 4], [3, 4]]]);
  assert.deepEqual((new Permute({ dims: [2, 1] }).apply(s) as tf.Tensor).arraySync(), [[[1, 3], [2, 4]]]);
  const w = tf.tensor3d([[[1, 10], [2, 20], [3, 30], [4, 40]]]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(new UpSampling1D().apply(a) as tf.Tensor, w)))(s);
  assert.deepEqual(g.arraySync(), [[[3, 30], [7, 70]]]);
});

test('bad options and inputs of the new layers raise coded errors naming the layer, the value and what was expected', async () => {
  await ready();
  expectCode(() => new RepeatVector({ n: 0 }), 'INVALID_ARGUMENT', 'n', 'positive integer', '0');
  expectCode(() => new RepeatVector({} as never), 'INVALID_ARGUMENT', 'n', 'required');
  expectCode(() => new Permute({ dims: [1, 1] }), 'INVALID_ARGUMENT', 'dims', 'permutation', '[1, 1]');
  expectCode(() => new UpSampling1D({ size: 1.5 }), 'INVALID_ARGUMENT', 'size', '1.5');
  expectCode(() => new Conv1DTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: 2 }), 'INVALID_ARGUMENT', 'outputPadding', 'below strides', '2');
  expectCode(() => new Conv1DTranspose({ filters: 2, kernelSize: 3, outputPadding: 1 }), 'INVALID_ARGUMENT', 'outputPadding', 'below strides (1)');
  expectCode(() => new Conv1DTranspose({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 2 }), 'INVALID_ARGUMENT', 'strides', 'dilationRate');
  expectCode(() => new DepthwiseConv1D({ kernelSize: 3, padding: 'causal' as never }), 'INVALID_ARGUMENT', 'padding', 'causal');
  expectCode(() => new SeparableConv1D({ filters: 2, kernelSize: 3, depthMultiplier: 0 }), 'INVALID_ARGUMENT', 'depthMultiplier', '0');
  expectCode(() => new AdaptiveAveragePooling1D({ outputSize: 0 }), 'INVALID_ARGUMENT', 'outputSize', '0');
  expectCode(() => new AdaptiveMaxPooling1D({ outputSize: [2, 3] as never }), 'INVALID_ARGUMENT', 'outputSize', '[2, 3]');
  expectCode(() => new DepthwiseConv1D({ kernelSize: 3, kernalSize: 2 } as never), 'INVALID_ARGUMENT', 'kernalSize', 'kernelSize');
  const seq = tf.zeros([2, 4, 3]);
  expectCode(() => new RepeatVector({ n: 2, name: 'rv' }).apply(seq), 'INPUT_SHAPE_MISMATCH', "'rv'", '2-D', '[2, 4, 3]');
  expectCode(() => new Permute({ dims: [3, 1, 2], name: 'p' }).apply(seq), 'INPUT_SHAPE_MISMATCH', "'p'", '4-D', '[2, 4, 3]');
  expectCode(() => new DepthwiseConv1D({ kernelSize: 5, name: 'dw' }).apply(seq), 'INPUT_SHAPE_MISMATCH', "'dw'", '5 steps', 'only 4');
  expectCode(() => new Conv1DTranspose({ filters: 2, kernelSize: 2, name: 't' }).apply(tf.zeros([2, 0, 3])), 'INPUT_SHAPE_MISMATCH', "'t'", '0 time steps');
  expectCode(() => new AdaptiveMaxPooling1D({ outputSize: 2, name: 'a' }).apply(tf.zeros([2, 0, 3])), 'INPUT_SHAPE_MISMATCH', "'a'", '0 time steps');
  seq.dispose();
});

test('a masked input raises MASK_NOT_SUPPORTED in every new layer that reads sequences (Keras drops the mask with a warning)', async () => {
  await ready();
  const x = tf.tensor3d([[[1, 2], [3, 4], [0, 0], [0, 0]]]);
  const masked = new Masking().apply(x) as tf.Tensor;
  for (const layer of [
    new Permute({ dims: [2, 1] }), new UpSampling1D(), new Conv1DTranspose({ filters: 2, kernelSize: 2 }), new DepthwiseConv1D({ kernelSize: 2 }),
    new SeparableConv1D({ filters: 2, kernelSize: 2 }), new AdaptiveAveragePooling1D({ outputSize: 2 }), new AdaptiveMaxPooling1D({ outputSize: 2 }),
  ]) {
    expectCode(() => layer.apply(masked), 'MASK_NOT_SUPPORTED', layer.name);
  }
});

test('an empty batch gives an empty output of the right shape, channels_first layers included (tfjs-wasm transposes crashed on it)', async () => {
  await ready();
  const e = tf.zeros([0, 6, 3]);
  const shapes = [
    new Conv1DTranspose({ filters: 2, kernelSize: 3, strides: 2 }), new DepthwiseConv1D({ kernelSize: 3, depthMultiplier: 2 }),
    new SeparableConv1D({ filters: 4, kernelSize: 3 }), new AdaptiveAveragePooling1D({ outputSize: 4 }), new AdaptiveMaxPooling1D({ outputSize: 4 }),
    new UpSampling1D(), new Permute({ dims: [2, 1] }),
    new Conv1DTranspose({ filters: 2, kernelSize: 2, dataFormat: 'channels_first' }), new AdaptiveAveragePooling1D({ outputSize: 4, dataFormat: 'channels_first' }),
    new Conv1D({ filters: 2, kernelSize: 2, dataFormat: 'channels_first' }), new Flatten({ dataFormat: 'channels_first' }), new MaxPooling1D({ dataFormat: 'channels_first' }),
  ].map((l) => (l.apply(e) as tf.Tensor).shape);
  assert.deepEqual(shapes, [[0, 13, 2], [0, 4, 6], [0, 4, 4], [0, 4, 3], [0, 4, 3], [0, 12, 3], [0, 3, 6], [0, 2, 4], [0, 6, 4], [0, 2, 2], [0, 18], [0, 6, 1]]);
  assert.deepEqual((new RepeatVector({ n: 2 }).apply(tf.zeros([0, 3])) as tf.Tensor).shape, [0, 2, 3]);
});

test('an encoder-decoder with every new layer trains: the loss falls and the tensor count stays flat across fit and predict', async () => {
  await ready();
  const r = rng(5);
  const inp = Input({ shape: [null, 3] });
  const code = new LSTM({ units: 6 }).apply(new Masking().apply(inp)) as SymbolicTensor;
  let h = new RepeatVector({ n: 4 }).apply(code) as SymbolicTensor;
  h = new Conv1DTranspose({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }).apply(h) as SymbolicTensor;
  h = new DepthwiseConv1D({ kernelSize: 2, padding: 'same', depthMultiplier: 2 }).apply(h) as SymbolicTensor;
  h = new SeparableConv1D({ filters: 4, kernelSize: 3, padding: 'same' }).apply(h) as SymbolicTensor;
  h = new UpSampling1D({ size: 2 }).apply(h) as SymbolicTensor;
  h = new AdaptiveAveragePooling1D({ outputSize: 6 }).apply(h) as SymbolicTensor;
  h = new AdaptiveMaxPooling1D({ outputSize: 3 }).apply(h) as SymbolicTensor;
  h = new Permute({ dims: [2, 1] }).apply(h) as SymbolicTensor;
  const out = new Dense({ units: 1 }).apply(h) as SymbolicTensor;
  const model = new Model({ inputs: inp, outputs: out });
  assert.deepEqual(out.shape, [null, 4, 1]);
  model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'mse' });
  const x = random(r, [16, 5, 3]);
  // A target the model can learn: each row's first feature summed over time, squashed, on every output step.
  const y = tf.tile(tf.tanh(tf.sum(tf.slice(x, [0, 0, 0], [-1, -1, 1]), 1, true)), [1, 4, 1]);
  const first = await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  const before = tf.memory().numTensors;
  let last = first;
  for (let i = 0; i < 3; i++) {
    last = await model.fit(x, y, { epochs: 10, batchSize: 8, verbose: 0 });
    tf.dispose(model.predict(x) as tf.Tensor);
  }
  assert.equal(tf.memory().numTensors, before, 'fit and predict leaked tensors');
  const loss = (hist: typeof first) => hist.history['loss']!.at(-1) as number;
  assert.ok(loss(last) < 0.1 * loss(first), `loss ${loss(first)} -> ${loss(last)}`);
  tf.dispose([x, y]);
  model.dispose();
});
