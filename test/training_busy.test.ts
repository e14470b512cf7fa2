// One fit, evaluate, trainOnBatch or compile at a time per model: a second
// call while one runs raises MODEL_BUSY instead of interleaving updates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Sequential, Dense, Callback, SGD, MasqueError } from '../src/index.js';
import { isCode, denseModel } from './helpers.js';

const dense = denseModel;

/** A promise and the function that resolves it; used to pause a fit inside a callback. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

test('one call at a time: a second fit, evaluate, trainOnBatch or compile while fit runs raises MODEL_BUSY; the first finishes normally', async () => {
  const model = dense();
  model.compile({ optimizer: new SGD({ learningRate: 0.01 }), loss: 'mse' });
  const x = tf.ones([6, 2]);
  const y = tf.zeros([6, 1]);
  const paused = gate();
  const resume = gate();
  const first = model.fit(x, y, {
    epochs: 2, batchSize: 3, verbose: 0,
    callbacks: [{ onEpochEnd: async (epoch: number) => { if (epoch === 0) { paused.open(); await resume.wait; } } }],
  });
  await paused.wait; // the first fit is between epochs
  const before = tf.memory().numTensors;
  await assert.rejects(model.fit(x, y, { verbose: 0 }), isCode('MODEL_BUSY', 'already training', 'await the first call', 'fit()'));
  await assert.rejects(model.evaluate(x, y), isCode('MODEL_BUSY', 'evaluate'));
  assert.throws(() => model.trainOnBatch(x, y), isCode('MODEL_BUSY', 'trainOnBatch'));
  assert.throws(() => model.compile({ optimizer: 'adam', loss: 'mae' }), isCode('MODEL_BUSY', 'compile'));
  assert.equal(tf.memory().numTensors, before, 'refused calls made no tensors');
  resume.open();
  const h = await first;
  assert.equal(h.epoch.length, 2);
  // Free again: after success and after a failure.
  assert.equal(typeof model.trainOnBatch(x, y), 'number');
  await assert.rejects(model.fit(x, y, { verbose: 0, callbacks: [{ onTrainBegin: () => { throw new Error('nope'); } }] }), /nope/);
  assert.equal(typeof (await model.evaluate(x, y)), 'number');
  tf.dispose([x, y]);
  model.dispose();
});

test('one call at a time: a callback cannot evaluate the model it is training (MODEL_BUSY), and two fits started together cannot interleave', async () => {
  const model = dense();
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  class Evaluates extends Callback {
    override async onEpochEnd(): Promise<void> {
      await model.evaluate(x, y);
    }
  }
  await assert.rejects(model.fit(x, y, { verbose: 0, callbacks: [new Evaluates()] }), isCode('MODEL_BUSY', 'Callbacks cannot call'));
  const results = await Promise.allSettled([model.fit(x, y, { verbose: 0 }), model.fit(x, y, { verbose: 0 })]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
  assert.ok((results[1] as PromiseRejectedResult).reason instanceof MasqueError);
  tf.dispose([x, y]);
  model.dispose();
});
