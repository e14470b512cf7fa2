import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import {
  Callback,
  CallbackList,
  EarlyStopping,
  formatFilepath,
  History,
  LearningRateScheduler,
  ModelCheckpoint,
  ReduceLROnPlateau,
  type Logs,
  type TrainingModelLike,
} from './callbacks.js';

/** A stand-in model: one scalar weight, an optimizer with a learning rate, a save() that records paths. */
class FakeModel implements TrainingModelLike {
  stopTraining = false;
  optimizer = { learningRate: 0.1 };
  saved: string[] = [];
  weight = tf.variable(tf.scalar(0));
  async save(path: string): Promise<void> {
    this.saved.push(path);
  }
  getWeights(): tf.Tensor[] {
    return [tf.clone(this.weight)];
  }
  setWeights(w: tf.Tensor[]): void {
    this.weight.assign(w[0]! as tf.Scalar);
  }
}

/** Runs a fake fit: epoch e sets the weight to e and reports logs[e]; stops when the model says so. */
async function fit(model: FakeModel, callbacks: Callback[], logsPerEpoch: Logs[]): Promise<number> {
  const list = new CallbackList(callbacks);
  list.setModel(model);
  list.setParams({ epochs: logsPerEpoch.length, steps: 2 });
  await list.onTrainBegin();
  let ran = 0;
  for (let e = 0; e < logsPerEpoch.length; e++) {
    await list.onEpochBegin(e);
    for (let b = 0; b < 2; b++) {
      await list.onBatchBegin(b);
      await list.onBatchEnd(b, { loss: 1 });
    }
    tf.tidy(() => model.weight.assign(tf.scalar(e)));
    await list.onEpochEnd(e, { ...logsPerEpoch[e]! });
    ran++;
    if (model.stopTraining) break;
  }
  await list.onTrainEnd();
  return ran;
}

describe('callbacks', () => {
  test('CallbackList dispatches every hook in order and awaits async hooks', async () => {
    const events: string[] = [];
    class Recorder extends Callback {
      constructor(private readonly tag: string) {
        super();
      }
      override async onTrainBegin(): Promise<void> {
        await new Promise((r) => setTimeout(r, 1));
        events.push(`${this.tag}:trainBegin`);
      }
      override onEpochBegin(e: number): void {
        events.push(`${this.tag}:epochBegin${e}`);
      }
      override onBatchEnd(b: number): void {
        events.push(`${this.tag}:batchEnd${b}`);
      }
      override onEpochEnd(e: number): void {
        events.push(`${this.tag}:epochEnd${e}`);
      }
      override onTrainEnd(): void {
        events.push(`${this.tag}:trainEnd`);
      }
    }
    const model = new FakeModel();
    const a = new Recorder('a');
    await fit(model, [a, new Recorder('b')], [{ loss: 1 }]);
    assert.deepEqual(events, [
      'a:trainBegin', 'b:trainBegin', 'a:epochBegin0', 'b:epochBegin0', 'a:batchEnd0', 'b:batchEnd0', 'a:batchEnd1', 'b:batchEnd1',
      'a:epochEnd0', 'b:epochEnd0', 'a:trainEnd', 'b:trainEnd',
    ]);
    assert.equal(a.model, model);
    assert.deepEqual(a.params, { epochs: 1, steps: 2 });
    model.weight.dispose();
  });

  test('History records logs per epoch', async () => {
    const model = new FakeModel();
    const h = new History();
    await fit(model, [h], [{ loss: 3, val_loss: 4 }, { loss: 2, val_loss: 5 }]);
    assert.deepEqual(h.epoch, [0, 1]);
    assert.deepEqual(h.history, { loss: [3, 2], val_loss: [4, 5] });
    model.weight.dispose();
  });

  test('EarlyStopping: patience, minDelta, restoreBestWeights (Keras semantics)', async () => {
    const model = new FakeModel();
    const before = tf.memory().numTensors;
    const es = new EarlyStopping({ patience: 2, restoreBestWeights: true });
    const vals = [5, 4, 4.5, 4.2, 3, 2];
    const ran = await fit(model, [es], vals.map((v) => ({ val_loss: v })));
    // best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3.
    assert.equal(ran, 4);
    assert.equal(es.stoppedEpoch, 3);
    assert.equal(es.bestEpoch, 1);
    assert.equal(model.weight.dataSync()[0], 1);
    assert.equal(tf.memory().numTensors, before, 'best weights are disposed');
    // minDelta: improvements smaller than 0.5 do not count.
    model.stopTraining = false;
    const es2 = new EarlyStopping({ monitor: 'loss', patience: 1, minDelta: 0.5 });
    assert.equal(await fit(model, [es2], [10, 9.8, 9.6, 9.4].map((loss) => ({ loss }))), 2);
    // mode max for accuracy; the first epoch improves on -inf but misses the baseline, so waiting is not reset.
    model.stopTraining = false;
    const es3 = new EarlyStopping({ monitor: 'val_accuracy', patience: 2, baseline: 0.9 });
    assert.equal(await fit(model, [es3], [0.5, 0.5, 0.5, 0.5].map((a) => ({ val_accuracy: a }))), 2);
    // Keras quirk kept: an epoch that improves (even below the baseline) never triggers the stop.
    model.stopTraining = false;
    assert.equal(await fit(model, [es3], [0.5, 0.6, 0.7, 0.8].map((a) => ({ val_accuracy: a }))), 4);
    assert.throws(() => new EarlyStopping({ monitor: 'val_f1' }).onTrainBegin(), { code: 'INVALID_ARGUMENT' });
    model.weight.dispose();
  });

  test('ModelCheckpoint: every epoch or only the best, with {epoch} formatting', async () => {
    const model = new FakeModel();
    const all = new ModelCheckpoint({ filepath: 'ckpt/{epoch:02d}-{val_loss:.2f}.keras' });
    await fit(model, [all], [{ val_loss: 1.234 }, { val_loss: 2 }]);
    assert.deepEqual(model.saved, ['ckpt/01-1.23.keras', 'ckpt/02-2.00.keras']);
    model.saved = [];
    const best = new ModelCheckpoint({ filepath: 'best-{epoch}.keras', saveBestOnly: true });
    await fit(model, [best], [3, 2, 2.5, 1].map((v) => ({ val_loss: v })));
    assert.deepEqual(model.saved, ['best-1.keras', 'best-2.keras', 'best-4.keras']);
    model.saved = [];
    const acc = new ModelCheckpoint({ filepath: 'a.keras', monitor: 'val_accuracy', saveBestOnly: true });
    await fit(model, [acc], [0.5, 0.4, 0.6].map((v) => ({ val_accuracy: v })));
    assert.equal(model.saved.length, 2);
    assert.throws(() => formatFilepath('{nope}', { epoch: 1 }), { code: 'INVALID_ARGUMENT' });
    model.weight.dispose();
  });

  test('LearningRateScheduler sets the rate each epoch and logs learning_rate', async () => {
    const model = new FakeModel();
    const seen: [number, number][] = [];
    const h = new History();
    const sched = new LearningRateScheduler((epoch, lr) => (seen.push([epoch, lr]), epoch < 1 ? lr : lr / 2));
    await fit(model, [sched, h], [{ loss: 1 }, { loss: 1 }, { loss: 1 }]);
    assert.deepEqual(seen, [[0, 0.1], [1, 0.1], [2, 0.05]]);
    assert.deepEqual(h.history.learning_rate, [0.1, 0.05, 0.025]);
    const bad = new LearningRateScheduler(() => NaN);
    bad.setModel(model);
    assert.throws(() => bad.onEpochBegin(0), { code: 'INVALID_ARGUMENT' });
    model.weight.dispose();
  });

  test('ReduceLROnPlateau reduces after patience, honours cooldown and minLr', async () => {
    const model = new FakeModel();
    const r = new ReduceLROnPlateau({ patience: 1, factor: 0.5, cooldown: 2, minLr: 0.02 });
    const lrs: number[] = [];
    class Spy extends Callback {
      override onEpochEnd(): void {
        lrs.push(model.optimizer.learningRate);
      }
    }
    await fit(model, [r, new Spy()], [1, 1, 1, 1, 1, 1].map((v) => ({ val_loss: v })));
    // Keras: the cooldown counter is decremented before the check, so cooldown 2 skips one epoch.
    // epoch1: -> 0.05; epoch2: cooling; epoch3: -> 0.025; epoch4: cooling; epoch5: -> max(0.0125, minLr 0.02)
    assert.deepEqual(lrs.map((x) => +x.toFixed(6)), [0.1, 0.05, 0.05, 0.025, 0.025, 0.02]);
    assert.throws(() => new ReduceLROnPlateau({ factor: 1 }), { code: 'INVALID_ARGUMENT' });
    model.weight.dispose();
  });
});
