import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { getMask } from '../../engine/masks.js';
import { Dense } from '../core/dense.js';
import { Embedding } from '../core/embedding.js';
import { LSTM } from './lstm.js';
import { TimeDistributed } from './time_distributed.js';

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
  // Keras 3.15.1: the output keeps the input mask as is.
  assert.deepEqual(getMask(y)!.shape, [2, 2, 3]);
  const alone = td.layer.call(emb.apply(tf.tensor2d([[1, 2]], undefined, 'int32')), {}) as tf.Tensor;
  const got = (y.arraySync() as number[][][])[0]![0]!;
  (alone.arraySync() as number[][])[0]!.forEach((v, k) => assert.ok(Math.abs(v - got[k]!) < 1e-6, 'slice [1, 2, 0] equals [1, 2] alone'));
  td.dispose();
  emb.dispose();
});
