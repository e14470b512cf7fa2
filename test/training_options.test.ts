// Options of fit, evaluate, trainOnBatch, optimizers and callbacks are
// checked at the door: ranges, integers, flags, and unknown keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Sequential, Dense, SGD, Adam, RMSprop, MasqueError, EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, ModelCheckpoint, ProgbarLogger } from '../src/index.js';
import { expectCode, isCode, denseModel } from './helpers.js';

const dense = denseModel;

test('numeric and other options are checked with clear errors (fit, evaluate, trainOnBatch, optimizers, callbacks)', async () => {
  const model = dense();
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  const before = tf.memory().numTensors;
  const fit = (args: object) => model.fit(x, y, { verbose: 0, ...args } as never);
  const cases: [object, string][] = [
    [{ epochs: 1.5 }, 'epochs must be a positive integer; received 1.5'],
    [{ epochs: -1 }, 'epochs must be a positive integer'],
    [{ epochs: NaN }, 'received NaN'],
    [{ epochs: '3' }, 'received "3"'],
    [{ batchSize: 0 }, 'batchSize must be a positive integer; received 0'],
    [{ batchSize: 2.5 }, 'batchSize must be a positive integer'],
    [{ batchSize: Infinity }, 'batchSize must be a positive integer'],
    [{ initialEpoch: -1 }, 'initialEpoch must be an integer >= 0'],
    [{ initialEpoch: 0.5 }, 'initialEpoch must be an integer >= 0'],
    [{ initialEpoch: 3, epochs: 3 }, 'initialEpoch (3) must be less than epochs (3)'],
    [{ validationSplit: NaN }, 'validationSplit must be a number in [0, 1)'],
    [{ validationSplit: -0.1 }, 'validationSplit must be a number in [0, 1)'],
    [{ validationSplit: 1 }, 'validationSplit must be a number in [0, 1)'],
    [{ verbose: 3 }, 'verbose must be 0 (silent), 1 (progress bar) or 2'],
    [{ verbose: true }, 'verbose must be 0'],
    [{ seed: 1.5 }, 'seed must be an integer'],
    [{ shuffle: 'yes' }, 'shuffle must be true or false'],
    [{ bucketing: 1 }, 'bucketing must be true or false'],
    [{ batch_size: 8 }, "unknown option 'batch_size'. Did you mean 'batchSize'?"],
    [{ epoch: 2 }, "unknown option 'epoch'. Did you mean 'epochs'?"],
    [{ validationSteps: 2 }, "unknown option 'validationSteps'"],
    [{ validationData: [x] }, 'validationData must be [x, y], [x, y, sampleWeight] or a SequenceDataset'],
  ];
  for (const [args, words] of cases) await assert.rejects(fit(args), isCode('INVALID_ARGUMENT', words), JSON.stringify(args));
  await assert.rejects(model.fit(x, y, 5 as never), isCode('INVALID_ARGUMENT', 'options must be an object'));
  await assert.rejects(model.evaluate(x, y, { batchSize: 0 }), isCode('INVALID_ARGUMENT', 'evaluate: batchSize must be a positive integer'));
  await assert.rejects(model.evaluate(x, y, { returnDict: 'yes' } as never), isCode('INVALID_ARGUMENT', 'returnDict must be true or false'));
  await assert.rejects(model.evaluate(x, y, { batch_size: 2 } as never), isCode('INVALID_ARGUMENT', "Did you mean 'batchSize'?"));
  assert.throws(() => model.trainOnBatch(x, y, { sample_weight: [1, 1, 1, 1] } as never), isCode('INVALID_ARGUMENT', "Did you mean 'sampleWeight'?"));
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  model.dispose();

  // Learning rates and optimizer settings.
  for (const lr of [NaN, -0.1, Infinity]) {
    expectCode(() => new SGD({ learningRate: lr }), 'INVALID_ARGUMENT', 'learningRate must be a number in [0, Infinity]');
    expectCode(() => new Adam({ learningRate: lr }), 'INVALID_ARGUMENT', 'learningRate');
  }
  expectCode(() => new RMSprop({ rho: 1.5 }), 'INVALID_ARGUMENT', 'rho must be a number in [0, 1]');
  const scheduled = new SGD({ learningRate: (it: number) => (it < 1 ? 0.1 : NaN) });
  const m2 = dense();
  m2.compile({ optimizer: scheduled, loss: 'mse' });
  const x2 = tf.ones([2, 2]);
  const y2 = tf.zeros([2, 1]);
  m2.trainOnBatch(x2, y2);
  assert.throws(() => m2.trainOnBatch(x2, y2), isCode('INVALID_ARGUMENT', 'schedule must return a finite number >= 0; it returned NaN at iteration 1'));
  tf.dispose([x2, y2]);
  m2.dispose();
  scheduled.dispose();

  // Callback settings.
  expectCode(() => new EarlyStopping({ patience: -1 }), 'INVALID_ARGUMENT', 'EarlyStopping: patience must be an integer >= 0');
  expectCode(() => new EarlyStopping({ patience: 1.5 }), 'INVALID_ARGUMENT', 'patience must be an integer >= 0');
  expectCode(() => new EarlyStopping({ minDelta: NaN }), 'INVALID_ARGUMENT', 'minDelta must be a finite number');
  expectCode(() => new EarlyStopping({ baseline: NaN }), 'INVALID_ARGUMENT', 'baseline must be a finite number');
  expectCode(() => new ReduceLROnPlateau({ factor: -0.5 }), 'INVALID_ARGUMENT', 'factor must be a finite number >= 0');
  expectCode(() => new ReduceLROnPlateau({ cooldown: 0.5 }), 'INVALID_ARGUMENT', 'cooldown must be an integer >= 0');
  expectCode(() => new ReduceLROnPlateau({ minLr: -1 }), 'INVALID_ARGUMENT', 'minLr must be a finite number >= 0');
  expectCode(() => new ReduceLROnPlateau({ mode: 'up' as never }), 'INVALID_ARGUMENT', "mode must be 'auto', 'min' or 'max'");
  expectCode(() => new LearningRateScheduler(0.1 as never), 'INVALID_ARGUMENT', 'schedule must be a function');
});

test('option names are checked everywhere: compile, predict and every callback raise INVALID_ARGUMENT with the camelCase name to use', () => {
  const model = dense();
  const cases: [() => unknown, string][] = [
    [() => model.compile({ optimizer: 'sgd', loss: 'mse', loss_weights: [1] } as never), "compile (model 'sequential"],
    [() => model.compile({ optimizer: 'sgd', loss: 'mse', loss_weights: [1] } as never), "unknown option 'loss_weights'. Did you mean 'lossWeights'?"],
    [() => model.compile({ optimizer: 'sgd', loss: 'mse', weighted_metrics: ['mae'] } as never), "Did you mean 'weightedMetrics'?"],
    [() => model.compile({ optimizer: 'sgd', loss: 'mse', metric: ['mae'] } as never), "Did you mean 'metrics'?"],
    [() => model.compile({ optimizer: 'sgd', loss: 'mse', run_eagerly: true } as never), 'The options are optimizer, loss, metrics, weightedMetrics, lossWeights'],
    [() => model.predict(tf.ones([1, 2]), { batch_size: 2 } as never), 'Did you mean batchSize?'],
    [() => new EarlyStopping({ restore_best_weights: true } as never), "EarlyStopping: unknown option 'restore_best_weights'. Did you mean 'restoreBestWeights'?"],
    [() => new EarlyStopping({ patients: 2 } as never), "Did you mean 'patience'?"],
    [() => new EarlyStopping({ verbose: 2 } as never), 'EarlyStopping: verbose must be 0 (silent) or 1'],
    [() => new ReduceLROnPlateau({ min_lr: 0.001 } as never), "ReduceLROnPlateau: unknown option 'min_lr'. Did you mean 'minLr'?"],
    [() => new ReduceLROnPlateau({ epsilon: 0.001 } as never), "unknown option 'epsilon'"],
    [() => new ModelCheckpoint({ filepath: 'm.keras', save_best_only: true } as never), "ModelCheckpoint: unknown option 'save_best_only'. Did you mean 'saveBestOnly'?"],
    [() => new ModelCheckpoint({ filepath: 'm.keras', saveWeightsOnly: true } as never), "unknown option 'saveWeightsOnly'"],
    [() => new LearningRateScheduler((_e, lr) => lr, { verbos: 1 } as never), "LearningRateScheduler: unknown option 'verbos'. Did you mean 'verbose'?"],
    [() => new ProgbarLogger({ is_tty: false } as never), "ProgbarLogger: unknown option 'is_tty'. Did you mean 'isTTY'?"],
  ];
  for (const [fn, words] of cases) assert.throws(fn, isCode('INVALID_ARGUMENT', words), words);
  model.dispose();
});

test("callbacks' verbose: 1 prints Keras's messages", async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  try {
    const model = dense();
    model.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'mse' });
    const x = tf.ones([4, 2]);
    const y = tf.zeros([4, 1]);
    // minDelta 10: only the first epoch counts as an improvement, so EarlyStopping stops at epoch 2 and ReduceLROnPlateau reduces there.
    await model.fit(x, y, {
      epochs: 4, verbose: 0,
      callbacks: [
        new LearningRateScheduler((epoch, lr) => (epoch === 0 ? 0.1 : lr), { verbose: 1 }),
        new EarlyStopping({ monitor: 'loss', patience: 1, verbose: 1, minDelta: 10 }),
        new ReduceLROnPlateau({ monitor: 'loss', patience: 1, factor: 0.5, verbose: 1, minDelta: 10 }),
      ],
    });
    tf.dispose([x, y]);
    model.dispose();
  } finally {
    console.log = log;
  }
  const text = lines.join('\n');
  assert.match(text, /Epoch 1: LearningRateScheduler setting learning rate to 0\.1\./);
  assert.match(text, /Epoch 2: ReduceLROnPlateau reducing learning rate to 0\.05\./);
  assert.match(text, /Epoch 2: early stopping/);
});
