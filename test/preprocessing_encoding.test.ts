// CategoryEncoding and Discretization: Discretization.adapt against Keras
// 3.15.1's quantile summary (test/fixtures/keras-3.15.1-encoding/adapt, made
// by gen_encoding.py there; the layers' outputs are that folder's model
// cases, run by the first test here and by `npm run conformance`), then
// what Keras does not check: boundaries compared as numpy compares them,
// adapt over valid steps, errors, files, memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tf, ready, Input, Model, Masking, CategoryEncoding, Discretization, Normalization, Dense, attachMask, saveModelToBytes, loadModelFromBytes } from '../src/index.js';
import { expectCode } from './helpers.js';
import { runConformance } from './conformance/runner.js';
import { fileURLToPath } from 'node:url';

interface AdaptCase { name: string; num_bins: number; epsilon: number; batches: boolean; data: unknown; bin_boundaries: number[]; probe: number[]; probe_bins: number[] }
const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-encoding', import.meta.url));
const adapt = JSON.parse(readFileSync(`${dir}/adapt/adapt.json`, 'utf8')) as { cases: AdaptCase[] };

test('the Keras cases of CategoryEncoding and Discretization (every output mode, in models) pass', async () => {
  await ready();
  const results = await runConformance(dir);
  assert.equal(results.length, 14);
  for (const r of results) assert.equal(r.status, 'pass', `${r.name}: ${r.message}`);
});

for (const c of adapt.cases) {
  test(`Discretization.adapt gives Keras 3.15.1's boundaries: ${c.name} (numBins ${c.num_bins}, epsilon ${c.epsilon}${c.batches ? ', a list of batches' : ''})`, async () => {
    await ready();
    const layer = new Discretization({ numBins: c.num_bins, epsilon: c.epsilon });
    if (c.batches) layer.adapt(c.data as unknown[]);
    else {
      const x = tf.tensor(c.data as number[]);
      layer.adapt(x);
      x.dispose();
    }
    assert.deepEqual(layer.binBoundaries, c.bin_boundaries);
    const probe = tf.tensor1d(c.probe);
    const bins = layer.apply(probe) as tf.Tensor;
    assert.deepEqual(Array.from(bins.dataSync()), c.probe_bins);
    tf.dispose([probe, bins]);
  });
}

test('Discretization compares float32 inputs with its boundaries in double, as numpy does (0.1 is not a float32)', async () => {
  await ready();
  const layer = new Discretization({ binBoundaries: [-0.2, 0.1, 1 / 3] });
  const f = (v: number) => Math.fround(v);
  const below = (v: number) => {
    const a = new Float32Array([Math.fround(v)]);
    const bits = new Int32Array(a.buffer);
    bits[0]! += a[0]! > 0 ? -1 : 1;
    return a[0]!;
  };
  const values = [f(0.1), below(0.1), f(1 / 3), below(1 / 3), f(-0.2), below(-0.2), NaN, Infinity, -Infinity, 0];
  const x = tf.tensor1d(values);
  const got = Array.from((layer.apply(x) as tf.Tensor).dataSync());
  const bounds = [-0.2, 0.1, 1 / 3];
  const want = values.map((v) => (Number.isNaN(v) ? 3 : bounds.filter((b) => v >= b).length));
  assert.deepEqual(got, want);
  x.dispose();
});

test('Discretization.adapt counts the valid steps only: a padded batch with its mask gives the boundaries of its values alone', async () => {
  await ready();
  const values = [0.5, -1, 2, 3.5, 0.25, 1, -0.5];
  const alone = new Discretization({ numBins: 3 });
  const t = tf.tensor1d(values);
  alone.adapt(t);
  const padded = tf.tensor2d([[0.5, -1, 2, 3.5], [0.25, 1, NaN, 99], [-0.5, 7, 7, 7]]);
  const mask = tf.tensor2d([[true, true, true, true], [true, true, false, false], [true, false, false, false]]);
  const masked = new Discretization({ numBins: 3 });
  masked.adapt(padded, { mask });
  assert.deepEqual(masked.binBoundaries, alone.binBoundaries);
  attachMask(padded, mask);
  const viaAttached = new Discretization({ numBins: 3 });
  viaAttached.adapt(padded);
  assert.deepEqual(viaAttached.binBoundaries, alone.binBoundaries);
  tf.dispose([t, padded, mask]);
});

test('CategoryEncoding: count with countWeights, one_hot shapes, and the shapes each mode takes', async () => {
  await ready();
  const ids = tf.tensor2d([[0, 2, 2], [1, 1, 3]], undefined, 'int32');
  const w = tf.tensor2d([[0.5, 1, 2], [1, 1, 4]]);
  const counted = new CategoryEncoding({ numTokens: 4, outputMode: 'count' }).apply(ids, { countWeights: w }) as tf.Tensor;
  assert.deepEqual(counted.arraySync(), [[0.5, 0, 3, 0], [0, 2, 0, 4]]);
  const multi = new CategoryEncoding({ numTokens: 4, outputMode: 'binary' });
  assert.equal(multi.outputMode, 'multi_hot');
  assert.deepEqual((multi.apply(ids) as tf.Tensor).arraySync(), [[1, 0, 1, 0], [0, 1, 0, 1]]);
  const oneHot = new CategoryEncoding({ numTokens: 4, outputMode: 'one_hot' }).apply(ids) as tf.Tensor;
  assert.deepEqual(oneHot.shape, [2, 3, 4]);
  // Keras's computation reduces axis 1 of a rank-3 input.
  const r3 = new CategoryEncoding({ numTokens: 3, outputMode: 'count' }).apply(tf.tensor3d([[[0, 1], [0, 2]]], undefined, 'int32')) as tf.Tensor;
  assert.deepEqual(r3.arraySync(), [[[2, 0, 0], [0, 1, 1]]]);
  // No ids: an empty batch, or rows of no ids, encode as zeros (tfjs-wasm's reductions failed on them with "divide by zero").
  const empty = new CategoryEncoding({ numTokens: 3 }).apply(tf.zeros([0, 2], 'int32')) as tf.Tensor;
  assert.deepEqual(empty.shape, [0, 3]);
  const none = new CategoryEncoding({ numTokens: 3 }).apply(tf.zeros([2, 0], 'int32')) as tf.Tensor;
  assert.deepEqual(none.arraySync(), [[0, 0, 0], [0, 0, 0]]);
  const emptyBins = new Discretization({ binBoundaries: [0], outputMode: 'count' }).apply(tf.zeros([0, 3])) as tf.Tensor;
  assert.deepEqual(emptyBins.shape, [0, 2]);
  tf.dispose([ids, w, counted, oneHot, r3, empty, none, emptyBins]);
});

test('errors: bad ids, countWeights misused, a [batch] input to multi_hot, missing or unsorted boundaries, adapt misused, a mask', async () => {
  await ready();
  const enc = new CategoryEncoding({ numTokens: 3 });
  expectCode(() => enc.apply(tf.tensor2d([[0, 3]], undefined, 'int32')), 'INVALID_INPUT', 'id 3', '[0, 3)');
  expectCode(() => enc.apply(tf.tensor2d([[-1, 0]], undefined, 'int32')), 'INVALID_INPUT', 'id -1');
  expectCode(() => enc.apply(tf.tensor2d([[NaN, 0]])), 'INVALID_INPUT', 'NaN', 'not a finite number');
  expectCode(() => enc.apply(tf.tensor1d([0, 1], 'int32')), 'INPUT_SHAPE_MISMATCH', '[batch, k]', '[batch, 1]');
  expectCode(() => enc.apply(tf.tensor2d([[0, 1]], undefined, 'int32'), { countWeights: tf.ones([1, 2]) }), 'INVALID_ARGUMENT', "only with outputMode 'count'");
  expectCode(() => new CategoryEncoding({ numTokens: 3, outputMode: 'count' }).apply(tf.tensor2d([[0, 1]], undefined, 'int32'), { countWeights: tf.ones([2]) }), 'INPUT_SHAPE_MISMATCH', 'countWeights');
  expectCode(() => new CategoryEncoding({ numTokens: 0 }), 'INVALID_ARGUMENT', 'numTokens');
  expectCode(() => new CategoryEncoding({ numTokens: 3, outputMode: 'tf_idf' as never }), 'INVALID_ARGUMENT', 'outputMode');
  expectCode(() => new Discretization({}), 'INVALID_ARGUMENT', 'binBoundaries', 'numBins');
  expectCode(() => new Discretization({ binBoundaries: [1, 0] }), 'INVALID_ARGUMENT', 'ascending');
  expectCode(() => new Discretization({ numBins: 3 }).apply(tf.ones([1, 2])), 'NOT_BUILT', 'adapt');
  expectCode(() => new Discretization({ binBoundaries: [0] }).adapt(tf.ones([3])), 'INVALID_ARGUMENT', 'numBins');
  expectCode(() => new Discretization({ numBins: 3 }).adapt(tf.tensor1d([1, NaN])), 'INVALID_INPUT', 'not finite');
  expectCode(() => new Discretization({ numBins: 3 }).adapt(['a'] as never), 'INVALID_INPUT', 'numbers');
  expectCode(() => new Discretization({ numBins: 3 }).adapt([]), 'INVALID_INPUT', 'no value');
  // Options of adapt: null is none; anything else is checked (the bad-input suite found null crashing here, and a non-tensor mask crashing Normalization.adapt).
  const d = new Discretization({ numBins: 2 });
  d.adapt(tf.tensor1d([1, 2, 3]), null as never);
  assert.equal(d.binBoundaries!.length, 1);
  expectCode(() => new Discretization({ numBins: 2 }).adapt(tf.ones([3]), { mask: [1, 1, 1] } as never), 'INVALID_ARGUMENT', 'options.mask');
  expectCode(() => new Normalization().adapt(tf.ones([2, 3]), { mask: 3 } as never), 'INVALID_ARGUMENT', 'options.mask');
  expectCode(() => new Normalization().adapt(tf.ones([2, 3]), { musk: 1 } as never), 'INVALID_ARGUMENT', "Did you mean 'mask'");
  const inp = Input({ shape: [null, 1] });
  expectCode(() => new Model({ inputs: inp, outputs: new Discretization({ binBoundaries: [0] }).apply(new Masking().apply(inp)) }), 'MASK_NOT_SUPPORTED', 'Discretization');
});

test('an adapted Discretization and a CategoryEncoding survive a Keras file; calls leak nothing', async () => {
  await ready();
  const disc = new Discretization({ numBins: 4, outputMode: 'one_hot' });
  disc.adapt(tf.tensor1d([0.1, 0.7, -2, 3, 1.5, -0.3, 0.2, 2.2]));
  const inp = Input({ shape: [5] });
  const model = new Model({ inputs: inp, outputs: new Dense({ units: 2 }).apply(new CategoryEncoding({ numTokens: 4, outputMode: 'count' }).apply(new Discretization({ binBoundaries: disc.binBoundaries!, name: 'bins' }).apply(inp))) });
  const x = tf.tensor2d([[0.1, 5, -3, 0.2, 0.3], [1, 1, 1, 1, 1]]);
  const before = tf.memory().numTensors;
  tf.dispose(model.predict(x));
  assert.equal(tf.memory().numTensors, before);
  const loaded = await loadModelFromBytes(await saveModelToBytes(model));
  assert.deepEqual((loaded.getLayer('bins') as Discretization).binBoundaries, disc.binBoundaries);
  const a = model.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
});
