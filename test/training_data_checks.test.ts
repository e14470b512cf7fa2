// Data checked at the door: a SequenceDataset is checked whole before the
// first step, and a NaN target in tensor data is named by its sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Sequential, Embedding, GlobalAveragePooling1D, Dense, SGD, MasqueError } from '../src/index.js';
import { isCode, denseModel } from './helpers.js';

const dense = denseModel;

function bag(): Sequential {
  return new Sequential({ layers: [new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }), new GlobalAveragePooling1D(), new Dense({ units: 1, activation: 'sigmoid' })] });
}

test('a SequenceDataset is checked whole before the first step: a bad sample fails at once, by index and step, and trains nothing', async () => {
  const model = bag();
  model.compile({ optimizer: new SGD({ learningRate: 0.5 }), loss: 'binary_crossentropy' });
  const good = [[1, 2], [3], [4, 5, 6], [7], [8, 9], [1, 1, 1], [2]];
  const labels = [0, 1, 0, 1, 0, 1, 0];
  await model.fit({ sequences: good, labels }, { verbose: 0 }); // builds the model
  const weights = model.getWeights();
  let steps = 0;
  const count = { onBatchBegin: () => void steps++ };
  const fits = (ds: object) => model.fit(ds as never, { batchSize: 2, shuffle: false, verbose: 0, callbacks: [count] });
  const withSeq = (i: number, s: unknown) => good.map((g, k) => (k === i ? s : g));
  const withLabel = (i: number, l: unknown) => labels.map((g, k) => (k === i ? l : g));
  const before = tf.memory().numTensors;
  await assert.rejects(fits({ sequences: withSeq(5, [1, 2.5, 1]), labels }), isCode('INVALID_SEQUENCES', 'sequence 5, step 1', 'token id (an integer >= 0)', '2.5'));
  await assert.rejects(fits({ sequences: withSeq(5, [1, -1]), labels }), isCode('INVALID_SEQUENCES', 'sequence 5, step 1', 'received -1'));
  await assert.rejects(fits({ sequences: withSeq(6, [null]), labels }), isCode('INVALID_SEQUENCES', 'sequence 6, step 0', 'received null'));
  await assert.rejects(fits({ sequences: withSeq(4, [NaN]), labels }), isCode('INVALID_SEQUENCES', 'sequence 4, step 0', 'NaN'));
  await assert.rejects(fits({ sequences: withSeq(3, 'abc'), labels }), isCode('INVALID_SEQUENCES', 'sequence 3 is "abc"'));
  await assert.rejects(fits({ sequences: good, labels: withLabel(5, null) }), isCode('INVALID_SEQUENCES', 'label 5', 'finite number', 'received null'));
  await assert.rejects(fits({ sequences: good, labels: withLabel(6, undefined) }), isCode('INVALID_SEQUENCES', 'label 6', 'undefined'));
  await assert.rejects(fits({ sequences: good, labels: withLabel(2, NaN) }), isCode('INVALID_SEQUENCES', 'label 2', 'NaN'));
  await assert.rejects(fits({ sequences: good, labels: withLabel(3, [1, 0]) }), isCode('INVALID_SEQUENCES', 'label 3 is a vector of 2 numbers but label 0 is a number'));
  await assert.rejects(fits({ sequences: good, labels, padding: 'middle' }), isCode('INVALID_SEQUENCES', "padding must be 'pre' or 'post'"));
  await assert.rejects(fits({ sequences: good, labels, value: NaN }), isCode('INVALID_SEQUENCES', 'value must be a finite number'));
  // Per-step labels: a list as long as the sequence, of finite numbers.
  const perStep = good.map((s) => s.map(() => 1));
  await assert.rejects(fits({ sequences: good, labels: perStep.map((l, i) => (i === 2 ? [1, null, 1] : l)), labelsPerStep: true }), isCode('INVALID_SEQUENCES', 'label 2, step 1', 'received null'));
  // Feature vectors: one width everywhere, finite values (float32 by default, so not ids).
  const feats = [[[0.5, 1], [1, 2]], [[1, 1]], [[2, 3], [1, 1], [0, 0]]];
  await assert.rejects(model.fit({ sequences: feats.map((s, i) => (i === 2 ? [[2, 3], [1]] : s)), labels: [0, 1, 0] }, { verbose: 0 }), isCode('INVALID_SEQUENCES', 'sequence 2, step 1 is a vector of 1 numbers but sequence 0, step 0 is a vector of 2 numbers'));
  await assert.rejects(model.fit({ sequences: feats.map((s, i) => (i === 1 ? [[1, Infinity]] : s)), labels: [0, 1, 0] }, { verbose: 0 }), isCode('INVALID_SEQUENCES', 'sequence 1, step 0, entry 1', 'Infinity'));
  // The validation data is checked before training too.
  await assert.rejects(model.fit({ sequences: good, labels }, { verbose: 0, callbacks: [count], validationData: { sequences: [[1], [2, 2]], labels: [1, null] } as never }), isCode('INVALID_SEQUENCES', 'label 1'));
  assert.equal(steps, 0, 'no step ran');
  assert.equal(tf.memory().numTensors, before);
  model.getWeights().forEach((w, i) => {
    assert.deepEqual(Array.from(w.dataSync()), Array.from(weights[i]!.dataSync()), 'weights unchanged');
    w.dispose();
  });
  tf.dispose(weights);
  model.dispose();
});

test('a NaN target in tensor data is named by its sample index (after shuffling); NaN that an output mask hides is fine', async () => {
  const model = dense();
  model.compile({ optimizer: new SGD({ learningRate: 0.01 }), loss: 'mse' });
  const x = tf.ones([8, 2]);
  const y = Array.from({ length: 8 }, (_, i) => [i === 5 ? NaN : 0]);
  const before = tf.memory().numTensors;
  await assert.rejects(model.fit(x, y, { batchSize: 3, verbose: 0, seed: 3 }), isCode('INVALID_INPUT', 'loss became NaN', 'the target of sample 5 is NaN'));
  await assert.rejects(model.fit(x, y.map(() => [0]), { verbose: 0, sampleWeight: [1, 1, 1, 1, 1, 1, 1, NaN] }), isCode('INVALID_INPUT', 'sampleWeight of sample 7 must be a finite number; received NaN'));
  const sw = tf.tensor1d([1, 1, 1, 1, 1, 1, Infinity, 1]);
  await assert.rejects(model.fit(x, y.map(() => [0]), { batchSize: 3, verbose: 0, sampleWeight: sw }), isCode('INVALID_INPUT', 'the sample weight of sample 6 is Infinity'));
  assert.equal(tf.memory().numTensors, before + 1);
  tf.dispose([x, sw]);
  model.dispose();

  // Per-step targets padded with NaN where the Embedding's mask hides them train normally.
  const tagger = new Sequential({ layers: [new Embedding({ inputDim: 6, outputDim: 2, maskZero: true }), new Dense({ units: 1 })] });
  tagger.compile({ optimizer: 'sgd', loss: 'mse' });
  const ids = tf.tensor2d([[1, 2, 0], [3, 0, 0]], undefined, 'int32');
  const tags = tf.tensor3d([[[1], [0], [NaN]], [[1], [NaN], [NaN]]]);
  const h = await tagger.fit(ids, tags, { epochs: 2, verbose: 0 });
  assert.ok(h.history['loss']!.every(Number.isFinite));
  // A NaN at a valid step is named with its position.
  const bad = tf.tensor3d([[[1], [NaN], [0]], [[1], [0], [0]]]);
  await assert.rejects(tagger.fit(ids, bad, { verbose: 0 }), isCode('INVALID_INPUT', 'the target of sample 0 is NaN at [1, 0]'));
  tf.dispose([ids, tags, bad]);
  tagger.dispose();
});
