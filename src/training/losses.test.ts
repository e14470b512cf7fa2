import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../runtime/tfjs.js';
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  computeLoss,
  getLoss,
  meanAbsoluteError,
  meanSquaredError,
  sparseCategoricalCrossentropy,
} from './losses.js';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../test/fixtures/keras-3.15.1');

interface Arr {
  shape: number[];
  dtype: string;
  data: (number | boolean | string)[];
}

function toTensor(a: Arr): tf.Tensor {
  if (a.dtype === 'bool') return tf.tensor(a.data as boolean[], a.shape, 'bool');
  const nums = a.data.map((v) => Number(v));
  return tf.tensor(nums, a.shape, a.dtype.startsWith('int') ? 'int32' : 'float32');
}

function close(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${what}: got ${got}, want ${want}`);
}

function scalar(t: tf.Tensor): number {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}

describe('losses: Keras loss_*.json cases', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.startsWith('loss_') && f.endsWith('.json'));
  test('the folder has loss cases', () => assert.ok(files.length > 0));
  for (const file of files) {
    test(file, () => {
      const c = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
      const L = c.loss;
      const before = tf.memory().numTensors;
      const yPred = toTensor(c.outputs[0]);
      const yTrue = toTensor(L.y_true);
      const mask = toTensor(L.token_mask);
      const predMask = L.y_pred_keras_mask ? toTensor(L.y_pred_keras_mask) : null;
      const loss = getLoss(L.compile_loss);

      const per = loss(yTrue, yPred);
      const want = L.per_step_loss_unreduced as Arr;
      assert.deepEqual(per.shape, want.shape);
      per.dataSync().forEach((v, i) => close(v, Number(want.data[i]), `${file} per_step[${i}]`));
      per.dispose();

      const w = tf.cast(mask, 'float32');
      const cases: [string, Parameters<typeof computeLoss>[3]][] = [
        ['loss_object_on_pred_with_token_mask', { mask }],
        ['loss_object_sum_reduction_with_token_mask', { mask, reduction: 'sum' }],
        ['loss_object_no_mask', {}],
        ['loss_object_sample_weight_mask_sum_over_batch_size', { sampleWeight: w }],
        ['loss_object_sample_weight_mask_sum', { sampleWeight: w, reduction: 'sum' }],
        ['loss_object_sample_weight_mask_mean_with_sample_weight', { sampleWeight: w, reduction: 'mean_with_sample_weight' }],
      ];
      for (const [key, opts] of cases) {
        assert.ok(key in L, `${file} lacks ${key}`);
        close(scalar(computeLoss(L.compile_loss, yTrue, yPred, opts)), Number(L[key]), `${file} ${key}`);
      }
      if (predMask !== null) {
        close(scalar(computeLoss(loss, yTrue, yPred, { mask: predMask })), Number(L.loss_object_on_pred_with_token_mask), `${file} y_pred mask`);
      }
      const plain = L.formulas?.['plain_mean=sum(l)/N'];
      if (plain !== undefined) close(scalar(computeLoss(loss, yTrue, yPred)), Number(plain), `${file} plain mean`);
      tf.dispose([yPred, yTrue, mask, w, ...(predMask ? [predMask] : [])]);
      assert.equal(tf.memory().numTensors, before);
    });
  }
});

describe('losses: formulas', () => {
  test('MSE and MAE average the last axis', () => {
    const t = tf.tensor2d([[0, 1], [2, 2]]);
    const p = tf.tensor2d([[1, 1], [0, 3]]);
    assert.deepEqual(Array.from(meanSquaredError(t, p).dataSync()), [0.5, 2.5]);
    assert.deepEqual(Array.from(meanAbsoluteError(t, p).dataSync()), [0.5, 1.5]);
  });

  test('binary crossentropy: probabilities are clipped at 1e-7, logits are exact', () => {
    const t = tf.tensor2d([[1, 0]]);
    const p = tf.tensor2d([[0, 0.25]]);
    const got = binaryCrossentropy(t, p).dataSync()[0]!;
    const want = (-Math.log(1e-7) - Math.log(0.75)) / 2;
    assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
    const logits = tf.tensor2d([[2, -1]]);
    const fromLogits = binaryCrossentropy(t, logits, { fromLogits: true }).dataSync()[0]!;
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const ref = (-Math.log(sig(2)) - Math.log(1 - sig(-1))) / 2;
    assert.ok(Math.abs(fromLogits - ref) < 1e-6);
    // y_true [B] against y_pred [B, 1] is expanded (Keras squeeze_or_expand_to_same_rank).
    assert.deepEqual(binaryCrossentropy(tf.tensor1d([1, 0]), tf.tensor2d([[0.5], [0.5]])).shape, [2]);
  });

  test('categorical and sparse crossentropy agree, with and without logits', () => {
    const logits = tf.tensor2d([[1, 2, 0.5], [0.1, -1, 3]]);
    const probs = tf.softmax(logits);
    const ids = tf.tensor1d([1, 2], 'int32');
    const oneHot = tf.oneHot(ids, 3);
    const a = sparseCategoricalCrossentropy(ids, probs).arraySync() as number[];
    const b = categoricalCrossentropy(oneHot, probs).arraySync() as number[];
    const c = sparseCategoricalCrossentropy(ids, logits, { fromLogits: true }).arraySync() as number[];
    const p = probs.arraySync() as number[][];
    const ref = [-Math.log(p[0]![1]!), -Math.log(p[1]![2]!)];
    for (const v of [a, b, c]) v.forEach((x, i) => assert.ok(Math.abs(x - ref[i]!) < 1e-5));
    // Unnormalised probabilities are renormalised (Keras).
    const scaled = sparseCategoricalCrossentropy(ids, tf.mul(probs, 3)).arraySync() as number[];
    scaled.forEach((x, i) => assert.ok(Math.abs(x - ref[i]!) < 1e-5));
    // yTrue [B, 1] is squeezed.
    assert.deepEqual(sparseCategoricalCrossentropy(tf.tensor2d([[1], [2]], undefined, 'int32'), probs).shape, [2]);
  });

  test('shape mismatches raise INPUT_SHAPE_MISMATCH', () => {
    assert.throws(() => sparseCategoricalCrossentropy(tf.zeros([2, 3], 'int32'), tf.ones([2, 4, 3])), { code: 'INPUT_SHAPE_MISMATCH' });
    assert.throws(() => categoricalCrossentropy(tf.zeros([2, 4]), tf.ones([2, 3])), { code: 'INPUT_SHAPE_MISMATCH' });
  });
});

describe('losses: getLoss and computeLoss', () => {
  test('Keras names in every style resolve', () => {
    for (const n of ['mse', 'MSE', 'mean_squared_error', 'meanSquaredError', 'MeanSquaredError']) {
      assert.equal(getLoss(n).lossName, 'mean_squared_error');
    }
    assert.equal(getLoss('mae').lossName, 'mean_absolute_error');
    assert.equal(getLoss('sparseCategoricalCrossentropy').lossName, 'sparse_categorical_crossentropy');
    assert.equal(getLoss({ name: 'binary_crossentropy', fromLogits: true }).lossName, 'binary_crossentropy');
    assert.equal(getLoss('CategoricalCrossentropy').lossName, 'categorical_crossentropy');
    const custom = (t: tf.Tensor, p: tf.Tensor) => tf.sub(t, p);
    assert.equal(getLoss(custom).lossName, 'custom');
    assert.throws(() => getLoss('hinge_loss'), (e: Error & { code?: string }) => e.code === 'UNKNOWN_NAME' && /hinge_loss/.test(e.message));
  });

  test('all steps masked gives 0, not NaN', () => {
    const t = tf.ones([2, 3, 1]);
    const p = tf.zeros([2, 3, 1]);
    const m = tf.zeros([2, 3], 'bool');
    assert.equal(scalar(computeLoss('mse', t, p, { mask: m })), 0);
    assert.equal(scalar(computeLoss('mse', t, p, { mask: m, reduction: 'mean_with_sample_weight' })), 0);
  });

  test('Masque departure: a [B] sample weight broadcasts over a [B, T] mask', () => {
    // l = [[1, 4, 9], [1, 1, 1]] (per step), m = [[1, 1, 0], [1, 0, 0]], w = [2, 3]
    const t = tf.zeros([2, 3, 1]);
    const p = tf.tensor3d([[[1], [2], [3]], [[1], [1], [1]]]);
    const m = tf.tensor2d([[true, true, false], [true, false, false]], undefined, 'bool');
    const w = tf.tensor1d([2, 3]);
    // sum(l·m·w)/sum(m) = (2 + 8 + 3) / 3
    assert.ok(Math.abs(scalar(computeLoss('mse', t, p, { mask: m, sampleWeight: w })) - 13 / 3) < 1e-6);
    // with w all ones this is Keras's masked mean
    assert.ok(Math.abs(scalar(computeLoss('mse', t, p, { mask: m, sampleWeight: tf.ones([2]) })) - 6 / 3) < 1e-6);
    assert.ok(Math.abs(scalar(computeLoss('mse', t, p, { mask: m, sampleWeight: w, reduction: 'sum' })) - 13) < 1e-6);
    // mean_with_sample_weight divides by sum(m·w) = 2 + 2 + 3
    assert.ok(Math.abs(scalar(computeLoss('mse', t, p, { mask: m, sampleWeight: w, reduction: 'mean_with_sample_weight' })) - 13 / 7) < 1e-6);
    const none = computeLoss('mse', t, p, { mask: m, sampleWeight: w, reduction: 'none' });
    assert.deepEqual(Array.from(none.dataSync()), [2, 8, 0, 3, 0, 0]);
  });

  test('a mask of the wrong shape raises MASK_SHAPE_MISMATCH; a bad reduction raises', () => {
    const t = tf.zeros([2, 3, 1]);
    assert.throws(() => computeLoss('mse', t, t, { mask: tf.ones([3, 2], 'bool') }), { code: 'MASK_SHAPE_MISMATCH' });
    assert.throws(() => computeLoss('mse', t, t, { reduction: 'avg' as never }), { code: 'INVALID_ARGUMENT' });
  });

  test('labels that do not broadcast to the output raise INPUT_SHAPE_MISMATCH naming both shapes (tfjs said only "Operands could not be broadcast"); ones that broadcast compute as numpy does in Keras', () => {
    const p = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 1, 1]]);
    for (const loss of ['mse', 'mae', 'huber', 'log_cosh']) {
      assert.throws(() => computeLoss(loss, tf.tensor1d([1, 2, 3, 4]), p), (e: unknown) => {
        const m = (e as Error).message;
        return (e as { code?: string }).code === 'INPUT_SHAPE_MISMATCH' && m.includes('[4]') && m.includes('[4, 3]');
      }, loss);
    }
    // [4, 1] against [4, 3] broadcasts in numpy (and so in Keras): each row's label against its three outputs.
    const v = computeLoss('mse', tf.tensor2d([[1], [2], [3], [4]]), p).dataSync()[0]!;
    const want = [[0, 1, 4], [4, 9, 16], [16, 25, 36], [9, 9, 9]].map((r) => (r[0]! + r[1]! + r[2]!) / 3).reduce((a, b) => a + b, 0) / 4;
    assert.ok(Math.abs(v - want) < 1e-5, `${v} vs ${want}`);
  });

  test('computeLoss refuses what is not a numeric tensor with an axis, naming it (tfjs threw raw errors, or overflowed its stack on a cyclic array); integer predictions are cast', () => {
    const t = tf.tensor2d([[1, 2]]);
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    for (const [yTrue, yPred, name] of [
      ['abc', t, 'yTrue'], [t, 5, 'yPred'], [cyclic, t, 'yTrue'], [t, [[1, 2]], 'yPred'], [tf.scalar(1), tf.scalar(2), 'yTrue'], [t, tf.tensor1d(['a', 'b'], 'string'), 'yPred'],
    ] as [unknown, unknown, string][]) {
      for (const loss of ['mse', 'cosine_similarity', 'ctc']) {
        assert.throws(() => computeLoss(loss, yTrue as tf.Tensor, yPred as tf.Tensor), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT' && (e as Error).message.includes(name), `${loss} ${name}`);
      }
    }
    const ints = computeLoss('cosine_similarity', tf.tensor2d([[1, 0]]), tf.tensor2d([[2, 0]], undefined, 'int32')).dataSync()[0]!;
    assert.ok(Math.abs(ints + 1) < 1e-6, `${ints}`);
    // A zero prediction (a relu that is off) has loss 0 and a finite gradient.
    const g = tf.grad((p: tf.Tensor) => computeLoss('cosine_similarity', tf.tensor2d([[1, 2], [3, 1]]), p))(tf.tensor2d([[0, 0], [1, 1]]));
    assert.ok(Array.from(g.dataSync()).every(Number.isFinite), `${g.dataSync()}`);
  });

  test('losses are differentiable and leak nothing', () => {
    const x = tf.variable(tf.tensor3d([[[0.2, 0.5, 0.3]], [[0.6, 0.3, 0.1]]]));
    const ids = tf.tensor2d([[1], [0]], undefined, 'int32');
    const m = tf.tensor2d([[true], [false]], undefined, 'bool');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const { value, grads } = tf.variableGrads(() => computeLoss('sparse_categorical_crossentropy', ids, x, { mask: m }) as tf.Scalar, [x]);
      const g = grads[x.name]!.arraySync() as number[][][];
      // Only the valid row gets a gradient.
      assert.ok(g[1]!.flat().every((v) => v === 0));
      assert.ok(g[0]!.flat().some((v) => v !== 0));
      tf.dispose([value, ...Object.values(grads)]);
    }
    assert.equal(tf.memory().numTensors, before);
  });
});
