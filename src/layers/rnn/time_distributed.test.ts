import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { Input } from '../../engine/input_layer.js';
import { Masking } from '../core/masking.js';
import { getMask } from '../../engine/masks.js';
import { Dense } from '../core/dense.js';
import { Embedding } from '../core/embedding.js';
import { LSTM } from './lstm.js';
import { TimeDistributed } from './time_distributed.js';

/** A bool tensor as nested arrays of true/false (arraySync gives 1/0). */
function bools(t: tf.Tensor): unknown {
  const walk = (v: unknown): unknown => (Array.isArray(v) ? v.map(walk) : v === 1 || v === true);
  return walk(t.arraySync());
}

test('TimeDistributed(Dense): weights nest under the wrapper, each step is Dense of that step, the mask passes through', () => {
  const td = new TimeDistributed({ layer: new Dense({ units: 2, name: 'dense' }), name: 'time_distributed' });
  const x = tf.tensor3d([[[1, 2, 3], [4, 5, 6]], [[0, 1, 0], [9, 9, 9]]]);
  const m = tf.tensor2d([[true, false], [true, true]], undefined, 'bool');
  const y = td.apply(x, { mask: m }) as tf.Tensor;
  assert.deepEqual(td.weights.map((w) => w.path), ['time_distributed/dense/kernel', 'time_distributed/dense/bias']);
  assert.deepEqual(y.shape, [2, 2, 2]);
  const dense = td.layer as Dense;
  const step = dense.call(tf.tensor2d([[4, 5, 6]])) as tf.Tensor;
  assert.deepEqual((y.arraySync() as number[][][])[0]![1], (step.arraySync() as number[][])[0]);
  assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 0, 1, 1]);
  td.dispose();
});

test('TimeDistributed(LSTM) on [batch, time, tokens]: a rank-3 mask reaches the inner LSTM per slice', () => {
  const emb = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
  const td = new TimeDistributed({ layer: new LSTM({ units: 2 }) });
  const ids = tf.tensor3d([[[1, 2, 0], [3, 0, 0]], [[4, 5, 6], [0, 0, 0]]], undefined, 'int32');
  const y = td.apply(emb.apply(ids)) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 2, 2]);
  // A sentence is valid when one of its words is (tf.keras 2; Keras 3.15.1 keeps the [2, 2, 3] word mask on a [2, 2, 2] output).
  assert.deepEqual(bools(getMask(y)!), [[true, true], [true, false]]);
  const alone = td.layer.call(emb.apply(tf.tensor2d([[1, 2]], undefined, 'int32')), {}) as tf.Tensor;
  const got = (y.arraySync() as number[][][])[0]![0]!;
  (alone.arraySync() as number[][])[0]!.forEach((v, k) => assert.ok(Math.abs(v - got[k]!) < 1e-6, 'slice [1, 2, 0] equals [1, 2] alone'));
  td.dispose();
  emb.dispose();
});

test('TimeDistributed(Embedding({ maskZero })) gives the word mask [batch, sentences, words], made by the inner Embedding', () => {
  const td = new TimeDistributed({ layer: new Embedding({ inputDim: 10, outputDim: 3, maskZero: true, name: 'words' }) });
  const ids = tf.tensor3d([[[1, 2, 0], [3, 0, 0]], [[4, 5, 6], [0, 0, 0]]], undefined, 'int32');
  const y = td.apply(ids) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 2, 3, 3]);
  assert.deepEqual(bools(getMask(y)!), [[[true, true, false], [true, false, false]], [[true, true, true], [false, false, false]]]);
  // The symbolic spec says the same, and names the Embedding as the mask's maker.
  const s = td.apply(Input({ shape: [null, null], dtype: 'int32' }));
  assert.deepEqual(s.spec.mask?.shape, [null, null, null]);
  assert.equal(s.spec.mask?.origin?.layerName, 'words');
  td.dispose();
});

test('TimeDistributed: a [batch, time] mask limits an inner-made mask to the valid slices, and passes through when the inner layer makes none', () => {
  const x = tf.tensor4d([[[[1], [0]], [[2], [3]]], [[[0], [0]], [[4], [0]]]]);
  const slices = tf.tensor2d([[true, false], [true, true]], undefined, 'bool');
  const masking = new TimeDistributed({ layer: new Masking() });
  const y = masking.apply(x, { mask: slices }) as tf.Tensor;
  // Masking marks word (slice, k) valid when nonzero; the invalid slice [0, 1] stays invalid.
  assert.deepEqual(bools(getMask(y)!), [[[true, false], [false, false]], [[false, false], [true, false]]]);
  const dense = new TimeDistributed({ layer: new Dense({ units: 2 }) });
  const z = dense.apply(tf.tensor3d([[[1], [2]], [[3], [4]]]), { mask: slices }) as tf.Tensor;
  assert.deepEqual(bools(getMask(z)!), bools(slices));
  // A deep mask passes through an inner Dense as a word mask.
  const words = tf.tensor3d([[[true, false], [true, true]], [[false, false], [true, false]]], undefined, 'bool');
  const w = dense.apply(x, { mask: words }) as tf.Tensor;
  assert.deepEqual(w.shape, [2, 2, 2, 2]);
  assert.deepEqual(bools(getMask(w)!), bools(words));
  masking.dispose();
  dense.dispose();
});

test('TimeDistributed: a word mask reaching an inner layer without mask support is the inner layer\'s drop, under the model\'s mask policy', async () => {
  const { Model } = await import('../../models/functional.js');
  const { Conv1D } = await import('../convolutional/conv1d.js');
  const ids = Input({ shape: [null, 5], dtype: 'int32' });
  const words = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true, name: 'emb' }).apply(ids);
  const out = new TimeDistributed({ layer: new Conv1D({ filters: 2, kernelSize: 2, name: 'conv' }), name: 'td' }).apply(words);
  assert.throws(
    () => new Model({ inputs: ids, outputs: out }),
    (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'MASK_NOT_SUPPORTED' && /'conv' \(Conv1D\)/.test(e.message) && /'emb' \(Embedding, maskZero\)/.test(e.message),
  );
  const relaxed = new Model({ inputs: ids, outputs: out, maskPolicy: 'ignore' });
  assert.deepEqual((relaxed.predict(tf.ones([1, 2, 5], 'int32')) as tf.Tensor).shape, [1, 2, 4, 2]);
  relaxed.dispose();
});

test('TimeDistributed: a mask whose [batch, time] is not the input\'s is MASK_SHAPE_MISMATCH, broadcast dims of 1 included (Keras checks them exactly)', () => {
  const x = tf.ones([3, 5, 5, 5]);
  const cases: [number[], boolean][] = [
    [[1, 5, 1], false], // once a raw tfjs reshape error from the deep-mask path
    [[1, 5], false],
    [[3, 1], false],
    [[3, 5, 1], true],
    [[3, 5], true],
  ];
  for (const [shape, ok] of cases) {
    const td = new TimeDistributed({ layer: new Dense({ units: 2 }) });
    const m = tf.ones(shape, 'bool');
    if (ok) {
      const y = td.apply(x, { mask: m }) as tf.Tensor;
      assert.deepEqual(y.shape, [3, 5, 5, 2]);
      tf.dispose([y, getMask(y)!]);
    } else {
      assert.throws(() => td.apply(x, { mask: m }), (e: Error & { code?: string }) => e.code === 'MASK_SHAPE_MISMATCH' && e.message.includes('[batch, time] = [3, 5]') && e.message.includes(`[${shape.join(', ')}]`), `mask ${shape}`);
    }
    m.dispose();
    td.dispose();
  }
  // The symbolic path checks the same (a [batch, 1] mask passes the engine's broadcasting check, not TimeDistributed's).
  const inp = Input({ shape: [5, 4] });
  const symbolicMask = Input({ shape: [1], dtype: 'bool' });
  assert.throws(() => new TimeDistributed({ layer: new Dense({ units: 2 }) }).apply(inp, { mask: symbolicMask }), (e: Error & { code?: string }) => e.code === 'MASK_SHAPE_MISMATCH' && e.message.includes("first two dims must be the input's [batch, time] = [null, 5]") && e.message.includes('[null, 1]'));
  x.dispose();
});
