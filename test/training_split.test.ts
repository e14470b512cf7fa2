// The trainer split by concern (compile, data sources, dispose scope, loop):
// the paths the split exposed, validation splits of both data kinds, and
// errors raised inside the loss, a callback, the data and the validation
// data, which must leave the tensor count where it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Sequential, Embedding, GlobalAveragePooling1D, Dense, Input, Model, Masking, Callback, SGD, MasqueError, attachMask, type Logs } from '../src/index.js';
import { isCode, denseModel } from './helpers.js';

const dense = denseModel;

function bag(): Sequential {
  return new Sequential({
    layers: [
      new Embedding({ inputDim: 10, outputDim: 3, maskZero: true, embeddingsInitializer: { className: 'RandomUniform', config: { minval: -0.5, maxval: 0.5, seed: 3 } } }),
      new GlobalAveragePooling1D(),
      new Dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
}

/** Records batch sizes and the tensor count at each epoch end. */
class Probe extends Callback {
  sizes: number[] = [];
  counts: number[] = [];
  override onBatchBegin(_b: number, logs: Logs = {}): void {
    this.sizes.push(logs['size']!);
  }
  override onEpochEnd(): void {
    this.counts.push(tf.memory().numTensors);
  }
}

test('validationSplit of a SequenceDataset: the first floor(n·(1 − split)) sequences train, the rest validate (val_loss = evaluate on them), no leaks', async () => {
  const seqs = Array.from({ length: 11 }, (_, i) => Array.from({ length: 1 + (i % 4) }, (_, t) => 1 + ((i + t) % 9)));
  const labels = seqs.map((s) => s.length % 2);
  const model = bag();
  model.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  // One warm-up fit builds the model; then the tensor count must not move.
  await model.fit({ sequences: seqs, labels }, { epochs: 1, verbose: 0, seed: 1 });
  const before = tf.memory().numTensors;
  const probe = new Probe();
  const h = await model.fit({ sequences: seqs, labels }, { epochs: 3, batchSize: 4, validationSplit: 0.3, verbose: 0, seed: 2, callbacks: [probe] });
  // floor(11 · 0.7) = 7 train: batches of 4 and 3 per epoch.
  assert.deepEqual(probe.sizes.slice().sort(), [3, 3, 3, 4, 4, 4]);
  assert.equal(probe.params!.steps, 2);
  const val = (await model.evaluate({ sequences: seqs.slice(7), labels: labels.slice(7) }, { returnDict: true })) as Logs;
  assert.ok(Math.abs(h.history['val_loss']![2]! - val['loss']!) < 1e-6, `${h.history['val_loss']} vs ${val['loss']}`);
  assert.equal(h.history['val_accuracy']![2], val['accuracy']);
  assert.ok(probe.counts.every((c) => c === before), `tensor counts per epoch ${probe.counts} (before ${before})`);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('validationSplit of tensors with sample weights: rows and weights are split together (val_loss = weighted evaluate on the tail), no leaks', async () => {
  const n = 9;
  const model = dense();
  model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', weightedMetrics: ['mse'] });
  const x = tf.ones([n, 2]);
  const y = tf.tensor2d(Array.from({ length: n }, (_, i) => [i % 3])); // errors (2 - y)²: 4, 1, 0, ...
  const w = Array.from({ length: n }, (_, i) => (i === 8 ? 0 : 1 + (i % 2)));
  await model.fit(x, y, { epochs: 1, verbose: 0, sampleWeight: w }); // builds slots (none for plain SGD) and the model
  const before = tf.memory().numTensors;
  const probe = new Probe();
  const h = await model.fit(x, y, { epochs: 2, batchSize: 2, validationSplit: 1 / 3, sampleWeight: w, shuffle: true, seed: 4, verbose: 0, callbacks: [probe] });
  assert.deepEqual(probe.sizes, [2, 2, 2, 2, 2, 2]); // 6 training rows in 3 batches, twice
  const tail = (t: tf.Tensor) => tf.slice(t, [6], [3]);
  const [xv, yv] = [tail(x), tail(y)];
  const val = (await model.evaluate(xv, yv, { sampleWeight: w.slice(6), returnDict: true })) as Logs;
  assert.deepEqual(Object.keys(h.history), ['loss', 'mse', 'val_loss', 'val_mse']);
  assert.ok(Math.abs(h.history['val_loss']![1]! - val['loss']!) < 1e-6);
  assert.ok(Math.abs(h.history['val_mse']![1]! - val['mse']!) < 1e-6);
  tf.dispose([xv, yv]);
  // During fit the two parts' slices (x, y, weights) and the weight tensor made from the list are alive; after it, nothing.
  assert.ok(probe.counts.every((c) => c === before + 7), `tensor counts ${probe.counts} (before ${before})`);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});

test('a masked input keeps its mask in every batch, also when one batch holds all rows (trainOnBatch, a large batchSize)', async () => {
  const inp = Input({ shape: [3, 1] });
  const out = new Dense({ units: 1, kernelInitializer: 'ones', useBias: false }).apply(new GlobalAveragePooling1D().apply(inp));
  const model = new Model({ inputs: inp, outputs: out });
  model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse' });
  // Row 0 is [1, 1, 9] with the 9 masked: its pooled value is 1, not 11/3.
  const x = tf.tensor3d([[[1], [1], [9]], [[2], [2], [2]]]);
  attachMask(x, tf.tensor2d([[true, true, false], [true, true, true]], undefined, 'bool'));
  const y = tf.tensor2d([[1], [2]]);
  const before = tf.memory().numTensors;
  assert.equal(model.trainOnBatch(x, y), 0);
  assert.equal(await model.evaluate(x, y, { batchSize: 100 }), 0);
  assert.equal(await model.evaluate(x, y, { batchSize: 1 }), 0);
  const h = await model.fit(x, y, { epochs: 1, batchSize: 100, shuffle: false, verbose: 0 });
  assert.equal(h.history['loss']![0], 0);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();
});

/** fit, evaluate and trainOnBatch must fail with `check` and leave the tensor count unchanged. */
async function failsClean(what: string, run: () => Promise<unknown>, check: (e: unknown) => boolean): Promise<void> {
  const before = tf.memory().numTensors;
  await assert.rejects(run(), check, what);
  assert.equal(tf.memory().numTensors, before, `${what}: tensors leaked`);
}

test('errors inside the loss, a callback, the data or the validation data leave no tensor behind, and the model can train again', async () => {
  const model = dense();
  let calls = 0;
  const flaky = (yTrue: tf.Tensor, yPred: tf.Tensor) => {
    if (++calls === 3) throw new Error('loss exploded');
    return tf.square(tf.sub(yTrue, yPred));
  };
  model.compile({ optimizer: 'sgd', loss: flaky, metrics: ['mae'] });
  const x = tf.ones([8, 2]);
  const y = tf.zeros([8, 1]);
  const wrong = tf.zeros([8, 4, 3]);
  await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 }); // builds the model
  calls = 0;
  await failsClean('loss', () => model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0 }), (e) => e instanceof Error && /loss exploded/.test(e.message));
  calls = -1e9;
  for (const hook of ['onTrainBegin', 'onEpochBegin', 'onBatchBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd'] as const) {
    const boom = new (class extends Callback {})();
    boom[hook] = () => {
      throw new Error(`callback ${hook} failed`);
    };
    await failsClean(hook, () => model.fit(x, [[0], [0], [0], [0], [0], [0], [0], [0]], { epochs: 2, batchSize: 3, validationSplit: 0.25, verbose: 0, callbacks: [boom] }), (e) => e instanceof Error && e.message.includes(hook));
  }
  // An async callback that rejects.
  const rejects = new (class extends Callback {
    override async onEpochEnd(): Promise<void> {
      throw new Error('async hook failed');
    }
  })();
  await failsClean('async callback', () => model.fit(x, y, { verbose: 0, callbacks: [rejects] }), (e) => e instanceof Error && /async hook failed/.test(e.message));
  // Data: targets of the wrong width fail inside the first step; a bad validation set fails before training.
  await failsClean('targets', () => model.fit(x, wrong, { verbose: 0 }), (e) => e instanceof Error);
  await failsClean('validation targets', () => model.fit(x, y, { verbose: 0, validationData: [x, [[1], [2]]] }), isCode('INVALID_INPUT', /same number of samples/));
  await failsClean('validation weights', () => model.fit(x, y, { verbose: 0, validationData: [x, y, [1, 2]] }), isCode('INVALID_INPUT', /sampleWeight must have one value per sample \(8\)/));
  await failsClean('evaluate', () => model.evaluate(x, wrong), (e) => e instanceof Error);
  await failsClean('trainOnBatch', async () => model.trainOnBatch(x, wrong), (e) => e instanceof Error);
  // Still usable: a normal fit runs.
  const h = await model.fit(x, y, { epochs: 1, verbose: 0 });
  assert.equal(h.epoch.length, 1);
  tf.dispose([x, y, wrong]);
  model.dispose();
});

test('errors inside a SequenceDataset step and in its validation part leave no tensor behind', async () => {
  const model = bag();
  model.compile({ optimizer: 'sgd', loss: 'binary_crossentropy' });
  const seqs = [[1, 2], [3], [4, 5, 6], [7, 8], [2, 2]];
  await model.fit({ sequences: seqs, labels: [0, 1, 0, 1, 1] }, { verbose: 0 });
  // Ids beyond the Embedding's inputDim fail inside the forward pass of a later batch.
  await failsClean('ids out of range', () => model.fit({ sequences: [...seqs, [12]], labels: [0, 1, 0, 1, 1, 0] }, { batchSize: 2, shuffle: false, verbose: 0 }), (e) => e instanceof Error);
  await failsClean('validation ids', () => model.fit({ sequences: seqs, labels: [0, 1, 0, 1, 1] }, { verbose: 0, validationData: { sequences: [[11]], labels: [1] } }), (e) => e instanceof Error);
  model.dispose();
});

test('Masking before pooling: a model with several outputs keeps per-output losses and metric names through the split compile spec', async () => {
  const inp = Input({ shape: [2, 1] });
  const h = new GlobalAveragePooling1D().apply(new Masking({ maskValue: 0 }).apply(inp));
  const a = new Dense({ units: 1, name: 'a', kernelInitializer: 'ones' }).apply(h);
  const b = new Dense({ units: 1, name: 'b', kernelInitializer: 'zeros' }).apply(h);
  const model = new Model({ inputs: inp, outputs: [a as never, b as never] });
  model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: ['mse', 'mae'], lossWeights: [1, 2], metrics: { b: ['mae', 'mae'] }, weightedMetrics: [['mae'], []] });
  const x = tf.tensor3d([[[1], [0]], [[2], [2]]]);
  const ys = [tf.tensor2d([[1], [2]]), tf.tensor2d([[1], [1]])];
  const r = (await model.evaluate(x, ys, { returnDict: true })) as Logs;
  assert.deepEqual(Object.keys(r), ['loss', 'a_loss', 'b_loss', 'b_mae', 'b_mae_1', 'a_mae']);
  assert.equal(r['a_loss'], 0);
  assert.equal(r['b_loss'], 1);
  assert.equal(r['loss'], 2);
  tf.dispose([x, ...ys]);
  model.dispose();
});
