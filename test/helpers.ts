/** Helpers shared by the test files. */
import assert from 'node:assert/strict';
import { Dense, MasqueError, Sequential, tf } from '../src/index.js';
import { mulberry32 } from '../src/data/bucketing.js';

/** A tensor's values as a plain array. */
export const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());
/** 1-D int32 and float32 tensors of `v`. */
export const i32 = (v: number[]): tf.Tensor1D => tf.tensor1d(v, 'int32');
export const f32 = (v: number[]): tf.Tensor1D => tf.tensor1d(v, 'float32');

/** A small seeded PRNG (mulberry32) returning floats in [0, 1). */
export const rng = mulberry32;

/** `n` standard normal samples (Box–Muller) from a uniform PRNG. */
export function normals(r: () => number, n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

/** Runs `fn`, which must throw a MasqueError with `code` whose message includes every word. */
export function expectCode(fn: () => unknown, code: string, ...words: string[]): MasqueError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MasqueError, `expected MasqueError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const w of words) assert.ok(e.message.includes(w), `message should mention ${JSON.stringify(w)}: ${e.message}`);
    return e;
  }
  return assert.fail(`expected ${code}`);
}

/** Runs `fn` on the wasm backend (the default here), then on cpu, and returns to wasm. */
export async function onWasmAndCpu(fn: () => void): Promise<void> {
  assert.equal(tf.getBackend(), 'wasm');
  fn();
  await tf.setBackend('cpu');
  try {
    fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

/**
 * A predicate for assert.throws / assert.rejects: a MasqueError with `code`
 * whose message contains each word (string) or matches each pattern.
 */
export const isCode = (code: string, ...words: (string | RegExp | undefined)[]) => (e: unknown): true => {
  assert.ok(e instanceof MasqueError, `expected a MasqueError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  for (const w of words) {
    if (w === undefined) continue;
    assert.ok(typeof w === 'string' ? e.message.includes(w) : w.test(e.message), `message should mention ${String(w)}: ${e.message}`);
  }
  return true;
};

/** A one-layer model for training tests: Dense(units) on 2 features, kernel of ones. */
export function denseModel(units = 1): Sequential {
  return new Sequential({ layers: [new Dense({ units, inputShape: [2], kernelInitializer: 'ones' })] });
}

/** Asserts that `model.predict(x)`, repeated, leaves the tensor count where it was. */
export function assertPredictLeaksNothing(model: { predict(x: tf.Tensor): unknown }, x: tf.Tensor, times = 3): void {
  const before = tf.memory().numTensors;
  for (let i = 0; i < times; i++) tf.dispose(model.predict(x) as tf.Tensor);
  assert.equal(tf.memory().numTensors, before, 'predict leaked tensors');
}
