import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/runtime/tfjs.js';

test('wasm backend is the default and gradients are registered', () => {
  assert.equal(tf.getBackend(), 'wasm');
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2]));
  assert.deepEqual(Array.from(g.dataSync()), [2, 4]);
});
