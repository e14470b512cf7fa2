// The deliberate departures from Keras that the attention, pooling, merge and
// convolution layers make (conformance README, "Deliberate departures"),
// each checked on small inputs whose expected values are worked out by hand
// in the comments, and against Keras's own number where Keras differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, getMask, withMask, SymbolicTensor, setMaskPolicy, setWarningHandler, Input, Model, Embedding, Add, Dense, MultiHeadAttention, Attention, LayerNormalization,
  GlobalAveragePooling1D, GlobalMaxPooling1D, Conv1D, AveragePooling1D, MaxPooling1D, Cropping1D, ZeroPadding1D, Dot, Softmax, Flatten,
} from '../src/index.js';
import { expectCode } from './attention_helpers.js';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) => b.forEach((v, i) => assert.ok(Math.abs(a[i]! - v) <= tol, `element ${i}: ${a[i]} != ${v}`));

test('departure 1: layers without mask support raise on a mask by default, and drop it with a warning under maskPolicy "warn"', () => {
  const ids = tf.tensor2d([[3, 1, 0, 0]], [1, 4], 'int32');
  const emb = new Embedding({ inputDim: 5, outputDim: 2, maskZero: true, name: 'emb' });
  const x = emb.apply(ids) as tf.Tensor;
  const layers = [
    new Conv1D({ filters: 2, kernelSize: 2 }), new AveragePooling1D({ poolSize: 2 }), new MaxPooling1D({ poolSize: 2 }),
    new Cropping1D({ cropping: [1, 1] }), new ZeroPadding1D({ padding: 1 }), new Flatten(),
  ];
  for (const l of layers) expectCode(() => l.apply(x), 'MASK_NOT_SUPPORTED', `'${l.name}'`, `(${l.className})`, "'emb'", 'maskPolicy');
  // Dot takes masks as Keras does (its output has none): contracting features, the masks are dropped.
  const dot = new Dot({ axes: -1 });
  assert.equal(getMask(dot.apply([x, x]) as tf.Tensor), null);
  const warnings: string[] = [];
  const restoreWarn = setWarningHandler((m) => warnings.push(m));
  const restorePolicy = setMaskPolicy('warn');
  try {
    for (const l of layers) {
      const y = l.apply(x) as tf.Tensor;
      assert.equal(getMask(y), null, `${l.className} drops the mask`);
    }
    assert.equal(warnings.length, layers.length);
    assert.ok(warnings.every((w) => w.includes('does not support masking')));
  } finally {
    setMaskPolicy(restorePolicy);
    setWarningHandler(restoreWarn);
  }
});

test('departure 2: GlobalMaxPooling1D takes the max over valid steps only (Keras includes the padding)', () => {
  // Row 0: valid values -3 and -1 then two padded steps holding 0 (as Masking leaves them): Keras max = 0, Masque max = -1.
  // Row 1: valid 2, padded 9: Keras 9, Masque 2. Row 2: no valid step: Masque gives 0.
  const x = tf.tensor3d([[[-3], [-1], [0], [0]], [[2], [9], [9], [9]], [[5], [6], [7], [8]]]);
  const mask = tf.tensor2d([[true, true, false, false], [true, false, false, false], [false, false, false, false]], [3, 4], 'bool');
  const y = new GlobalMaxPooling1D().apply(x, { mask }) as tf.Tensor;
  close(y.dataSync(), [-1, 2, 0]);
  assert.equal(getMask(y), null);
  const keepdims = new GlobalMaxPooling1D({ keepdims: true }).apply(x, { mask }) as tf.Tensor;
  assert.deepEqual(keepdims.shape, [3, 1, 1]);
  // Without a mask it is the plain max over time.
  close((new GlobalMaxPooling1D().apply(x) as tf.Tensor).dataSync(), [0, 9, 8]);
});

test('departure 3: GlobalAveragePooling1D gives 0 for a row with no valid step (Keras gives NaN), and NaN in padding never leaks', () => {
  // Row 0: mean of 1 and 3 = 2 (NaN in padding ignored). Row 1: no valid step -> 0.
  const x = tf.tensor3d([[[1, 10], [3, 20], [NaN, NaN]], [[4, 4], [5, 5], [6, 6]]]);
  const mask = tf.tensor2d([[true, true, false], [false, false, false]], [2, 3], 'bool');
  const y = new GlobalAveragePooling1D().apply(x, { mask }) as tf.Tensor;
  close(y.dataSync(), [2, 15, 0, 0]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(new GlobalAveragePooling1D().apply(v, { mask }) as tf.Tensor))(x);
  // d mean / d x = 1/2 at the two valid steps of row 0, 0 elsewhere (no NaN).
  close(g.dataSync(), [0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('departure 4: MultiHeadAttention keeps its inputs\' masks, so a residual Add and LayerNormalization keep the mask', () => {
  const ids = Input({ shape: [null], dtype: 'int32' });
  const x = new Embedding({ inputDim: 6, outputDim: 4, maskZero: true }).apply(ids);
  const attended = new MultiHeadAttention({ numHeads: 2, keyDim: 2 }).apply([x, x]) as SymbolicTensor;
  const out = new LayerNormalization().apply(new Add().apply([x, attended]));
  const model = new Model({ inputs: ids, outputs: out });
  const y = model.predict(tf.tensor2d([[1, 2, 0], [3, 0, 0]], [2, 3], 'int32')) as tf.Tensor;
  // Keras: no mask after Add (rule 16). Masque: the Embedding's mask, through Add (OR of equal masks) and LayerNormalization.
  assert.deepEqual(getMask(y)!.arraySync(), [[1, 1, 0], [1, 0, 0]]);
  model.dispose();
});

test('departure 4: two MultiHeadAttention layers reading one tensor both use its mask', () => {
  const raw = tf.randomNormal([2, 4, 3]);
  const mask = tf.tensor2d([[true, true, false, false], [true, true, true, false]], [2, 4], 'bool');
  const x = withMask(raw, mask);
  const a = new MultiHeadAttention({ numHeads: 1, keyDim: 2 });
  const b = new MultiHeadAttention({ numHeads: 1, keyDim: 2 });
  a.apply([x, x]);
  const second = b.apply([x, x]) as tf.Tensor;
  // Keras: the first call clears x's mask, so the second attends to the padding too.
  assert.ok(getMask(x) !== null, 'x keeps its mask');
  const explicit = b.apply([raw, raw], { queryMask: mask, valueMask: mask }) as tf.Tensor;
  const unmasked = b.apply([raw, raw]) as tf.Tensor;
  assert.deepEqual(second.arraySync(), explicit.arraySync());
  assert.deepEqual(getMask(second)!.arraySync(), mask.arraySync());
  assert.ok(tf.max(tf.abs(tf.sub(second, unmasked))).dataSync()[0]! > 1e-4, 'the mask changes the valid rows (the check has teeth)');
});

test('departure 4: an explicit queryMask is honoured (Keras ignores it)', () => {
  const x = tf.randomNormal([1, 3, 4]);
  const qm = tf.tensor2d([[true, false, true]], [1, 3], 'bool');
  const mha = new MultiHeadAttention({ numHeads: 2, keyDim: 2 });
  const [out, scores] = mha.apply([x, x], { queryMask: qm, returnAttentionScores: true }) as tf.Tensor[];
  assert.deepEqual(getMask(out!)!.arraySync(), [[1, 0, 1]]);
  // Scores [1, heads, T, S]: the masked query row (1) has all-zero weights; the valid rows are unchanged by the query mask.
  const s = scores!.arraySync() as number[][][][];
  for (const head of s[0]!) {
    assert.deepEqual(head[1], [0, 0, 0]);
    for (const row of [0, 2]) assert.ok(Math.abs(head[row]!.reduce((p, q) => p + q, 0) - 1) < 1e-6);
  }
  const plain = mha.apply([x, x]) as tf.Tensor;
  const o = out!.arraySync() as number[][][];
  const p = plain.arraySync() as number[][][];
  for (const row of [0, 2]) close(o[0]![row]!, p[0]![row]!, 1e-6);
});

test('Keras behaviour kept: Attention zeroes query-masked rows, Softmax rejects a [batch, time] mask on 3-D input, Dense passes the mask', () => {
  const x = tf.tensor3d([[[1, 0], [0, 1], [5, 5]]]);
  const qm = tf.tensor2d([[true, true, false]], [1, 3], 'bool');
  const y = new Attention().apply([x, x], { mask: [qm, qm] }) as tf.Tensor;
  close((y.arraySync() as number[][][])[0]![2]!, [0, 0]);
  expectCode(() => new Softmax().apply(x, { mask: qm }), 'MASK_SHAPE_MISMATCH', 'inputs.shape=[1, 3, 2]', 'mask.shape=[1, 3]');
  const dense = new Dense({ units: 2 });
  assert.equal(getMask(dense.apply(withMask(x, qm)) as tf.Tensor) !== null, true);
});
