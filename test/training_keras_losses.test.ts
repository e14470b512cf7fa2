// Keras's loss classes (Huber, LogCosh, the crossentropies with fromLogits and
// labelSmoothing, MSE, MAE) against Keras 3.15.1 on masked batches, with
// sample weights and reductions; and as compile() takes them (objects, names,
// and dicts keyed by output name).
// Numbers: test/fixtures/keras-3.15.1-trainapi/losses.json (generate.py there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  tf, Input, Dense, Model, SGD, MasqueError, attachMask, getLoss, computeLoss,
  Loss, MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Huber, LogCosh,
  type Logs,
} from '../src/index.js';

interface Case {
  name: string;
  class: string;
  config: Record<string, unknown>;
  y_true: number[];
  y_pred: number[];
  mask: boolean[][] | null;
  sample_weight: number[] | null;
  value: number;
  per_element: number[][];
}

const golden = JSON.parse(readFileSync(new URL('fixtures/keras-3.15.1-trainapi/losses.json', import.meta.url), 'utf8')) as { cases: Case[] };
const CLASSES: Record<string, new (args: never) => Loss> = { MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Huber, LogCosh };

const near = (got: number, want: number, what: string, tol = 2e-6) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs Keras ${want}`);

for (const c of golden.cases) {
  test(`${c.class} ${JSON.stringify(c.config)} (${c.name}) matches Keras 3.15.1`, () => {
    const before = tf.memory().numTensors;
    const loss = new CLASSES[c.class]!(c.config as never);
    const yTrue = tf.tensor(c.y_true, undefined, c.class === 'SparseCategoricalCrossentropy' ? 'int32' : 'float32');
    const yPred = tf.tensor(c.y_pred);
    if (c.mask) attachMask(yPred, tf.tensor(c.mask, undefined, 'bool'));
    const sw = c.sample_weight ? tf.tensor1d(c.sample_weight) : null;
    // apply() reads the mask from yPred, as Keras reads _keras_mask.
    const value = loss.apply(yTrue, yPred, { sampleWeight: sw });
    near(value.dataSync()[0]!, c.value, `${c.name} value`);
    const perElement = loss.call(yTrue, yPred);
    perElement.dataSync().forEach((v, i) => near(v, c.per_element.flat()[i]!, `${c.name} call[${i}]`));
    // The same object through computeLoss and getLoss: its reduction comes along.
    const mask = c.mask ? tf.tensor(c.mask, undefined, 'bool') : null;
    const viaCompute = computeLoss(loss, yTrue, yPred, { mask, sampleWeight: sw });
    near(viaCompute.dataSync()[0]!, c.value, `${c.name} computeLoss`);
    assert.equal(getLoss(loss).lossName, loss.name);
    tf.dispose([value, perElement, viaCompute, yTrue, yPred, ...(sw ? [sw] : []), ...(mask ? [mask] : [])]);
    assert.equal(tf.memory().numTensors, before, 'no leak');
  });
}

test('loss classes: Keras names, configs and checked options', () => {
  assert.equal(new Huber().name, 'huber_loss');
  assert.equal(new LogCosh().name, 'log_cosh');
  assert.equal(new SparseCategoricalCrossentropy().name, 'sparse_categorical_crossentropy');
  assert.deepEqual(new BinaryCrossentropy({ fromLogits: true, labelSmoothing: 0.1 }).getConfig(), { name: 'binary_crossentropy', reduction: 'sum_over_batch_size', fromLogits: true, labelSmoothing: 0.1 });
  assert.deepEqual(new Huber({ delta: 2, reduction: 'sum' }).getConfig(), { name: 'huber_loss', reduction: 'sum', delta: 2 });
  const bad: [() => unknown, string][] = [
    [() => new SparseCategoricalCrossentropy({ from_logits: true } as never), "SparseCategoricalCrossentropy: unknown option 'from_logits'. Did you mean 'fromLogits'?"],
    [() => new BinaryCrossentropy({ labelSmoothing: 2 }), 'labelSmoothing must be a number in [0, 1]'],
    [() => new Huber({ delta: 0 }), 'delta must be a number > 0'],
    [() => new MeanSquaredError({ reduction: 'avg' as never }), "reduction must be one of 'sum_over_batch_size'"],
    [() => new SparseCategoricalCrossentropy({ ignoreClass: 0 } as never), "unknown option 'ignoreClass'"],
  ];
  for (const [fn, words] of bad) assert.throws(fn, (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && e.message.includes(words), words);
  // 'huber' and 'log_cosh' by name, any style.
  for (const n of ['huber', 'Huber', 'log_cosh', 'logCosh', 'LogCosh']) assert.ok(getLoss(n));
});

function twoOutputs(): Model {
  const x = Input({ shape: [3], name: 'x' });
  const a = new Dense({ units: 2, kernelInitializer: 'ones', name: 'reg' }).apply(x);
  const b = new Dense({ units: 3, kernelInitializer: 'zeros', name: 'cls' }).apply(x);
  return new Model({ inputs: x, outputs: [a, b] as never });
}

test('compile takes loss objects, and losses and lossWeights as objects keyed by output name (Keras)', async () => {
  const x = tf.tensor2d([[1, 2, 3], [0, 1, 0], [2, 0, 1], [1, 1, 1]]);
  const yReg = tf.tensor2d([[5, 7], [0, 2], [4, 1], [3, 3]]);
  const yCls = tf.tensor1d([0, 2, 1, 2], 'int32');
  const ref = twoOutputs();
  ref.compile({ optimizer: new SGD({ learningRate: 0 }), loss: ['huber', 'sparse_categorical_crossentropy'], lossWeights: [0.5, 2] });
  const want = (await ref.evaluate(x, [yReg, yCls], { returnDict: true, verbose: 0 })) as Logs;
  const m = twoOutputs();
  m.compile({
    optimizer: new SGD({ learningRate: 0 }),
    loss: { cls: new SparseCategoricalCrossentropy(), reg: new Huber() },
    lossWeights: { reg: 0.5, cls: 2 },
  });
  const got = (await m.evaluate(x, [yReg, yCls], { returnDict: true, verbose: 0 })) as Logs;
  assert.deepEqual(Object.keys(got), ['loss', 'reg_loss', 'cls_loss']);
  for (const k of Object.keys(want)) near(got[k]!, want[k]!, k, 1e-6);
  // A loss object's reduction is used: 'sum' over 4 rows is 4 × the mean.
  const s = twoOutputs();
  s.compile({ optimizer: 'sgd', loss: [new Huber({ reduction: 'sum' }), new SparseCategoricalCrossentropy({ reduction: 'sum' })] });
  const summed = (await s.evaluate(x, [yReg, yCls], { returnDict: true, verbose: 0 })) as Logs;
  near(summed['reg_loss']!, 4 * want['reg_loss']!, 'sum reduction');
  // Errors name the outputs.
  const e = twoOutputs();
  assert.throws(() => e.compile({ loss: { reg: 'mse' } as never }), (err: unknown) => err instanceof MasqueError && /every output needs a loss; the object has none for cls/.test(err.message));
  assert.throws(() => e.compile({ loss: { rge: 'mse', cls: 'mse' } as never }), (err: unknown) => err instanceof MasqueError && /losses keyed by output name \(reg, cls\); received keys rge, cls/.test(err.message));
  assert.throws(() => e.compile({ loss: 'mse', lossWeights: { reg: 1, clss: 2 } }), (err: unknown) => err instanceof MasqueError && /lossWeights: unknown output names clss/.test(err.message));
  for (const model of [ref, m, s, e]) model.dispose();
  tf.dispose([x, yReg, yCls]);
});
