import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, Input, Masking, Embedding, Dense, Flatten, Reshape, LayerNormalization, Activation, ReLU, Model, Sequential, MasqueError,
  getMask, modelFromKerasConfig,
} from '../src/index.js';

function expectCode(fn: () => unknown, code: string, ...words: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MasqueError, `expected MasqueError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const w of words) assert.ok(e.message.includes(w), `message should mention ${JSON.stringify(w)}: ${e.message}`);
    return true;
  });
}

test('Sequential builds from inputShape, from an added Input, or on its first call', () => {
  const a = new Sequential({ layers: [new Dense({ units: 3, inputShape: [4] }), new Dense({ units: 1 })] });
  assert.equal(a.built, true);
  assert.deepEqual(a.outputShape, [null, 1]);
  const b = new Sequential();
  b.add(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true }));
  b.add(new Dense({ units: 2 }));
  assert.equal(b.built, false);
  const x = tf.tensor2d([[1, 2, 0]], undefined, 'int32');
  const y = b.apply(x) as tf.Tensor;
  assert.equal(b.built, true);
  assert.deepEqual(y.shape, [1, 3, 2]);
  assert.ok(getMask(y) !== null);
  // a lazily built Sequential accepts other sequence lengths
  const y2 = b.predict([[1, 2, 3, 4, 0]]) as tf.Tensor;
  assert.deepEqual(y2.shape, [1, 5, 2]);
  tf.dispose([x, y, y2]);
});

test('weights follow Keras order and paths; setWeights checks count and shapes', () => {
  const m = new Sequential({ name: 'seq', layers: [new Dense({ units: 3, inputShape: [2], name: 'd1' }), new LayerNormalization({ name: 'ln' })] });
  assert.deepEqual(m.weightPaths(), ['seq/d1/kernel', 'seq/d1/bias', 'seq/ln/gamma', 'seq/ln/beta']);
  const w = m.getWeights();
  assert.deepEqual(w.map((t) => t.shape), [[2, 3], [3], [3], [3]]);
  m.setWeights([tf.ones([2, 3]), tf.zeros([3]), tf.ones([3]), tf.zeros([3])]);
  assert.deepEqual(Array.from(m.getWeights()[0]!.dataSync()), [1, 1, 1, 1, 1, 1]);
  expectCode(() => m.setWeights([tf.ones([2, 3])]), 'WEIGHT_COUNT_MISMATCH', 'expected 4', 'received 1');
  expectCode(() => m.setWeights([tf.ones([3, 2]), tf.zeros([3]), tf.ones([3]), tf.zeros([3])]), 'WEIGHT_SHAPE_MISMATCH', 'seq/d1/kernel'.slice(4), '[2, 3]', '[3, 2]');
  const i = Input({ shape: [2] });
  const f = new Model({ inputs: i, outputs: new Dense({ units: 1, name: 'out' }).apply(i) });
  assert.deepEqual(f.weightPaths(), ['out/kernel', 'out/bias']);
});

test('functional models: several inputs and outputs, errors for disconnected graphs and duplicate names', () => {
  const a = Input({ shape: [3] });
  const b = Input({ shape: [3] });
  const h = new Dense({ units: 2, name: 'shared' });
  const m = new Model({ inputs: [a, b], outputs: [h.apply(a), h.apply(b)] });
  const out = m.predict([tf.ones([2, 3]), tf.zeros([2, 3])]) as tf.Tensor[];
  assert.equal(out.length, 2);
  assert.deepEqual(out[1]!.arraySync(), [[0, 0], [0, 0]]);
  const c = Input({ shape: [3], name: 'stray' });
  expectCode(() => new Model({ inputs: a, outputs: h.apply(c) }), 'GRAPH_DISCONNECTED', "'stray'");
  expectCode(() => new Model({ inputs: a, outputs: new Dense({ units: 1, name: 'x' }).apply(new Dense({ units: 1, name: 'x' }).apply(a)) }), 'INVALID_ARGUMENT', "'x' appears twice");
  expectCode(() => m.predict([tf.ones([2, 4]), tf.ones([2, 3])]), 'INPUT_SHAPE_MISMATCH', '[null, 3]', '[2, 4]');
  tf.dispose(out);
});

test('predict: nested arrays, batching that keeps masks, clear errors for ragged input, no leaks', () => {
  const i = Input({ shape: [null], dtype: 'int32' });
  const m = new Model({ inputs: i, outputs: new Dense({ units: 2 }).apply(new Embedding({ inputDim: 9, outputDim: 3, maskZero: true }).apply(i)) });
  const data = [[1, 2, 0], [3, 0, 0], [4, 5, 6], [7, 0, 0], [8, 8, 0]];
  const whole = m.predict(data, { batchSize: 100 }) as tf.Tensor;
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) {
    const parts = m.predict(data, { batchSize: 2 }) as tf.Tensor;
    assert.deepEqual(parts.arraySync(), whole.arraySync());
    assert.deepEqual(getMask(parts)!.arraySync(), getMask(whole)!.arraySync());
    parts.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  expectCode(() => m.predict([[1, 2], [3]]), 'INVALID_INPUT', 'rectangular', 'padSequences');
  expectCode(() => m.predict(data, { batchSize: 0 }), 'INVALID_ARGUMENT', 'batchSize');
  whole.dispose();
});

test('Flatten and Reshape do not support masks; Reshape checks sizes', () => {
  const f = new Flatten();
  const r = new Reshape({ targetShape: [2, -1] });
  assert.equal(f.supportsMasking, false);
  assert.equal(r.supportsMasking, false);
  const x = tf.zeros([2, 3, 4]);
  assert.deepEqual((r.apply(x) as tf.Tensor).shape, [2, 2, 6]);
  expectCode(() => new Reshape({ targetShape: [5] }).apply(x), 'INPUT_SHAPE_MISMATCH', '[5]');
  expectCode(() => new Reshape({ targetShape: [-1, -1] }), 'INVALID_ARGUMENT', 'targetShape');
  assert.deepEqual((new ReLU({ maxValue: 1, negativeSlope: 0.5 }).apply(tf.tensor1d([-2, 0.5, 3])) as tf.Tensor).arraySync(), [-1, 0.5, 1]);
  expectCode(() => new Activation({ activation: 'nope' }), 'UNKNOWN_NAME', 'nope', 'relu');
  tf.dispose(x);
});

test('summary shows shapes, parameter counts and what each layer does with the mask', () => {
  const i = Input({ shape: [null], dtype: 'int32' });
  const e = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'emb' }).apply(i);
  const d = new Dense({ units: 3, name: 'proj' }).apply(e);
  const m = new Model({ inputs: i, outputs: d, name: 'demo' });
  const lines: string[] = [];
  m.summary((s) => lines.push(s));
  const text = lines.join('\n');
  assert.match(text, /emb \(Embedding\)\s+\(None, None, 4\)\s+40\s+makes/);
  assert.match(text, /proj \(Dense\)\s+\(None, None, 3\)\s+15\s+passes/);
  assert.match(text, /Total params: 55/);
  const i2 = Input({ shape: [4], dtype: 'int32' });
  const m2 = new Model({ inputs: i2, outputs: new Flatten({ name: 'fl' }).apply(new Embedding({ inputDim: 10, outputDim: 2, maskZero: true }).apply(i2)), maskPolicy: 'ignore' });
  assert.match(m2.summary(() => {}), /fl \(Flatten\)\s+\(None, 8\)\s+0\s+drops/);
  const i3 = Input({ shape: [4, 2] });
  assert.match(new Model({ inputs: i3, outputs: new Masking().apply(i3) }).summary(() => {}), /masking \(Masking\)\s+\(None, 4, 2\)\s+0\s+makes/);
});

test('Keras import: clear errors for unknown classes, bad JSON, unsupported settings and missing weights', () => {
  const cfg = (layers: unknown[]) => ({
    class_name: 'Sequential',
    config: { name: 'sequential', layers: [{ class_name: 'InputLayer', config: { batch_shape: [null, 3], dtype: 'float32', name: 'input_layer' } }, ...layers] },
  });
  expectCode(() => modelFromKerasConfig(cfg([{ class_name: 'Frobnicate', config: { name: 'frob' } }])), 'UNKNOWN_LAYER_CLASS', "'Frobnicate'", "'frob'", 'Dense');
  expectCode(() => modelFromKerasConfig('{"class_name": '), 'INVALID_CONFIG', 'not valid JSON');
  expectCode(() => modelFromKerasConfig(cfg([{ class_name: 'Dense', config: { name: 'd', units: 2, kernel_regularizer: { class_name: 'L2' } } }])), 'UNSUPPORTED_CONFIG', 'kernel_regularizer');
  const m = modelFromKerasConfig(cfg([{ class_name: 'Dense', config: { name: 'd', units: 2, activation: 'relu', use_bias: true } }]));
  assert.deepEqual(m.weightPaths(), ['sequential/d/kernel', 'sequential/d/bias']);
  expectCode(() => modelFromKerasConfig(cfg([{ class_name: 'Dense', config: { name: 'd', units: 2 } }]), [{ name: 'sequential/d/kernel', shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }]), 'WEIGHT_MISSING', 'sequential/d/bias');
  expectCode(() => modelFromKerasConfig({ class_name: 'Dense', config: {} }), 'UNKNOWN_LAYER_CLASS', 'Sequential or Functional');
});
