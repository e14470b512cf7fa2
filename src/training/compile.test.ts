import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MasqueError } from '../errors.js';
import { compileSpec, currentLogs, logEntries } from './compile.js';
import { SGD } from './optimizers.js';

const names = (c: ReturnType<typeof compileSpec>) => logEntries(c).map(([n]) => n);
const code = (c: string, re: RegExp) => (e: unknown) => e instanceof MasqueError && e.code === c && re.test(e.message);

describe('compileSpec', () => {
  test("Keras 3 log names: per-output losses and prefixes with several outputs, '_1' for repeats, 'weighted_' for taken weighted names", () => {
    const one = compileSpec({ optimizer: 'sgd', loss: 'mse', metrics: ['mae', 'mae'], weightedMetrics: ['mae', 'mse'] }, ['dense'], 'compile');
    assert.deepEqual(names(one), ['loss', 'mae', 'mae_1', 'weighted_mae', 'mse']);
    one.optimizer.dispose();
    const two = compileSpec({ optimizer: 'sgd', loss: ['mse', 'mae'], metrics: { b: 'mse' }, weightedMetrics: [['mse'], 'mse'] }, ['a', 'b'], 'compile');
    assert.deepEqual(names(two), ['loss', 'a_loss', 'b_loss', 'b_mse', 'a_mse', 'b_weighted_mse']);
    assert.deepEqual(Object.keys(currentLogs(two)), names(two));
    two.optimizer.dispose();
  });

  test('the optimizer is owned when made from a name or spec, not when passed in', () => {
    const mine = new SGD();
    assert.equal(compileSpec({ optimizer: mine, loss: 'mse' }, ['o'], 'compile').ownsOptimizer, false);
    const made = compileSpec({ optimizer: { className: 'Adam', config: { learningRate: 0.1 } }, loss: 'mse' }, ['o'], 'compile');
    assert.equal(made.ownsOptimizer, true);
    assert.equal(made.optimizer.learningRate, 0.1);
    made.optimizer.dispose();
    mine.dispose();
  });

  test('errors name the argument', () => {
    assert.throws(() => compileSpec({ loss: ['mse'] }, ['a', 'b'], 'compile (m)'), code('INVALID_ARGUMENT', /^compile \(m\): the model has 2 outputs.*list of 1/));
    assert.throws(() => compileSpec({ loss: 'mse', lossWeights: [1, NaN] }, ['a', 'b'], 'compile'), code('INVALID_ARGUMENT', /lossWeights must be 2 finite numbers/));
    assert.throws(() => compileSpec({ loss: 'mse', metrics: { c: 'mse' } }, ['a', 'b'], 'compile'), code('INVALID_ARGUMENT', /unknown output names c; the outputs are a, b/));
    // An object keyed by output name is read by own keys only.
    assert.throws(() => compileSpec({ loss: 'mse', metrics: JSON.parse('{"__proto__": "mse"}') }, ['a'], 'compile'), code('INVALID_ARGUMENT', /unknown output names __proto__/));
    const c = compileSpec({ optimizer: 'sgd', loss: 'mse', metrics: {} }, ['constructor'], 'compile');
    assert.deepEqual(names(c), ['loss']);
    c.optimizer.dispose();
    assert.throws(() => compileSpec({ loss: 'mse', metrics: [5 as never] }, ['a'], 'compile'), code('INVALID_ARGUMENT', /each metric must be a name or a Metric object; received 5/));
    assert.throws(() => compileSpec(null as never, ['a'], 'compile'), code('INVALID_ARGUMENT', /pass \{ optimizer, loss, metrics \}/));
  });
});
