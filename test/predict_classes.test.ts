// model.predictClasses: the argmax over the last axis of the model's one
// output, with its mask; from a final Dense softmax (or linear) layer's
// logits without the softmax, through the kernel on Node's wasm backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, Input, Embedding, Dense, LSTM, Bidirectional, Activation, GlobalAveragePooling1D, Lambda, Model, Sequential, SymbolicTensor, getMask, padSequences, setKernelThreads,
} from '../src/index.js';
import { withForcedSplit } from '../src/ops/rnn/parallel.js';
import { expectCode, onWasmAndCpu } from './helpers.js';

const VOCAB = 40;
const TAGS = 13;

/** The tagger's shape, small: Embedding(maskZero) -> BiLSTM(returnSequences) -> Dense(activation) at every step. */
function tagger(activation: 'softmax' | 'linear' | 'relu' | 'sigmoid' = 'softmax'): Sequential {
  const m = new Sequential({
    layers: [
      new Embedding({ inputDim: VOCAB, outputDim: 8, maskZero: true, inputShape: [null] }),
      new Bidirectional({ layer: new LSTM({ units: 6, returnSequences: true }) }),
      new Dense({ units: TAGS, activation }),
    ],
  });
  // Larger weights than the initializers give, so that the classes vary along the sentences.
  m.setWeights(m.getWeights().map((w, i) => tf.mul(tf.randomNormal(w.shape, 0, 1, 'float32', 100 + i), 1.5)));
  return m;
}

const sentences = Array.from({ length: 23 }, (_, i) => Array.from({ length: 1 + ((i * 7) % 11) }, (_, j) => 1 + ((i * 13 + j * 5) % (VOCAB - 1))));

function argmaxOfPredict(model: Model, x: tf.Tensor): { classes: number[]; mask: number[] } {
  return tf.tidy(() => {
    const y = model.predict(x) as tf.Tensor;
    const m = getMask(y);
    return { classes: Array.from(tf.argMax(y, -1).dataSync()), mask: m === null ? [] : Array.from(m.dataSync()) };
  });
}

test('a tagger (Embedding -> BiLSTM -> Dense softmax): int32 classes [batch, steps], the argmax of predict, with the same mask', () => {
  const model = tagger();
  const x = padSequences(sentences, { padding: 'post' });
  for (const threads of [1, 2]) {
    setKernelThreads(threads);
    try {
      const want = argmaxOfPredict(model, x);
      const c = model.predictClasses(x, { batchSize: 8 });
      assert.equal(c.dtype, 'int32');
      assert.deepEqual(c.shape, x.shape);
      assert.deepEqual(Array.from(c.dataSync()), want.classes, `threads ${threads}`);
      assert.ok(new Set(want.classes).size > 3, 'the classes vary (the test can tell a wrong row)');
      const m = getMask(c);
      assert.ok(m !== null, 'the output mask is attached');
      assert.deepEqual(Array.from(m.dataSync()), want.mask);
      tf.dispose([c]);
    } finally {
      setKernelThreads();
    }
  }
  x.dispose();
  model.dispose();
});

test('on the cpu backend too (tfjs ops on the logits): the argmax of predict, with its mask', async () => {
  await onWasmAndCpu(() => {
    const model = tagger();
    const x = padSequences(sentences, { padding: 'post' });
    const want = argmaxOfPredict(model, x);
    const c = model.predictClasses(x, { batchSize: 8 });
    assert.equal(c.dtype, 'int32');
    assert.deepEqual(Array.from(c.dataSync()), want.classes, tf.getBackend());
    assert.deepEqual(Array.from(getMask(c)!.dataSync()), want.mask);
    tf.dispose([c, x]);
    model.dispose();
  });
});

test('the final Dense computes no softmax, and on the wasm backend its logits stay in the kernel, split over two threads', () => {
  const model = tagger();
  const x = padSequences(sentences, { padding: 'post' });
  const want = argmaxOfPredict(model, x);
  const dense = model.layers[model.layers.length - 1] as Dense;
  const calls = { call: 0 };
  const call = dense.call.bind(dense);
  dense.call = (t: tf.Tensor) => (calls.call++, call(t));
  try {
    const c = withForcedSplit(2, () => model.predictClasses(x));
    assert.deepEqual(Array.from(c.dataSync()), want.classes);
    assert.equal(calls.call, 0, "the Dense layer's call (and its softmax) did not run");
    c.dispose();
  } finally {
    dense.call = call;
  }
  x.dispose();
  model.dispose();
});

test('padding does not change the classes of real steps: more padding, pre padding, a { sequences } dataset', () => {
  const model = tagger();
  const post = padSequences(sentences, { padding: 'post' });
  const longer = padSequences(sentences, { padding: 'post', maxlen: 30 });
  const pre = padSequences(sentences, { padding: 'pre' });
  const [a, b, p] = [post, longer, pre].map((x) => model.predictClasses(x));
  const ds = model.predictClasses({ sequences: sentences }, { batchSize: 5 });
  const real = (t: tf.Tensor, side: 'pre' | 'post') => {
    const v = t.dataSync();
    const steps = t.shape[1]!;
    return sentences.map((s, i) => Array.from(v.subarray(i * steps + (side === 'post' ? 0 : steps - s.length), i * steps + (side === 'post' ? s.length : steps))));
  };
  const want = real(a!, 'post');
  assert.deepEqual(real(b!, 'post'), want, 'padded to 30 steps');
  assert.deepEqual(real(p!, 'pre'), want, 'pre padding');
  assert.deepEqual(real(ds, 'post'), want, 'a { sequences } dataset, bucketed in batches of 5');
  assert.deepEqual(ds.shape, a!.shape);
  tf.dispose([post, longer, pre, a!, b!, p!, ds]);
  model.dispose();
});

test('other endings take the argmax of the output: a relu or sigmoid Dense, a separate softmax Activation, pooling, a nested model', () => {
  const x = padSequences(sentences, { padding: 'post' });
  for (const act of ['linear', 'relu', 'sigmoid'] as const) {
    const model = tagger(act);
    const want = argmaxOfPredict(model, x);
    const c = model.predictClasses(x);
    assert.deepEqual(Array.from(c.dataSync()), want.classes, act);
    tf.dispose(c);
    model.dispose();
  }
  const inp = Input({ shape: [null], dtype: 'int32' });
  const h = new Bidirectional({ layer: new LSTM({ units: 5, returnSequences: true }) }).apply(new Embedding({ inputDim: VOCAB, outputDim: 4, maskZero: true }).apply(inp)) as SymbolicTensor;
  const inner = new Sequential({ layers: [new Dense({ units: 9, inputShape: [null, 10] }), new Activation({ activation: 'softmax' })] });
  const models = [
    new Model({ inputs: inp, outputs: new Activation({ activation: 'softmax' }).apply(new Dense({ units: 7 }).apply(h)) as SymbolicTensor }),
    new Model({ inputs: inp, outputs: new Dense({ units: 6, activation: 'softmax' }).apply(new GlobalAveragePooling1D().apply(h)) as SymbolicTensor }),
    new Model({ inputs: inp, outputs: inner.apply(h) as SymbolicTensor }),
  ];
  for (const [i, model] of models.entries()) {
    const want = argmaxOfPredict(model, x);
    const c = model.predictClasses(x);
    assert.deepEqual(Array.from(c.dataSync()), want.classes, `model ${i}`);
    const m = getMask(c);
    assert.deepEqual(m === null ? [] : Array.from(m.dataSync()), want.mask, `model ${i}: mask`);
    if (i === 1) assert.deepEqual(c.shape, [sentences.length], 'pooled: one class per sentence');
    tf.dispose(c);
  }
  x.dispose();
});

test('ties go to the first class, as tf.argMax: a Dense softmax with two equal columns', () => {
  const model = new Sequential({ layers: [new Dense({ units: 4, activation: 'softmax', inputShape: [3] })] });
  // Columns 1 and 2 are equal and largest for positive inputs.
  model.setWeights([tf.tensor2d([[0, 2, 2, 1], [0, 2, 2, 1], [0, 2, 2, 1]]), tf.zeros([4])]);
  const x = tf.tensor2d([[1, 1, 1], [0.5, 0.1, 0.2], [-1, -1, -1]]);
  const c = model.predictClasses(x);
  assert.deepEqual(Array.from(c.dataSync()), [1, 1, 0]);
  assert.deepEqual(Array.from(c.dataSync()), Array.from(tf.argMax(model.predict(x) as tf.Tensor, -1).dataSync()));
  tf.dispose([x, c]);
  model.dispose();
});

test('clear errors: a model with two outputs, an output without a class axis, bad options', () => {
  const inp = Input({ shape: [4] });
  const two = new Model({ inputs: inp, outputs: [new Dense({ units: 3 }).apply(inp), new Dense({ units: 2 }).apply(inp)] as SymbolicTensor[] });
  const x = tf.ones([2, 4]);
  expectCode(() => two.predictClasses(x), 'INVALID_ARGUMENT', 'has 2 outputs', 'tf.argMax');
  const flat = new Model({ inputs: inp, outputs: new Lambda({ fn: (t) => tf.sum(t as tf.Tensor, -1) }).apply(inp) as SymbolicTensor });
  expectCode(() => flat.predictClasses(x), 'INPUT_SHAPE_MISMATCH', 'rank 2 or more', '[2]');
  const one = new Sequential({ layers: [new Dense({ units: 3, inputShape: [4] })] });
  expectCode(() => one.predictClasses(x, { batchSize: 0 }), 'INVALID_ARGUMENT', 'predictClasses', 'batchSize');
  expectCode(() => one.predictClasses(x, { batchsize: 2 } as never), 'INVALID_ARGUMENT', "unknown option 'batchsize'", 'batchSize');
  x.dispose();
});

test('no tensors leak across repeated calls', () => {
  const model = tagger();
  const x = padSequences(sentences, { padding: 'post' });
  const run = () => tf.dispose(model.predictClasses(x, { batchSize: 7 }));
  run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) run();
  withForcedSplit(2, run);
  tf.dispose(model.predictClasses({ sequences: sentences }));
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  model.dispose();
});
