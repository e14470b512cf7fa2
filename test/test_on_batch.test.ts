// testOnBatch (Keras's test_on_batch) and returnDict on trainOnBatch: loss and
// metrics on one batch without a weight change, masked like evaluate, and the
// same refusals as evaluate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ready, tf, Sequential, Input, Embedding, LSTM, Dense, TimeDistributed, SGD, MasqueError } from '../src/index.js';
import { expectCode, isCode, denseModel } from './helpers.js';

function tagger(): Sequential {
  const m = new Sequential({
    layers: [Input({ shape: [null], dtype: 'int32' }), new Embedding({ inputDim: 9, outputDim: 4, maskZero: true }), new LSTM({ units: 5, returnSequences: true }), new TimeDistributed({ layer: new Dense({ units: 3, activation: 'softmax' }) })],
  } as never);
  m.compile({ optimizer: new SGD({ learningRate: 0.5 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

test('testOnBatch gives what evaluate gives on the same batch (masked loss and metrics), changes no weight, and leaks nothing', async () => {
  await ready();
  const m = tagger();
  const x = tf.tensor2d([[3, 1, 4, 0, 0], [5, 2, 0, 0, 0], [1, 1, 2, 6, 7]], undefined, 'int32');
  const y = tf.tensor2d([[1, 0, 2, 0, 0], [2, 1, 0, 0, 0], [0, 0, 1, 2, 1]]);
  const weights = m.weights.map((w) => w.variable.dataSync().slice());
  m.testOnBatch(x, y); // warm-up builds nothing new afterwards
  const before = tf.memory().numTensors;
  const got = m.testOnBatch(x, y) as number[];
  const want = (await m.evaluate(x, y, { batchSize: 3, verbose: 0 })) as number[];
  assert.equal(got.length, 2);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-7, `${got} vs ${want}`);
  assert.deepEqual(m.weights.map((w) => w.variable.dataSync()), weights, 'testOnBatch changed a weight');
  assert.equal(tf.memory().numTensors, before, 'testOnBatch leaked tensors');
  // Padding does not change it: the same rows padded to 8 steps.
  const xp = tf.pad(x, [[0, 0], [0, 3]]);
  const yp = tf.pad(y, [[0, 0], [0, 3]]);
  const padded = m.testOnBatch(xp, yp) as number[];
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(padded[i]! - got[i]!) <= 1e-6, `${padded} vs ${got}`);
  // returnDict, as evaluate's.
  assert.deepEqual(Object.keys(m.testOnBatch(x, y, { returnDict: true })), ['loss', 'accuracy']);
  // Metrics are reset first (Keras's JAX and TensorFlow trainers): a second call on other data does not average with the first.
  const other = m.testOnBatch(tf.slice(x, [0, 0], [1, 5]), tf.slice(y, [0, 0], [1, 5])) as number[];
  const alone = (await m.evaluate(tf.slice(x, [0, 0], [1, 5]), tf.slice(y, [0, 0], [1, 5]), { verbose: 0 })) as number[];
  assert.ok(Math.abs(other[0]! - alone[0]!) <= 1e-7);
  // trainOnBatch takes returnDict too, and then changes the weights.
  const logs = m.trainOnBatch(x, y, { returnDict: true });
  assert.deepEqual(Object.keys(logs), ['loss', 'accuracy']);
  assert.notDeepEqual(m.weights.map((w) => w.variable.dataSync()), weights);
  tf.dispose([x, y, xp, yp]);
  m.dispose();
});

test('testOnBatch refuses what evaluate refuses: no compile, unknown options, classWeight, a wrong label count, and a call while fit runs', async () => {
  await ready();
  const plain = denseModel();
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  expectCode(() => plain.testOnBatch(x, y), 'NOT_COMPILED', 'testOnBatch');
  plain.compile({ optimizer: 'sgd', loss: 'mse' });
  expectCode(() => plain.testOnBatch(x, y, { return_dict: true } as never), 'INVALID_ARGUMENT', 'return_dict', 'returnDict');
  expectCode(() => plain.testOnBatch(x, y, { classWeight: { 0: 1 } } as never), 'INVALID_ARGUMENT', 'classWeight');
  assert.throws(() => plain.testOnBatch(x, tf.zeros([3, 1])), (e: unknown) => e instanceof MasqueError);
  let inside: unknown = null;
  let open = () => {};
  const paused = new Promise<void>((r) => (open = r));
  let resume = () => {};
  const resumed = new Promise<void>((r) => (resume = r));
  const fit = plain.fit(x, y, {
    epochs: 1, verbose: 0,
    // The callback calls testOnBatch (allowed, as evaluate), then waits; meanwhile other code tries.
    callbacks: [{ onEpochEnd: async () => { inside = plain.testOnBatch(x, y); open(); await resumed; } }],
  });
  await paused;
  expectCode(() => plain.testOnBatch(x, y), 'MODEL_BUSY', 'testOnBatch');
  resume();
  await fit;
  assert.equal(typeof inside, 'number', 'a callback of the running fit may call testOnBatch, as evaluate');
  tf.dispose([x, y]);
  plain.dispose();
});
