import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { onWasmAndCpu } from '../../test/helpers.js';
import { sliceRowsFast, heapView, writeTensor, f32, markSparseRows, knownNonzeroRows } from './heap_view.js';

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
  await onWasmAndCpu(() => {
    const before = tf.memory().numTensors;
    check();
    assert.equal(tf.memory().numTensors, before);
  });
});

test('writeTensor makes float32, int32 and bool tensors from what fill writes, on wasm (in the heap) and on cpu, without leaks', async () => {
  const check = () => {
    const before = tf.memory().numTensors;
    const a = writeTensor([2, 3], 'float32', (out) => out.set([1, 2, 3, 4, 5, -0]));
    const b = writeTensor([4], 'int32', (out) => out.set([7, -8, 9, 10]));
    const c = writeTensor([3], 'bool', (out) => out.set([1, 0, 1]));
    const empty = writeTensor([0, 5], 'float32', () => {});
    assert.deepEqual(a.arraySync(), [[1, 2, 3], [4, 5, -0]]);
    assert.deepEqual(b.arraySync(), [7, -8, 9, 10]);
    assert.equal(c.dtype, 'bool');
    assert.deepEqual(Array.from(c.dataSync()), [1, 0, 1]);
    assert.deepEqual(empty.shape, [0, 5]);
    tf.dispose([a, b, c, empty]);
    assert.equal(tf.memory().numTensors, before);
  };
  await onWasmAndCpu(check);
});

test('writeTensor: a view of another tensor taken inside fill survives the heap growing for the output', () => {
  const src = tf.range(0, 1000, 1, 'float32');
  // Big enough that allocating it grows the wasm heap.
  const big = writeTensor([64 * 1024 * 1024], 'float32', (out) => {
    out.fill(0);
    out.set(f32(src), 5);
  });
  const head = tf.slice(big, 0, 1010);
  const v = head.dataSync();
  assert.equal(v[5], 0);
  assert.equal(v[1004], 999);
  tf.dispose([src, big, head]);
});

test('knownNonzeroRows: recorded per tensor data, shared by reshapes, and only for the same row width and size', () => {
  const t = tf.zeros([4, 3]);
  markSparseRows(t, Int32Array.from([2]), 3);
  const r = tf.reshape(t, [12]);
  assert.deepEqual(Array.from(knownNonzeroRows(r, 3)!), [2]);
  assert.equal(knownNonzeroRows(t, 4), null);
  const other = tf.zeros([4, 3]);
  assert.equal(knownNonzeroRows(other, 3), null);
  tf.dispose([t, r, other]);
});
