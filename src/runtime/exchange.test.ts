// How the worker pool's messages carry typed arrays (exchange.ts): packed
// into one shared buffer and read back as views of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExchangeBuffer, pack, packedBytes, receivedExchange, unpack } from './exchange.js';

test('pack and unpack: every kind of typed array, nested in objects and arrays, at any offset of its buffer, comes back equal as a view of the one shared buffer', () => {
  const big = Float32Array.from({ length: 40 }, (_, i) => i * 0.5);
  const msg = {
    op: 'forward',
    n: 3,
    flag: true,
    none: null,
    x: { xc: big.subarray(7, 19), w: Float64Array.from([1.5, -2.25]), empty: new Float32Array(0) },
    plan: { counts: Int32Array.from([3, 2, -1]), mask: Uint8Array.from([1, 0, 1, 1, 0]), rest: [Int16Array.from([-7]), Uint32Array.from([4e9]), 'text'] },
  };
  const need = packedBytes(msg);
  // Each array starts 16-byte aligned: 48 + 16 + 0 + 16 + 16 + 16 + 16.
  assert.equal(need, 128);
  const { sab, fresh } = new ExchangeBuffer().fit(need);
  assert.ok(fresh);
  const packed = pack(msg, sab) as typeof msg;
  // The placeholders are plain data: what postMessage clones is small.
  assert.ok(!ArrayBuffer.isView(packed.x.xc));
  const back = unpack(structuredClone(packed), sab) as typeof msg;
  assert.equal(back.op, 'forward');
  assert.equal(back.n, 3);
  assert.equal(back.flag, true);
  assert.equal(back.none, null);
  assert.equal(back.plan.rest[2], 'text');
  const arrays: [ArrayBufferView & ArrayLike<number>, ArrayBufferView & ArrayLike<number>][] = [
    [back.x.xc, msg.x.xc], [back.x.w, msg.x.w], [back.x.empty, msg.x.empty], [back.plan.counts, msg.plan.counts], [back.plan.mask, msg.plan.mask],
    [back.plan.rest[0] as Int16Array, msg.plan.rest[0] as Int16Array], [back.plan.rest[1] as Uint32Array, msg.plan.rest[1] as Uint32Array],
  ];
  for (const [got, sent] of arrays) {
    assert.equal(got.constructor, sent.constructor);
    assert.deepEqual(Array.from(got), Array.from(sent));
    assert.equal(got.buffer, sab, 'a view of the shared buffer, not a copy');
    assert.equal(got.byteOffset % 16, 0);
  }
  // The sender's arrays are untouched and still its own.
  assert.equal(msg.x.xc.buffer, big.buffer);
  assert.deepEqual(Array.from(msg.x.xc), Array.from(big.subarray(7, 19)));
});

test('arrays in other shared memory go by reference; views of an exchange buffer (sent or received) are copied, since the next message overwrites them', () => {
  const table = new Float32Array(new SharedArrayBuffer(16));
  table.set([1, 2, 3, 4]);
  assert.equal(packedBytes({ p: table }), 0);
  const ex = new ExchangeBuffer();
  const { sab } = ex.fit(64);
  const own = new Float32Array(sab, 16, 2);
  own.set([5, 6]);
  const received = new SharedArrayBuffer(64);
  receivedExchange(received);
  const theirs = new Int32Array(received, 0, 3);
  theirs.set([7, 8, 9]);
  const msg = { p: table, own, theirs };
  assert.equal(packedBytes(msg), 32);
  const out = new ExchangeBuffer().fit(32).sab;
  const packed = pack(msg, out) as typeof msg;
  assert.equal(packed.p, table, 'passed as it is');
  const back = unpack(packed, out) as typeof msg;
  assert.deepEqual(Array.from(back.own), [5, 6]);
  assert.deepEqual(Array.from(back.theirs), [7, 8, 9]);
  assert.equal(back.own.buffer, out);
  assert.equal(back.theirs.buffer, out);
});

test('an exchange buffer is kept while messages fit and replaced by a larger one when one does not; unpacking without the buffer is an error', () => {
  const ex = new ExchangeBuffer();
  const a = ex.fit(100);
  assert.ok(a.fresh);
  assert.ok(a.sab.byteLength >= 1 << 20);
  const b = ex.fit(a.sab.byteLength);
  assert.ok(!b.fresh);
  assert.equal(b.sab, a.sab);
  const c = ex.fit(a.sab.byteLength + 1);
  assert.ok(c.fresh);
  assert.ok(c.sab.byteLength >= 1.5 * (a.sab.byteLength + 1));
  const packed = pack({ x: Float32Array.from([1]) }, c.sab);
  assert.throws(() => unpack(packed, null), /never sent/);
});

test('a message that keeps the earlier ones goes after them (or into a new buffer, leaving the old one to its views); one that does not starts over', () => {
  const ex = new ExchangeBuffer();
  const first = ex.fit(600_000);
  assert.equal(first.at, 0);
  const a = pack({ x: Float32Array.from([1, 2, 3]) }, first.sab, first.at);
  const second = ex.fit(300_000, true);
  assert.equal(second.sab, first.sab);
  assert.equal(second.at, 600_000);
  const b = pack({ x: Float32Array.from([4, 5]) }, second.sab, second.at);
  assert.deepEqual(Array.from((unpack(a, first.sab) as { x: Float32Array }).x), [1, 2, 3]);
  assert.deepEqual(Array.from((unpack(b, second.sab) as { x: Float32Array }).x), [4, 5]);
  assert.equal((unpack(b, second.sab) as { x: Float32Array }).x.byteOffset, 600_000);
  // No room after them: a new buffer, at least as large; the views of the old one keep their values.
  const keptView = (unpack(a, first.sab) as { x: Float32Array }).x;
  const third = ex.fit(first.sab.byteLength - 100_000, true);
  assert.ok(third.fresh);
  assert.notEqual(third.sab, first.sab);
  assert.equal(third.at, 0);
  // Large enough for all three messages, so that the same sequence fits next time.
  assert.ok(third.sab.byteLength >= 1.5 * (600_000 + 300_000 + first.sab.byteLength - 100_000));
  pack({ x: new Float32Array(10).fill(9) }, third.sab, third.at);
  assert.deepEqual(Array.from(keptView), [1, 2, 3]);
  // Not keeping: back to the start of the current buffer.
  const fourth = ex.fit(16);
  assert.equal(fourth.sab, third.sab);
  assert.equal(fourth.at, 0);
  assert.ok(!fourth.fresh);
});
