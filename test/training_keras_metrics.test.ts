// Precision, Recall, AUC, F1Score/FBetaScore and the top-k accuracies against
// Keras 3.15.1, updated with several masked batches. Keras's confusion
// metrics and F-scores ignore masks, so the golden numbers pass each mask to
// Keras as the sample weight (times the row weight when there is one): that
// is what Masque does with a mask. Numbers:
// test/fixtures/keras-3.15.1-trainapi/metrics.json (generate.py there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  tf, Precision, Recall, AUC, F1Score, FBetaScore, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, getMetric, MasqueError,
  Sequential, Embedding, Dense, padSequences, getMask,
  type Metric,
} from '../src/index.js';

interface Batch {
  y_true: number[];
  y_pred: number[];
  mask: boolean[][] | null;
  sample_weight: number[] | null;
}
interface Case {
  name: string;
  class: string;
  config: Record<string, unknown>;
  batches: Batch[];
  result: number | number[];
}

const golden = JSON.parse(readFileSync(new URL('fixtures/keras-3.15.1-trainapi/metrics.json', import.meta.url), 'utf8')) as { cases: Case[] };
const make: Record<string, (config: never) => Metric> = {
  Precision: (c) => new Precision(c),
  Recall: (c) => new Recall(c),
  AUC: (c) => new AUC(c),
  F1Score: (c) => new F1Score(c),
  FBetaScore: (c) => new FBetaScore(c),
  TopKCategoricalAccuracy: (c) => new TopKCategoricalAccuracy(c),
  SparseTopKCategoricalAccuracy: (c) => new SparseTopKCategoricalAccuracy(c),
};

const near = (got: number, want: number, what: string, tol = 1e-5) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs Keras ${want}`);

function feed(m: Metric, batches: Batch[], cls: string): void {
  for (const b of batches) {
    const yTrue = tf.tensor(b.y_true, undefined, cls.startsWith('Sparse') ? 'int32' : 'float32');
    const yPred = tf.tensor(b.y_pred);
    const mask = b.mask ? tf.tensor(b.mask, undefined, 'bool') : null;
    const sw = b.sample_weight ? tf.tensor1d(b.sample_weight) : null;
    m.updateState(yTrue, yPred, { mask, sampleWeight: sw });
    tf.dispose([yTrue, yPred, ...(mask ? [mask] : []), ...(sw ? [sw] : [])]);
  }
}

for (const c of golden.cases) {
  test(`${c.class} ${JSON.stringify(c.config)} (${c.name}) matches Keras 3.15.1 on masked batches`, () => {
    const before = tf.memory().numTensors;
    const m = make[c.class]!(c.config as never);
    feed(m, c.batches, c.class);
    if (Array.isArray(c.result)) {
      // F1Score with average null: Keras's result is the vector; Masque logs its mean and gives the vector on request.
      (m as F1Score).resultPerClass().forEach((v, i) => near(v, (c.result as number[])[i]!, `${c.name}[${i}]`));
      near(m.result(), c.result.reduce((a, b) => a + b, 0) / c.result.length, `${c.name} mean`);
    } else {
      near(m.result(), c.result, c.name);
    }
    // The state survives a save and restore across a reset.
    const state = m.saveState!();
    const value = m.result();
    m.resetState();
    assert.equal(m.result(), 0);
    m.restoreState!(state);
    assert.equal(m.result(), value);
    assert.equal(tf.memory().numTensors, before, 'no leak');
  });
}

test('a masked step counts nowhere: padding holding NaN or any value changes nothing', () => {
  const yTrue = tf.tensor2d([[1, 0, 1, 1], [0, 1, 0, 0]]);
  const mask = tf.tensor2d([[true, true, true, false], [true, true, false, false]], undefined, 'bool');
  const clean = tf.tensor3d([[[0.9], [0.2], [0.4], [0]], [[0.7], [0.6], [0], [0]]]);
  const noisy = tf.tensor3d([[[0.9], [0.2], [0.4], [NaN]], [[0.7], [0.6], [1], [0.99]]]);
  for (const makeMetric of [() => new Precision(), () => new Recall(), () => new AUC(), () => new AUC({ curve: 'PR' })]) {
    const a = makeMetric();
    const b = makeMetric();
    a.updateState(yTrue, clean, { mask });
    b.updateState(yTrue, noisy, { mask });
    assert.equal(a.result(), b.result(), a.name);
  }
  const f1a = new F1Score({ average: 'macro' });
  const f1b = new F1Score({ average: 'macro' });
  const oneHotTrue = tf.oneHot(tf.tensor2d([[0, 1, 2], [2, 2, 0]], undefined, 'int32'), 3);
  const p = tf.softmax(tf.tensor3d([[[2, 1, 0], [0, 3, 1], [1, 1, 5]], [[0, 0, 9], [1, 2, 3], [4, 1, 1]]]));
  const pNoisy = tf.tidy(() => tf.where(tf.expandDims(tf.cast(tf.tensor2d([[1, 1, 1], [1, 0, 0]]), 'bool'), -1), p, tf.fill(p.shape, NaN)));
  const m2 = tf.tensor2d([[true, true, true], [true, false, false]], undefined, 'bool');
  f1a.updateState(oneHotTrue, p, { mask: m2 });
  f1b.updateState(oneHotTrue, pNoisy, { mask: m2 });
  assert.equal(f1a.result(), f1b.result());
  tf.dispose([yTrue, mask, clean, noisy, oneHotTrue, p, pNoisy, m2]);
});

test('metric classes resolve by Keras name (named as given) and check their options', () => {
  for (const [id, cls] of [['precision', Precision], ['Recall', Recall], ['auc', AUC], ['AUC', AUC], ['f1_score', F1Score], ['top_k_categorical_accuracy', TopKCategoricalAccuracy], ['sparseTopKCategoricalAccuracy', SparseTopKCategoricalAccuracy]] as const) {
    const m = getMetric(id);
    assert.ok(m instanceof cls, id);
    assert.equal(m.name, id);
  }
  assert.equal(new Precision().name, 'precision');
  assert.equal(new F1Score().name, 'f1_score');
  assert.equal(new SparseTopKCategoricalAccuracy().name, 'sparse_top_k_categorical_accuracy');
  const bad: [() => unknown, string][] = [
    [() => new Precision({ top_k: 2 } as never), "Precision: unknown option 'top_k'. Did you mean 'topK'?"],
    [() => new Recall({ thresholds: [0.3, 0.5] } as never), 'thresholds must be one number here'],
    [() => new AUC({ num_thresholds: 10 } as never), "Did you mean 'numThresholds'?"],
    [() => new AUC({ curve: 'PRGAIN' } as never), "curve must be 'ROC' or 'PR'"],
    [() => new AUC({ labelWeights: [1, 2] } as never), "unknown option 'labelWeights'"],
    [() => new F1Score({ average: 'binary' } as never), "average must be null, 'micro', 'macro' or 'weighted'"],
    [() => new F1Score({ beta: 2 } as never), "F1Score: unknown option 'beta'"],
    [() => new FBetaScore({ beta: 0 }), 'beta must be a number > 0'],
    [() => new TopKCategoricalAccuracy({ k: 0 }), 'k must be a positive integer'],
  ];
  for (const [fn, words] of bad) assert.throws(fn, (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && e.message.includes(words), words);
});

test('compiled metric objects and names honour the output mask in evaluate (padding counts nowhere)', async () => {
  const model = new Sequential({ layers: [new Embedding({ inputDim: 9, outputDim: 3, maskZero: true, inputShape: [null] }), new Dense({ units: 1, activation: 'sigmoid' })] });
  model.compile({ optimizer: 'sgd', loss: 'binary_crossentropy', metrics: [new Precision(), new Recall({ thresholds: 0.4 }), new AUC(), 'f1_score'] });
  const sequences = [[1, 4, 2, 7], [5, 6], [8, 2, 2], [3]];
  const labels = [[1, 0, 1, 1], [0, 1], [1, 1, 0], [0]];
  // One [1]-vector per step, so the targets [B, T, 1] match the output (as Keras's binary crossentropy needs).
  const logs = (await model.evaluate({ sequences, labels: labels.map((l) => l.map((v) => [v])) }, { batchSize: 2, verbose: 0, returnDict: true })) as Record<string, number>;
  assert.deepEqual(Object.keys(logs), ['loss', 'precision', 'recall', 'auc', 'f1_score']);
  // The same metrics fed directly with the predictions and the mask.
  const probs = model.predict({ sequences }) as tf.Tensor;
  const y = padSequences(labels, { padding: 'post', dtype: 'float32' });
  const mask = getMask(probs)!;
  for (const [name, m] of [['precision', new Precision()], ['recall', new Recall({ thresholds: 0.4 })], ['auc', new AUC()]] as const) {
    m.updateState(y, probs, { mask });
    near(logs[name]!, m.result(), name, 1e-6);
  }
  tf.dispose([probs, y]);
  model.dispose();
});
