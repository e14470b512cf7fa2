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
