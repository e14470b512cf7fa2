// ConvLSTM1D: the Keras 3.15.1 cases of test/fixtures/keras-3.15.1-convlstm
// (gen_convlstm.py: every option that changes its arithmetic, masked
// batches, models; their gradients against float64 Keras are in
// test/conformance_gradients.test.ts), then what Keras does not check:
// padding invariance, NaN in the padding, errors, training, memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { tf, ready, Input, Model, Masking, ConvLSTM1D, Flatten, Dense, getMask } from '../src/index.js';
import { runConformance } from './conformance/runner.js';
import { expectCode, normals, rng } from './helpers.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-convlstm', import.meta.url));
const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

test('the Keras cases of ConvLSTM1D pass (strides, same, dilation, channels_first, go_backwards with states, activations, masks, Bidirectional)', async () => {
  await ready();
  const results = await runConformance(dir);
  assert.equal(results.length, 14);
  for (const r of results) assert.equal(r.status, 'pass', `${r.name}: ${r.message}`);
});

/** Frames [3, t, 6, 2]: rows valid for 4, 2 and 0 steps, the padding filled with `pad`; and the mask. */
function frames(t: number, pad: number): { x: tf.Tensor; mask: tf.Tensor } {
  const r = rng(21);
  const lengths = [4, 2, 0];
  const data: number[] = [];
  const m: boolean[] = [];
  for (let b = 0; b < 3; b++) {
    for (let s = 0; s < t; s++) {
      const valid = s < lengths[b]!;
      m.push(valid);
      // Random numbers for valid steps only, so the valid data is the same for every t.
      const v = valid ? normals(r, 12) : [];
      for (let k = 0; k < 12; k++) data.push(valid ? v[k]! : pad);
    }
  }
  return { x: tf.tensor4d(data, [3, t, 6, 2]), mask: tf.tensor2d(m, [3, t], 'bool') };
}

test('ConvLSTM1D: more padding, holding NaN, changes no valid output, no state and no weight gradient', async () => {
  await ready();
  for (const opts of [{ returnSequences: true }, { goBackwards: true, returnState: true }, { padding: 'same' as const, strides: 2, returnSequences: true }]) {
    const layer = new ConvLSTM1D({ filters: 3, kernelSize: 2, ...opts });
    layer.maybeBuild([3, null, 6, 2]);
    const run = (t: number, pad: number) => {
      const { x, mask } = frames(t, pad);
      const f = () => {
        const y = layer.apply(x, { mask }) as tf.Tensor | tf.Tensor[];
        const ys = Array.isArray(y) ? y : [y];
        const first = ys[0]!.rank === 4 ? tf.slice(ys[0]!, [0, 0, 0, 0], [3, 4, -1, -1]) : ys[0]!;
        return tf.add(tf.sum(tf.mul(first, first)), ys.slice(1).reduce((s, st) => tf.add(s, tf.sum(st)), tf.scalar(0)));
      };
      const { value, grads } = tf.variableGrads(f as () => tf.Scalar, layer.trainableWeights.map((w) => w.variable));
      const out = { value: value.dataSync()[0]!, grads: Object.values(grads).map((g) => Array.from(g.dataSync())) };
      tf.dispose([x, mask, value, ...Object.values(grads)]);
      return out;
    };
    const a = run(4, 0);
    const b = run(7, NaN);
    assert.ok(Math.abs(a.value - b.value) <= 1e-5 * Math.max(1, Math.abs(a.value)), `${JSON.stringify(opts)}: ${a.value} vs ${b.value}`);
    a.grads.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - b.grads[i]![j]!) <= 1e-5 * Math.max(1, Math.abs(v)), `${JSON.stringify(opts)} grad ${i}[${j}]: ${v} vs ${b.grads[i]![j]}`)));
    layer.dispose();
  }
});

test('ConvLSTM1D: a masked step repeats the previous output; a fully masked row outputs zeros and keeps zero states; the mask passes with returnSequences', async () => {
  await ready();
  const layer = new ConvLSTM1D({ filters: 2, kernelSize: 3, padding: 'same', returnSequences: true, returnState: true });
  const { x, mask } = frames(5, 0);
  const [y, h] = layer.apply(x, { mask }) as tf.Tensor[];
  assert.ok(maxDiff(tf.slice(y!, [1, 2, 0, 0], [1, 1, -1, -1]), tf.slice(y!, [1, 1, 0, 0], [1, 1, -1, -1])) === 0);
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.slice(y!, [2, 0, 0, 0], [1, -1, -1, -1]))).dataSync()[0]!) === 0);
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.slice(h!, [2, 0, 0], [1, -1, -1]))).dataSync()[0]!) === 0);
  assert.deepEqual(getMask(y!)!.arraySync(), mask.arraySync());
  tf.dispose([x, mask, y!, h!]);
  layer.dispose();
});

test('ConvLSTM1D: errors name what was wrong', async () => {
  await ready();
  expectCode(() => new ConvLSTM1D({ filters: 2, kernelSize: 2 }).apply(tf.ones([2, 3, 4])), 'INPUT_SHAPE_MISMATCH', '[batch, time, length, channels]');
  expectCode(() => new ConvLSTM1D({ filters: 2, kernelSize: 2, stateful: true }).apply(Input({ shape: [null, 4, 1] })), 'INVALID_CONFIG', 'stateful', 'fixed batch size');
  expectCode(() => new ConvLSTM1D({ filters: 2, kernelSize: 2, strides: 2, dilationRate: 2 }), 'INVALID_ARGUMENT', 'strides', 'dilationRate');
  expectCode(() => new ConvLSTM1D({ filters: 2, kernelSize: 5 }).apply(tf.ones([1, 2, 3, 1])), 'INPUT_SHAPE_MISMATCH', 'window');
  const l = new ConvLSTM1D({ filters: 2, kernelSize: 2 });
  expectCode(() => l.apply(tf.ones([2, 3, 4, 1]), { initialState: [tf.zeros([2, 3, 2])] }), 'INVALID_ARGUMENT', 'initialState', '(h, c)');
  expectCode(() => l.apply(tf.ones([2, 3, 4, 1]), { mask: tf.ones([2, 4], 'bool') }), 'MASK_SHAPE_MISMATCH');
  // Masking on frames masks [batch, time, length]: Keras's ConvLSTM1D cannot take that mask either.
  const inp = Input({ shape: [null, 4, 1] });
  expectCode(() => new ConvLSTM1D({ filters: 2, kernelSize: 2 }).apply(new Masking().apply(inp)), 'MASK_SHAPE_MISMATCH', '[batch, time]');
});

test('ConvLSTM1D: a model trains (loss falls) and predict and fit leak nothing', async () => {
  await ready();
  const inp = Input({ shape: [null, 6, 2] });
  const model = new Model({ inputs: inp, outputs: new Dense({ units: 1 }).apply(new Flatten().apply(new ConvLSTM1D({ filters: 3, kernelSize: 3, padding: 'same' }).apply(inp))) });
  model.compile({ optimizer: 'adam', loss: 'mse' });
  const { x } = frames(4, 0);
  const y = tf.tensor2d([[1], [-1], [0.5]]);
  const first = await model.fit(x, y, { epochs: 1, verbose: 0 });
  const before = tf.memory().numTensors;
  let last = first;
  for (let i = 0; i < 5; i++) last = await model.fit(x, y, { epochs: 3, verbose: 0 });
  tf.dispose(model.predict(x));
  assert.equal(tf.memory().numTensors, before);
  assert.ok(last.history['loss']!.at(-1)! < first.history['loss']![0]!);
  tf.dispose([x, y]);
  model.dispose();
});
