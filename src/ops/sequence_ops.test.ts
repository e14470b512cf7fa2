import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { concatReversed, concatReversedReference, reverseSteps, reverseStepsReference, sliceSteps, sliceStepsReference } from './sequence_ops.js';

/** Value and gradients of sum(op(xs) * w) for a fixed random w. */
function valueAndGrads(op: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): { value: number[]; grads: number[][] } {
  return tf.tidy(() => {
    const y = op(...xs);
    const w = tf.randomNormal(y.shape, 0, 1, 'float32', 7);
    const grads = tf.grads((...v: tf.Tensor[]) => tf.sum(tf.mul(op(...v), w)))(xs);
    return { value: Array.from(y.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
  });
}

function same(op: (...xs: tf.Tensor[]) => tf.Tensor, ref: (...xs: tf.Tensor[]) => tf.Tensor, shapes: number[][]): void {
  const xs = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', i + 1));
  try {
    // Copies: exactly the same numbers.
    assert.deepEqual(valueAndGrads(op, xs), valueAndGrads(ref, xs));
    assert.deepEqual(op(...xs).shape, ref(...xs).shape);
  } finally {
    tf.dispose(xs);
  }
}

describe('sequence ops (time-axis copies)', () => {
  test('sliceSteps equals tf.slice, value and gradient', () => {
    for (const [start, size] of [[0, 5], [2, 3], [6, 1], [0, 7]] as const) same((x) => sliceSteps(x, start, size), (x) => sliceStepsReference(x, start, size), [[3, 7, 5]]);
    assert.throws(() => sliceSteps(tf.zeros([1, 3, 2]), 2, 2), { code: 'INVALID_ARGUMENT' } as object);
  });

  test('concatReversed equals concat([a, reverse(r, 1)], -1), value and gradients', () => {
    same(concatReversed, concatReversedReference, [[4, 6, 5], [4, 6, 3]]);
    same(concatReversed, concatReversedReference, [[1, 1, 2], [1, 1, 2]]);
    assert.throws(() => concatReversed(tf.zeros([2, 3, 1]), tf.zeros([2, 4, 1])), { code: 'INPUT_SHAPE_MISMATCH' } as object);
  });

  test('reverseSteps equals tf.reverse(x, 1), value and gradient', () => {
    same(reverseSteps, reverseStepsReference, [[3, 8, 20]]);
  });

  test('on the cpu backend (JavaScript copies, not the wasm heap kernel) the same', async () => {
    await tf.setBackend('cpu');
    try {
      same(concatReversed, concatReversedReference, [[4, 6, 5], [4, 6, 3]]);
      same(reverseSteps, reverseStepsReference, [[3, 8, 20]]);
      for (const [start, size] of [[2, 3], [0, 7]] as const) same((x) => sliceSteps(x, start, size), (x) => sliceStepsReference(x, start, size), [[3, 7, 5]]);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  test('no tensors are left behind', () => {
    const x = tf.randomNormal([2, 4, 3]);
    const r = tf.randomNormal([2, 4, 2]);
    const before = tf.memory().numTensors;
    tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(concatReversed(sliceSteps(a, 1, 3), reverseSteps(sliceSteps(b, 0, 3)))))([x, r]));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, r]);
  });
});
