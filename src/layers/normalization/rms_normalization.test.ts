import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, getMask, RMSNormalization, Embedding, Sequential, Input, MasqueError } from '../../index.js';

test('x · rsqrt(mean(x²) + epsilon) · scale over the last axis; the scale weight as in Keras; axis kept as a sorted list', () => {
  const r = new RMSNormalization({ name: 'rms' });
  const y = r.apply(tf.tensor2d([[3, 4]])) as tf.Tensor;
  const inv = 1 / Math.sqrt(12.5 + 1e-6);
  assert.deepEqual(Array.from(y.dataSync()).map((v) => +v.toFixed(6)), [3 * inv, 4 * inv].map((v) => +v.toFixed(6)));
  assert.deepEqual(r.weights.map((w) => `${w.path}:${w.shape}`), ['rms/scale:2']);
  assert.deepEqual(r.getConfig()['axis'], [-1]);
  assert.deepEqual(new RMSNormalization({ axis: [2, 1] }).getConfig()['axis'], [1, 2]);
});

test('no mask support: a masked input raises MASK_NOT_SUPPORTED by default; under warn the mask is dropped', () => {
  const make = (maskPolicy?: 'warn') =>
    new Sequential({ layers: [Input({ shape: [null], dtype: 'int32' }), new Embedding({ inputDim: 5, outputDim: 3, maskZero: true, name: 'emb' }), new RMSNormalization()], maskPolicy });
  assert.throws(() => make(), (e: unknown) => e instanceof MasqueError && e.code === 'MASK_NOT_SUPPORTED' && /RMSNormalization/.test(e.message) && /'emb'/.test(e.message));
  const m = make('warn');
  const y = m.apply(tf.tensor2d([[1, 2, 0]], undefined, 'int32')) as tf.Tensor;
  assert.equal(getMask(y), null);
  m.dispose();
});
