import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { MasqueError } from '../../errors.js';
import { getMask } from '../../engine/masks.js';
import { Input } from '../../engine/input_layer.js';
import { Embedding } from '../core/embedding.js';
import { Add } from './add.js';
import { Maximum } from './maximum.js';
import { Multiply } from './multiply.js';
import { Concatenate } from './concatenate.js';

const seq = () => tf.tensor3d([[[1, 2], [3, 4], [NaN, 9]], [[5, 6], [-7, 8], [0, 1]]]);
const mask = () => tf.tensor2d([[true, true, false], [true, true, true]], undefined, 'bool');
const vec = () => tf.tensor2d([[10, 20], [30, 40]]);

test('Keras 3.15.1: a masked [B, T, D] sequence and an unmasked [B, D] vector merge with the vector broadcast over time, and no output mask', () => {
  const y = new Add().apply([seq(), vec()], { mask: [mask(), null] }) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 3, 2]);
  assert.equal(getMask(y), null);
  // The masked NaN is read as 0 (departure: NaN in padding never leaks).
  assert.deepEqual(y.arraySync(), [[[11, 22], [13, 24], [10, 29]], [[35, 46], [23, 48], [30, 41]]]);
  // The expanded vector carries no mask in the merge: Maximum takes it where the sequence is masked.
  const m = new Maximum().apply([seq(), vec()], { mask: [mask(), null] }) as tf.Tensor;
  assert.deepEqual((m.arraySync() as number[][][])[0]![2], [10, 20]);
  // Multiply: masked entries of the sequence count as 1; nothing is zeroed (not every input is masked).
  const p = new Multiply().apply([seq(), vec()], { mask: [mask(), null] }) as tf.Tensor;
  assert.deepEqual((p.arraySync() as number[][][])[0]![2], [10, 20]);
});

test('symbolic: the output spec of a rank-broadcast merge has the sequence shape and no mask; a same-rank merge passes the OR of the masks', () => {
  const ids = Input({ shape: [3], dtype: 'int32' });
  const x = new Embedding({ inputDim: 5, outputDim: 2, maskZero: true }).apply(ids);
  const y = new Add().apply([x, Input({ shape: [2] })]);
  assert.deepEqual(y.shape, [null, 3, 2]);
  assert.equal(y.spec.mask, null);
  const z = new Add().apply([x, x]);
  assert.deepEqual(z.spec.mask?.shape, [null, 3]);
  const c = new Concatenate({ axis: 1 }).apply([x, x]);
  assert.deepEqual([c.shape, c.spec.mask?.shape], [[null, 6, 2], [null, 6]]);
});

test('every input masked with masks that do not line up raises MASK_SHAPE_MISMATCH', () => {
  assert.throws(
    () => new Add().apply([seq(), vec()], { mask: [mask(), tf.tensor1d([true, false], 'bool')] }),
    (e: unknown) => e instanceof MasqueError && e.code === 'MASK_SHAPE_MISMATCH' && /\[2, 3\], \[2\]/.test(e.message),
  );
});
