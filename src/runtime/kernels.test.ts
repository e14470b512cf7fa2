import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from './tfjs.js';

test('wasm UnsortedSegmentSum: tfjs gather gradients (embedding training) work on wasm and match the cpu backend', async () => {
  assert.equal(tf.getBackend(), 'wasm');
  const run = () => {
    const table = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const ids = tf.tensor2d([[1, 3, 1], [0, 1, 2]], undefined, 'int32');
    const w = tf.tensor3d([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
    const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))([table]);
    const rows = tf.tensor2d([[1, 1], [2, 2], [4, 4]]);
    const segIds = tf.tensor1d([2, 0, 2], 'int32');
    const seg = tf.unsortedSegmentSum(rows, segIds, 3);
    const out = { g: g!.arraySync(), seg: seg.arraySync() };
    tf.dispose([table, ids, w, g!, rows, segIds, seg]);
    return out;
  };
  const before = tf.memory().numTensors;
  const onWasm = run();
  assert.equal(tf.memory().numTensors, before);
  // Row 1 is gathered three times: its gradient sums three rows of w.
  assert.deepEqual(onWasm.g, [[7, 8], [1 + 5 + 9, 2 + 6 + 10], [11, 12], [3, 4]]);
  assert.deepEqual(onWasm.seg, [[2, 2], [0, 0], [5, 5]]);
  await tf.setBackend('cpu');
  try {
    assert.deepEqual(run(), onWasm);
  } finally {
    await tf.setBackend('wasm');
  }
});

test('the runtime refuses a tfjs version whose internals it was not written for, naming both versions', async () => {
  const { checkTfjsVersion, TFJS_VERSION } = await import('./internals.js');
  assert.equal(tf.version_core, TFJS_VERSION);
  assert.doesNotThrow(() => checkTfjsVersion());
  assert.throws(
    () => checkTfjsVersion('4.23.0'),
    (e: unknown) => (e as { code?: string }).code === 'BACKEND_UNAVAILABLE' && /4\.22\.0/.test((e as Error).message) && /4\.23\.0 is installed/.test((e as Error).message),
  );
});

test('gradients through boolean kernels are zero (TensorFlow: not differentiable), so a mask computed from a differentiated tensor does not stop the gradient', () => {
  // Each kernel in turn on the path from x to the loss; tfjs alone throws "gradient function not found".
  const x = tf.tensor2d([[1, -2, 0], [3, 0, -1]]);
  const y = tf.tensor2d([[1, 2, 0], [0, 0, -1]]);
  const cases: [string, (a: tf.Tensor) => tf.Tensor][] = [
    ['Equal', (a) => tf.equal(a, y)],
    ['NotEqual', (a) => tf.notEqual(a, y)],
    ['Greater', (a) => tf.greater(a, y)],
    ['Less', (a) => tf.less(a, y)],
    ['LessEqual', (a) => tf.lessEqual(a, y)],
    ['LogicalAnd', (a) => tf.logicalAnd(tf.greaterEqual(a, 0), tf.notEqual(a, 1))],
    ['LogicalOr', (a) => tf.logicalOr(tf.greaterEqual(a, 0), tf.notEqual(a, 1))],
    ['LogicalXor', (a) => tf.logicalXor(tf.greaterEqual(a, 0), tf.notEqual(a, 1))],
    ['LogicalNot', (a) => tf.logicalNot(tf.greaterEqual(a, 0))],
    ['Any', (a) => tf.broadcastTo(tf.any(tf.notEqual(a, 0), -1, true), a.shape)],
    ['All', (a) => tf.broadcastTo(tf.all(tf.notEqual(a, 0), -1, true), a.shape)],
  ];
  for (const [name, f] of cases) {
    // loss = sum(x * 3 * cast(f(x))): the boolean's own gradient is zero, so dx = 3 * cast(f(x)).
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.mul(a, 3), tf.cast(f(a), 'float32'))))(x);
    const want = tf.mul(tf.cast(f(x), 'float32'), 3);
    assert.deepEqual(Array.from(g.dataSync()), Array.from(want.dataSync()), name);
    tf.dispose([g, want]);
  }
  tf.dispose([x, y]);
});

test('MaxPoolGrad on wasm: each window gives dy to its first largest value, negative values included (tfjs-backend-wasm 4.22 dropped those)', async () => {
  assert.equal(tf.getBackend(), 'wasm');
  const run = () =>
    tf.tidy(() => {
      // [1, 6, 1, 2]: channel 0 all negative, channel 1 mixed, with a tie (-1, -1) in the last window of channel 0.
      const x = tf.tensor4d([-3, 2, -5, -4, -2, 7, -6, 1, -1, 0, -1, -8], [1, 6, 1, 2]);
      const grads: number[][] = [];
      for (const [size, stride, pad] of [[1, 1, 'same'], [2, 2, 'valid'], [3, 1, 'same'], [2, 1, 'valid']] as const) {
        const y = tf.maxPool(x, [size, 1], [stride, 1], pad);
        const r = tf.tensor4d(Array.from({ length: y.size }, (_, i) => i + 1), y.shape as [number, number, number, number]);
        grads.push(Array.from(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, [size, 1], [stride, 1], pad), r)))(x).dataSync()));
      }
      return grads;
    });
  const onWasm = run();
  // A pool of one step is the identity: dx = r.
  assert.deepEqual(onWasm[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  // Windows of 2, stride 2: channel 0 (-3,-5) -> -3, (-2,-6) -> -2, (-1,-1) -> the first -1; channel 1 (2,-4), (7,1), (0,-8).
  assert.deepEqual(onWasm[1], [1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0]);
  await tf.setBackend('cpu');
  try {
    assert.deepEqual(run(), onWasm);
  } finally {
    await tf.setBackend('wasm');
  }
});
