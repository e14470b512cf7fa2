// Dice, Tversky, Circle and CategoricalGeneralizedCrossEntropy against Keras
// 3.15.1 (test/fixtures/keras-3.15.1-trainapi/losses_dice.json, made by
// generate_dice.py there), then what Keras does not check: Dice and Tversky
// read a mask inside their sums (departure 26), so padding changes neither
// the loss nor its gradient; Circle's gradient has no NaN; options, names,
// files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  tf, ready, attachMask, getLoss, computeLoss, Loss, Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy, Input, Model, Masking, LSTM, Dense,
  saveModelToBytes, loadModelFromBytes,
} from '../src/index.js';
import { expectCode } from './helpers.js';

interface LossCase {
  name: string;
  class: string;
  config: Record<string, unknown>;
  y_true: unknown;
  y_true_dtype: 'float32' | 'int32';
  y_pred: unknown;
  mask: unknown;
  sample_weight: unknown;
  value: number | number[];
  per_element: unknown;
  keras_value_with_mask?: number | string;
}

const file = JSON.parse(readFileSync(new URL('fixtures/keras-3.15.1-trainapi/losses_dice.json', import.meta.url), 'utf8')) as { losses: LossCase[] };
const CLASSES: Record<string, new (args?: never) => Loss> = { Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy };
const near = (got: number, want: number, what: string, tol = 2e-6) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs Keras ${want}`);
const flat = (v: unknown): number[] => (Array.isArray(v) ? (v.flat(Infinity as 1) as number[]) : [v as number]);
const camel = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), k === 'reduction' && v === null ? 'none' : v]));

for (const c of file.losses) {
  test(`${c.class} ${JSON.stringify(c.config)} (${c.name}) matches Keras 3.15.1${c.keras_value_with_mask !== undefined ? ' on the valid steps' : ''}`, async () => {
    await ready();
    const before = tf.memory().numTensors;
    const loss = new CLASSES[c.class]!(camel(c.config) as never);
    const yTrue = tf.tensor(c.y_true as number[], undefined, c.y_true_dtype);
    const yPred = tf.tensor(c.y_pred as number[]);
    if (c.mask) attachMask(yPred, tf.tensor(c.mask as boolean[], undefined, 'bool'));
    const sw = c.sample_weight ? tf.tensor(c.sample_weight as number[]) : null;
    const value = loss.apply(yTrue, yPred, { sampleWeight: sw });
    const want = flat(c.value);
    const got = Array.from(value.dataSync());
    assert.equal(got.length, want.length, `${c.name}: ${got.length} values, Keras ${want.length}`);
    got.forEach((v, i) => near(v, want[i]!, `${c.name} value[${i}]`));
    const perElement = loss.call(yTrue, yPred);
    const wantPer = flat(c.per_element);
    assert.equal(perElement.size, wantPer.length);
    perElement.dataSync().forEach((v, i) => near(v, wantPer[i]!, `${c.name} call[${i}]`));
    if (typeof c.keras_value_with_mask === 'number') {
      // Keras's own masked value counts the padded steps: the departure is real on this batch.
      assert.ok(Math.abs(c.keras_value_with_mask - want[0]!) > 1e-3, `${c.name}: Keras's masked value ${c.keras_value_with_mask} equals the valid-step value`);
    }
    // By name (the default options) through computeLoss.
    if (Object.keys(c.config).length === 0) {
      const mask = c.mask ? tf.tensor(c.mask as boolean[], undefined, 'bool') : null;
      const byName = computeLoss(getLoss(loss.name), yTrue, yPred, { mask, sampleWeight: sw });
      near(byName.dataSync()[0]!, want[0]!, `${c.name} by name '${loss.name}'`);
      tf.dispose([byName, ...(mask ? [mask] : [])]);
    }
    tf.dispose([value, perElement, yTrue, yPred, ...(sw ? [sw] : [])]);
    assert.equal(tf.memory().numTensors, before, 'no leak');
  });
}

/** [3, 5, 4] labels and predictions, rows valid for 5, 3 and 1 steps, padded to `t` steps with `pad` in both. */
function segBatch(t: number, pad: number): { yTrue: tf.Tensor; yPred: tf.Tensor; mask: tf.Tensor } {
  const lengths = [5, 3, 1];
  const yt: number[] = [];
  const yp: number[] = [];
  const m: boolean[] = [];
  for (let b = 0; b < 3; b++) {
    for (let s = 0; s < t; s++) {
      m.push(s < lengths[b]!);
      for (let k = 0; k < 4; k++) {
        const valid = s < lengths[b]!;
        yt.push(valid ? (b + s + k) % 2 : pad);
        yp.push(valid ? 0.1 + 0.8 * (((b * 7 + s * 3 + k * 5) % 11) / 10) : pad);
      }
    }
  }
  return { yTrue: tf.tensor3d(yt, [3, t, 4]), yPred: tf.tensor3d(yp, [3, t, 4]), mask: tf.tensor2d(m, [3, t], 'bool') };
}

test('Dice and Tversky: more padding, holding NaN, changes neither the loss nor its gradient (departure 26)', async () => {
  await ready();
  for (const loss of [new Dice(), new Dice({ axis: [1, 2] }), new Tversky({ alpha: 0.3, beta: 0.7 }), new Tversky({ axis: [1, 2], reduction: 'sum' })]) {
    const results = [5, 9].map((t) => {
      const { yTrue, yPred, mask } = segBatch(t, t === 5 ? 0 : NaN);
      const f = (p: tf.Tensor) => computeLoss(loss, yTrue, p, { mask });
      const { value, grad } = tf.valueAndGrad(f)(yPred);
      const valid = tf.slice(grad, [0, 0, 0], [3, 5, 4]);
      const out = { value: value.dataSync()[0]!, grad: Array.from(valid.dataSync()), rest: t > 5 ? Array.from(tf.slice(grad, [0, 5, 0], [3, t - 5, 4]).dataSync()) : [] };
      tf.dispose([yTrue, yPred, mask, value, grad, valid]);
      return out;
    });
    const [a, b] = results;
    near(b!.value, a!.value, `${loss.name} value`, 1e-6);
    b!.grad.forEach((g, i) => near(g, a!.grad[i]!, `${loss.name} grad[${i}]`, 1e-6));
    assert.ok(b!.rest.every((g) => g === 0), `${loss.name}: the padded steps get gradient 0`);
    assert.ok(Number.isFinite(b!.value));
  }
});

test('Circle: rows without a positive pair have loss 0 and count in no reduction; its gradient has no NaN', async () => {
  await ready();
  const labels = tf.tensor1d([0, 1, 0, 2], 'int32');
  const raw = tf.tensor2d([[1, 0, 0], [0.6, 0.8, 0], [0.8, 0.6, 0], [0, 0, 1]]);
  const loss = new Circle({ gamma: 4 });
  const per = loss.call(labels, raw).dataSync();
  assert.equal(per[1], 0); // label 1 appears once
  assert.equal(per[3], 0);
  assert.ok(per[0]! > 0 && per[2]! > 0);
  const mean = loss.apply(labels, raw).dataSync()[0]!;
  near(mean, (per[0]! + per[2]!) / 2, 'mean over the rows with a positive loss');
  const g = tf.grad((p: tf.Tensor) => loss.apply(labels, p))(raw);
  assert.ok(Array.from(g.dataSync()).every(Number.isFinite), `gradient ${Array.from(g.dataSync())}`);
  tf.dispose([labels, raw, g]);
});

test('the four losses by every Keras spelling; options are checked; yTrue of the wrong shape is refused', () => {
  for (const n of ['dice', 'Dice', 'tversky', 'Tversky', 'circle', 'Circle', 'categorical_generalized_cross_entropy', 'CategoricalGeneralizedCrossEntropy', 'categoricalGeneralizedCrossEntropy']) assert.ok(getLoss(n), n);
  expectCode(() => new CategoricalGeneralizedCrossEntropy({ q: 1 }), 'INVALID_ARGUMENT', 'q', '(0, 1)');
  expectCode(() => new Dice({ axis: [1.5] }), 'INVALID_ARGUMENT', 'axis');
  expectCode(() => new Tversky({ alhpa: 0.3 } as never), 'INVALID_ARGUMENT', 'alpha');
  expectCode(() => new Circle({ removeDiagonal: 1 } as never), 'INVALID_ARGUMENT', 'removeDiagonal');
  const p = tf.ones([2, 3]);
  expectCode(() => new Dice().call(tf.ones([2, 2]), p), 'INPUT_SHAPE_MISMATCH', 'same shape');
  expectCode(() => new Dice({ axis: 3 }).call(tf.ones([2, 3]), p), 'INVALID_ARGUMENT', 'axis 3');
  expectCode(() => new Circle().call(tf.ones([3], 'int32'), p), 'INPUT_SHAPE_MISMATCH', 'one integer label per row');
  expectCode(() => new CategoricalGeneralizedCrossEntropy().call(tf.ones([3], 'int32'), p), 'INPUT_SHAPE_MISMATCH', 'integer class ids');
  // Every loss class's apply checks its tensors before reading yPred's mask (the bad-input suite, seed 753, found a TypeError there).
  expectCode(() => new Tversky().apply(-2 as never, null as never), 'INVALID_ARGUMENT', 'tversky.apply', 'yTrue');
  expectCode(() => new Dice().apply(p, undefined as never), 'INVALID_ARGUMENT', 'dice.apply', 'yPred');
  tf.dispose(p);
});

test('a model compiled with Tversky trains on masked per-step outputs and keeps its loss through a Keras file', async () => {
  await ready();
  const inp = Input({ shape: [null, 2] });
  const out = new Dense({ units: 3, activation: 'sigmoid' }).apply(new LSTM({ units: 4, returnSequences: true }).apply(new Masking().apply(inp)));
  const model = new Model({ inputs: inp, outputs: out });
  model.compile({ optimizer: 'adam', loss: new Tversky({ alpha: 0.3, beta: 0.7, axis: [1, 2] }) });
  const x = tf.tensor3d([[[1, 2], [0.5, 0.1], [0, 0]], [[0.3, 0.3], [0, 0], [0, 0]]]);
  const y = tf.tensor3d([[[1, 0, 1], [0, 1, 0], [0, 0, 0]], [[1, 1, 0], [0, 0, 0], [0, 0, 0]]]);
  const h = await model.fit(x, y, { epochs: 3, verbose: 0 });
  assert.ok(h.history['loss']!.every(Number.isFinite));
  const loaded = await loadModelFromBytes(await saveModelToBytes(model));
  const a = (await model.evaluate(x, y, { verbose: 0 })) as number;
  const b = (await loaded.evaluate(x, y, { verbose: 0 })) as number;
  near(b, a, 'evaluate after loading', 1e-6);
  tf.dispose([x, y]);
  model.dispose();
  loaded.dispose();
});
