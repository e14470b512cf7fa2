import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../engine/tfjs.js';
import { sliceRowsFast, heapView } from './heap_view.js';

test('sliceRowsFast equals tf.slice for float32, int32 and bool on wasm, and on cpu', async () => {
  const check = () => {
    const ts = [
      tf.tensor2d([[true, false, true], [false, false, true], [true, true, false]], undefined, 'bool'),
      tf.tensor2d([[1, 2], [3, 4], [5, 6]], undefined, 'int32'),
      tf.tensor3d([[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]),
    ];
    for (const t of ts) {
      for (const [start, size] of [[0, 1], [1, 2], [0, 3], [2, 1]] as const) {
        const a = sliceRowsFast(t, start, size);
        const b = tf.slice(t, start, size);
        assert.equal(a.dtype, t.dtype);
        assert.deepEqual(a.shape, b.shape);
        assert.deepEqual(a.arraySync(), b.arraySync(), `${t.dtype} rows ${start}+${size}`);
        tf.dispose([a, b]);
      }
      assert.deepEqual(Array.from(heapView(t)), Array.from(t.dataSync()));
    }
    tf.dispose(ts);
  };
  assert.equal(tf.getBackend(), 'wasm');
  const before = tf.memory().numTensors;
  check();
  assert.equal(tf.memory().numTensors, before);
  await tf.setBackend('cpu');
  try {
    check();
  } finally {
    await tf.setBackend('wasm');
  }
});
