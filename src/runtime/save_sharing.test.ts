import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from './tfjs.js';
import { saveSharingData, wasmRefCount, withCopyingSaves } from './internals.js';

/** x * w with a gradient that reads what it saved through saveSharingData; `seen` records the saved tensors' ref counts. */
function product(seen: number[]) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const w = args[1] as tf.Tensor;
    saveSharingData(args[2] as tf.GradSaveFunc, [x, w]);
    return {
      value: tf.mul(x, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        for (const t of saved) seen.push(wasmRefCount(t) ?? -1);
        return [tf.mul(dy, saved[1]!), tf.mul(dy, saved[0]!)];
      },
    };
  });
}

test('saveSharingData: the saved tensors share their data on wasm (no copies), gradients are right, nothing leaks', () => {
  assert.equal(tf.getBackend(), 'wasm');
  const x = tf.tensor1d([1, 2, 3]);
  const w = tf.variable(tf.tensor1d([4, 5, 6]));
  const before = tf.memory().numTensors;
  for (let step = 0; step < 3; step++) {
    const seen: number[] = [];
    const f = product(seen);
    const { value, grads } = tf.variableGrads(() => tf.sum(f(x, w)) as tf.Scalar, [w]);
    // The saved clones share x's and w's data: two holders each (plus the
    // variable's initial value for w, which tf.variable shares too).
    assert.ok(seen.length === 2 && seen.every((n) => n >= 2), `ref counts ${seen}`);
    assert.deepEqual(Array.from(grads[w.name]!.dataSync()), [1, 2, 3]);
    assert.equal(value.dataSync()[0], 32);
    tf.dispose([value, grads[w.name]!]);
  }
  // The saved tensors are freed after the backward pass: x's data is its own again.
  assert.equal(wasmRefCount(x), 1);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w]);
});

test('tf.clone outside saveSharingData still copies on wasm (the Identity kernel is unchanged there)', () => {
  const x = tf.tensor1d([1, 2, 3]);
  const w = tf.variable(tf.tensor1d([1, 1, 1]));
  const { value, grads } = tf.variableGrads(() => tf.sum(product([])(x, w)) as tf.Scalar, [w]);
  tf.dispose([value, grads[w.name]!, w]);
  const c = tf.clone(x);
  assert.equal(wasmRefCount(x), 1);
  assert.equal(wasmRefCount(c), 1);
  assert.notEqual(c.dataId, x.dataId);
  tf.dispose([x, c]);
});

test("tfjs's own kernels save their tensors for the backward pass without copying them on wasm (shareSavedTensors); gradients unchanged", () => {
  const a = tf.randomNormal([16, 24], 0, 1, 'float32', 1);
  const w = tf.variable(tf.randomNormal([24, 8], 0, 1, 'float32', 2));
  /** Data buffers the forward pass holds under the tape (its outputs and what its kernels saved), and the gradient. */
  const run = () => {
    let held = 0;
    const before = tf.memory().numDataBuffers;
    const { value, grads } = tf.variableGrads(() => {
      const y = tf.sum(tf.relu(tf.matMul(a, w))) as tf.Scalar;
      held = tf.memory().numDataBuffers - before;
      return y;
    }, [w]);
    const g = Array.from(grads[w.name]!.dataSync());
    tf.dispose([value, grads[w.name]!]);
    return { held, g };
  };
  const shared = run();
  const copied = withCopyingSaves(run);
  // The three outputs; with copies also MatMul's a and w, Relu's input and Sum's input (for its shape).
  assert.equal(shared.held, 3, `held ${shared.held} buffers`);
  assert.equal(copied.held, 7, `held ${copied.held} buffers with copies`);
  assert.deepEqual(shared.g, copied.g);
  assert.equal(wasmRefCount(a), 1, 'the saved tensors were freed after the backward pass');
  tf.dispose([a, w]);
});
