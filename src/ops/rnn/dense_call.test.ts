// padRows and unpadRows, the copies between tfjs memory and kernel memory
// with rows padded to a multiple of 4: the values land where they should,
// the padding lanes are zero, nothing outside the block is written, and the
// copies give the same rows for every width and row count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { padRows, unpadRows } from './dense_call.js';

const up4 = (n: number) => (n + 3) & ~3;

test('padRows writes each row ld floats apart with zero padding lanes, and nothing outside the block', () => {
  for (const width of [1, 3, 4, 5, 22, 64, 131]) {
    for (const ld of [width, up4(width), up4(width) + 4]) {
      for (const rows of [0, 1, 2, 7]) {
        const src = Float32Array.from({ length: rows * width + 3 }, (_, i) => i + 1);
        const at = 5;
        const dst = new Float32Array(at + rows * ld + 6).fill(-7);
        padRows(src, rows, width, dst, at, ld);
        for (let i = 0; i < at; i++) assert.equal(dst[i], -7, `before the block (width ${width}, ld ${ld}, rows ${rows})`);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < ld; j++) assert.equal(dst[at + r * ld + j], j < width ? src[r * width + j] : 0, `row ${r} lane ${j} (width ${width}, ld ${ld})`);
        }
        for (let i = at + rows * ld; i < dst.length; i++) assert.equal(dst[i], -7, `after the block (width ${width}, ld ${ld}, rows ${rows})`);
      }
    }
  }
});

test('unpadRows gives back the rows padRows laid out, for every width and row count, and writes only its rows of out', () => {
  for (const width of [1, 3, 4, 5, 22, 64, 131]) {
    for (const ld of [width, up4(width), up4(width) + 4]) {
      for (const rows of [0, 1, 2, 7]) {
        const src = Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i) * 100);
        const mem = new Float32Array(3 + rows * ld + 2);
        padRows(src, rows, width, mem, 3, ld);
        const out = new Float32Array(rows * width + 4).fill(9);
        unpadRows(mem, 3, ld, rows, width, out.subarray(0, rows * width));
        assert.deepEqual(Array.from(out.subarray(0, rows * width)), Array.from(src), `width ${width}, ld ${ld}, rows ${rows}`);
        assert.deepEqual(Array.from(out.subarray(rows * width)), [9, 9, 9, 9], 'past the rows');
      }
    }
  }
});
