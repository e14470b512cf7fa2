import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf } from '../runtime/tfjs.js';
import { MasqueError } from '../errors.js';
import { mulberry32, padBatch, paddedArea, planBatches } from './bucketing.js';

const arbPlan = fc.record({
  lengths: fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 300 }),
  batchSize: fc.integer({ min: 1, max: 17 }),
  poolBatches: fc.integer({ min: 1, max: 6 }),
  shuffle: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
});

describe('planBatches', () => {
  test('property: every index exactly once, batches not larger than batchSize, at most one partial batch per pool', () => {
    fc.assert(
      fc.property(arbPlan, fc.boolean(), ({ lengths, batchSize, poolBatches, shuffle, seed }, bucketing) => {
        const batches = planBatches(lengths, { batchSize, shuffle, seed, bucketing: bucketing && { poolBatches } });
        const seen = new Int32Array(lengths.length);
        for (const b of batches) {
          assert.ok(b.length >= 1 && b.length <= batchSize);
          for (const i of b) seen[i]! += 1;
        }
        assert.ok(seen.every((c) => c === 1));
        const pools = bucketing ? Math.ceil(lengths.length / (poolBatches * batchSize)) : 1;
        assert.ok(batches.filter((b) => b.length < batchSize).length <= Math.min(1, pools));
      }),
      { numRuns: 300 },
    );
  });

  test('property: bucketing never pads more than plain batching with the same seed', () => {
    fc.assert(
      fc.property(arbPlan, ({ lengths, batchSize, poolBatches, shuffle, seed }) => {
        const plain = planBatches(lengths, { batchSize, shuffle, seed });
        const bucketed = planBatches(lengths, { batchSize, shuffle, seed, bucketing: { poolBatches } });
        assert.ok(paddedArea(lengths, bucketed) <= paddedArea(lengths, plain));
      }),
      { numRuns: 300 },
    );
  });

  test('deterministic given the seed; different seeds give different orders', () => {
    const lengths = Array.from({ length: 200 }, (_, i) => (i * 37) % 50);
    const plan = (seed: number) => planBatches(lengths, { batchSize: 8, shuffle: true, seed, bucketing: true }).map((b) => Array.from(b));
    assert.deepEqual(plan(7), plan(7));
    assert.notDeepEqual(plan(7), plan(8));
  });

  test('bucketing sorts each pool and saves padding on mixed lengths', () => {
    const lengths = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? 2 : 30));
    const plain = planBatches(lengths, { batchSize: 8 });
    const bucketed = planBatches(lengths, { batchSize: 8, bucketing: { poolBatches: 8 } });
    assert.equal(paddedArea(lengths, plain), 64 * 30);
    assert.equal(paddedArea(lengths, bucketed), 32 * 2 + 32 * 30);
    for (const b of bucketed) assert.equal(new Set(Array.from(b, (i) => lengths[i])).size, 1);
  });

  test('the remainder batch goes where it saves most', () => {
    // [10, 1, 1] with batches of 2: [1] + [1, 10] pads 1 + 20; [1, 1] + [10] pads 2 + 10.
    const batches = planBatches([10, 1, 1], { batchSize: 2, bucketing: true });
    assert.equal(paddedArea([10, 1, 1], batches), 12);
  });

  test('without shuffle and bucketing the batches are consecutive', () => {
    assert.deepEqual(planBatches([1, 2, 3, 4, 5], { batchSize: 2 }).map((b) => Array.from(b)), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(planBatches([], { batchSize: 2 }), []);
  });

  test('bad arguments raise INVALID_ARGUMENT naming the argument', () => {
    const bad = (fn: () => unknown, word: string) =>
      assert.throws(fn, (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && e.message.includes(word));
    bad(() => planBatches([1], { batchSize: 0 }), 'batchSize');
    bad(() => planBatches([1, -2], { batchSize: 1 }), 'lengths[1]');
    bad(() => planBatches([1], { batchSize: 1, bucketing: { poolBatches: 1.5 } }), 'poolBatches');
  });

  test('mulberry32 gives floats in [0, 1)', () => {
    const r = mulberry32(1);
    for (let i = 0; i < 1000; i++) {
      const x = r();
      assert.ok(x >= 0 && x < 1);
    }
  });
});

describe('padBatch', () => {
  const seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9], []];

  test('pads to the batch longest, rounded to multipleOf', () => {
    const before = tf.memory().numTensors;
    const { x, lengths } = padBatch(seqs, Int32Array.of(1, 0, 3), { padding: 'post' });
    assert.deepEqual(x.shape, [3, 3]);
    assert.deepEqual(Array.from(x.dataSync()), [4, 0, 0, 1, 2, 3, 0, 0, 0]);
    assert.deepEqual(Array.from(lengths), [1, 3, 0]);
    x.dispose();
    const r = padBatch(seqs, [2, 1], { multipleOf: 4, value: -1 });
    assert.deepEqual(r.x.shape, [2, 8]);
    assert.deepEqual(Array.from(r.x.dataSync()).slice(0, 8), [-1, -1, -1, 5, 6, 7, 8, 9]);
    r.x.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('bad indices and feature vectors raise', () => {
    assert.throws(() => padBatch(seqs, [4]), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && e.message.includes('indices[0]'));
    const before = tf.memory().numTensors;
    assert.throws(() => padBatch([[[1, 2]]] as never, [0]), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_SEQUENCES');
    assert.equal(tf.memory().numTensors, before);
  });
});
