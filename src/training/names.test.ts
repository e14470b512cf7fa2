import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Sequential, Dense, SGD } from '../index.js';
import { expectCode } from '../../test/helpers.js';
import { History, type Logs } from './callbacks.js';
import { getLoss } from './losses.js';
import type { Metric } from './metrics.js';
import { getMetric } from './metric_registry.js';
import { getOptimizer } from './optimizer_registry.js';
import { NameTable } from './names.js';

function dense(): Sequential {
  return new Sequential({ layers: [new Dense({ units: 1, inputShape: [2], kernelInitializer: 'ones' })] });
}

test('NameTable: any Keras spelling finds the entry; a hint only for a close name', () => {
  const t = new NameTable([['mean_squared_error', 1], ['mse', 2]]);
  assert.equal(t.get('MeanSquaredError'), 1);
  assert.equal(t.get('meanSquaredError'), 1);
  assert.equal(t.get('MSE'), 2);
  assert.equal(t.get('constructor'), undefined);
  assert.equal(t.hint('mean_squared_eror'), " Did you mean 'mean_squared_error'?");
  assert.equal(t.hint('xyz'), '');
});

test("names like 'constructor', '__proto__' and 'toString' are unknown losses, metrics and optimizers, with the usual error and a hint for typos", () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
    expectCode(() => getLoss(name), 'UNKNOWN_NAME', 'unknown loss', 'Known:');
    expectCode(() => getMetric(name), 'UNKNOWN_NAME', 'unknown metric', 'Known:');
    expectCode(() => getOptimizer(name), 'UNKNOWN_NAME', 'unknown optimizer', 'Known:');
    expectCode(() => getOptimizer({ className: name }), 'UNKNOWN_NAME', 'unknown optimizer');
    expectCode(() => getLoss({ name }), 'UNKNOWN_NAME', 'unknown loss');
    const model = dense();
    expectCode(() => model.compile({ optimizer: name, loss: 'mse' }), 'UNKNOWN_NAME');
    expectCode(() => model.compile({ optimizer: 'sgd', loss: name }), 'UNKNOWN_NAME');
    expectCode(() => model.compile({ optimizer: 'sgd', loss: 'mse', metrics: [name] }), 'UNKNOWN_NAME');
    model.dispose();
  }
  expectCode(() => getLoss('mean_squared_eror'), 'UNKNOWN_NAME', "Did you mean 'mean_squared_error'?");
  expectCode(() => getLoss('binaryCrossEntropi'), 'UNKNOWN_NAME', "Did you mean 'binary_crossentropy'?");
  expectCode(() => getMetric('acuracy'), 'UNKNOWN_NAME', "Did you mean 'accuracy'?");
  expectCode(() => getOptimizer('adan'), 'UNKNOWN_NAME', "Did you mean 'adam'?");
  expectCode(() => getOptimizer('zzzzzz'), 'UNKNOWN_NAME', 'Known:');
  assert.ok(!/Did you mean/.test(expectCode(() => getOptimizer('zzzzzz'), 'UNKNOWN_NAME').message));
  // Logs and History keep a metric called 'constructor' as an ordinary entry.
  const h = new History();
  h.onEpochEnd(0, Object.defineProperty({ loss: 1 }, 'constructor', { value: 2, enumerable: true }) as Logs);
  assert.deepEqual(h.history['constructor'], [2]);
  assert.deepEqual(h.history['loss'], [1]);
});

test("a custom metric named 'constructor' or '__proto__' is an ordinary log entry", async () => {
  const model = dense();
  const named = (name: string): Metric => {
    const m = getMetric('mae');
    Object.defineProperty(m, 'name', { value: name });
    return m;
  };
  model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', metrics: [named('constructor'), named('__proto__')] });
  const x = tf.ones([2, 2]);
  const y = tf.tensor2d([[2], [4]]);
  const r = (await model.evaluate(x, y, { returnDict: true })) as Logs;
  assert.deepEqual(Object.keys(r), ['loss', 'constructor', '__proto__']);
  assert.equal(r['constructor'], 1);
  const h = await model.fit(x, y, { verbose: 0 });
  assert.deepEqual(Object.keys(h.history), ['loss', 'constructor', '__proto__']);
  tf.dispose([x, y]);
  model.dispose();
});
