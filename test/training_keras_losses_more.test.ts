// The Keras losses and metrics added in the fourteenth round against Keras
// 3.15.1 on masked batches: MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
// CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, KLDivergence and
// Poisson as loss classes, and those and root_mean_squared_error,
// log_cosh_error and the crossentropies as metrics by name. Numbers:
// test/fixtures/keras-3.15.1-trainapi/{losses,metrics}_more.json
// (generate_more.py there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  tf, attachMask, getLoss, getMetric, computeLoss, Loss, Sequential, Input, LSTM, Dense, loadModelFromBytes,
  MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, RootMeanSquaredError,
  BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
} from '../src/index.js';

interface LossCase { name: string; class: string; config: Record<string, unknown>; y_true: number[]; y_pred: number[]; mask: boolean[][] | null; sample_weight: number[] | null; value: number | number[]; per_element: number[] }
interface MetricCase { identifier: string; class: string; batches: { y_true: number[]; y_pred: number[]; mask: boolean[][]; sample_weight: number[] | null }[]; result: number }

const read = <T>(f: string): { cases: T[] } => JSON.parse(readFileSync(new URL(`fixtures/keras-3.15.1-trainapi/${f}`, import.meta.url), 'utf8')) as { cases: T[] };
const CLASSES: Record<string, new (args?: never) => Loss> = { MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryFocalCrossentropy, CategoricalFocalCrossentropy };
const near = (got: number, want: number, what: string, tol = 2e-6) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs Keras ${want}`);
const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flat(Infinity as 1) as number[] : [v as number]);

for (const c of read<LossCase>('losses_more.json').cases) {
  test(`${c.class} ${JSON.stringify(c.config)} (${c.name}) matches Keras 3.15.1`, () => {
    const before = tf.memory().numTensors;
    const config = Object.fromEntries(Object.entries(c.config).map(([k, v]) => [k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase()), v]));
    const loss = new CLASSES[c.class]!(config as never);
    const yTrue = tf.tensor(c.y_true);
    const yPred = tf.tensor(c.y_pred);
    if (c.mask) attachMask(yPred, tf.tensor(c.mask, undefined, 'bool'));
    const sw = c.sample_weight ? tf.tensor1d(c.sample_weight) : null;
    const value = loss.apply(yTrue, yPred, { sampleWeight: sw });
    const want = flat(c.value);
    const got = Array.from(value.dataSync());
    // 'none' keeps the per-step losses; Masque zeroes the masked ones, which Keras multiplies by the mask.
    assert.equal(got.length, want.length, c.name);
    got.forEach((v, i) => near(v, want[i]!, `${c.name} value[${i}]`));
    const perElement = loss.call(yTrue, yPred);
    perElement.dataSync().forEach((v, i) => near(v, flat(c.per_element)[i]!, `${c.name} call[${i}]`));
    // By name, and through computeLoss, where the reduction is the default.
    if ((c.config['reduction'] ?? 'sum_over_batch_size') === 'sum_over_batch_size' && Object.keys(c.config).every((k) => k === 'reduction')) {
      const mask = c.mask ? tf.tensor(c.mask, undefined, 'bool') : null;
      const byName = computeLoss(getLoss(loss.name), yTrue, yPred, { mask, sampleWeight: sw });
      near(byName.dataSync()[0]!, want[0]!, `${c.name} by name '${loss.name}'`);
      tf.dispose([byName, ...(mask ? [mask] : [])]);
    }
    tf.dispose([value, perElement, yTrue, yPred, ...(sw ? [sw] : [])]);
    assert.equal(tf.memory().numTensors, before, 'no leak');
  });
}

for (const c of read<MetricCase>('metrics_more.json').cases) {
  test(`metric '${c.identifier}' (Keras ${c.class}) matches Keras 3.15.1 over two masked batches`, () => {
    const before = tf.memory().numTensors;
    const m = getMetric(c.identifier);
    assert.equal(m.name, c.identifier);
    for (const b of c.batches) {
      const yTrue = tf.tensor(b.y_true, undefined, c.identifier.startsWith('sparse') ? 'int32' : 'float32');
      const yPred = tf.tensor(b.y_pred);
      const mask = tf.tensor(b.mask, undefined, 'bool');
      const sw = b.sample_weight ? tf.tensor1d(b.sample_weight) : null;
      m.updateState(yTrue, yPred, { mask, sampleWeight: sw });
      tf.dispose([yTrue, yPred, mask, ...(sw ? [sw] : [])]);
    }
    near(m.result(), c.result, c.identifier, 1e-5);
    assert.equal(tf.memory().numTensors, before, 'no leak');
  });
}

test('the new names resolve in every Keras style, and RootMeanSquaredError is the root of the running mean, not a mean of roots', () => {
  for (const n of ['mape', 'MAPE', 'mean_absolute_percentage_error', 'MeanAbsolutePercentageError', 'msle', 'kld', 'KLDivergence', 'kl_divergence', 'poisson', 'Poisson', 'cosine_similarity', 'CosineSimilarity', 'hinge', 'squaredHinge', 'CategoricalHinge']) assert.ok(getLoss(n), n);
  const rmse = new RootMeanSquaredError();
  rmse.updateState(tf.tensor2d([[0], [0]]), tf.tensor2d([[3], [3]]));
  rmse.updateState(tf.tensor2d([[0]]), tf.tensor2d([[0]]));
  // squares 9, 9, 0: sqrt(18 / 3), where a mean of per-batch roots would give 1.5 * 2 / 2.
  near(rmse.result(), Math.sqrt(6), 'rmse');
  assert.equal(new CosineSimilarity({ axis: 1 }).getConfig()['axis'], 1);
  assert.throws(() => new CosineSimilarity({ axis: 0.5 }), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  assert.throws(() => new Poisson({ reduce: 'sum' } as never), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT' && (e as Error).message.includes('reduction'));
});

test('a model compiled with the new losses and metrics saves and loads with its compile (Keras class names and names)', async () => {
  const m = new Sequential({ layers: [Input({ shape: [null, 2] }), new LSTM({ units: 3 }), new Dense({ units: 2, activation: 'softplus' })] } as never);
  m.compile({ optimizer: 'adam', loss: new CosineSimilarity({ axis: -1 }), metrics: ['mape', 'root_mean_squared_error', 'kl_divergence', 'poisson'] });
  const back = await loadModelFromBytes(await m.toKerasBytes());
  assert.ok(back.compileArgs !== null);
  assert.ok(back.compileArgs!.loss instanceof CosineSimilarity);
  assert.deepEqual(back.compileArgs!.metrics, ['mape', 'root_mean_squared_error', 'kl_divergence', 'poisson']);
  const x = tf.randomNormal([4, 3, 2]);
  const y = tf.softplus(tf.randomNormal([4, 2]));
  const a = (await m.evaluate(x, y, { verbose: 0 })) as number[];
  const b = (await back.evaluate(x, y, { verbose: 0 })) as number[];
  assert.equal(a.length, 5);
  a.forEach((v, i) => near(b[i]!, v, `log ${i}`, 1e-6));
  tf.dispose([x, y]);
  m.dispose();
  back.dispose();
});

test("a Keras file compiled with the new losses and metrics (Keras's own file, its compile config patched) loads compiled", async () => {
  const { readKerasArchive, writeKerasArchive } = await import('../src/io/keras_archive.js');
  const bytes = new Uint8Array(readFileSync(new URL('fixtures/keras-3.15.1-compile/keras_adam_functional.keras', import.meta.url)));
  const archive = await readKerasArchive(bytes);
  const config = archive.config as Record<string, Record<string, unknown>>;
  for (const [loss, check] of [
    ['categorical_hinge', (l: unknown) => l === 'categorical_hinge'],
    [{ module: 'keras.losses', class_name: 'Poisson', config: { name: 'poisson', reduction: 'sum' }, registered_name: null }, (l: unknown) => l instanceof Poisson && l.reduction === 'sum'],
    [{ module: 'keras.losses', class_name: 'CosineSimilarity', config: { name: 'cosine_similarity', reduction: 'sum_over_batch_size' }, registered_name: null }, (l: unknown) => l instanceof CosineSimilarity && l.axis === -1],
  ] as [unknown, (l: unknown) => boolean][]) {
    const file = await writeKerasArchive({ ...archive, config: { ...config, compile_config: { ...config['compile_config'], loss, metrics: ['mape', 'root_mean_squared_error', 'log_cosh_error'] } } });
    const model = await loadModelFromBytes(file);
    assert.ok(check(model.compileArgs!.loss), JSON.stringify(loss));
    assert.deepEqual(model.compileArgs!.metrics, ['mape', 'root_mean_squared_error', 'log_cosh_error']);
    model.dispose();
  }
});
