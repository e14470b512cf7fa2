// Callbacks as tfjs-layers takes them: plain objects with hook methods are
// wrapped; anything else is refused with an error that names the entry.
// When fit fails, callbacks hear of it (onTrainError) and free what they hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Sequential, Dense, EarlyStopping, SGD, MasqueError, type Logs } from '../src/index.js';
import { isCode, denseModel } from './helpers.js';

const dense = denseModel;

test('callbacks: plain objects with hook methods work (alone or in a list, own or class methods); other values get a clear error', async () => {
  const model = dense();
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  const calls: string[] = [];
  const hooks = {
    onTrainBegin: () => void calls.push('trainBegin'),
    onEpochBegin: (e: number) => void calls.push(`epochBegin ${e}`),
    onBatchEnd: (b: number, logs: Logs) => void calls.push(`batchEnd ${b} ${typeof logs['loss']}`),
    async onEpochEnd(e: number, logs: Logs) {
      calls.push(`epochEnd ${e} ${Object.keys(logs).join(',')}`);
    },
    onTrainEnd: () => void calls.push('trainEnd'),
  };
  await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0, callbacks: hooks });
  assert.deepEqual(calls, ['trainBegin', 'epochBegin 0', 'batchEnd 0 number', 'batchEnd 1 number', 'epochEnd 0 loss', 'epochBegin 1', 'batchEnd 0 number', 'batchEnd 1 number', 'epochEnd 1 loss', 'trainEnd']);
  class Counter {
    epochs = 0;
    onEpochEnd(): void {
      this.epochs++;
    }
  }
  const counter = new Counter();
  const h = await model.fit(x, y, { epochs: 3, verbose: 0, callbacks: [counter, new EarlyStopping({ monitor: 'loss', patience: 5 })] });
  assert.equal(counter.epochs, 3);
  assert.equal(h.epoch.length, 3);
  const bad = (callbacks: unknown) => model.fit(x, y, { verbose: 0, callbacks: callbacks as never });
  await assert.rejects(bad([5]), isCode('INVALID_ARGUMENT', 'callbacks[0] must be a Callback or an object with hook methods', 'received 5'));
  await assert.rejects(bad('History'), isCode('INVALID_ARGUMENT', 'callbacks must be a Callback', '"History"'));
  await assert.rejects(bad([hooks, {}]), isCode('INVALID_ARGUMENT', 'callbacks[1]', 'none of them'));
  await assert.rejects(bad([{ onEpochEnd: 3 }]), isCode('INVALID_ARGUMENT', 'callbacks[0].onEpochEnd must be a function'));
  await assert.rejects(bad([{ onEpochEnds: () => {} }]), isCode('INVALID_ARGUMENT', "unknown hook 'onEpochEnds'", "Did you mean 'onEpochEnd'?"));
  await assert.rejects(bad([null]), isCode('INVALID_ARGUMENT', 'received null'));
  tf.dispose([x, y]);
  model.dispose();
});

/** `run` must fail with `check` and leave the tensor count unchanged. */
async function failsClean(what: string, run: () => Promise<unknown>, check: (e: unknown) => boolean): Promise<void> {
  const before = tf.memory().numTensors;
  await assert.rejects(run(), check, what);
  assert.equal(tf.memory().numTensors, before, `${what}: tensors leaked`);
}

test('an async plain-object hook that rejects fails fit and leaks nothing', async () => {
  const model = dense();
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  await model.fit(x, y, { verbose: 0 });
  await failsClean('async hook', () => model.fit(x, y, { verbose: 0, callbacks: [{ onEpochEnd: async () => Promise.reject(new Error('async hook failed')) }] }), (e) => e instanceof Error && /async hook failed/.test(e.message));
  tf.dispose([x, y]);
  model.dispose();
});

test('a fit that fails after EarlyStopping kept the best weights frees them (onTrainError), and plain callbacks hear of the failure', async () => {
  const model = dense();
  model.compile({ optimizer: new SGD({ learningRate: 0.01 }), loss: 'mse' });
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  await model.fit(x, y, { verbose: 0 });
  const errors: unknown[] = [];
  const failAt2 = {
    onEpochEnd: (epoch: number) => {
      if (epoch === 2) throw new Error('stop here');
    },
    onTrainError: (e: unknown) => void errors.push(e),
  };
  const failingCleanup = { onTrainError: () => { throw new Error('cleanup failed'); } };
  await failsClean(
    'EarlyStopping',
    () => model.fit(x, y, { epochs: 5, verbose: 0, callbacks: [new EarlyStopping({ monitor: 'loss', patience: 9, restoreBestWeights: true }), failingCleanup, failAt2] }),
    (e) => e instanceof Error && e.message === 'stop here',
  );
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, 'stop here');
  tf.dispose([x, y]);
  model.dispose();
});
