// fit({ classWeight }) as Keras: each target weighs its class's weight (argmax
// of one-hot targets, else the rounded value; missing classes weigh 1), for
// the loss and the weightedMetrics, not for validation. Per-step targets get
// one weight per step and masked steps stay 0 (Keras cannot do this: its
// conversion takes the argmax over the steps). Golden numbers:
// test/fixtures/keras-3.15.1-trainapi/class_weight.json (generate.py there):
// Keras's own conversion and evaluate with the resulting sample weights,
// which is what fit logs at learning rate 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tf, Input, Dense, Embedding, Model, SGD, MasqueError, type Logs } from '../src/index.js';

interface PerSample {
  name: string;
  kind: 'per_sample';
  loss: string;
  units: number;
  activation: 'softmax' | 'sigmoid';
  x: number[][];
  y: number[] | number[][];
  class_weight: Record<string, number>;
  weights: number[][][];
  sample_weight: number[];
  batch_size: number;
  logs: Logs;
}
interface PerStep {
  name: string;
  kind: 'per_step';
  sequences: number[][];
  labels: number[][];
  class_weight: Record<string, number>;
  weights: number[][][];
  epoch_logs: Logs;
}

const golden = JSON.parse(readFileSync(new URL('fixtures/keras-3.15.1-trainapi/class_weight.json', import.meta.url), 'utf8')) as { cases: (PerSample | PerStep)[] };
const near = (got: number, want: number, what: string, tol = 1e-5) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs Keras ${want}`);
const classWeight = (cw: Record<string, number>) => Object.fromEntries(Object.entries(cw).map(([k, v]) => [Number(k), v]));

for (const c of golden.cases.filter((k): k is PerSample => k.kind === 'per_sample')) {
  test(`classWeight, per-sample targets (${c.name}): fit logs Keras's loss and weighted accuracy`, async () => {
    const x = Input({ shape: [4] });
    const model = new Model({ inputs: x, outputs: new Dense({ units: c.units, activation: c.activation }).apply(x) });
    model.setWeights(c.weights.map((w) => tf.tensor(w)));
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: c.loss, weightedMetrics: ['accuracy'] });
    const xs = tf.tensor2d(c.x);
    const ys = tf.tensor(c.y as number[], undefined, c.loss === 'sparse_categorical_crossentropy' ? 'int32' : 'float32');
    const h = await model.fit(xs, ys, { classWeight: classWeight(c.class_weight), batchSize: c.batch_size, shuffle: false, verbose: 0 });
    near(h.history['loss']![0]!, c.logs['loss']!, 'loss');
    near(h.history['accuracy']![0]!, c.logs['accuracy']!, 'weighted accuracy');
    // The same as passing Keras's converted weights as sampleWeight.
    const h2 = await model.fit(xs, ys, { sampleWeight: c.sample_weight, batchSize: c.batch_size, shuffle: false, verbose: 0 });
    near(h2.history['loss']![0]!, h.history['loss']![0]!, 'classWeight = sampleWeight', 1e-6);
    tf.dispose([xs, ys]);
    model.dispose();
  });
}

function tagger(c: PerStep): Model {
  const tokens = Input({ shape: [null], dtype: 'int32' });
  const h = new Embedding({ inputDim: 9, outputDim: 3, maskZero: true }).apply(tokens);
  const model = new Model({ inputs: tokens, outputs: new Dense({ units: 3, activation: 'softmax' }).apply(h) });
  model.setWeights(c.weights.map((w) => tf.tensor(w)));
  return model;
}

test('classWeight, per-step labels of a masked tagger: one weight per step, masked steps 0 (Keras with the per-step weights as a [B, T] sample weight)', async () => {
  const c = golden.cases.find((k): k is PerStep => k.kind === 'per_step')!;
  const model = tagger(c);
  model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'sparse_categorical_crossentropy', weightedMetrics: ['accuracy'] });
  // Per-step labels are recognised without labelsPerStep; batches [0, 1], [2, 3], [4] as Keras's.
  const ds = { sequences: c.sequences, labels: c.labels, bucketing: false };
  const before = tf.memory().numTensors;
  const h = await model.fit(ds, { classWeight: classWeight(c.class_weight), batchSize: 2, shuffle: false, verbose: 0 });
  near(h.history['loss']![0]!, c.epoch_logs['loss']!, 'loss');
  near(h.history['accuracy']![0]!, c.epoch_logs['accuracy']!, 'weighted accuracy');
  assert.equal(tf.memory().numTensors, before, 'no leak');
  // Padding holds label 0, whose weight is 1 here: it must not matter, the mask keeps it at 0.
  const heavy = await model.fit(ds, { classWeight: { ...classWeight(c.class_weight), 0: 1000 }, batchSize: 2, shuffle: false, verbose: 0 });
  const steps = c.labels.flat();
  assert.ok(steps.includes(0), 'the data has real steps of class 0');
  const pad = await model.fit({ ...ds, padding: 'pre' as const }, { classWeight: { ...classWeight(c.class_weight), 0: 1000 }, batchSize: 2, shuffle: false, verbose: 0 });
  near(pad.history['loss']![0]!, heavy.history['loss']![0]!, 'pre and post padding agree', 1e-6);
  model.dispose();
});

test('classWeight with trainOnBatch, one-hot per-step targets, and the errors Keras gives', async () => {
  const c = golden.cases.find((k): k is PerStep => k.kind === 'per_step')!;
  const model = tagger(c);
  model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'categorical_crossentropy' });
  const x = tf.tensor2d([[1, 4, 2, 0], [5, 6, 0, 0]], undefined, 'int32');
  const ids = [[0, 1, 2, 0], [2, 2, 0, 0]];
  const oneHot = tf.oneHot(tf.tensor2d(ids, undefined, 'int32'), 3);
  const cw = { 0: 2, 1: 0.5, 2: 3 };
  const sw = tf.tensor2d(ids.map((r) => r.map((k) => cw[k as 0 | 1 | 2])));
  near(model.trainOnBatch(x, oneHot, { classWeight: cw }) as number, model.trainOnBatch(x, oneHot, { sampleWeight: sw as never }) as number, 'one-hot per step', 1e-6);
  const isCode = (words: string) => (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && e.message.includes(words);
  await assert.rejects(model.fit(x, oneHot, { classWeight: cw, sampleWeight: [1, 1], verbose: 0 }), isCode('pass either classWeight or sampleWeight'));
  await assert.rejects(model.fit(x, oneHot, { classWeight: { a: 1 } as never, verbose: 0 }), isCode("classWeight keys must be class indices (integers); received 'a'"));
  await assert.rejects(model.fit(x, oneHot, { classWeight: { 0: -1 }, verbose: 0 }), isCode('classWeight of class 0 must be a finite number >= 0'));
  await assert.rejects(model.fit(x, oneHot, { class_weight: cw } as never), isCode("Did you mean 'classWeight'?"));
  const inp = Input({ shape: [2] });
  const two = new Model({ inputs: inp, outputs: [new Dense({ units: 2 }).apply(inp), new Dense({ units: 2 }).apply(inp)] as never });
  two.compile({ optimizer: 'sgd', loss: 'mse' });
  await assert.rejects(two.fit(tf.ones([2, 2]), [tf.ones([2, 2]), tf.ones([2, 2])], { classWeight: cw, verbose: 0 }), isCode('only supported for models with a single output'));
  tf.dispose([x, oneHot, sw]);
  model.dispose();
  two.dispose();
});
