import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { MasqueError } from '../errors.js';
import { toTensorList, type InputData } from '../data/input_data.js';
import { makeSource } from './data_source.js';

const model = { toInputList: (x: InputData, where: string) => toTensorList(x, 1, where, 'input'), outputCount: 1 };
const once = { shuffle: false, bucketing: false, rand: Math.random };

describe('data sources', () => {
  test('tensors: batches know their rows; split gives the first floor(n·(1 − frac)) rows and the rest, with weights; dispose frees what was made', () => {
    const before = tf.memory().numTensors;
    const src = makeSource(model, [[1], [2], [3], [4], [5]], [1, 2, 3, 4, 5], [1, 1, 2, 2, 3], 'fit');
    assert.equal(src.kind, 'tensors');
    const [train, val] = src.split(0.4, 'fit');
    assert.deepEqual([train.n, val.n], [3, 2]);
    const rows: number[][] = [];
    const weights: number[] = [];
    for (const b of val.batches({ ...once, batchSize: 1 })) {
      rows.push(b.rows);
      weights.push(b.sampleWeight!.dataSync()[0]!);
      b.dispose();
    }
    assert.deepEqual(rows, [[3], [4]]);
    assert.deepEqual(weights, [2, 3]);
    const shuffled = [...train.batches({ batchSize: 2, shuffle: true, bucketing: false, rand: () => 0.3 })];
    assert.deepEqual(shuffled.flatMap((b) => b.rows).sort(), [0, 1, 2]);
    shuffled.forEach((b) => b.dispose());
    for (const s of [train, val, src]) s.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('sequences: checked whole when made; split keeps sample indices for error messages', () => {
    const src = makeSource(model, { sequences: [[1], [2, 3], [4], [5, 6, 7]], labels: [0, 1, 0, 1] }, undefined, undefined, 'fit');
    assert.equal(src.kind, 'sequences');
    assert.equal(src.bucketingDefault, true);
    const [, val] = src.split(0.5, 'fit');
    const batches = [...val.batches({ ...once, batchSize: 4 })];
    assert.deepEqual(batches.map((b) => b.rows), [[2, 3]]);
    assert.deepEqual(batches[0]!.x[0]!.shape, [2, 3]);
    batches.forEach((b) => b.dispose());
    assert.throws(() => makeSource(model, { sequences: [[1], [2]], labels: [0, 1] }, undefined, [1, 1], 'fit'), /sampleWeight is not supported/);
    assert.throws(() => makeSource(model, { sequences: [], labels: [] }, undefined, undefined, 'fit'), /empty/);
  });

  test('errors while making a tensor source free what was made', () => {
    const before = tf.memory().numTensors;
    const bad = (y: InputData, sw?: number[]) => assert.throws(() => makeSource(model, [[1], [2]], y, sw, 'fit'), (e: unknown) => e instanceof MasqueError);
    bad([1, 2, 3]);
    bad([1, 2], [1]);
    bad([1, 2], [1, NaN]);
    assert.throws(() => makeSource(model, [[1], [2]], undefined, undefined, 'fit'), /pass targets y/);
    assert.equal(tf.memory().numTensors, before);
  });
});
