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

test('a callback of the running fit may evaluate and predict its model (Keras allows it); fit and trainOnBatch from a callback, and two fits started together, are refused', async () => {
  const model = dense();
  model.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'mse', metrics: ['mae'] });
  const x = tf.tensor2d([[1, 2], [0, 1], [2, 2], [1, 0]]);
  const y = tf.tensor2d([[1], [0], [3], [2]]);
  const xv = tf.tensor2d([[5, 5]]);
  const yv = tf.tensor2d([[0]]);
  // The same training without the evaluating callback: the reference logs.
  const ref = dense();
  ref.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'mse', metrics: ['mae'] });
  const want = await ref.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0 });
  const seen: number[] = [];
  const inside: (number | string)[] = [];
  class Evaluates extends Callback {
    // Mid-epoch too: the evaluate resets and uses the compiled metrics, which must come back as they were.
    override async onBatchEnd(): Promise<void> {
      seen.push((await model.evaluate(xv, yv, { verbose: 0 })) as unknown as number);
    }
    override async onEpochEnd(): Promise<void> {
      const p = model.predict(xv) as tf.Tensor;
      inside.push(p.dataSync()[0]!);
      p.dispose();
      await model.evaluate(xv, yv, { verbose: 0 });
      await assert.rejects(model.fit(x, y, { verbose: 0 }), isCode('MODEL_BUSY', 'may call evaluate and predict'));
      assert.throws(() => model.trainOnBatch(x, y), isCode('MODEL_BUSY', 'trainOnBatch'));
      inside.push('checked');
    }
  }
  const got = await model.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0, callbacks: [new Evaluates()] });
  assert.deepEqual(got.history, want.history, "fit's logs are the same with and without the evaluating callback");
  assert.equal(seen.length, 6);
  assert.ok(seen.every((v) => Array.isArray(v) && v.length === 2 && v.every(Number.isFinite)));
  assert.equal(inside.filter((v) => v === 'checked').length, 3);
  const results = await Promise.allSettled([model.fit(x, y, { verbose: 0 }), model.fit(x, y, { verbose: 0 })]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
  assert.ok((results[1] as PromiseRejectedResult).reason instanceof MasqueError);
  tf.dispose([x, y, xv, yv]);
  model.dispose();
  ref.dispose();
});

test('an evaluate from other code while a callback of the fit is waiting is still refused', async () => {
  const model = dense();
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  const paused = gate();
  const resume = gate();
  const first = model.fit(x, y, {
    epochs: 1, verbose: 0,
    // The callback evaluates (allowed), then waits; meanwhile other code tries.
    callbacks: [{ onEpochEnd: async () => { await model.evaluate(x, y, { verbose: 0 }); paused.open(); await resume.wait; await model.evaluate(x, y, { verbose: 0 }); } }],
  });
  await paused.wait;
  await assert.rejects(model.evaluate(x, y, { verbose: 0 }), isCode('MODEL_BUSY', 'evaluate'));
  resume.open();
  await first;
  tf.dispose([x, y]);
  model.dispose();
});
