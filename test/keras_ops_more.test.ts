// The second set of Keras operations (src/layers/ops/elementwise_ops.ts,
// statistics_ops.ts, gather_ops.ts): numpy's edge cases each checked against
// the value numpy gives (written beside each), the refusals with their codes,
// the tfjs bugs worked around, gradients where tfjs's differ from Keras's
// backends, and tf.keras 2's spellings of the same functions. The golden
// cases are op_more_* of test/fixtures/keras-3.15.1-ops and the random models
// of keras-3.15.1-ops-more-fuzz (conformance_gradients.test.ts runs them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tf, ready, ops, Input, Model, Dense, loadModelFromBytes, saveModelToBytes, loadTfjsModel, modelToKerasConfig } from '../src/index.js';
import { expectCode, f32, i32, values } from './helpers.js';
import { opLambdaEntries } from '../src/io/keras_legacy_ops.js';

await ready();

const H5 = 'test/fixtures/keras-3.15.1-h5';

test("numpy's edge cases: floor division and remainders, clip of ints, rounding halves, -0.0 and NaN in argmax, one_hot and take's indices", () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    // np.float32(7) // np.float32(0.1) == 69 (numpy's divmod), not floor(7 / 0.1) == 70; np.float32(7) % 0.1 is about 0.0999999.
    assert.deepEqual(values(ops.floorDivide(f32([7]), 0.1)), [69]);
    assert.ok(Math.abs(values(ops.mod(f32([7]), 0.1))[0]! - 0.09999985) < 1e-6);
    // Python's signs: np.int32([7, -7, 7, -7]) // [3, 3, -3, -3] == [2, -3, -3, 2]; % == [1, 2, -2, -1]; by 0 both give 0.
    assert.deepEqual(values(ops.floorDivide(i32([7, -7, 7, -7, 5]), i32([3, 3, -3, -3, 0]))), [2, -3, -3, 2, 0]);
    assert.deepEqual(values(ops.mod(i32([7, -7, 7, -7, 5]), i32([3, 3, -3, -3, 0]))), [1, 2, -2, -1, 0]);
    // np.clip(np.int32([0, 3, -2]), 0.5, 2.5).astype(int32) == [0, 2, 0]; the bounds crossed give x_max everywhere.
    const c = ops.clip(i32([0, 3, -2]), 0.5, 2.5);
    assert.equal(c.dtype, 'int32');
    assert.deepEqual(values(c), [0, 2, 0]);
    assert.deepEqual(values(ops.clip(f32([-1, 0, 1, NaN]), 0.5, -0.5)).slice(0, 3), [-0.5, -0.5, -0.5]);
    assert.ok(Number.isNaN(values(ops.clip(f32([NaN]), 0, 1))[0]));
    assert.deepEqual(values(ops.clip(tf.tensor1d([true, false], 'bool'), 0, 1)), [1, 0]);
    // np.round halves to even: [0.5, 1.5, 2.5, -0.5] -> [0, 2, 2, -0]; ints to tens: np.round(np.int32([15, 25, 14]), -1) == [20, 20, 10].
    assert.deepEqual(values(ops.round(f32([0.5, 1.5, 2.5, -0.5]))).map((v) => v + 0), [0, 2, 2, 0]);
    assert.deepEqual(values(ops.round(i32([15, 25, 14]), -1)), [20, 20, 10]);
    // Keras's numpy backend counts -0.0 below 0.0, and numpy's argmax returns the first NaN.
    assert.deepEqual(values(ops.argmax(f32([-0, 0]))), [1]);
    assert.deepEqual(values(ops.argmin(f32([0, -0]))), [1]);
    assert.deepEqual(values(ops.argmax(f32([1, NaN, 3, NaN]))), [1]);
    assert.deepEqual(values(ops.argmax(tf.tensor2d([[1, 5], [7, 2]]), { axis: 0, keepdims: true })), [1, 0]);
    // one_hot: a negative id is a row of zeros (float32 ones, not the int bits wasm's OneHot writes); np.sign keeps NaN.
    assert.deepEqual(values(ops.oneHot(i32([1, -1]), 3)), [0, 1, 0, 0, 0, 0]);
    assert.deepEqual(values(ops.oneHot(i32([1, 2]), 3, { axis: 0 })), [0, 0, 1, 0, 0, 1]);
    assert.ok(Number.isNaN(values(ops.sign(f32([NaN])))[0]));
    // take: negative indices count from the end; axis null takes from the flattened tensor.
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(values(ops.take(x, [-1, 0], { axis: 1 })), [3, 1, 6, 4]);
    assert.deepEqual(values(ops.take(x, 4)), [5]);
    assert.deepEqual(values(ops.take(x, i32([1, 1]), { axis: 0 })), [4, 5, 6, 4, 5, 6]);
    // repeat and tile, as numpy's; cumsum of bools counts in int32.
    assert.deepEqual(values(ops.repeat(x, [2, 0, 1], { axis: 1 })), [1, 1, 3, 4, 4, 6]);
    assert.deepEqual(ops.tile(x, [2, 1, 2]).shape, [2, 2, 6]);
    const cs = ops.cumsum(tf.tensor2d([[true, false, true]], undefined, 'bool'), { axis: 1 });
    assert.deepEqual([cs.dtype, ...values(cs)], ['int32', 1, 1, 2]);
    // logsumexp of a row of -inf is -inf (scipy's), and normalize of a zero row is zero.
    assert.deepEqual(values(ops.logsumexp(tf.tensor2d([[-Infinity, -Infinity]]), { axis: 1 })), [-Infinity]);
    assert.deepEqual(values(ops.normalize(tf.tensor2d([[0, 0], [3, 4]]))), [0, 0, 0.6000000238418579, 0.800000011920929]);
    // softmax over several axes takes their values together: over both axes of [[0, ln 2], [ln 3, ln 4]], 1/10, 2/10, 3/10, 4/10.
    const sm = values(ops.softmax(tf.tensor3d([[[0, Math.log(2)], [Math.log(3), Math.log(4)]]]), { axis: [1, 2] }));
    [0.1, 0.2, 0.3, 0.4].forEach((v, i) => assert.ok(Math.abs(sm[i]! - v) < 1e-6, `softmax ${i}: ${sm[i]}`));
    // matmul by a constant array (Keras records np.array operands as constants): [[1, 2]] @ [[3], [4]] = [[11]].
    assert.deepEqual(values(ops.matmul(tf.tensor2d([[1, 2]]), { class_name: '__tensor__', config: { value: [[3], [4]], dtype: 'float32' } } as never)), [11]);
  });
  assert.equal(tf.memory().numTensors, before);
});

test('the refusals: float-only functions of ints, ids and indices out of range, impossible arguments, each coded and named', () => {
  tf.tidy(() => {
    // Keras computes these in the input's dtype (gelu of an int truncates each step): Masque asks for the cast.
    for (const f of [ops.gelu, ops.silu, ops.softplus, ops.erf, ops.rsqrt, ops.reciprocal, ops.relu6, ops.hardSigmoid] as ((x: tf.Tensor) => tf.Tensor)[]) {
      expectCode(() => f(i32([1, 2])), 'INVALID_INPUT', 'takes a float32 tensor', 'received int32', 'Cast the input to float32');
    }
    expectCode(() => ops.sign(tf.tensor1d([true], 'bool')), 'INVALID_INPUT', 'Sign', 'booleans', 'cast to int32');
    expectCode(() => ops.round(tf.tensor1d([true], 'bool')), 'INVALID_INPUT', 'Round', 'booleans');
    expectCode(() => ops.oneHot(i32([0, 3]), 3), 'INVALID_INPUT', 'id 3', '3 classes');
    expectCode(() => ops.oneHot(f32([0, 1]), 3), 'INVALID_INPUT', 'OneHot', 'int32 ids', 'float32');
    expectCode(() => ops.take(tf.tensor2d([[1, 2]]), [2], { axis: 1 }), 'INVALID_INPUT', 'index 2', 'size 2');
    expectCode(() => ops.take(tf.tensor2d([[1, 2]]), [0.5] as never, { axis: 1 }), 'INVALID_CONFIG', 'indices must be integers');
    expectCode(() => ops.take(tf.tensor2d([[1, 2]]), f32([0]), { axis: 1 }), 'INVALID_INPUT', 'int32 tensor', 'float32');
    expectCode(() => ops.clip(f32([1]), null, null), 'INVALID_ARGUMENT', 'x_min and x_max cannot both be null');
    expectCode(() => ops.normalize(tf.zeros([2, 3, 4]), { axis: [1, 2], order: 3 }), 'UNSUPPORTED_CONFIG', 'order 3', 'one axis');
    expectCode(() => ops.normalize(tf.zeros([2, 3]), { order: 0 }), 'INVALID_ARGUMENT', 'order');
    expectCode(() => ops.repeat(tf.zeros([2, 3]), [1, 2], { axis: 1 }), 'INPUT_SHAPE_MISMATCH', '2 repeats', 'size 3');
    expectCode(() => ops.stack([tf.zeros([2, 3]), tf.zeros([2, 4])]), 'INPUT_SHAPE_MISMATCH', 'same shape', '[2, 4]');
    expectCode(() => ops.argmax(tf.zeros([2, 0]), { axis: 1 }), 'INVALID_INPUT', 'empty axis');
    expectCode(() => ops.prod(f32([1]), { dtype: 'bool' }), 'INVALID_ARGUMENT', "dtype 'bool'");
    expectCode(() => ops.round(f32([1]), 1.5), 'INVALID_ARGUMENT', 'decimals');
    expectCode(() => ops.gelu(f32([1]), { approximate: 'yes' as never }), 'INVALID_ARGUMENT', 'approximate');
    expectCode(() => ops.tile(f32([1]), [-1]), 'INVALID_ARGUMENT', 'repeats', 'non-negative');
    expectCode(() => ops.matmul(tf.zeros([2, 3]), 2 as never), 'INPUT_SHAPE_MISMATCH', 'Matmul', 'no scalars', '2');
    expectCode(() => ops.softmax(tf.zeros([2, 0, 3]), { axis: [1, 2] }), 'INVALID_INPUT', 'Softmax', 'hold no values');
    expectCode(() => ops.softmax(tf.zeros([2, 3]), { axis: [1, -1] }), 'INVALID_ARGUMENT', 'names an axis twice');
  });
});

test("gradients as Keras's backends take them: tied maxima share dy (tfjs gives each all of it), cumsum over a middle axis, argmax under a tape", () => {
  const x = tf.tensor2d([[1, 3, 3], [2, 0, 1]]);
  // d max(row) / dx: [0, 0.5, 0.5] for the tied row (TensorFlow and JAX split; central differences agree), [1, 0, 0] for the other.
  const g = tf.grad((v: tf.Tensor) => tf.sum(ops.max(v, { axis: 1 })))(x);
  assert.deepEqual(values(g), [0, 0.5, 0.5, 1, 0, 0]);
  const gm = tf.grad((v: tf.Tensor) => tf.sum(ops.min(v)))(tf.tensor1d([2, 1, 1, 1]));
  assert.deepEqual(values(gm).map((v) => Math.round(v * 1e6) / 1e6), [0, 0.333333, 0.333333, 0.333333]);
  // tfjs's cumsum gradient over a non-last axis came back transposed (a wrong shape); d sum(cumsum(x, 1) * w) / dx = reverse cumsum of w.
  const x3 = tf.ones([1, 3, 2]);
  const w = tf.tensor3d([[[1, 10], [2, 20], [3, 30]]]);
  const gc = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ops.cumsum(v, { axis: 1 }), w)))(x3);
  assert.deepEqual(values(gc), [6, 60, 5, 50, 3, 30]);
  // argmax's NaN search runs in float32: under a tape, an int input to tfjs's argMax fails its gradient's dtype check.
  const ga = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, tf.cast(ops.argmax(v, { axis: 1, keepdims: true }), 'float32'))))(x);
  assert.deepEqual(values(ga), [1, 1, 1, 0, 0, 0]);
  tf.dispose([x, g, gm, x3, w, gc, ga]);
});

test('a model built with the second set saves as Keras records it, loads back the same, and trains', async () => {
  const x = Input({ shape: [4, 3] });
  const ids = Input({ shape: [4], dtype: 'int32' });
  const picked = ops.take(new Dense({ units: 3 }).apply(x), [3, 0, 1, 2], { axis: 1 });
  const z = ops.normalize(ops.add(ops.gelu(picked), ops.leakyRelu(x, { negativeSlope: 0.1 })));
  const pooled = ops.add(ops.logsumexp(z, { axis: 1 }), ops.sum(ops.oneHot(ops.mod(ids, 3), 3), { axis: 1 }));
  const y = ops.concatenate([pooled, ops.std(z, { axis: 1 }), ops.sum(ops.multiply(ops.oneHot(ops.argmax(pooled, { axis: -1 }), 3), pooled), { axis: -1, keepdims: true })], { axis: -1 });
  const model = new Model({ inputs: [x, ids], outputs: y });
  const config = JSON.stringify(modelToKerasConfig(model));
  for (const [cls, module] of [['Take', 'numpy'], ['Gelu', 'nn'], ['LeakyRelu', 'nn'], ['Normalize', 'nn'], ['Logsumexp', 'math'], ['OneHot', 'nn'], ['Argmax', 'numpy'], ['Std', 'numpy']]) {
    assert.match(config, new RegExp(`"module":"keras\\.src\\.ops\\.${module}","class_name":"${cls}"`));
  }
  assert.match(config, /"negative_slope":0\.1/);
  const xs = [tf.randomNormal([5, 4, 3], 0, 1, 'float32', 1), tf.tensor2d([[1, 2, 3, 0], [5, 6, 0, 0], [1, 0, 0, 0], [2, 2, 2, 2], [7, 1, 0, 0]], undefined, 'int32')];
  const again = await loadModelFromBytes(await saveModelToBytes(model));
  const [a, b] = [model.predict(xs) as tf.Tensor, again.predict(xs) as tf.Tensor];
  assert.deepEqual(values(a), values(b));
  // It trains: the loss falls, and no tensor is left behind from one fit to the next.
  const head = new Model({ inputs: [x, ids], outputs: ops.multiply(y, 1.0) });
  head.compile({ optimizer: 'adam', loss: 'mse' });
  const target = tf.zeros([5, 7]);
  const first = await head.fit(xs, target, { epochs: 1, verbose: 0 });
  const mid = tf.memory().numTensors;
  await head.fit(xs, target, { epochs: 1, verbose: 0 });
  assert.equal(tf.memory().numTensors, mid);
  const last = await head.fit(xs, target, { epochs: 5, verbose: 0 });
  assert.ok((last.history['loss']!.at(-1) as number) < (first.history['loss']![0] as number), 'the loss falls');
  tf.dispose([...xs, a, b, target]);
  again.dispose();
  model.dispose();
});

test("tf.keras 2's spellings: TensorFlow's defaults are kept where they differ from Keras's (argmax and gather over axis 0, gelu exact, l2_normalize's epsilon on the squared norm)", async () => {
  const doc = JSON.parse(readFileSync(`${H5}/keras2_tfop_second/model.json`, 'utf8'));
  const weightData = new Uint8Array(readFileSync(`${H5}/keras2_tfop_second/group1-shard1of1.bin`)).buffer;
  const load = (edit: (layers: Record<string, unknown>[]) => void) => {
    const topology = structuredClone(doc.modelTopology);
    edit(topology.model_config.config.layers);
    return loadTfjsModel({ modelTopology: topology, weightSpecs: doc.weightsManifest[0].weights, weightData });
  };
  const kwargs = (layers: Record<string, unknown>[], fn: string) => (layers.find((l) => (l['config'] as Record<string, unknown>)['function'] === fn)!['inbound_nodes'] as unknown[][])[0]![3] as Record<string, unknown>;
  const opConfig = (m: Model, cls: string) => (modelToKerasConfig(m) as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers.find((l) => l.class_name === cls)!.config;
  const m = await load((ls) => {
    delete kwargs(ls, 'math.argmin')['axis'];
    delete kwargs(ls, 'nn.gelu')['approximate'];
  });
  assert.equal(opConfig(m, 'Argmin')['axis'], 0);
  assert.equal(opConfig(m, 'Gelu')['approximate'], false);
  // l2_normalize(epsilon=1e-8) is Keras's normalize(epsilon=1e-4).
  assert.ok(Math.abs((opConfig(m, 'Normalize')['epsilon'] as number) - 1e-4) < 1e-12);
  m.dispose();
  await assert.rejects(load((ls) => (kwargs(ls, 'math.cumsum')['exclusive'] = true)), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_CONFIG' && e.message.includes('exclusive=true'));
  await assert.rejects(load((ls) => (kwargs(ls, 'one_hot')['on_value'] = 5)), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_CONFIG' && e.message.includes('on_value=5'));
});

test("tf.linalg.matmul with transpose_b (attention's q @ k^T in tf.keras 2) reads as Swapaxes then Matmul: the same outputs as the model written with tf.transpose", async () => {
  const doc = JSON.parse(readFileSync(`${H5}/keras2_tfop_seq/model.json`, 'utf8'));
  const c = JSON.parse(readFileSync(`${H5}/keras2_tfop_seq.json`, 'utf8'));
  const weightData = new Uint8Array(readFileSync(`${H5}/keras2_tfop_seq/group1-shard1of1.bin`)).buffer;
  const topology = structuredClone(doc.modelTopology);
  const layers = topology.model_config.config.layers as { class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[][] }[];
  // matmul(dense, transpose(dense, [0, 2, 1])) becomes matmul(dense, dense, transpose_b=True); the tf.transpose layer goes.
  const node = layers.find((l) => l.config['name'] === 'matmul')!.inbound_nodes[0] as unknown[];
  (node[3] as Record<string, unknown>)['b'] = ['dense', 0, 0];
  (node[3] as Record<string, unknown>)['transpose_b'] = true;
  topology.model_config.config.layers = layers.filter((l) => l.config['name'] !== 'transpose');
  const model = await loadTfjsModel({ modelTopology: topology, weightSpecs: doc.weightsManifest[0].weights, weightData });
  const x = tf.tensor(c.inputs[0].data, c.inputs[0].shape);
  const y = model.predict(x) as tf.Tensor;
  const want = c.outputs[0].data as number[];
  const got = values(y);
  assert.equal(got.length, want.length);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!)), `output ${i}: ${v} against ${want[i]}`));
  const saved = JSON.stringify(modelToKerasConfig(model));
  assert.match(saved, /"class_name":"Swapaxes","config":\{"name":"matmul_transpose_b","axis1":-2,"axis2":-1\}/);
  tf.dispose([x, y]);
  model.dispose();
});

test('the transpose of a constant matmul operand is made in place; a call that transposes a vector is refused', () => {
  const entry = (kwargs: Record<string, unknown>) => ({ class_name: 'TFOpLambda', config: { name: 'm', function: 'linalg.matmul' }, inbound_nodes: [['x', 0, 0, kwargs]] });
  const [main] = opLambdaEntries(entry({ b: [[1, 2], [3, 4]], transpose_b: true, name: null }), 'model');
  const args = (main!['inbound_nodes'] as { args: unknown[] }[])[0]!.args;
  assert.deepEqual((args[1] as { config: { value: unknown } }).config.value, [[1, 3], [2, 4]]);
  const both = opLambdaEntries(entry({ b: ['y', 0, 0], adjoint_a: true, transpose_b: true }), 'model');
  assert.deepEqual(both.map((e) => e['name']), ['m_transpose_a', 'm_transpose_b', 'm']);
  expectCode(() => opLambdaEntries(entry({ b: [1, 2], transpose_b: true }), 'model'), 'INVALID_CONFIG', 'rank 2 or more');
  // A ragged constant is refused as written (not as its transpose).
  expectCode(() => opLambdaEntries(entry({ b: [[1, 2], [3]], transpose_b: true }), 'model'), 'INVALID_CONFIG', 'rectangular', 'shape [2,2]');
});

test("review fixes: numpy's values where wasm's kernels or float32 steps differed (sign of tiny values, divmod near 0 and by infinities, int clip and round past 2^24, log1p near 0, normalize's tiny epsilon), each against numpy", () => {
  tf.tidy(() => {
    // np.sign(np.float32([1e-7, -1e-7, 3e-8, 1e-20, 0])) == [1, -1, 1, 1, 0]: wasm's Sign gave 0 up to 1.2e-7.
    assert.deepEqual(values(ops.sign(f32([1e-7, -1e-7, 3e-8, 1e-20, 0]))), [1, -1, 1, 1, 0]);
    // np.floor_divide / np.mod of these float32 pairs: [-1, -1, -1, -1, -0, 69, -70] and [1, 1e30, inf, -inf, -0, 0.0999999, 1.04e-7].
    const a = f32([-1e-9, -1, -1, 1, 0, 7, -7]);
    const b = f32([1, 1e30, Infinity, -Infinity, -Infinity, 0.1, 0.1]);
    assert.deepEqual(values(ops.floorDivide(a, b)).map((v) => v + 0), [-1, -1, -1, -1, 0, 69, -70]);
    const m = values(ops.mod(a, b));
    assert.deepEqual(m.slice(0, 5).map((v) => v + 0), [1, Math.fround(1e30), Infinity, -Infinity, 0]);
    assert.ok(Math.abs(m[5]! - 0.0999999) < 1e-7 && Math.abs(m[6]! - 1.043081e-7) < 1e-12);
    // np.clip of int32 by 3e9 changes nothing; clip(16777217, 0.5, None) is 16777217 (float64 in numpy); crossed bounds give trunc(x_max).
    assert.deepEqual(values(ops.clip(i32([-5, 0, 7, 100, 16777217]), 0, 3e9)), [0, 0, 7, 100, 16777217]);
    assert.deepEqual(values(ops.clip(i32([16777217, 0, -3]), 0.5, null)), [16777217, 0, 0]);
    assert.deepEqual(values(ops.clip(i32([-5, 2, 9]), 3.7, 1.2)), [1, 1, 1]);
    assert.deepEqual(values(ops.clip(i32([-5, 2, 9]), -Infinity, 4.5)), [-5, 2, 4]);
    // np.round(np.int32([123456789, 25, -15, 15, 14, -25]), -1) == [123456790, 20, -20, 20, 10, -20].
    assert.deepEqual(values(ops.round(i32([123456789, 25, -15, 15, 14, -25]), -1)), [123456790, 20, -20, 20, 10, -20]);
    // np.log1p(np.float32([1e-8, 1e-5, 1e-7])) == [1e-8, 9.99995e-6, 1e-7]: wasm's log(1 + x) gave [0, 1.00135e-5, 1.19e-7].
    const l = values(ops.log1p(f32([1e-8, 1e-5, 1e-7, -1, Infinity])));
    [1e-8, 9.99995e-6, 1e-7].forEach((v, k) => assert.ok(Math.abs(l[k]! - v) <= 1e-6 * v, `log1p ${k}: ${l[k]}`));
    assert.deepEqual(l.slice(3), [-Infinity, Infinity]);
    // Keras's normalize with epsilon 1e-30: x * min(rsqrt(s), 1e30), so [1e-30, 0, 0] is [1, 0, 0] (epsilon squared underflowed before).
    assert.deepEqual(values(ops.normalize(tf.tensor2d([[0, 0, 0], [1e-30, 0, 0]]), { epsilon: 1e-30 })), [0, 0, 0, 1, 0, 0]);
  });
  // The gradient through normalize of a zero row is finite (0 * Inf never reaches it).
  const g = tf.grad((v: tf.Tensor) => tf.sum(ops.normalize(v)))(tf.tensor2d([[0, 0], [3, 4]]));
  assert.ok(values(g).every(Number.isFinite), `${values(g)}`);
  g.dispose();
});

test('review fixes: refusals instead of crashes or silent answers (normalize of ints, huge outputs, indices past int32, logsumexp of an empty axis) and tf.keras 2 spellings as TensorFlow reads them', () => {
  tf.tidy(() => {
    expectCode(() => ops.normalize(i32([3, 4])), 'INVALID_INPUT', 'order 2', 'float32', 'int32');
    expectCode(() => ops.repeat(tf.zeros([1, 4]), 2 ** 30, { axis: 1 }), 'INVALID_INPUT', 'Repeat', 'at most 2^28');
    expectCode(() => ops.tile(tf.zeros([1, 1]), [1e6, 1e6]), 'INVALID_INPUT', 'Tile', 'at most 2^28');
    expectCode(() => ops.oneHot(i32([1]), 2 ** 31), 'INVALID_INPUT', 'OneHot', 'at most 2^28');
    expectCode(() => ops.take(tf.zeros([1, 3]), [2 ** 32 + 1], { axis: 1 }), 'INVALID_INPUT', 'out of range');
    expectCode(() => ops.logsumexp(tf.zeros([2, 0]), { axis: 1 }), 'INVALID_INPUT', 'empty axis');
  });
  const config = (fn: string, kwargs: Record<string, unknown>) => {
    const e = opLambdaEntries({ class_name: 'TFOpLambda', config: { name: 'op', function: fn }, inbound_nodes: [['x', 0, 0, kwargs]] }, 'model');
    return e[e.length - 1]!['config'] as Record<string, unknown>;
  };
  // TensorFlow: argmax(axis=None) and gather(axis=None) are axis 0; one_hot(axis=None) is the last.
  assert.equal(config('math.argmax', { axis: null })['axis'], 0);
  assert.equal(config('gather', { indices: [1, 0], axis: null })['axis'], 0);
  assert.equal(config('one_hot', { depth: 3, axis: null })['axis'], -1);
  // tf.one_hot's dtype follows an int on_value (int32), not a float one.
  assert.equal(config('one_hot', { depth: 3, on_value: 1, off_value: 0 })['dtype'], 'int32');
  assert.equal(config('one_hot', { depth: 3 })['dtype'], null);
  // clip_by_value with crossed bounds: TensorFlow's clip_value_min wins.
  const c = config('clip_by_value', { clip_value_min: 1, clip_value_max: 0 });
  assert.deepEqual([c['x_min'], c['x_max']], [1, 1]);
  // leaky_relu with alpha above 1 is not Keras's max(x, alpha x).
  expectCode(() => config('nn.leaky_relu', { alpha: 2 }), 'UNSUPPORTED_CONFIG', 'alpha=2', 'max(x, alpha * x)');
  assert.equal(config('nn.leaky_relu', { alpha: 0.3 })['negative_slope'], 0.3);
});

test("second review: a TFOpLambda's tensor keyword reaching a nested model's later call is renumbered; Swapaxes takes a free name; int matmul is exact; constants keep Keras's record ('__numpy__', int64)", async () => {
  const doc = JSON.parse(readFileSync(`${H5}/keras2_nested/model.json`, 'utf8'));
  const weightData = new Uint8Array(readFileSync(`${H5}/keras2_nested/group1-shard1of1.bin`)).buffer;
  const topology = structuredClone(doc.modelTopology);
  const cfg = topology.model_config.config;
  // A second input through the same nested Sequential (its call 2, counted from 1 as tf.keras 2 does), and
  // matmul(seq(x1), seq(x2), transpose_b=True): b is a keyword, [sequential, 2, 0], which must become call 1.
  cfg.layers.splice(1, 0, { class_name: 'InputLayer', config: { batch_input_shape: [null, 4], dtype: 'float32', name: 'input_2' }, name: 'input_2', inbound_nodes: [] });
  const seq = cfg.layers.find((l: { name: string }) => l.name === 'sequential');
  seq.inbound_nodes.push([['input_2', 0, 0, {}]]);
  cfg.layers.push({ class_name: 'TFOpLambda', config: { name: 'mm', function: 'linalg.matmul' }, name: 'mm', inbound_nodes: [['sequential', 1, 0, { b: ['sequential', 2, 0], transpose_b: true, name: null }]] });
  cfg.input_layers = [['input_1', 0, 0], ['input_2', 0, 0]];
  cfg.output_layers = [['dense_2', 0, 0], ['mm', 0, 0]];
  const model = await loadTfjsModel({ modelTopology: topology, weightSpecs: doc.weightsManifest[0].weights, weightData });
  const x1 = tf.randomNormal([3, 4], 0, 1, 'float32', 5);
  const x2 = tf.randomNormal([3, 4], 0, 1, 'float32', 6);
  const [, mm] = model.predict([x1, x2]) as tf.Tensor[];
  const inner = model.getLayer('sequential') as unknown as { apply(x: tf.Tensor): tf.Tensor };
  const [s1, s2] = [inner.apply(x1), inner.apply(x2)];
  const want = tf.matMul(s1, s2, false, true);
  values(mm!).forEach((v, k) => assert.ok(Math.abs(v - values(want)[k]!) < 1e-5, `mm ${k}: ${v} against ${values(want)[k]}`));
  tf.dispose([x1, x2, mm!, s1, s2, want]);
  model.dispose();
  // A model with a layer named mm_transpose_b already: the Swapaxes is mm_transpose_b_1.
  const entries = opLambdaEntries({ class_name: 'TFOpLambda', config: { name: 'mm', function: 'linalg.matmul' }, inbound_nodes: [['x', 0, 0, { b: ['y', 0, 0], transpose_b: true }]] }, 'model', new Set(['mm_transpose_b']));
  assert.deepEqual(entries.map((e) => e['name']), ['mm_transpose_b_1', 'mm']);
  // numpy: np.int32([[5000, 4999]]) @ np.int32([[5001], [5003]]) == 50014997 (float32 products gave 50014996); int32 wraps as numpy's.
  const ints = ops.matmul(tf.tensor2d([[5000, 4999]], undefined, 'int32'), { class_name: '__numpy__', config: { value: [[5001], [5003]], dtype: 'int64' } } as never);
  assert.deepEqual([ints.dtype, ...values(ints)], ['int32', 50014997]);
  const wrap = ops.matmul(tf.tensor2d([[2 ** 30, 2 ** 30]], undefined, 'int32'), tf.tensor2d([[2], [2]], undefined, 'int32'));
  assert.deepEqual(values(wrap), [0]);
  tf.dispose([ints, wrap]);
  // The constant is written back as Keras recorded it.
  const x = Input({ shape: [2], dtype: 'int32' });
  const saved = JSON.stringify(modelToKerasConfig(new Model({ inputs: x, outputs: ops.matmul(x, { class_name: '__numpy__', config: { value: [[1], [2]], dtype: 'int64' } } as never) })));
  assert.match(saved, /\{"class_name":"__numpy__","config":\{"value":\[\[1\],\[2\]\],"dtype":"int64"\}\}/);
});

test("einsum, flip, tril and triu: numpy's values on small cases, and clear refusals of what they do not take", () => {
  tf.tidy(() => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = tf.tensor2d([[5, 6], [7, 8]]);
    // np.einsum('ij,jk->ik') is the matrix product; 'ij,ij->i' a row-wise dot; 'ij->ji' a transpose; implicit 'ij,jk' is 'ik'.
    assert.deepEqual(values(ops.einsum('ij,jk->ik', a, b)), [19, 22, 43, 50]);
    assert.deepEqual(values(ops.einsum('ij,ij->i', a, b)), [17, 53]);
    assert.deepEqual(values(ops.einsum('ij->ji', a)), [1, 3, 2, 4]);
    assert.deepEqual(values(ops.einsum('ij,jk', a, b)), [19, 22, 43, 50]);
    // '...' aligns on the right and broadcasts; three operands contract left to right; ints stay exact int32.
    assert.deepEqual(values(ops.einsum('...j,j->...', a, f32([1, 10]))), [21, 43]);
    assert.deepEqual(values(ops.einsum('i,j,k->ijk', f32([1, 2]), f32([1, 3]), f32([1, 5]))), [1, 5, 3, 15, 2, 10, 6, 30]);
    const ints = ops.einsum('i,i->', i32([50000, 60000]), i32([50000, 1]));
    assert.deepEqual([ints.dtype, ...values(ints)], ['int32', 2500060000 | 0]);
    // np.flip, np.tril, np.triu.
    assert.deepEqual(values(ops.flip(a, { axis: 1 })), [2, 1, 4, 3]);
    assert.deepEqual(values(ops.flip(a)), [4, 3, 2, 1]);
    assert.deepEqual(values(ops.tril(a)), [1, 0, 3, 4]);
    assert.deepEqual(values(ops.triu(a, 1)), [0, 2, 0, 0]);
    assert.deepEqual(values(ops.tril(tf.ones([1, 2, 3]), -1)), [0, 0, 0, 1, 0, 0]);
    // A letter named twice in one operand is a diagonal since the twentieth round (keras_ops_third.test.ts); np.einsum('ii->i', [[1, 2], [3, 4]]) == [1, 4].
    assert.deepEqual(values(ops.einsum('ii->i', a)), [1, 4]);
    expectCode(() => ops.einsum('ij,jk->ik', a), 'INVALID_INPUT', '2 operand(s)', 'received 1');
    expectCode(() => ops.einsum('ijk->i', a), 'INPUT_SHAPE_MISMATCH', 'rank 2', 'name 3');
    expectCode(() => ops.einsum('ij,jk->iz', a, b), 'INVALID_ARGUMENT', "'z'");
    expectCode(() => ops.einsum('ij,jk->ik', a, tf.ones([3, 2])), 'INPUT_SHAPE_MISMATCH', "'j'", 'size 2', '3');
    expectCode(() => ops.einsum('i$j', a), 'INVALID_ARGUMENT', 'letters');
    expectCode(() => ops.tril(f32([1, 2])), 'INPUT_SHAPE_MISMATCH', 'rank 2 or more');
    expectCode(() => ops.flip(a, { axis: [1, 1] }), 'INVALID_ARGUMENT', 'names an axis twice');
  });
});

test('third review: tril/triu of bools select in int32 (wasm Select on bools wrote past its output); einsum takes 1 against an unknown size as unknown at build time', () => {
  tf.tidy(() => {
    // np.tril(np.ones((2, 2), bool)) == [[T, F], [T, T]]; np.triu(np.ones((3, 3), bool), 1) keeps the three above the diagonal.
    const lower = ops.tril(tf.ones([2, 2], 'bool'));
    assert.deepEqual([lower.dtype, ...values(lower)], ['bool', 1, 0, 1, 1]);
    assert.deepEqual(values(ops.triu(tf.ones([3, 3], 'bool'), 1)), [0, 1, 1, 0, 0, 1, 0, 0, 0]);
  });
  const x = Input({ shape: [null, 3] });
  const y = Input({ shape: [1, 3] });
  const e = ops.einsum('bti,bti->bti', x, y);
  // Keras: (None, None, 3); it is [2, 5, 3] when x has 5 steps, so a build-time 1 would have been wrong.
  assert.deepEqual(e.shape, [null, null, 3]);
  const model = new Model({ inputs: [x, y], outputs: e });
  const out = model.predict([tf.ones([2, 5, 3]), tf.ones([2, 1, 3])]) as tf.Tensor;
  assert.deepEqual(out.shape, [2, 5, 3]);
  out.dispose();
  model.dispose();
});

test("pad: numpy's values, its constant_values as a call argument (saved as Keras records it), reflect's gradient summing the mirrored copies (tfjs's mirrorPad gradient only slices), refusals, and tf.pad read as Pad", async () => {
  tf.tidy(() => {
    const x = tf.tensor2d([[1, 2, 3]]);
    // np.pad([[1, 2, 3]], ((0, 0), (2, 2)), 'reflect') == [3, 2, 1, 2, 3, 2, 1]; 'symmetric' == [2, 1, 1, 2, 3, 3, 2].
    assert.deepEqual(values(ops.pad(x, [[0, 0], [2, 2]], { mode: 'reflect' })), [3, 2, 1, 2, 3, 2, 1]);
    assert.deepEqual(values(ops.pad(x, [[0, 0], [2, 2]], { mode: 'symmetric' })), [2, 1, 1, 2, 3, 3, 2]);
    assert.deepEqual(values(ops.pad(i32([1, 2]), 1, { constantValues: 2.5 })), [2, 1, 2, 2]);
    const w = tf.tensor2d([[1, 10, 100, 1000, 10000, 100000, 1000000]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ops.pad(v, [[0, 0], [2, 2]], { mode: 'reflect' }), w)))(x);
    assert.deepEqual(values(g), [1000100, 101010, 10001]);
    // Wider than the axis, the reflection repeats: np.pad([[1, 2, 3]], ((0, 0), (3, 0)), 'reflect') == [[2, 3, 2, 1, 2, 3]].
    assert.deepEqual(values(ops.pad(x, [[0, 0], [3, 0]], { mode: 'reflect' })), [2, 3, 2, 1, 2, 3]);
    expectCode(() => ops.pad(x, 1, { mode: 'reflect', constantValues: 1 }), 'INVALID_ARGUMENT', 'constant_values', "'constant' mode");
    expectCode(() => ops.pad(x, 1, { mode: 'median' as never }), 'UNSUPPORTED_CONFIG', '"median"', "'edge' or 'wrap'");
    expectCode(() => ops.pad(x, [[1, 1], [1, 1], [1, 1]]), 'INPUT_SHAPE_MISMATCH', '3 pairs', 'rank 2');
    expectCode(() => ops.pad(x, -1), 'INVALID_ARGUMENT', 'padWidth', 'received -1');
  });
  const inp = Input({ shape: [3] });
  const model = new Model({ inputs: inp, outputs: ops.pad(inp, [[0, 0], [1, 1]], { constantValues: 0.5 }) });
  assert.match(JSON.stringify(modelToKerasConfig(model)), /"class_name":"Pad","config":\{"name":"pad[_0-9]*","pad_width":\[\[0,0\],\[1,1\]\],"mode":"constant"\}.*?"kwargs":\{"constant_values":0\.5\}/);
  const again = await loadModelFromBytes(await saveModelToBytes(model));
  const y = again.predict(tf.tensor2d([[1, 2, 3]])) as tf.Tensor;
  assert.deepEqual(values(y), [0.5, 1, 2, 3, 0.5]);
  tf.dispose(y);
  again.dispose();
  model.dispose();
  // tf.pad(t, paddings, 'REFLECT') and tf.pad(t, paddings, constant_values=1.5).
  const entry = (kwargs: Record<string, unknown>) => opLambdaEntries({ class_name: 'TFOpLambda', config: { name: 'p', function: 'pad' }, inbound_nodes: [['x', 0, 0, kwargs]] }, 'model')[0]!;
  assert.deepEqual((entry({ paddings: [[0, 0], [1, 1]], mode: 'REFLECT' })['config'] as Record<string, unknown>)['mode'], 'reflect');
  assert.deepEqual((entry({ paddings: [[0, 0], [1, 1]], constant_values: 1.5 })['inbound_nodes'] as { kwargs: unknown }[])[0]!.kwargs, { constant_values: 1.5 });
});

test("fourth review: pad's NaN value (wasm's pad kernel is cached by value), a scalar, reflections wider than the axis (numpy repeats them), int values outside int32 and non-numbers refused, mixed pair lengths refused, tf.pad's constant_values dropped outside CONSTANT mode", () => {
  tf.tidy(() => {
    const x = f32([1, 2, 3]);
    // Pads with other values first: a NaN pad used to find one of their cached kernels.
    ops.pad(x, 1, { constantValues: 3 });
    ops.pad(x, 1, { constantValues: 5 });
    const nan = values(ops.pad(x, 1, { constantValues: NaN }));
    assert.ok(Number.isNaN(nan[0]) && Number.isNaN(nan[4]) && nan.slice(1, 4).join() === '1,2,3', `${nan}`);
    assert.deepEqual(ops.pad(tf.scalar(3), 1).shape, []);
    // np.pad([1, 2, 3], (5, 7), 'reflect') and 'symmetric'; np.pad([5], 2, 'reflect') == [5, 5, 5, 5, 5].
    assert.equal(values(ops.pad(x, [[5, 7]], { mode: 'reflect' })).join(','), '2,1,2,3,2,1,2,3,2,1,2,3,2,1,2');
    assert.equal(values(ops.pad(x, [[5, 7]], { mode: 'symmetric' })).join(','), '2,3,3,2,1,1,2,3,3,2,1,1,2,3,3');
    assert.deepEqual(values(ops.pad(f32([5]), 2, { mode: 'reflect' })), [5, 5, 5, 5, 5]);
    assert.deepEqual(ops.pad(tf.zeros([0, 4]), [[0, 0], [1, 1]], { mode: 'reflect' }).shape, [0, 6]);
    expectCode(() => ops.pad(tf.zeros([0, 4]), [[1, 0], [0, 0]], { mode: 'reflect' }), 'INVALID_INPUT', 'empty');
    expectCode(() => ops.pad(i32([1]), 1, { constantValues: 3e9 }), 'INVALID_ARGUMENT', 'outside int32');
    expectCode(() => ops.pad(i32([1]), 1, { constantValues: NaN }), 'INVALID_ARGUMENT', 'int32');
    expectCode(() => ops.pad(x, 1, { constantValues: 'zero' as never }), 'INVALID_ARGUMENT', 'constant_values', '"zero"');
    expectCode(() => ops.pad(tf.zeros([2, 2]), [[1], [2, 3]] as never), 'INVALID_ARGUMENT', 'padWidth');
  });
  const entry = opLambdaEntries({ class_name: 'TFOpLambda', config: { name: 'p', function: 'pad' }, inbound_nodes: [['x', 0, 0, { paddings: [[1, 1]], mode: 'REFLECT', constant_values: 0 }]] }, 'model')[0]!;
  assert.deepEqual((entry['inbound_nodes'] as { kwargs: unknown }[])[0]!.kwargs, {});
});
