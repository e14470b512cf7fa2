import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { copyRows } from './rows.js';

/** The rule copyRows follows, one element at a time. */
function reference(src: Float32Array, dst: Float32Array, idx: Int32Array, f: number, scatter: boolean): void {
  for (let k = 0; k < idx.length; k++) {
    for (let j = 0; j < f; j++) {
      if (scatter) dst[idx[k]! * f + j] = src[k * f + j]!;
      else dst[k * f + j] = src[idx[k]! * f + j]!;
    }
  }
}

test('copyRows gathers and scatters rows alike whether source and destination share one buffer (the wasm heap: memmove path) or not', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(3, 16, 64),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 0, max: 12 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 1, max: 2 ** 30 }),
      (f, rows, picks, scatter, gap, seed) => {
        let s = seed;
        const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
        // Scatter targets are distinct rows (as the callers' token indices are).
        const order = Array.from({ length: rows }, (_, i) => i).sort(() => rnd() - 0.5);
        const idx = Int32Array.from({ length: scatter ? Math.min(picks, rows) : picks }, (_, k) => (scatter ? order[k]! : Math.floor(rnd() * rows)));
        const srcRows = scatter ? idx.length : rows;
        const dstRows = scatter ? rows : idx.length;
        // One heap: [gap][src][gap][dst] (offsets not multiples of f).
        const heap = new Float32Array(gap + srcRows * f + gap + dstRows * f + 1);
        for (let i = 0; i < heap.length; i++) heap[i] = rnd() * 100 - 50;
        const src = heap.subarray(gap, gap + srcRows * f);
        const dst = heap.subarray(2 * gap + srcRows * f, 2 * gap + srcRows * f + dstRows * f);
        const expected = heap.slice();
        reference(expected.subarray(gap, gap + srcRows * f), expected.subarray(2 * gap + srcRows * f, 2 * gap + srcRows * f + dstRows * f), idx, f, scatter);
        // Separate buffers, same values.
        const src2 = src.slice();
        const dst2 = dst.slice();
        copyRows(src, dst, idx, f, scatter);
        copyRows(src2, dst2, idx, f, scatter);
        assert.deepEqual(heap, expected, 'shared buffer: every element as the reference, nothing outside dst touched');
        assert.deepEqual(dst2, dst, 'separate buffers: the same rows');
      },
    ),
    { numRuns: 300 },
  );
});

test('copyRows on one buffer refuses rows outside src or dst instead of writing past them into the rest of the heap', () => {
  const heap = Float32Array.from({ length: 200 }, (_, i) => i);
  const src = heap.subarray(0, 64);
  const dst = heap.subarray(64, 128);
  const before = heap.slice();
  assert.throws(() => copyRows(src, dst, Int32Array.from([0, 2]), 32, false), /rows out of range/);
  assert.throws(() => copyRows(src, dst, Int32Array.from([0, 1, 0]), 32, false), /rows out of range/);
  assert.throws(() => copyRows(src, dst, Int32Array.from([-1]), 32, true), /rows out of range/);
  assert.throws(() => copyRows(src, dst, Int32Array.from([0, 1, 2]), 32, true), /rows out of range/);
  assert.deepEqual(heap, before, 'nothing written');
  copyRows(src, dst, Int32Array.from([1, 0]), 32, false);
  assert.deepEqual(Array.from(dst), [...Array.from({ length: 32 }, (_, i) => 32 + i), ...Array.from({ length: 32 }, (_, i) => i)]);
  assert.deepEqual(heap.subarray(128), before.subarray(128), 'past dst untouched');
});
