import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, getMask, Rescaling, MasqueError } from '../../index.js';

test('x · scale + offset; padded zeros become offset (as in Keras); the mask passes', () => {
  const r = new Rescaling({ scale: 0.5, offset: 1 });
  const y = r.apply(tf.tensor3d([[[2, 4], [0, 0]]]), { mask: tf.tensor2d([[true, false]], undefined, 'bool') }) as tf.Tensor;
  assert.deepEqual(Array.from(y.dataSync()), [2, 3, 1, 1]);
  assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 0]);
  assert.deepEqual(r.getConfig()['offset'], 1);
});

test('array scales broadcast from the right; Keras\'s serialized tensors are read; scale is required', () => {
  const r = new Rescaling({ scale: [1, 10] });
  assert.deepEqual(Array.from((r.apply(tf.tensor2d([[1, 2]])) as tf.Tensor).dataSync()), [1, 20]);
  const k = new Rescaling({ scale: { class_name: '__tensor__', config: { value: [2, 3], dtype: 'float32' } } as never });
  assert.deepEqual(k.getConfig()['scale'], [2, 3]);
  assert.throws(() => r.apply(tf.zeros([1, 3])), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH');
  assert.throws(() => new Rescaling({} as never), (e: unknown) => e instanceof MasqueError && /scale is required/.test(e.message));
  assert.throws(() => new Rescaling({ scale: [[1], [1, 2]] }), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT');
});
