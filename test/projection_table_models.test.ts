// Embedding → recurrent layer models reading their input projections from a
// table (src/ops/rnn/projection_table.ts) in predict: the same outputs as
// without tables, the table rebuilt after every way the weights change
// (assign, setWeights, a training step), freed with the model, and no
// tensors left behind.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Sequential, Embedding, Bidirectional, LSTM, GRU, SimpleRNN, Dense, setProjectionTables } from '../src/index.js';
import { projectionTableStats } from '../src/ops/rnn/index.js';
import { withForcedSplit } from '../src/ops/rnn/parallel.js';
import { prng } from './rnn_args.js';

const V = 60;
const tablesOn = () => setProjectionTables({ buildAfter: 0, maxBytes: 2 ** 30 });
const tablesOff = () => setProjectionTables({ maxBytes: 0 });
afterEach(() => setProjectionTables());

type Rnn = 'lstm' | 'gru' | 'simple_rnn';

function tagger(kind: Rnn, bidirectional: boolean, seed: number): Sequential {
  const opts = { units: 6, returnSequences: true, kernelInitializer: { className: 'GlorotUniform', config: { seed } }, recurrentInitializer: { className: 'Orthogonal', config: { seed: seed + 1 } } };
  const rnn = kind === 'lstm' ? new LSTM(opts) : kind === 'gru' ? new GRU(opts) : new SimpleRNN(opts);
  return new Sequential({
    layers: [
      new Embedding({ inputDim: V, outputDim: 8, maskZero: true, embeddingsInitializer: { className: 'RandomUniform', config: { minval: -0.5, maxval: 0.5, seed: seed + 2 } } }),
      bidirectional ? new Bidirectional({ layer: rnn }) : rnn,
      new Dense({ units: 5, activation: 'softmax', kernelInitializer: { className: 'GlorotUniform', config: { seed: seed + 3 } } }),
    ],
  });
}

/** Ids [b, t] padded `pre` or `post` to random lengths (row 0 full). */
function ids(b: number, t: number, padding: 'pre' | 'post', seed: number): tf.Tensor2D {
  const r = prng(seed);
  const rows = Array.from({ length: b }, (_, i) => {
    const len = i === 0 ? t : 1 + Math.floor(r() * t);
    const row = Array.from({ length: len }, () => 1 + Math.floor(r() * (V - 1)));
    const pad = new Array<number>(t - len).fill(0);
    return padding === 'post' ? [...row, ...pad] : [...pad, ...row];
  });
  return tf.tensor2d(rows, [b, t], 'int32');
}

function predict(model: Sequential, x: tf.Tensor): Float32Array {
  const y = model.predict(x, { batchSize: 64 }) as tf.Tensor;
  const v = Float32Array.from(y.dataSync() as Float32Array);
  y.dispose();
  return v;
}

/** A compiled bidirectional LSTM tagger, `rows` post-padded rows of 6 ids and one-hot labels (id mod 5); tables on. */
function trainable(rows: number, seed: number): { model: Sequential; x: tf.Tensor2D; y: tf.Tensor } {
  const model = tagger('lstm', true, seed);
  const x = ids(rows, 6, 'post', seed + 1);
  const y = tf.tidy(() => tf.oneHot(tf.tensor2d(Array.from(x.dataSync(), (v) => v % 5), [rows, 6], 'int32'), 5));
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  tablesOn();
  return { model, x, y };
}

/** Predictions without a table, then from one; asserts that the second read tables. */
function both(model: Sequential, x: tf.Tensor): [Float32Array, Float32Array] {
  tablesOff();
  const plain = predict(model, x);
  tablesOn();
  const served = projectionTableStats().served;
  const table = predict(model, x);
  assert.ok(projectionTableStats().served > served, 'predict read its projections from a table');
  return [plain, table];
}

test('predict through Embedding → (Bidirectional) LSTM/GRU/SimpleRNN: identical with and without tables, pre and post padding, 1 and 2 threads', () => {
  const before = tf.memory().numTensors;
  let seed = 1;
  for (const kind of ['lstm', 'gru', 'simple_rnn'] as Rnn[]) {
    for (const bi of [false, true]) {
      const model = tagger(kind, bi, seed++);
      for (const padding of ['pre', 'post'] as const) {
        const x = ids(11, 7, padding, seed++);
        for (const threads of [1, 2]) {
          const [plain, table] = withForcedSplit(threads, () => both(model, x));
          assert.deepEqual(table, plain, `${kind}${bi ? ' bidirectional' : ''} ${padding} on ${threads} threads`);
        }
        x.dispose();
      }
      model.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

test('the table follows the weights: Embedding assign, setWeights on the recurrent layer, a training step', async () => {
  const { model, x, y } = trainable(9, 40);
  let last = predict(model, x);
  const emb = model.layers[0] as Embedding;
  const bi = model.layers[1] as Bidirectional;
  const changes: [string, () => Promise<void> | void][] = [
    ['embeddings.assign', () => emb.embeddings.assign(tf.tidy(() => tf.mul(emb.embeddings, 2)))],
    ['setWeights', () => {
      const w = bi.forwardLayer.getWeights();
      bi.forwardLayer.setWeights(w.map((t, i) => (i === 0 ? tf.tidy(() => tf.neg(t)) : t)));
      tf.dispose(w);
    }],
    ['fit', async () => void (await model.fit(x, y, { epochs: 1, batchSize: 9, verbose: 0 }))],
  ];
  for (const [what, change] of changes) {
    const builds = projectionTableStats().builds;
    await change();
    const table = predict(model, x);
    assert.ok(projectionTableStats().builds > builds, `${what}: a new table was built`);
    tablesOff();
    const plain = predict(model, x);
    tablesOn();
    assert.notDeepEqual(plain, last, `${what} changes the predictions`);
    assert.deepEqual(table, plain, `${what}: predictions from the table follow the new weights`);
    last = plain;
  }
  tf.dispose([x, y]);
  model.dispose();
});

test('repeated predicts keep tf.memory().numTensors flat; dispose frees the tables at once', () => {
  setProjectionTables({ buildAfter: 0.5, maxBytes: 2 ** 30 });
  const model = tagger('gru', true, 60);
  const x = ids(12, 5, 'post', 61); // about 35 tokens a call: the tables come at the first call past V/2 = 30
  const held = projectionTableStats().held;
  const builds = projectionTableStats().builds;
  predict(model, x);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) predict(model, x);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(projectionTableStats().builds, builds + 2, 'one table per direction, built once');
  assert.equal(projectionTableStats().held, held + 2);
  model.dispose();
  assert.equal(projectionTableStats().held, held, 'dispose freed both tables');
  x.dispose();
});

test('training frees stale tables: the first recurrent call after an optimizer step drops them', async () => {
  const { model, x, y } = trainable(10, 80);
  predict(model, x);
  const held = projectionTableStats().held;
  assert.ok(held >= 2, 'predict built both directions\' tables');
  await model.fit(x, y, { epochs: 1, batchSize: 10, verbose: 0 });
  assert.equal(projectionTableStats().held, held, 'one step: no recurrent call has run since the weights changed');
  await model.fit(x, y, { epochs: 1, batchSize: 10, verbose: 0 });
  assert.equal(projectionTableStats().held, held - 2, 'the next step\'s forward pass dropped both');
  tf.dispose([x, y]);
  model.dispose();
});
