import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { Accuracy, binaryAccuracy, categoricalAccuracy, Mean, sparseCategoricalAccuracy } from './metrics.js';
import { getMetric } from './metric_registry.js';

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);

describe('metrics', () => {
  test('Mean: weighted running mean, per-sample averaging without weights, reset', () => {
    const m = new Mean('loss');
    m.updateState(2);
    m.updateState(4);
    near(m.result(), 3);
    m.resetState();
    assert.equal(m.result(), 0);
    tf.tidy(() => {
      // Without weights, each sample's values are averaged and samples counted (Keras).
      m.updateState(tf.tensor2d([[1, 3], [5, 7]]));
      near(m.result(), 4);
      m.updateState(tf.tensor2d([[10, 10, 10, 10]]));
      near(m.result(), (2 + 6 + 10) / 3);
      m.resetState();
      m.updateState(tf.tensor1d([1, 2, 3]), { sampleWeight: tf.tensor1d([1, 0, 1]) });
      near(m.result(), 2);
    });
  });

  test('sparse categorical accuracy over valid steps only (mask)', () => {
    tf.tidy(() => {
      // yPred argmax: [[0, 1, 2], [2, 2, 0]]; yTrue [[0, 0, 2], [2, 1, 1]]; mask hides [0,1] and [1,2].
      const yPred = tf.tensor3d([
        [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]],
        [[0.1, 0.1, 0.8], [0.1, 0.2, 0.7], [0.9, 0.05, 0.05]],
      ]);
      const yTrue = tf.tensor2d([[0, 0, 2], [2, 1, 1]], undefined, 'int32');
      const mask = tf.tensor2d([[true, false, true], [true, true, false]], undefined, 'bool');
      const acc = getMetric('accuracy');
      acc.updateState(yTrue, yPred, { mask });
      // valid: [0,0]✓ [0,2]✓ [1,0]✓ [1,1]✗ -> 3/4 (unmasked would be 3/6)
      near(acc.result(), 0.75);
      assert.equal((acc as Accuracy).resolved, 'sparse_categorical');
      const plain = getMetric('sparse_categorical_accuracy');
      plain.updateState(yTrue, yPred);
      near(plain.result(), 0.5);
      // mask + per-sample weight [B] broadcasts over T (Masque departure): (2·2 + 1·1) / (2·2 + 1·2)
      const weighted = getMetric('sparseCategoricalAccuracy');
      weighted.updateState(yTrue, yPred, { mask, sampleWeight: tf.tensor1d([2, 1]) });
      near(weighted.result(), 5 / 6);
      // A fully masked batch adds nothing.
      weighted.resetState();
      weighted.updateState(yTrue, yPred, { mask: tf.zeros([2, 3], 'bool') });
      assert.equal(weighted.result(), 0);
    });
  });

  test("'accuracy' picks binary / sparse / categorical from the shapes, like Keras 3", () => {
    tf.tidy(() => {
      const bin = new Accuracy();
      bin.updateState(tf.tensor2d([[1], [0], [1]]), tf.tensor2d([[0.7], [0.6], [0.2]]));
      assert.equal(bin.resolved, 'binary');
      near(bin.result(), 1 / 3);
      const cat = new Accuracy('acc');
      assert.equal(cat.name, 'acc');
      cat.updateState(tf.tensor2d([[0, 1], [1, 0]]), tf.tensor2d([[0.2, 0.8], [0.3, 0.7]]));
      assert.equal(cat.resolved, 'categorical');
      near(cat.result(), 0.5);
      const sp = new Accuracy();
      sp.updateState(tf.tensor2d([[1], [0]]), tf.tensor2d([[0.2, 0.8], [0.3, 0.7]]));
      assert.equal(sp.resolved, 'sparse_categorical');
      near(sp.result(), 0.5);
    });
  });

  test('accuracy functions', () => {
    tf.tidy(() => {
      assert.deepEqual(Array.from(binaryAccuracy(tf.tensor1d([1, 0, 1]), tf.tensor2d([[0.9], [0.1], [0.5]])).dataSync()), [1, 1, 0]);
      assert.deepEqual(Array.from(binaryAccuracy(tf.tensor1d([1, 1]), tf.tensor1d([0.3, 0.2]), 0.25).dataSync()), [1, 0]);
      assert.deepEqual(Array.from(categoricalAccuracy(tf.tensor2d([[0, 0, 1]]), tf.tensor2d([[0.1, 0.2, 0.7]])).dataSync()), [1]);
      assert.deepEqual(Array.from(sparseCategoricalAccuracy(tf.tensor2d([[2], [0]]), tf.tensor2d([[0.1, 0.2, 0.7], [0.1, 0.2, 0.7]])).dataSync()), [1, 0]);
    });
  });

  test('getMetric names; unknown names and bad masks raise; no leaks', () => {
    assert.equal(getMetric('mse').name, 'mse');
    assert.equal(getMetric('binary_accuracy').name, 'binary_accuracy');
    assert.throws(() => getMetric('f1'), { code: 'UNKNOWN_NAME' });
    const m = getMetric('mae');
    assert.equal(getMetric(m), m);
    const yTrue = tf.zeros([2, 3, 1]);
    const yPred = tf.ones([2, 3, 1]);
    const mask = tf.tensor2d([[true, true, false], [false, false, false]], undefined, 'bool');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) m.updateState(yTrue, yPred, { mask });
    assert.equal(tf.memory().numTensors, before);
    near(m.result(), 1);
    assert.throws(() => m.updateState(yTrue, yPred, { mask: tf.ones([3, 2], 'bool') }), { code: 'MASK_SHAPE_MISMATCH' });
    tf.dispose([yTrue, yPred, mask]);
  });
});
