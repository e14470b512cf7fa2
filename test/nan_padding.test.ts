// NaN (or any garbage) in the padding must not leak into valid outputs,
// the loss or any gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, LSTM, GRU, SimpleRNN, Bidirectional, Masking, Dense, Sequential, GlobalAveragePooling1D } from '../src/index.js';

const hasNaN = (t: tf.Tensor) => Array.from(t.dataSync()).some((v) => Number.isNaN(v));

test('recurrent layers: NaN at masked steps leaves outputs, input gradients and weight gradients finite', () => {
  const layers = [
    () => new LSTM({ units: 3, returnSequences: true }),
    () => new GRU({ units: 3 }),
    () => new GRU({ units: 3, resetAfter: false, goBackwards: true }),
    () => new Bidirectional({ layer: new SimpleRNN({ units: 2, returnSequences: true }) }),
  ];
  for (const make of layers) {
    const layer = make();
    const x = tf.tensor3d([[[1, 2], [NaN, NaN], [3, 1]], [[1, 1], [2, 2], [NaN, Infinity]]]);
    const mask = tf.tensor2d([[1, 0, 1], [1, 1, 0]], undefined, 'bool');
    const y = layer.apply(x, { mask }) as tf.Tensor;
    assert.ok(!hasNaN(y), `${layer.className}: NaN in the output`);
    const [gx] = tf.grads((a: tf.Tensor) => tf.sum(layer.apply(a, { mask }) as tf.Tensor))([x]);
    assert.ok(!hasNaN(gx!), `${layer.className}: NaN in the input gradient`);
    const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x, { mask }) as tf.Tensor) as tf.Scalar);
    for (const [name, g] of Object.entries(grads)) assert.ok(!hasNaN(g), `${layer.className}: NaN in the gradient of ${name}`);
    tf.dispose([x, mask, y, gx!, value, ...Object.values(grads)]);
    layer.dispose();
  }
});

test('a model trained on batches with NaN padding (Masking with maskValue NaN) gets finite losses and weights', async () => {
  const model = new Sequential({
    layers: [new Masking({ maskValue: NaN, inputShape: [null, 2] }), new LSTM({ units: 4, returnSequences: true }), new GlobalAveragePooling1D(), new Dense({ units: 1 })],
  });
  model.compile({ optimizer: 'adam', loss: 'mse' });
  const x = tf.tensor3d([[[1, 2], [NaN, NaN], [NaN, NaN]], [[1, 1], [2, 2], [0.5, 1]]]);
  const y = tf.tensor2d([[1], [0]]);
  const h = await model.fit(x, y, { epochs: 3, verbose: 0 });
  assert.ok(h.history['loss']!.every(Number.isFinite), `losses ${h.history['loss']}`);
  const weights = model.getWeights();
  for (const w of weights) assert.ok(!hasNaN(w), 'a weight became NaN');
  tf.dispose([x, y, ...weights]);
  model.dispose();
});

test('the plain-tfjs recurrence (activations the kernel lacks): NaN padding, and a masked step whose cell would overflow, leave the gradients finite and equal to the unpadded ones', () => {
  // gelu and exponential are not in the fused kernel: these run rnnReference.
  const layers: [() => LSTM | GRU | SimpleRNN, boolean][] = [
    [() => new LSTM({ units: 3, activation: 'gelu' }), false],
    [() => new GRU({ units: 3, recurrentActivation: 'gelu' }), false],
    [() => new SimpleRNN({ units: 3, activation: 'exponential', goBackwards: true }), true],
  ];
  for (const [make, backwards] of layers) {
    const layer = make();
    // Two valid steps with large values, and one masked step processed last
    // (post-padding; pre-padding for goBackwards) holding NaN: on the carried
    // state the cell overflows (exp) or meets NaN, and its result is dropped.
    const valid = [[3, 2.5], [2, 3]];
    const steps = backwards ? [[NaN, NaN], ...valid] : [...valid, [NaN, NaN]];
    const x = tf.tensor3d([steps]);
    const mask = tf.tensor2d([backwards ? [0, 1, 1] : [1, 1, 0]], undefined, 'bool');
    layer.apply(tf.tensor3d([valid]));
    // SimpleRNN: h = exp(33.25) after the valid steps, so exp(h U) on the carried h is Inf.
    for (const w of layer.weights) w.variable.assign(tf.mul(tf.onesLike(w.variable), 0.5));
    const vars = layer.trainableWeights.map((w) => w.variable);
    const padded = tf.variableGrads(() => tf.sum(layer.apply(x, { mask }) as tf.Tensor) as tf.Scalar, vars);
    const plain = tf.variableGrads(() => tf.sum(layer.apply(tf.tensor3d([valid])) as tf.Tensor) as tf.Scalar, vars);
    assert.equal(padded.value.dataSync()[0], plain.value.dataSync()[0], `${layer.className}: the output moved with the padding`);
    for (const v of vars) {
      const a = padded.grads[v.name]!;
      const b = plain.grads[v.name]!;
      assert.ok(!hasNaN(a), `${layer.className}: NaN in the gradient of ${v.name}`);
      assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), `${layer.className}: the gradient of ${v.name} moved with the padding`);
    }
    const [gx] = tf.grads((a: tf.Tensor) => tf.sum(layer.apply(a, { mask }) as tf.Tensor))([x]);
    assert.ok(!hasNaN(gx!), `${layer.className}: NaN in the input gradient`);
    layer.dispose();
  }
});
