// fit/evaluate details that must match Keras 3.15.1 (keras/src/trainers),
// and the dataset error paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, Sequential, Embedding, LSTM, GRU, Dense, Input, Model, Bidirectional, Callback, SGD, Adam, MasqueError,
  LearningRateScheduler, padSequences, type Logs,
} from '../src/index.js';
import { isCode, denseModel } from './helpers.js';

const dense = denseModel;

test('validationSplit: as Keras, the first floor(n·(1 − split)) samples train and the rest validate', async () => {
  for (const [n, split, nTrain] of [[10, 0.25, 7], [7, 0.2, 5], [3, 0.5, 1]] as const) {
    const model = dense();
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse' });
    const seen: number[] = [];
    class Sizes extends Callback {
      override onBatchBegin(_b: number, logs: Logs = {}): void {
        seen.push(logs['size']!);
      }
    }
    const x = tf.ones([n, 2]);
    // y = 2 for validation rows only, so val_loss tells which rows validate: Dense(ones) predicts 2.
    const y = tf.tensor2d(Array.from({ length: n }, (_, i) => [i < nTrain ? 0 : 2]));
    const h = await model.fit(x, y, { epochs: 1, batchSize: 100, validationSplit: split, shuffle: false, verbose: 0, callbacks: [new Sizes()] });
    assert.deepEqual(seen, [nTrain], `n=${n} split=${split}`);
    assert.equal(h.history['loss']![0], 4);
    assert.equal(h.history['val_loss']![0], 0);
    tf.dispose([x, y]);
    model.dispose();
  }
  const model = dense();
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  await assert.rejects(model.fit(tf.ones([1, 2]), tf.ones([1, 1]), { validationSplit: 0.5, verbose: 0 }), isCode('INVALID_ARGUMENT', /leaves 0 for training and 1 for validation/));
  await assert.rejects(model.fit({ sequences: [[1]], labels: [1] }, { validationSplit: 0.4, verbose: 0 }), isCode('INVALID_ARGUMENT', /leaves 0 for training/));
  model.dispose();
});

test('sample weights: split with validationSplit and used for val_loss; metrics ignore them, weightedMetrics use them (Keras)', async () => {
  const model = dense();
  model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', metrics: ['mae'], weightedMetrics: ['mae'] });
  const x = tf.ones([4, 2]);
  const y = tf.tensor2d([[2], [0], [2], [0]]); // errors 0, 2, 0, 2
  const w = tf.tensor1d([1, 1, 1, 0]);
  const h = await model.fit(x, y, { epochs: 1, batchSize: 4, validationSplit: 0.5, sampleWeight: w, shuffle: false, verbose: 0 });
  // train rows 0, 1 (w 1, 1): loss (0 + 4) / 2; validation rows 2, 3 (w 1, 0): loss (0 + 0) / 2.
  assert.equal(h.history['loss']![0], 2);
  assert.equal(h.history['val_loss']![0], 0);
  const r = (await model.evaluate(x, y, { sampleWeight: w, returnDict: true })) as Logs;
  // Keras names the weighted copy of a metric `weighted_<name>`.
  assert.deepEqual(Object.keys(r), ['loss', 'mae', 'weighted_mae']);
  // The plain mae is over all four rows (1); the weighted one divides by sum(w) = 3: (0 + 2 + 0) / 3.
  assert.equal(r['mae'], 1);
  assert.ok(Math.abs(r['weighted_mae']! - 2 / 3) < 1e-6);
  tf.dispose([x, y, w]);
  model.dispose();
  const m2 = dense();
  m2.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'], weightedMetrics: ['mean_absolute_error'] });
  const x2 = tf.ones([4, 2]);
  const y2 = tf.tensor2d([[2], [0], [2], [0]]);
  const w2 = tf.tensor1d([1, 1, 1, 0]);
  const r2 = (await m2.evaluate(x2, y2, { sampleWeight: w2, returnDict: true })) as Logs;
  assert.equal(r2['mae'], 1);
  assert.ok(Math.abs(r2['mean_absolute_error']! - 2 / 3) < 1e-6);
  tf.dispose([x2, y2, w2]);
  m2.dispose();
});

test('callbacks run before History (Keras order), so History records learning_rate; onTrainEnd gets the last logs', async () => {
  const model = dense();
  model.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'mse' });
  const order: string[] = [];
  let endLogs: Logs = {};
  class Order extends Callback {
    override onEpochEnd(): void {
      order.push('user');
    }
    override onTrainEnd(logs: Logs = {}): void {
      endLogs = logs;
    }
  }
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  const h = await model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [new LearningRateScheduler((e) => 0.1 / (e + 1)), new Order()] });
  assert.deepEqual(h.history['learning_rate'], [0.1, 0.05]);
  assert.equal(order.length, 2);
  assert.equal(endLogs['loss'], h.history['loss']![1]);
  tf.dispose([x, y]);
  model.dispose();
});

test('several outputs: per-output losses in the logs, and one metrics entry per output (Keras)', async () => {
  const inp = Input({ shape: [2] });
  const a = new Dense({ units: 1, name: 'out_a', kernelInitializer: 'ones' }).apply(inp);
  const b = new Dense({ units: 1, name: 'out_b', kernelInitializer: 'zeros' }).apply(inp);
  const model = new Model({ inputs: inp, outputs: [a, b] as never });
  model.compile({ optimizer: 'sgd', loss: ['mse', 'mae'], lossWeights: [1, 0.5], metrics: ['mae', ['mse', 'mae']] });
  const x = tf.ones([2, 2]);
  const ya = tf.tensor2d([[0], [0]]); // predictions 2: mse 4, mae 2
  const yb = tf.tensor2d([[1], [3]]); // predictions 0: mae 2, mse 5
  const r = (await model.evaluate(x, [ya, yb], { returnDict: true })) as Logs;
  assert.deepEqual(r, { loss: 4 + 0.5 * 2, out_a_loss: 4, out_b_loss: 2, out_a_mae: 2, out_b_mse: 5, out_b_mae: 2 });
  assert.throws(() => model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae', 'mse', 'mae'] }), isCode('INVALID_ARGUMENT', /2 outputs.*list of 3/));
  model.compile({ optimizer: 'sgd', loss: 'mse', metrics: { out_b: 'mae' } });
  assert.deepEqual(Object.keys((await model.evaluate(x, [ya, yb], { returnDict: true })) as Logs), ['loss', 'out_a_loss', 'out_b_loss', 'out_b_mae']);
  assert.throws(() => model.compile({ optimizer: 'sgd', loss: 'mse', metrics: { nope: 'mae' } }), isCode('INVALID_ARGUMENT', /unknown output names nope/));
  tf.dispose([x, ya, yb]);
  model.dispose();
});

test('recompiling frees the previous optimizer that compile made from a name', async () => {
  const model = dense();
  const x = tf.ones([2, 2]);
  const y = tf.zeros([2, 1]);
  model.compile({ optimizer: 'adam', loss: 'mse' });
  await model.fit(x, y, { verbose: 0 });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    model.compile({ optimizer: 'adam', loss: 'mse' });
    await model.fit(x, y, { verbose: 0 });
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});

test('per-step labels (labelsPerStep): masked per-step training is padding-invariant, and mismatched lengths are an error', async () => {
  const seqs = [[3, 1, 4], [1, 5], [9, 2, 6, 5]];
  const tags = seqs.map((s) => s.map((t) => t % 3));
  const make = () =>
    new Sequential({ layers: [new Embedding({ inputDim: 10, outputDim: 4, maskZero: true }), new Bidirectional({ layer: new GRU({ units: 3, returnSequences: true }) }), new Dense({ units: 3, activation: 'softmax' })] });
  const base = make();
  base.build([null, 4]);
  // Seeded weights, not the layers' random initialization: Adam's first step is
  // lr * g / (|g| + eps), so a gradient entry that happens to sum to about eps
  // turns float32 rounding (the padded batch adds its sums in another order)
  // into a change of 1e-5 or more. Over random initializations that happened
  // in about 1 run of 20, on this code and on the code before it.
  const initial = base.getWeights();
  const init = initial.map((w, i) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', 1000 + i));
  tf.dispose(initial);
  base.dispose();
  const results: { loss: number[]; weights: tf.Tensor[] }[] = [];
  for (const extra of [0, 8]) {
    const model = make();
    model.build([null, 4]);
    model.setWeights(init);
    model.compile({ optimizer: new Adam({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const maxlen = 4 + extra;
    const x = padSequences(seqs, { maxlen, padding: 'post' });
    // NaN in the padded part of the targets must not matter either.
    const y = padSequences(tags, { maxlen, padding: 'post', value: extra ? NaN : 0, dtype: 'float32' });
    const loss = model.trainOnBatch(x, y) as number[];
    results.push({ loss, weights: model.getWeights() });
    tf.dispose([x, y]);
    model.dispose();
  }
  assert.ok(results[0]!.loss.every(Number.isFinite));
  results[0]!.loss.forEach((v, i) => assert.ok(Math.abs(v - results[1]!.loss[i]!) < 1e-5, `loss/metric ${i}: ${v} vs ${results[1]!.loss[i]}`));
  results[0]!.weights.forEach((w, i) => {
    const d = tf.max(tf.abs(tf.sub(w, results[1]!.weights[i]!))).dataSync()[0]!;
    assert.ok(d < 1e-5, `weight ${i} differs by ${d}`);
  });
  tf.dispose([...init, ...results.flatMap((r) => r.weights)]);
  // fit on the dataset form with per-step labels.
  const model = make();
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  const h = await model.fit({ sequences: seqs, labels: tags, labelsPerStep: true }, { epochs: 2, verbose: 0 });
  assert.equal(h.history['loss']!.length, 2);
  await assert.rejects(model.fit({ sequences: seqs, labels: [[1, 2, 0], [1], [0, 0, 0, 0]], labelsPerStep: true }, { verbose: 0 }), isCode('INVALID_SEQUENCES', /label 1 must be an array as long as sequence 1 \(2 steps\).*length 1/));
  model.dispose();
});

test('SequenceDataset errors name what was wrong', async () => {
  const model = new Sequential({ layers: [new Embedding({ inputDim: 5, outputDim: 2, maskZero: true }), new LSTM({ units: 2 }), new Dense({ units: 1 })] });
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  await assert.rejects(model.fit({ sequences: [], labels: [] }, { verbose: 0 }), isCode('INVALID_INPUT', /empty/));
  await assert.rejects(model.fit({ sequences: [[1, 2], [3]], labels: [1] }, { verbose: 0 }), isCode('INVALID_INPUT', /2 sequences but 1 labels/));
  await assert.rejects(model.fit({ sequences: [[1, 2], 7 as never], labels: [1, 0] }, { verbose: 0 }), isCode('INVALID_SEQUENCES', /sequence 1 is 7/));
  await assert.rejects(model.evaluate({ sequences: [[1]], labels: [1] }, tf.ones([1]) as never), isCode('INVALID_ARGUMENT', /do not pass y/));
  await assert.rejects(model.fit(tf.ones([2, 2]), tf.ones([2, 1]), { validationData: [tf.ones([1, 2])] as never, verbose: 0 }), isCode('INVALID_ARGUMENT', /validationData must be/));
  model.dispose();
});

test('departure: fit raises on a model with no trainable weights (Keras only warns)', async () => {
  const model = new Sequential({ layers: [new Dense({ units: 1, inputShape: [2], trainable: false })] });
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.ones([2, 2]);
  const y = tf.ones([2, 1]);
  await assert.rejects(model.fit(x, y, { verbose: 0 }), isCode('INVALID_ARGUMENT', /no trainable weights/));
  tf.dispose([x, y]);
  model.dispose();
});

test('a fit that fails inside the loss (targets of the wrong shape) leaks nothing and says what was wrong', async () => {
  const model = new Sequential({ layers: [new Embedding({ inputDim: 5, outputDim: 2, maskZero: true }), new LSTM({ units: 2, returnSequences: true }), new Dense({ units: 1 })] });
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.tensor2d([[1, 2, 0]], undefined, 'int32');
  const y = tf.zeros([1, 5, 1]);
  await model.fit(x, tf.zeros([1, 3, 1]), { verbose: 0 }).catch(() => undefined); // builds the model and the optimizer
  const before = tf.memory().numTensors;
  await assert.rejects(model.fit(x, y, { verbose: 0 }), (e: unknown) => e instanceof Error && /5/.test(e.message) && /3/.test(e.message));
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});
