// One class (or one token): tfjs's tf.oneHot refuses a depth below 2, where
// Keras takes 1. Before this fix a sparse cross-entropy, a generalized
// cross-entropy, a sparse (top-k) accuracy or a CategoryEncoding of one
// token ended in tfjs's raw "depth must be >=2" (found by the bad-input
// suite, seed 781). Expected values: Keras 3.15.1 (numpy backend) on the
// same inputs, printed by the oracle:
//   losses.sparse_categorical_crossentropy(yt, yp) -> [1.1920930376163597e-07] * 3
//   ... from_logits=True -> [-0.0] * 3; CategoricalGeneralizedCrossEntropy()(yt, yp) -> -0.37914061546325684
//   metrics.sparse_categorical_accuracy / sparse_top_k_categorical_accuracy(k=1) -> [1.0] * 3
//   layers.CategoryEncoding(num_tokens=1, output_mode=m)([[0], [0]]) -> [[1.0], [1.0]] for one_hot, multi_hot, count
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, ctcLoss, sparseCategoricalCrossentropy, CategoricalGeneralizedCrossEntropy, sparseCategoricalAccuracy, sparseTopKCategoricalAccuracy, CategoryEncoding,
} from '../src/index.js';
import { oneHot } from '../src/ops/one_hot.js';

const close = (got: tf.Tensor, want: number[], tol = 1e-6) => {
  const g = Array.from(got.dataSync());
  assert.equal(g.length, want.length);
  g.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= tol, `${v} against ${want[i]}`));
};

test('a single class or token works as in Keras: sparse losses, accuracies and CategoryEncoding', () => {
  const yt = tf.tensor([[0], [0], [0]], undefined, 'int32');
  const yp = tf.tensor([[1], [0.7], [3]]);
  const ids1 = tf.squeeze(yt, [1]);
  const before = tf.memory().numTensors;
  const out = [
    sparseCategoricalCrossentropy(yt, yp), sparseCategoricalCrossentropy(yt, yp, { fromLogits: true }),
    new CategoricalGeneralizedCrossEntropy().apply(ids1, yp), sparseCategoricalAccuracy(yt, yp), sparseTopKCategoricalAccuracy(ids1, yp, 1),
  ];
  close(out[0]!, [1.1920930376163597e-7, 1.1920930376163597e-7, 1.1920930376163597e-7], 1e-9);
  close(out[1]!, [0, 0, 0]);
  close(out[2]!, [-0.37914061546325684]);
  close(out[3]!, [1, 1, 1]);
  close(out[4]!, [1, 1, 1]);
  for (const mode of ['one_hot', 'multi_hot', 'count'] as const) {
    const x = tf.tensor([[0], [0]], undefined, 'int32');
    const y = new CategoryEncoding({ numTokens: 1, outputMode: mode }).apply(x) as tf.Tensor;
    assert.deepEqual(y.arraySync(), [[1], [1]], mode);
    tf.dispose([x, y]);
  }
  tf.dispose(out);
  assert.equal(tf.memory().numTensors, before);
  // At the other end, more categories than a tensor holds: a coded error, not tfjs's allocation failure.
  const big = tf.tensor([[0, 1]], undefined, 'int32');
  assert.throws(() => new CategoryEncoding({ numTokens: 2 ** 30, outputMode: 'count' }).apply(big), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'INVALID_INPUT' && /1 GiB/.test(e.message));
  big.dispose();
  // CTC over the blank class alone: log-softmax over one class is 0, so an empty label sequence costs 0 (Keras: the same, any logits).
  const ctcLabels = tf.tensor([[0, 0]], undefined, 'int32');
  const ctcLogits = tf.tensor([[[1.5], [-2], [7]]]);
  const ctc = ctcLoss(ctcLabels, ctcLogits) as tf.Tensor;
  close(ctc, [0]);
  tf.dispose([ctcLabels, ctcLogits, ctc]);
  // The helper itself: ids outside [0, depth) give zero rows, and depth 0 gives empty rows.
  const ids = tf.tensor([0, 1, -1], undefined, 'int32');
  assert.deepEqual(tf.tidy(() => oneHot(ids, 1).arraySync()), [[1], [0], [0]]);
  assert.deepEqual(tf.tidy(() => oneHot(ids, 0).shape), [3, 0]);
  assert.deepEqual(tf.tidy(() => oneHot(ids, 3).arraySync()), [[1, 0, 0], [0, 1, 0], [0, 0, 0]]);
  tf.dispose([ids, yt, yp, ids1]);
});
