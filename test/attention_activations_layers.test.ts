// The layers of issue 14 on small inputs: EinsumDense's equations against a
// plain einsum and Keras's shape analysis, GroupQueryAttention against
// MultiHeadAttention with repeated key/value heads, the departures 18-21 of docs/keras.md on
// hand-computed values, option errors, and layer losses, regularizers and
// constraints in training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, getMask, collectLosses, Input, Model, Masking, Dense, GlobalAveragePooling1D, MultiHeadAttention, GroupQueryAttention, GroupedQueryAttention,
  AdditiveAttention, EinsumDense, PReLU, ActivityRegularization, Dot, ReversibleEmbedding, SpatialDropout1D, LeakyReLU, ELU, Dropout, AlphaDropout, type SymbolicTensor,
} from '../src/index.js';
import { einsumDense, einsumDenseShapes, parseEinsum } from '../src/ops/einsum_ops.js';
import { repeatHeads } from '../src/ops/grouped_attention_ops.js';
import { assertClose, normals, rng, expectCode } from './attention_helpers.js';

/** A plain einsum over every assignment of the labels (small tensors only). */
function naiveEinsum(eq: string, x: tf.Tensor, w: tf.Tensor): number[] {
  const [lhs, out] = eq.split('->') as [string, string];
  const [xs, ws] = lhs.split(',') as [string, string];
  const elided = x.rank - xs.replace('...', '').length;
  const extra = Array.from({ length: elided }, (_, i) => String(i)).join('');
  const expand = (s: string) => s.replace('...', extra);
  const [xl, wl, zl] = [expand(xs), ws, expand(out)];
  const size = new Map<string, number>();
  [...xl].forEach((c, i) => size.set(c, x.shape[i]!));
  [...wl].forEach((c, i) => size.set(c, w.shape[i]!));
  const labels = [...size.keys()];
  const xv = x.dataSync();
  const wv = w.dataSync();
  const zShape = [...zl].map((c) => size.get(c)!);
  const z = new Array<number>(zShape.reduce((a, b) => a * b, 1)).fill(0);
  const flat = (ls: string, at: Map<string, number>, shape: number[]) => [...ls].reduce((acc, c, i) => acc * shape[i]! + at.get(c)!, 0);
  const walk = (k: number, at: Map<string, number>): void => {
    if (k === labels.length) {
      z[flat(zl, at, zShape)]! += xv[flat(xl, at, x.shape)]! * wv[flat(wl, at, w.shape)]!;
      return;
    }
    for (let i = 0; i < size.get(labels[k]!)!; i++) walk(k + 1, new Map(at).set(labels[k]!, i));
  };
  walk(0, new Map());
  return z;
}

test('einsumDense equals a plain einsum, and its shapes are Keras\'s (_analyze_einsum_string)', () => {
  const r = rng(3);
  // [equation, bias axes, input shape, output shape] -> Keras 3.15.1's kernel, bias and output shapes.
  const cases: [string, string | null, number[], (number | null)[], number[], number[] | null, (number | null)[]][] = [
    ['btf,fu->btu', null, [2, 7, 3], [7, 2], [3, 2], null, [2, 7, 2]],
    ['abc,cde->abde', 'de', [2, 5, 4], [null, 2, 3], [4, 2, 3], [2, 3], [2, 5, 2, 3]],
    ['abcd,cde->abe', 'e', [2, 5, 2, 3], [null, 4], [2, 3, 4], [4], [2, 5, 4]],
    ['...b,bc->...c', 'c', [2, 5, 3], [2], [3, 2], [2], [2, 5, 2]],
    ['ab...,bc->ac...', 'c', [2, 3, 5, 6], [4], [3, 4], [4, 1, 1], [2, 4, 5, 6]],
    ['abc,cd->ad', 'd', [2, 5, 3], [2], [3, 2], [2], [2, 2]],
    ['abc,bcd->abd', 'bd', [2, 5, 3], [5, 2], [5, 3, 2], [5, 2], [2, 5, 2]],
    ['...b,bc->...c', null, [2, 3], [2], [3, 2], null, [2, 2]],
  ];
  for (const [eq, bias, inShape, outShape, kernel, biasShape, full] of cases) {
    const p = parseEinsum(eq, 'test');
    const shapes = einsumDenseShapes(p, bias, [null, ...inShape.slice(1)], outShape, 'test');
    assert.deepEqual(shapes.kernel, kernel, `${eq} kernel`);
    assert.deepEqual(shapes.bias, biasShape, `${eq} bias`);
    assert.deepEqual(shapes.output.slice(1), full.slice(1), `${eq} output`);
    tf.tidy(() => {
      const x = tf.tensor(normals(r, inShape.reduce((a, b) => a * b, 1)), inShape);
      const w = tf.tensor(normals(r, kernel.reduce((a, b) => a * b, 1)), kernel);
      const y = einsumDense(p, x, w);
      assert.deepEqual(y.shape, full, `${eq} result shape`);
      assertClose(y.dataSync(), naiveEinsum(eq, x, w), 1e-5, eq);
    });
  }
  expectCode(() => parseEinsum('ab,bc', 'EinsumDense \'e\''), 'INVALID_ARGUMENT', "'ab,bc'", "EinsumDense 'e'");
  expectCode(() => einsumDenseShapes(parseEinsum('abc,cd->abd', 'e'), 'x', [null, 5, 3], [5, 2], 'e'), 'INPUT_SHAPE_MISMATCH', "bias dimension 'x'");
});

test('EinsumDense: weights, bias and activation; a masked input raises (Keras drops the mask)', () => {
  const layer = new EinsumDense({ equation: 'btf,fu->btu', outputShape: [null, 2], biasAxes: 'u', activation: 'relu', kernelInitializer: 'ones', biasInitializer: { className: 'Constant', config: { value: -1 } } });
  const y = layer.apply(tf.tensor3d([[[1, 2], [0, 0.25]]])) as tf.Tensor;
  assert.deepEqual(layer.weights.map((w) => [w.path, w.shape]), [['einsum_dense/kernel', [2, 2]], ['einsum_dense/bias', [2]]]);
  assertClose(y.dataSync(), [2, 2, 0, 0], 1e-6, 'relu(x @ 1 - 1)');
  assert.deepEqual(layer.getConfig()['outputShape'], [null, 2]);
  const m = new Masking().apply(tf.tensor3d([[[1, 2], [0, 0]]])) as tf.Tensor;
  expectCode(() => layer.apply(m), 'MASK_NOT_SUPPORTED', '(EinsumDense)', "'masking'");
  expectCode(() => new EinsumDense({ equation: 'btf,fu->btu', outputShape: 2, biasAxes: 'u' }).apply(tf.zeros([1, 2, 3])), 'INPUT_SHAPE_MISMATCH', 'rank 3');
});

test('GroupQueryAttention equals MultiHeadAttention with each key/value head repeated, on both softmax paths', () => {
  const r = rng(11);
  for (const [u, v, h] of [[2, 2, 3], [4, 2, 2], [3, 1, 2]] as const) {
    const gqa = new GroupQueryAttention({ headDim: h, numQueryHeads: u, numKeyValueHeads: v, biasInitializer: 'glorotUniform' });
    const mha = new MultiHeadAttention({ numHeads: u, keyDim: h, biasInitializer: 'glorotUniform' });
    const x = tf.tensor3d(normals(r, 2 * 4 * 3), [2, 4, 3]);
    const mask = tf.tensor2d([[true, true, true, false], [false, true, true, true]], [2, 4], 'bool');
    gqa.apply([x, x]);
    mha.apply([x, x]);
    // GQA weights [q kernel, q bias, k kernel, k bias, v kernel, v bias, o kernel, o bias]; MHA's the same with u key/value heads.
    const w = gqa.getWeights();
    const rep = (t: tf.Tensor) => repeatHeads(t, u / v);
    mha.setWeights([w[0]!, w[1]!, rep(w[2]!), rep(w[3]!), rep(w[4]!), rep(w[5]!), w[6]!, w[7]!]);
    for (const scores of [false, true]) {
      for (const causal of [false, true]) {
        const args = { queryMask: mask, valueMask: mask, useCausalMask: causal, returnAttentionScores: scores };
        const a = gqa.apply([x, x], args);
        const b = mha.apply([x, x], args);
        const [ga, gb] = [Array.isArray(a) ? a : [a], Array.isArray(b) ? b : [b]];
        ga.forEach((t, i) => {
          assertClose(t.dataSync(), gb[i]!.dataSync(), 1e-5, `u=${u} v=${v} scores=${scores} causal=${causal} output ${i}`);
          assert.deepEqual(getMask(t)?.shape ?? null, getMask(gb[i]!)?.shape ?? null, 'masks alike');
        });
      }
    }
    gqa.dispose();
    mha.dispose();
  }
});

test('GroupQueryAttention: options, errors, default name and the scores spec', () => {
  expectCode(() => new GroupQueryAttention({ headDim: 2, numQueryHeads: 3, numKeyValueHeads: 2 }), 'INVALID_ARGUMENT', 'divisible', 'numKeyValueHeads (2)');
  expectCode(() => new GroupQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1, flashAttention: true as unknown as false }), 'INVALID_ARGUMENT', 'flashAttention');
  expectCode(() => new GroupQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1, num_query_heads: 2 } as never), 'INVALID_ARGUMENT', 'numQueryHeads');
  const g = new GroupQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1 });
  assert.match(g.name, /^grouped_query_attention(_\d+)?$/);
  assert.equal(GroupedQueryAttention, GroupQueryAttention);
  expectCode(() => g.apply([tf.zeros([1, 2, 3]), tf.zeros([1, 2, 4])]), 'INPUT_SHAPE_MISMATCH', 'last dimension of query and value');
  const ids = Input({ shape: [null], dtype: 'int32' });
  const e = new ReversibleEmbedding({ inputDim: 5, outputDim: 3, maskZero: true }).apply(ids) as SymbolicTensor;
  const [out, sc] = new GroupQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1 }).apply(e, { value: e, returnAttentionScores: true }) as SymbolicTensor[];
  assert.deepEqual(out!.shape, [null, null, 3]);
  assert.deepEqual(sc!.shape, [null, 2, null, null]);
  assert.deepEqual(sc!.mask?.shape, [null, 1, null, null]);
});

test('departure 21: an explicit queryMask is GroupQueryAttention\'s output mask (Keras attaches the query tensor\'s own)', () => {
  const g = new GroupQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1 });
  const x = tf.ones([1, 3, 2]);
  const qm = tf.tensor2d([[true, true, false]], [1, 3], 'bool');
  assert.deepEqual(Array.from(getMask(g.apply([x, x], { queryMask: qm }) as tf.Tensor)!.dataSync()), [1, 1, 0]);
  assert.equal(getMask(g.apply([x, x]) as tf.Tensor), null);
});

test('departure 19: Dot over a masked time axis sums valid steps only (Keras includes the padding)', () => {
  // x steps 1, 2 and a padded 100; y all ones. Keras: 1 + 2 + 100 = 103. Masque: 3. Normalised: x/|x| over valid steps . y/|y| over the same steps.
  const x = tf.tensor3d([[[1], [2], [100]]]);
  const y = tf.ones([1, 3, 1]);
  const mask = tf.tensor2d([[true, true, false]], [1, 3], 'bool');
  const out = new Dot({ axes: 1 }).apply([x, y], { mask: [mask, null] }) as tf.Tensor;
  assertClose(out.dataSync(), [3], 1e-6, 'valid steps only');
  assert.equal(getMask(out), null);
  const cos = new Dot({ axes: 1, normalize: true }).apply([x, y], { mask: [mask, null] }) as tf.Tensor;
  assertClose(cos.dataSync(), [3 / (Math.sqrt(5) * Math.sqrt(2))], 1e-6, 'cosine over valid steps');
  // Over features (axes 2) the numbers are Keras's: padded rows are computed, and the output has no mask.
  const feat = new Dot({ axes: 2 }).apply([x, y], { mask: [mask, mask] }) as tf.Tensor;
  assertClose(feat.dataSync(), [1, 1, 1, 2, 2, 2, 100, 100, 100], 1e-6, 'axes 2');
});

test('departure 18: ActivityRegularization adds (l1 sum|y| + l2 sum y^2) / batch over valid steps (Keras counts the padding)', () => {
  const layer = new ActivityRegularization({ l1: 0.1, l2: 0.01 });
  const x = tf.tensor3d([[[1], [-2], [5]], [[3], [0], [0]]]);
  const mask = tf.tensor2d([[true, true, false], [true, false, false]], [2, 3], 'bool');
  const { result, losses } = collectLosses(() => layer.apply(x, { mask }));
  assert.deepEqual(Array.from(getMask(result as tf.Tensor)!.dataSync()), [1, 1, 0, 1, 0, 0]);
  // Valid entries 1, -2, 3: (0.1 * 6 + 0.01 * 14) / 2 = 0.37 (Keras: (0.1 * 11 + 0.01 * 39) / 2 = 0.745).
  assertClose(losses[0]!.dataSync(), [0.37], 1e-6, 'loss');
  // Outside a collection nothing is computed or kept.
  const before = tf.memory().numTensors;
  tf.dispose(layer.apply(x, { mask }) as tf.Tensor);
  assert.equal(tf.memory().numTensors, before);
});

test('departure 20: ReversibleEmbedding keeps masks (forward ids != 0, reverse passes its input\'s mask), soft cap and untied weights', () => {
  const emb = new ReversibleEmbedding({ inputDim: 4, outputDim: 2, maskZero: true, tieWeights: false, logitSoftCap: 2, embeddingsInitializer: 'ones' });
  const e = emb.apply(tf.tensor2d([[1, 3, 0]], [1, 3], 'int32')) as tf.Tensor;
  assert.deepEqual(Array.from(getMask(e)!.dataSync()), [1, 1, 0]);
  assert.deepEqual(emb.weights.map((w) => [w.name, w.shape]), [['embeddings', [4, 2]], ['reverse_embeddings', [2, 4]]]);
  emb.reverseEmbeddings!.assign(tf.fill([2, 4], 3));
  const logits = emb.apply(e, { reverse: true }) as tf.Tensor;
  assert.deepEqual(logits.shape, [1, 3, 4]);
  assert.deepEqual(Array.from(getMask(logits)!.dataSync()), [1, 1, 0]);
  assertClose(logits.dataSync().slice(0, 1), [2 * Math.tanh(6 / 2)], 1e-6, 'tanh(logits / cap) * cap');
  expectCode(() => emb.apply(tf.ones([1, 3, 5]), { reverse: true }), 'INPUT_SHAPE_MISMATCH', 'outputDim');
  expectCode(() => new ReversibleEmbedding({ inputDim: 4, outputDim: 2, reverseDtype: 'bfloat16' as never }), 'INVALID_ARGUMENT', 'reverseDtype');
});

test('activation and regularization layers: Keras\'s numbers, options and errors', () => {
  assertClose((new ELU({ alpha: 0.5 }).apply(tf.tensor2d([[-1, 0, 2]])) as tf.Tensor).dataSync(), [0.5 * Math.expm1(-1), 0, 2], 1e-6, 'ELU');
  assertClose((new LeakyReLU().apply(tf.tensor2d([[-1, 3]])) as tf.Tensor).dataSync(), [-0.3, 3], 1e-6, 'LeakyReLU default 0.3');
  expectCode(() => new LeakyReLU({ negativeSlope: -1 }), 'INVALID_ARGUMENT', 'negativeSlope');
  const p = new PReLU({ sharedAxes: 1, alphaInitializer: { className: 'Constant', config: { value: 0.5 } } });
  assertClose((p.apply(tf.tensor3d([[[-2, 2], [-4, 1]]])) as tf.Tensor).dataSync(), [-1, 2, -2, 1], 1e-6, 'PReLU');
  assert.deepEqual(p.alpha.shape, [1, 2]);
  assert.deepEqual(p.getConfig()['sharedAxes'], [1]);
  expectCode(() => new PReLU().apply(Input({ shape: [null, 2] })), 'INPUT_SHAPE_MISMATCH', 'sharedAxes: [1]');
  expectCode(() => new SpatialDropout1D({ rate: 0.5 }).apply(tf.zeros([2, 3])), 'INPUT_SHAPE_MISMATCH', '[batch, time, features]');
  expectCode(() => new AdditiveAttention({ scoreMode: 'dot' } as never), 'INVALID_ARGUMENT', 'scoreMode');
});

test('training adds layer losses and weight penalties to the loss and applies constraints after each step', async () => {
  const x = tf.tensor3d([[[1, -2], [3, 1], [0, 0]], [[-1, 0.5], [0, 0], [0, 0]]]);
  const y = tf.tensor2d([[0.5], [-1]]);
  const inp = Input({ shape: [null, 2] });
  const prelu = new PReLU({ sharedAxes: [1], alphaInitializer: { className: 'Constant', config: { value: -0.5 } }, alphaRegularizer: { className: 'L2', config: { l2: 0.3 } }, alphaConstraint: 'nonNeg' });
  const h = prelu.apply(new Masking().apply(inp)) as SymbolicTensor;
  const a = new ActivityRegularization({ l1: 0.05 }).apply(h) as SymbolicTensor;
  const model = new Model({ inputs: inp, outputs: new Dense({ units: 1 }).apply(new GlobalAveragePooling1D().apply(a)) });
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const { result, losses } = collectLosses(() => model.apply(x) as tf.Tensor);
  const mse = tf.mean(tf.square(tf.sub(result as tf.Tensor, y))).dataSync()[0]!;
  const activity = losses[0]!.dataSync()[0]!;
  // PReLU(x) with alpha -0.5 at the valid steps [1,-2], [3,1] and [-1,0.5]: |.| sums to 1 + 1 + 3 + 1 + 0.5 + 0.5 = 7; / batch 2.
  assertClose([activity], [0.05 * 7 / 2], 1e-6, 'activity loss over valid steps');
  const penalty = 0.3 * 0.5;
  const evaluated = (await model.evaluate(x, y, { batchSize: 2, verbose: 0 })) as number;
  assertClose([evaluated], [mse + activity + penalty], 1e-5, 'evaluate = mse + activity + weight penalty');
  await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
  assert.ok(Array.from(prelu.alpha.dataSync()).every((v) => v >= 0), 'NonNeg keeps alpha >= 0');
  tf.dispose([x, y, result as tf.Tensor, ...losses]);
  model.dispose();
});

test('Dropout and AlphaDropout share the noiseShape rules: null entries take the input size, a shape that does not broadcast is INPUT_SHAPE_MISMATCH naming the layer', () => {
  const x = tf.ones([2, 3, 4]);
  for (const make of [(a: { noiseShape: (number | null)[] }) => new Dropout({ rate: 0.5, ...a, name: 'd' }), (a: { noiseShape: (number | null)[] }) => new AlphaDropout({ rate: 0.5, ...a, name: 'd' })]) {
    // One pattern per sample and feature, shared over time: every step of a row is dropped alike.
    const y = make({ noiseShape: [null, 1, null] }).apply(x, { training: true }) as tf.Tensor;
    const v = y.arraySync() as number[][][];
    for (const row of v) for (let t = 1; t < 3; t++) assert.deepEqual(row[t], row[0]);
    const layer = make({ noiseShape: [2, 2, 4] });
    expectCode(() => layer.apply(x, { training: true }), 'INPUT_SHAPE_MISMATCH', `'d'`, 'noiseShape', 'shape [2, 3, 4]');
    expectCode(() => make({ noiseShape: [0] as never }), 'INVALID_ARGUMENT', 'noiseShape');
  }
});
