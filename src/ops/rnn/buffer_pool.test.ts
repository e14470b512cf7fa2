import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from './buffer_pool.js';

test('BufferPool reuses a returned buffer for a request that fits, prefers the smallest fit, and keeps within its byte limit', () => {
  const pool = new BufferPool(1000);
  const a = pool.take(100);
  assert.equal(a.length, 100);
  a.fill(7);
  pool.give(a);
  const b = pool.take(60);
  assert.equal(b.length, 60);
  assert.ok(b.buffer.byteLength >= 240);
  assert.equal(b.buffer, a.buffer, 'the returned buffer is reused');
  const c = pool.take(60);
  assert.notEqual(c.buffer, a.buffer, 'a buffer in use is not handed out twice');
  pool.give(b);
  pool.give(b);
  assert.equal(pool.take(100).buffer, a.buffer);
  assert.notEqual(pool.take(100).buffer, a.buffer, 'giving the same buffer twice keeps it once');
  // Over the limit (1000 bytes = 250 floats): not kept.
  const big = new Float32Array(300);
  pool.give(big);
  assert.notEqual(pool.take(300).buffer, big.buffer);
  // Smallest fit first; a buffer more than twice the request is not used for it.
  const small = new Float32Array(20);
  const mid = new Float32Array(50);
  pool.give(mid);
  pool.give(small);
  assert.equal(pool.take(10).buffer, small.buffer);
  assert.notEqual(pool.take(10).buffer, mid.buffer);
  assert.equal(pool.take(30).buffer, mid.buffer);
  assert.equal(pool.take(0).length, 0);
});

test('BufferPool ignores a buffer that was transferred away (detached)', () => {
  const pool = new BufferPool(1 << 20);
  const a = new Float32Array(16);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  pool.give(a);
  assert.equal(pool.take(4).length, 4);
});
