import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf } from '../runtime/tfjs.js';
import { forEachRun, maskSteps, stepMask } from './mask_ops.js';
import { heapOps } from './heap_ops.js';
import { onWasmAndCpu } from '../../test/helpers.js';

/** What Keras computes for maskValue 0: any(x != 0) over the last axis (NaN != 0). */
function keras(values: Float32Array, steps: number, f: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    let any = 0;
    for (let j = 0; j < f; j++) if (values[s * f + j] !== 0) any = 1;
    out.push(any);
  }
  return out;
}

const special = [0, -0, 0, 0, 1, -1, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.5];

test('the maskValue-0 step mask equals any(x != 0) for -0, NaN, Inf, subnormals and every feature count, on wasm and cpu', async () => {
  assert.notEqual(heapOps(), null, 'the in-place wasm kernel loads on the wasm backend');
  const cases = fc.sample(
    fc.record({
      steps: fc.integer({ min: 1, max: 9 }),
      f: fc.integer({ min: 1, max: 40 }),
      cells: fc.array(fc.integer({ min: 0, max: special.length - 1 }), { minLength: 360, maxLength: 360 }),
      zeroSteps: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
    }),
    { numRuns: 60, seed: 7 },
  );
  await onWasmAndCpu(() => {
    for (const c of cases) {
      const values = new Float32Array(c.steps * c.f);
      for (let i = 0; i < values.length; i++) values[i] = c.zeroSteps[Math.floor(i / c.f)] ? (i % 3 === 0 ? -0 : 0) : special[c.cells[i]!]!;
      const x = tf.tensor2d(values, [c.steps, c.f]);
      const m = stepMask(x, 0);
      assert.equal(m.dtype, 'bool');
      assert.deepEqual(Array.from(m.dataSync()), keras(values, c.steps, c.f), `${tf.getBackend()} steps ${c.steps} f ${c.f}`);
      tf.dispose([x, m]);
    }
  });
});

test('Masking with maskValue 0 outputs its input bit for bit (as x * mask does) and passes gradient only to valid steps', async () => {
  await onWasmAndCpu(() => {
    const before = tf.memory().numTensors;
    const x = tf.tensor3d([[[1, -0], [0, 0], [NaN, 2]], [[-0, -0], [3, 4], [0, 0]]]);
    const { output, mask } = maskSteps(x, 0);
    assert.deepEqual(Array.from(mask.dataSync()), [1, 0, 1, 0, 1, 0]);
    const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
    const kerasOut = tf.tidy(() => tf.mul(x, tf.expandDims(tf.cast(mask, 'float32'), -1)));
    assert.deepEqual(bits(output), bits(kerasOut));
    const w = tf.tensor3d([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
    const xin = tf.tensor3d([[[1, 1], [0, 0], [2, 2]], [[0, 0], [3, 4], [0, 0]]]);
    const g = tf.grad((xx: tf.Tensor) => {
      const r = maskSteps(xx, 0);
      return tf.sum(tf.mul(r.output, w));
    })(xin);
    assert.deepEqual(g.arraySync(), [[[1, 2], [0, 0], [5, 6]], [[0, 0], [9, 10], [0, 0]]]);
    tf.dispose([x, output, mask, kerasOut, w, g, xin]);
    assert.equal(tf.memory().numTensors, before);
  });
});

test('forEachRun visits exactly the maximal runs of a value inside [from, to), in order', () => {
  fc.assert(
    fc.property(fc.uint8Array({ min: 0, max: 1, maxLength: 40 }), fc.nat(40), fc.nat(40), fc.constantFrom<0 | 1>(0, 1), (bytes, a, b, value) => {
      const [from, to] = [Math.min(a, b, bytes.length), Math.min(Math.max(a, b), bytes.length)];
      const expected: [number, number][] = [];
      for (let p = from; p < to; p++) {
        if (bytes[p] !== value) continue;
        let q = p;
        while (q < to && bytes[q] === value) q++;
        expected.push([p, q]);
        p = q;
      }
      const got: [number, number][] = [];
      forEachRun(bytes, value, from, to, (start, end) => got.push([start, end]));
      assert.deepEqual(got, expected);
    }),
  );
});
