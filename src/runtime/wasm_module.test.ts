// Embedded (base64) WebAssembly modules: decoding, synchronous and
// asynchronous instantiation, and the once-per-process instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedWasm, base64Bytes, instantiateAsync, instantiateSync } from './wasm_module.js';

/** (module (func (export "answer") (result i32) i32.const 42)) */
const ANSWER = Buffer.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00,
  0x07, 0x0a, 0x01, 0x06, 0x61, 0x6e, 0x73, 0x77, 0x65, 0x72, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b,
]).toString('base64');
const NOT_WASM = Buffer.from('not a module').toString('base64');

type Answer = { answer(): number };

test('base64Bytes decodes every byte value', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(base64Bytes(Buffer.from(all).toString('base64')), all);
  assert.deepEqual(base64Bytes(''), new Uint8Array(0));
});

test('an embedded module instantiates synchronously and asynchronously', async () => {
  assert.equal(instantiateSync<Answer>(ANSWER).answer(), 42);
  assert.equal((await instantiateAsync<Answer>(ANSWER)).answer(), 42);
  assert.throws(() => instantiateSync(NOT_WASM), WebAssembly.CompileError);
  await assert.rejects(instantiateAsync(NOT_WASM), WebAssembly.CompileError);
});

test('EmbeddedWasm makes one instance, on first use or by load(); a failed synchronous attempt is reported and not repeated', async () => {
  const good = new EmbeddedWasm<Answer>(ANSWER);
  const first = good.get();
  assert.equal(first?.answer(), 42);
  assert.equal(good.get(), first);
  assert.equal(await good.load(), first);
  assert.equal(good.error(), null);

  const early = new EmbeddedWasm<Answer>(ANSWER);
  const loaded = await early.load();
  assert.equal(early.get(), loaded);

  const bad = new EmbeddedWasm<Answer>(NOT_WASM);
  assert.equal(bad.get(), null);
  assert.match(String(bad.error()), /./);
  assert.equal(bad.get(), null);
  await assert.rejects(bad.load(), WebAssembly.CompileError);
  assert.notEqual(bad.error(), null);
});
