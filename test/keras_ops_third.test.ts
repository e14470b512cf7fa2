// The third set of Keras operations (src/layers/ops/order_ops.ts): sort,
// argsort, top_k, take_along_axis, cumprod, split and unstack; einsum's
// diagonals, pad's edge and wrap modes; and the fourth set (more float
// functions, NaN tests, nan_to_num, stop_gradient, moveaxis, roll,
// count_nonzero). numpy's edge cases are each
// checked against the value numpy gives (written beside each); the refusals
// with their codes; models whose operations have several outputs, built with
// `ops`, saved and read back; training through them. The golden cases are
// op_third_* of test/fixtures/keras-3.15.1-ops (conformance_gradients.test.ts
// runs them, with the gradients of op_third_float_paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready, ops, Input, Model, Dense, LSTM, loadModelFromBytes, saveModelToBytes, modelToKerasConfig, modelFromKerasConfig } from '../src/index.js';
import { expectCode, f32, i32, values } from './helpers.js';
import { opLambdaEntries } from '../src/io/keras_legacy_ops.js';

await ready();

test("numpy's order: NaN last in sort and first in top_k, ties kept in order by argsort and the later first by top_k, ints and bools", () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    // np.sort(np.float32([3, nan, -0.0, 0.0, 1, nan, -2])) == [-2, 0, 0, 1, 3, nan, nan]; np.argsort gives [6, 2, 3, 4, 0, 1, 5].
    const x = f32([3, NaN, -0, 0, 1, NaN, -2]);
    const s = values(ops.sort(x));
    assert.deepEqual(s.slice(0, 5).map((v) => v + 0), [-2, 0, 0, 1, 3]);
    assert.ok(Number.isNaN(s[5]) && Number.isNaN(s[6]));
    assert.deepEqual(values(ops.argsort(x)), [6, 2, 3, 4, 0, 1, 5]);
    // Ties in a row longer than 16 stay in their order (np.argsort(..., kind='stable'); numpy's default leaves them unspecified there).
    const ties = [2, 1, 2, 0, 1, 2, 1, 0, 2, 1, 0, 2, 2, 1, 0, 1, 2, 0, 1, 2];
    assert.deepEqual(values(ops.argsort(i32(ties))), [3, 7, 10, 14, 17, 1, 4, 6, 9, 13, 15, 18, 0, 2, 5, 8, 11, 12, 16, 19]);
    // Keras's numpy top_k is argsort reversed: v = [1, 5, 5, 2, 5, nan] gives positions [5, 4, 2] and values [nan, 5, 5].
    const [tv, ti] = ops.topK(f32([1, 5, 5, 2, 5, NaN]), 3);
    assert.deepEqual(values(ti), [5, 4, 2]);
    assert.equal(ti.dtype, 'int32');
    assert.ok(Number.isNaN(values(tv)[0]!));
    assert.deepEqual(values(tv).slice(1), [5, 5]);
    // sorted: false gives the same k, largest first (Keras's numpy backend leaves their order to argpartition).
    assert.deepEqual(values(ops.topK(f32([1, 5, 5, 2, 5, NaN]), 3, { sorted: false })[1]), [5, 4, 2]);
    // Over other axes, of ints, of bools; axis null sorts the flattened tensor.
    const m = tf.tensor2d([[3, 1], [2, 4]], undefined, 'int32');
    assert.deepEqual(values(ops.sort(m, { axis: 0 })), [2, 1, 3, 4]);
    assert.deepEqual(values(ops.argsort(m, { axis: 0 })), [1, 0, 0, 1]);
    assert.deepEqual(values(ops.sort(m, { axis: null })), [1, 2, 3, 4]);
    const b = ops.sort(tf.tensor1d([true, false, true], 'bool'));
    assert.deepEqual([b.dtype, ...values(b)], ['bool', 0, 1, 1]);
    const [bv, bi] = ops.topK(tf.tensor2d([[0, 1, 1], [1, 0, 0]], undefined, 'bool'), 2);
    assert.deepEqual([bv.dtype, ...values(bv), ...values(bi)], ['bool', 1, 1, 1, 0, 2, 1, 0, 2]);
    // k = 0 and empty tensors give empty results.
    assert.deepEqual(ops.topK(tf.zeros([2, 3]), 0)[0].shape, [2, 0]);
    assert.deepEqual(ops.sort(tf.zeros([0, 3])).shape, [0, 3]);
  });
  assert.equal(tf.memory().numTensors, before);
});

test("cumprod: numpy's running product, int32 wrapping as numpy's, bools counted in int32, ints in float32 by dtype, and a gradient through zeros", () => {
  tf.tidy(() => {
    // np.cumprod(np.int32([70000, 70000, 3]), dtype='int32') wraps: [70000, 605032704, 1815098112].
    assert.deepEqual(values(ops.cumprod(i32([70000, 70000, 3]))), [70000, 605032704, 1815098112]);
    const b = ops.cumprod(tf.tensor1d([true, true, false, true], 'bool'));
    assert.deepEqual([b.dtype, ...values(b)], ['int32', 1, 1, 0, 0]);
    const f = ops.cumprod(tf.tensor2d([[3, 4], [5, 6]], undefined, 'int32'), { dtype: 'float32' });
    assert.deepEqual([f.dtype, ...values(f)], ['float32', 3, 12, 60, 360]);
    assert.deepEqual(values(ops.cumprod(tf.tensor2d([[3, 4], [5, 6]]), { axis: 0 })), [3, 4, 15, 24]);
    // np.cumprod(np.float32([1e20, 1e20, 0])) == [1e20, inf, nan].
    const o = values(ops.cumprod(f32([1e20, 1e20, 0])));
    assert.ok(Math.abs(o[0]! - 1e20) < 1e14 && o[1] === Infinity && Number.isNaN(o[2]));
  });
  // d/dx of sum(w * cumprod(x)) with a zero in x, against products computed here: dx_i = sum_{j >= i} w_j prod_{k <= j, k != i} x_k.
  const xs = [0.5, -2, 0, 3, 1.5];
  const w = [1, -1, 2, 0.5, -3];
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(ops.cumprod(x), f32(w))))(f32(xs));
  const want = xs.map((_, i) => {
    let total = 0;
    for (let j = i; j < xs.length; j++) {
      let p = w[j]!;
      for (let k = 0; k <= j; k++) if (k !== i) p *= xs[k]!;
      total += p;
    }
    return total;
  });
  values(g).forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `dx_${i}: ${v} against ${want[i]}`));
  g.dispose();
});

test('split and unstack: parts as numpy gives them (cut at the axis\'s end), bools and ints, and the refusals (unequal parts, positions out of order, num past the axis, an unknown length, a missing output)', () => {
  tf.tidy(() => {
    const x = tf.tensor2d([[0, 1, 2, 3, 4, 5]]);
    // np.split(np.arange(6), [0, 2, 2]) == [[], [0, 1], [], [2, 3, 4, 5]].
    assert.deepEqual(ops.split(x, [0, 2, 2], { axis: 1 }).map((p) => values(p)), [[], [0, 1], [], [2, 3, 4, 5]]);
    assert.deepEqual(ops.split(x, 3, { axis: -1 }).map((p) => values(p)), [[0, 1], [2, 3], [4, 5]]);
    const bs = ops.split(tf.tensor2d([[true, false, true, true]], undefined, 'bool'), 2, { axis: 1 });
    assert.deepEqual(bs.map((p) => [p.dtype, ...values(p)]), [['bool', 1, 0], ['bool', 1, 1]]);
    const us = ops.unstack(tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32'), { axis: 1 });
    assert.deepEqual(us.map((p) => [p.dtype, ...p.shape, ...values(p)]), [['int32', 2, 1, 3], ['int32', 2, 2, 4]]);
    // num smaller than the axis takes the first num (Keras's graph refers to those only).
    assert.equal(ops.unstack(tf.zeros([2, 5]), { num: 2, axis: 1 }).length, 2);
    expectCode(() => ops.split(x, 4, { axis: 1 }), 'INVALID_INPUT', "Split 'split", '6 values along axis 1', '4 equal parts');
    expectCode(() => ops.split(x, [4, 2], { axis: 1 }), 'INVALID_ARGUMENT', '[4,2]', 'in order');
    // Past the axis's end, numpy's slices are cut there: np.split(np.arange(6), [2, 9]) == [[0, 1], [2, 3, 4, 5], []].
    assert.deepEqual(ops.split(x, [2, 9], { axis: 1 }).map((p) => values(p)), [[0, 1], [2, 3, 4, 5], []]);
    expectCode(() => ops.split(x, [2, -1], { axis: 1 }), 'INVALID_ARGUMENT', '[2,-1]', 'axis 1 (6 values)', 'negative size');
    expectCode(() => ops.split(x, [-2], { axis: 1 }), 'INVALID_ARGUMENT', '[-2]');
    expectCode(() => ops.split(x, 0), 'INVALID_ARGUMENT', 'indicesOrSections', 'positive integer');
    expectCode(() => ops.unstack(tf.zeros([2, 3]), { num: 4, axis: 1 }), 'INVALID_INPUT', 'num = 4', 'has 3 values');
    expectCode(() => ops.topK(f32([1, 2]), 3), 'INVALID_INPUT', 'k = 3', '2 values of the last axis');
    expectCode(() => ops.sort(tf.scalar(1)), 'INVALID_INPUT', 'a scalar has no axis');
    expectCode(() => ops.cumprod(i32([1]), { dtype: 'string' }), 'INVALID_ARGUMENT', "dtype 'string'");
  });
  expectCode(() => ops.unstack(Input({ shape: [null, 3] }), { axis: 1 }), 'UNSUPPORTED_CONFIG', 'axis 1 is unknown', 'give num');
  expectCode(() => ops.split(Input({ shape: [null] }), [3, 1], { axis: 1 }), 'INVALID_ARGUMENT', '[3,1]', 'unknown values');
  // An axis unknown when the model is built: Keras declares the positions' differences, and numpy's slices are cut at the axis's end
  // (np.split(np.arange(6), [2, 9]) == [[0, 1], [2, 3, 4, 5], []]).
  const inp = Input({ shape: [null] });
  const parts = ops.split(inp, [2, 9], { axis: 1 });
  assert.deepEqual(parts.map((p) => p.shape), [[null, 2], [null, 7], [null, null]]);
  const model = new Model({ inputs: inp, outputs: parts });
  const ys = model.predict(tf.tensor2d([[0, 1, 2, 3, 4, 5]])) as tf.Tensor[];
  assert.deepEqual(ys.map((y) => values(y)), [[0, 1], [2, 3, 4, 5], []]);
  tf.dispose(ys);
  // A config asking for an output a split does not have names it.
  const config = modelToKerasConfig(new Model({ inputs: inp, outputs: ops.add(parts[0]!, 1) })) as { config: { layers: { inbound_nodes: { args: { config: { keras_history: unknown[] } }[] }[] }[] } };
  const add = config.config.layers.at(-1)!;
  add.inbound_nodes[0]!.args[0]!.config.keras_history[2] = 5;
  expectCode(() => modelFromKerasConfig(config), 'INVALID_CONFIG', 'output 5', "which has 3 output(s)");
});

test('operations with several outputs in a Masque model: a gated linear unit from split, top_k values and positions, unstacked steps; saved as Keras records them, read back the same, trained, and no tensor left behind', async () => {
  const x = Input({ shape: [5, 3] });
  const [a, b] = ops.split(new Dense({ units: 8 }).apply(x), 2, { axis: -1 });
  const glu = ops.multiply(a!, ops.sigmoid(b!));
  const [v, i] = ops.topK(glu, 2);
  const steps = ops.unstack(glu, { axis: 1 });
  const h = new LSTM({ units: 4 }).apply(ops.sort(glu, { axis: 1 }));
  const y = new Dense({ units: 1 }).apply(ops.add(ops.add(h, ops.sum(ops.sum(v, { axis: 1 }), { axis: -1, keepdims: true })), ops.multiply(steps[0]!, steps[4]!)));
  const model = new Model({ inputs: x, outputs: [y, i] });
  const config = JSON.stringify(modelToKerasConfig(model));
  assert.match(config, /"class_name":"Split","config":\{"name":"(split[_0-9]*)","indices_or_sections":2,"axis":-1\}/);
  const split = /"class_name":"Split","config":\{"name":"(split[_0-9]*)"/.exec(config)![1]!;
  assert.ok(config.includes(`"keras_history":["${split}",0,1]`));
  assert.match(config, /"module":"keras.src.ops.math","class_name":"TopK","config":\{"name":"top_k[_0-9]*","k":2,"sorted":true\}/);
  assert.match(config, /"keras_history":\["unstack[_0-9]*",0,4\]/);
  const input = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 7);
  const again = await loadModelFromBytes(await saveModelToBytes(model));
  const [y0, i0] = model.predict(input) as tf.Tensor[];
  const [y1, i1] = again.predict(input) as tf.Tensor[];
  assert.deepEqual(values(y1!), values(y0!));
  assert.deepEqual(values(i1!), values(i0!));
  assert.equal(i0!.dtype, 'int32');
  tf.dispose([y0!, i0!, y1!, i1!]);
  again.dispose();

  const trainer = new Model({ inputs: x, outputs: y });
  trainer.compile({ optimizer: 'adam', loss: 'mse' });
  const target = tf.randomNormal([4, 1], 0, 1, 'float32', 8);
  const first = (await trainer.fit(input, target, { epochs: 1, verbose: 0 })).history['loss']![0]!;
  const before = tf.memory().numTensors; // after the optimizer's slots are made
  let last = first;
  for (let k = 0; k < 3; k++) last = (await trainer.fit(input, target, { epochs: 10, verbose: 0 })).history['loss']!.at(-1)!;
  assert.ok(last < first, `loss ${first} -> ${last}`);
  for (let k = 0; k < 3; k++) tf.dispose(trainer.predict(input) as tf.Tensor);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([input, target]);
  model.dispose();
});

test("pad in 'edge' and 'wrap' modes: numpy's values, wider than the axis, ints and bools, the gradient summing the repeated copies, an empty axis refused", () => {
  tf.tidy(() => {
    const x = tf.tensor2d([[1, 2, 3]]);
    // np.pad([[1, 2, 3]], ((0, 0), (2, 4)), 'edge') == [[1, 1, 1, 2, 3, 3, 3, 3, 3]]; 'wrap' == [[2, 3, 1, 2, 3, 1, 2, 3, 1]];
    // (5, 1) 'wrap' the same in numpy >= 1.25 (numpy 1.24 gave [3, 1, 1, 2, 3, 1, 2, 3, 1]: docs/keras.md, the third set).
    assert.deepEqual(values(ops.pad(x, [[0, 0], [2, 4]], { mode: 'edge' })), [1, 1, 1, 2, 3, 3, 3, 3, 3]);
    assert.deepEqual(values(ops.pad(x, [[0, 0], [2, 4]], { mode: 'wrap' })), [2, 3, 1, 2, 3, 1, 2, 3, 1]);
    assert.deepEqual(values(ops.pad(x, [[0, 0], [5, 1]], { mode: 'wrap' })), [2, 3, 1, 2, 3, 1, 2, 3, 1]);
    // np.pad([[1, 2], [3, 4]], ((1, 0), (0, 1)), 'wrap') == [[3, 4, 3], [1, 2, 1], [3, 4, 3]], in int32.
    const w = ops.pad(tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32'), [[1, 0], [0, 1]], { mode: 'wrap' });
    assert.deepEqual([w.dtype, ...values(w)], ['int32', 3, 4, 3, 1, 2, 1, 3, 4, 3]);
    const b = ops.pad(tf.tensor1d([true, false], 'bool'), [1, 2], { mode: 'edge' });
    assert.deepEqual([b.dtype, ...values(b)], ['bool', 1, 1, 0, 0, 0]);
    const weights = tf.tensor2d([[1, 10, 100, 1000, 10000, 100000, 1000000, 1e7, 1e8]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ops.pad(v, [[0, 0], [2, 4]], { mode: 'edge' }), weights)))(x);
    assert.deepEqual(values(g), [111, 1000, 111110000]);
    expectCode(() => ops.pad(tf.zeros([2, 0]), 1, { mode: 'wrap' }), 'INVALID_INPUT', 'wrap-pad axis 1', 'empty');
  });
});

test("einsum with a letter named twice in one operand: numpy's diagonal and trace, of ints, its gradient, and mismatched sizes refused", () => {
  tf.tidy(() => {
    const m = tf.tensor2d([[1, 2], [3, 4]]);
    // np.einsum('ii->i', m) == [1, 4]; np.einsum('ii', m) == 5; np.einsum('ii,ij->j', m, m) == [1*1 + 4*3, 1*2 + 4*4] == [13, 18].
    assert.deepEqual(values(ops.einsum('ii->i', m)), [1, 4]);
    assert.deepEqual(values(ops.einsum('ii', m)), [5]);
    assert.deepEqual(values(ops.einsum('ii,ij->j', m, m)), [13, 18]);
    const b = tf.tensor3d([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], undefined, 'int32');
    const d = ops.einsum('bii->bi', b);
    assert.deepEqual([d.dtype, ...values(d)], ['int32', 1, 4, 5, 8]);
    // np.einsum('iji->j', x) of x[i, j, k] = 100 i + 10 j + k, shape [2, 3, 2]: the sum over i of x[i, j, i] == [101, 121, 141].
    const x = tf.tensor3d(Array.from({ length: 12 }, (_, n) => 100 * Math.floor(n / 6) + 10 * Math.floor((n % 6) / 2) + (n % 2)), [2, 3, 2]);
    assert.deepEqual(values(ops.einsum('iji->j', x)), [101, 121, 141]);
    const g = tf.grad((v: tf.Tensor) => ops.einsum('ii', v))(m);
    assert.deepEqual(values(g), [1, 0, 0, 1]);
    expectCode(() => ops.einsum('ii->i', tf.zeros([2, 3])), 'INPUT_SHAPE_MISMATCH', "axes named 'i'", 'one size', '2 and 3');
  });
  // A diagonal's known size decides against an unknown one in the same operand (Keras declares (None, 1) for 'bii->bi' of (None, 1, None)).
  assert.deepEqual(ops.einsum('bii->bi', Input({ shape: [1, null] })).shape, [null, 1]);
  expectCode(() => ops.einsum('biii->bi', Input({ shape: [null, 2, 3] })), 'INPUT_SHAPE_MISMATCH', "axes named 'i' in operand 0", '2 and 3');
});

test("tf.keras 2's spellings: tf.split's sizes read as Keras's positions, unstack, math.top_k, sort, argsort and math.cumprod with TensorFlow's defaults, and what they do not read refused by name", () => {
  const tfop = (fn: string, kwargs: Record<string, unknown>) => opLambdaEntries({ class_name: 'TFOpLambda', config: { name: 't', function: fn }, inbound_nodes: [['x', 0, 0, kwargs]] }, 'model')[0]!;
  const config = (fn: string, kwargs: Record<string, unknown>) => tfop(fn, kwargs)['config'] as Record<string, unknown>;
  // Sizes [1, 3, 2] are positions [1, 4]; a -1 as the last size takes the rest; a count stays a count.
  assert.deepEqual(config('split', { num_or_size_splits: [1, 3, 2], axis: -1 }), { name: 't', axis: -1, indices_or_sections: [1, 4] });
  assert.deepEqual(config('split', { num_or_size_splits: [2, -1], axis: 1 })['indices_or_sections'], [2]);
  assert.deepEqual(config('split', { num_or_size_splits: 3 }), { name: 't', axis: 0, indices_or_sections: 3 });
  expectCode(() => tfop('split', { num_or_size_splits: [2, -1, 1] }), 'UNSUPPORTED_CONFIG', '-1 before the last part');
  expectCode(() => tfop('split', { num_or_size_splits: [2, 1.5] }), 'INVALID_CONFIG', 'non-negative integers');
  // TensorFlow's defaults: top_k's k 1, cumprod's axis 0, unstack's axis 0.
  assert.deepEqual(tfop('math.top_k', {})['class_name'], 'TopK');
  assert.deepEqual(config('math.top_k', {}), { name: 't', k: 1, sorted: true });
  assert.deepEqual(config('math.cumprod', {}), { name: 't', axis: 0 });
  assert.deepEqual(config('unstack', { axis: 1 }), { name: 't', num: null, axis: 1 });
  assert.deepEqual(config('sort', { direction: 'ASCENDING' }), { name: 't', axis: -1 });
  assert.deepEqual(config('argsort', { axis: 0, stable: true }), { name: 't', axis: 0 });
  expectCode(() => tfop('sort', { direction: 'DESCENDING' }), 'UNSUPPORTED_CONFIG', 'direction="DESCENDING"', 'is not read');
  expectCode(() => tfop('math.cumprod', { axis: 1, exclusive: true }), 'UNSUPPORTED_CONFIG', 'exclusive=true');
  expectCode(() => tfop('math.cumprod', { axis: 1, reverse: true }), 'UNSUPPORTED_CONFIG', 'reverse=true');
  // Keywords that change nothing: top_k's index_type, split's num when it counts the parts.
  assert.deepEqual(config('math.top_k', { k: 2, index_type: 'int32' }), { name: 't', k: 2, sorted: true });
  assert.deepEqual(config('split', { num_or_size_splits: [1, 3, 2], num: 3 }), { name: 't', axis: 0, indices_or_sections: [1, 4] });
  expectCode(() => tfop('split', { num_or_size_splits: [1, 3, 2], num: 2 }), 'INVALID_CONFIG', 'num=2', '3 parts');
});

test("take_along_axis: numpy's values with broadcasting, negative indices and axis null; the gradient back to the picked places; the refusals", () => {
  tf.tidy(() => {
    const x = tf.tensor2d([[10, 30, 20], [60, 50, 40]]);
    // np.take_along_axis(x, np.argsort(x, 1), 1) == np.sort(x, 1); indices [[-1], [0]] pick [[20], [60]].
    assert.deepEqual(values(ops.takeAlongAxis(x, ops.argsort(x, { axis: 1 }), { axis: 1 })), [10, 20, 30, 40, 50, 60]);
    assert.deepEqual(values(ops.takeAlongAxis(x, tf.tensor2d([[-1], [0]], undefined, 'int32'), { axis: 1 })), [20, 60]);
    // Broadcast outside the axis: x [1, 3] with indices [2, 2] along axis 1 gives [2, 2]; np.take_along_axis([[1, 2, 3]], [[0, 2], [1, 1]], 1) == [[1, 3], [2, 2]].
    assert.deepEqual(values(ops.takeAlongAxis(tf.tensor2d([[1, 2, 3]]), tf.tensor2d([[0, 2], [1, 1]], undefined, 'int32'), { axis: 1 })), [1, 3, 2, 2]);
    // axis null: the flattened tensor with 1-D indices.
    assert.deepEqual(values(ops.takeAlongAxis(x, i32([5, 0]))), [40, 10]);
    const b = ops.takeAlongAxis(tf.tensor1d([true, false], 'bool'), i32([1, 1, 0]), { axis: 0 });
    assert.deepEqual([b.dtype, ...values(b)], ['bool', 0, 0, 1]);
    expectCode(() => ops.takeAlongAxis(x, tf.tensor2d([[3]], undefined, 'int32'), { axis: 1 }), 'INVALID_INPUT', 'index 3 is out of range', 'size 3');
    expectCode(() => ops.takeAlongAxis(x, tf.tensor2d([[1]]), { axis: 1 }), 'INVALID_INPUT', 'indices must be an int32 tensor', 'float32');
    expectCode(() => ops.takeAlongAxis(x, i32([1]), { axis: 1 }), 'INPUT_SHAPE_MISMATCH', 'same rank', '[2, 3]', '[1]');
    expectCode(() => ops.takeAlongAxis(x, tf.zeros([3, 1], 'int32'), { axis: 1 }), 'INPUT_SHAPE_MISMATCH', 'do not broadcast');
  });
  // A size-1 axis broadcast against 0: numpy's np.take_along_axis([[1, 2, 3]], zeros((0, 2), int), 1) is empty (0, 2), and of x (0, 3) with [[5]] empty (0, 1).
  tf.tidy(() => {
    assert.deepEqual(ops.takeAlongAxis(tf.tensor2d([[1, 2, 3]]), tf.zeros([0, 2], 'int32'), { axis: 1 }).shape, [0, 2]);
    assert.deepEqual(ops.takeAlongAxis(tf.zeros([0, 3]), tf.tensor2d([[5]], undefined, 'int32'), { axis: 1 }).shape, [0, 1]);
    // Empty results of einsum, tril and triu over an empty axis; np.einsum('...i,...i->...', ones((1, 3)), ones((0, 3))) has shape (0,).
    assert.deepEqual(ops.einsum('...i,...i->...', tf.ones([1, 3]), tf.ones([0, 3])).shape, [0]);
    assert.deepEqual(ops.triu(tf.zeros([0, 2, 2])).shape, [0, 2, 2]);
    assert.deepEqual(ops.tril(tf.zeros([3, 0, 2])).shape, [3, 0, 2]);
  });
  // The gradient goes back to each picked place, and adds up where a place is picked twice.
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ops.takeAlongAxis(v, tf.tensor2d([[2, 2, 0]], undefined, 'int32'), { axis: 1 }), tf.tensor2d([[1, 10, 100]]))))(tf.tensor2d([[1, 2, 3]]));
  assert.deepEqual(values(g), [100, 0, 11]);
  g.dispose();
});

test("the fourth set: numpy's values of nan_to_num, the NaN tests of floats, ints and bools, roll and moveaxis, count_nonzero of NaN and -0.0, and stop_gradient's zero gradient", () => {
  tf.tidy(() => {
    // np.nan_to_num(np.float32([nan, inf, -inf, 1.5])) == [0, 3.4028235e38, -3.4028235e38, 1.5]; with nan=2, posinf=5, neginf=-5: [2, 5, -5, 1.5].
    const x = f32([NaN, Infinity, -Infinity, 1.5]);
    assert.deepEqual(values(ops.nanToNum(x)), [0, 3.4028234663852886e38, -3.4028234663852886e38, 1.5]);
    assert.deepEqual(values(ops.nanToNum(x, { nan: 2, posinf: 5, neginf: -5 })), [2, 5, -5, 1.5]);
    const ni = ops.nanToNum(i32([1, -2]));
    assert.deepEqual([ni.dtype, ...values(ni)], ['int32', 1, -2]);
    assert.deepEqual(values(ops.isnan(x)), [1, 0, 0, 0]);
    assert.deepEqual(values(ops.isinf(x)), [0, 1, 1, 0]);
    assert.deepEqual(values(ops.isfinite(x)), [0, 0, 0, 1]);
    const fin = ops.isfinite(tf.tensor1d([true, false], 'bool'));
    assert.deepEqual([fin.dtype, ...values(fin)], ['bool', 1, 1]);
    assert.deepEqual(values(ops.isnan(i32([0, 7]))), [0, 0]);
    // np.log2(8) == 3, np.exp2(3) == 8 (within float32 rounding); np.arcsin(2) is NaN.
    assert.ok(Math.abs(values(ops.log2(f32([8])))[0]! - 3) < 1e-6 && Math.abs(values(ops.exp2(f32([3])))[0]! - 8) < 1e-5);
    assert.ok(Number.isNaN(values(ops.arcsin(f32([2])))[0]));
    assert.equal(ops.log2(i32([4])).dtype, 'float32');
    // np.roll(a, 1) of a = arange(6).reshape(2, 3) == [[5, 0, 1], [2, 3, 4]]; roll (1, 1) over axes (0, 1) == [[5, 3, 4], [2, 0, 1]];
    // two shifts on one axis add up: np.roll(a, (1, 2), axis=1) == a.
    const a = tf.tensor2d([[0, 1, 2], [3, 4, 5]], undefined, 'int32');
    assert.deepEqual(values(ops.roll(a, 1)), [5, 0, 1, 2, 3, 4]);
    assert.deepEqual(values(ops.roll(a, [1, 1], { axis: [0, 1] })), [5, 3, 4, 2, 0, 1]);
    assert.deepEqual(values(ops.roll(a, [1, 2], { axis: 1 })), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(values(ops.roll(tf.tensor1d([true, false, false], 'bool'), -1)), [0, 0, 1]);
    // np.moveaxis(zeros((2, 3, 4)), [0, 1], [-1, 0]).shape == (3, 4, 2).
    assert.deepEqual(ops.moveaxis(tf.zeros([2, 3, 4]), [0, 1], [-1, 0]).shape, [3, 4, 2]);
    // np.count_nonzero([[0, nan, -0.0, 2]], axis=1) == [2].
    assert.deepEqual(values(ops.countNonzero(tf.tensor2d([[0, NaN, -0, 2]]), { axis: 1 })), [2]);
    expectCode(() => ops.moveaxis(tf.zeros([2, 3]), [0, 1], [1]), 'INVALID_ARGUMENT', 'as many axes');
    expectCode(() => ops.moveaxis(tf.zeros([2, 3]), 0, 2), 'INVALID_ARGUMENT', 'axis 2 is out of range');
    expectCode(() => ops.roll(a, [1, 2, 3], { axis: [0, 1] }), 'INVALID_ARGUMENT', '3 shifts for 2 axes');
    // Fifth review: no shifts or no axes roll nothing (np.roll(x, [], axis=0) is x); a scalar has no axis; a shift past 2^53 stays exact.
    assert.deepEqual(values(ops.roll(f32([1, 2, 3]), [], { axis: 0 })), [1, 2, 3]);
    assert.deepEqual(values(ops.roll(f32([1, 2, 3]), 2, { axis: [] })), [1, 2, 3]);
    expectCode(() => ops.roll(tf.scalar(1), 1, { axis: 0 }), 'INVALID_INPUT', 'a scalar has no axis');
    // 2^60 is 1 more than a multiple of 3: np.roll([1, 2, 3], 2**60) == [3, 1, 2].
    assert.deepEqual(values(ops.roll(f32([1, 2, 3]), 2 ** 60)), [3, 1, 2]);
    // exp2 and log2 are exact where numpy's are: 2^15, 2^23, 2^30 as int32; log2 of 2^13, 2^26; log10 of 1e-29 is -29.
    assert.deepEqual(values(ops.cast(ops.exp2(f32([15, 23, 30])), 'int32')), [32768, 8388608, 1073741824]);
    assert.deepEqual(values(ops.log2(f32([8192, 2 ** 26, 2 ** -20]))), [13, 26, -20]);
    assert.deepEqual(values(ops.log10(f32([1e-29]))), [-29]);
    // nan_to_num takes any number, as numpy does (nan=inf).
    assert.deepEqual(values(ops.nanToNum(f32([NaN, 1]), { nan: Infinity })), [Infinity, 1]);
  });
  // stop_gradient of an int tensor stops the gradient too (tfjs passes it through casts to int and back; TensorFlow and JAX do not):
  // d/dx of x * float(stop_gradient(int(x))) at [1.5, 2.5] is [1, 2].
  const gi = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, ops.cast(ops.stopGradient(ops.cast(v, 'int32')), 'float32'))))(f32([1.5, 2.5]));
  assert.deepEqual(values(gi), [1, 2]);
  gi.dispose();
  // predict of a scalar output over several batches is refused with a code (Keras's predict refuses it too).
  const inp = Input({ shape: [3] });
  const counted = new Model({ inputs: inp, outputs: ops.countNonzero(inp) });
  const rows = tf.ones([4, 3]);
  expectCode(() => counted.predict(rows, { batchSize: 2 }), 'UNSUPPORTED_CONFIG', 'scalar', '2 batches');
  rows.dispose();
  counted.dispose();
  // stop_gradient: the values pass, the gradient does not (finite differences cannot see this, so no gradient file checks it).
  const g = tf.grads((v: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(v, ops.stopGradient(w))))([f32([1, 2]), f32([3, 4])]);
  assert.deepEqual(g.map((t) => values(t)), [[3, 4], [0, 0]]);
  tf.dispose(g);
});

test("the fifth set: numpy's dot, tensordot, outer, diagonal and trace, of numbers, ints and bools, and the refusals", () => {
  tf.tidy(() => {
    const a = tf.tensor2d([[0, 1, 2], [3, 4, 5]]);
    // np.dot(a, 2.0) multiplies; np.dot([1, 2, 3], [4, 5, 6]) == 32; np.tensordot(arange(24).reshape(2, 3, 4), arange(12).reshape(3, 4), 2) == [506, 1298].
    assert.deepEqual(values(ops.dot(a, 2)), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(values(ops.dot(f32([1, 2, 3]), f32([4, 5, 6]))), [32]);
    const td = ops.tensordot(tf.tensor3d(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4], 'int32'), tf.tensor2d(Array.from({ length: 12 }, (_, i) => i), [3, 4], 'int32'));
    assert.deepEqual([td.dtype, ...values(td)], ['int32', 506, 1298]);
    // np.outer of bools is their logical and.
    const o = ops.outer(tf.tensor1d([true, false], 'bool'), tf.tensor1d([true, true], 'bool'));
    assert.deepEqual([o.dtype, ...values(o)], ['bool', 1, 1, 0, 0]);
    // m = arange(9).reshape(3, 3): np.diagonal(m, 1) == [1, 5], (m, -1) == [3, 7], (m, 5) == []; np.trace(m, 1) == 6, (m, -2) == 6, (m, 5) == 0.
    const m = tf.tensor2d(Array.from({ length: 9 }, (_, i) => i), [3, 3], 'int32');
    assert.deepEqual(values(ops.diagonal(m, { offset: 1 })), [1, 5]);
    assert.deepEqual(values(ops.diagonal(m, { offset: -1 })), [3, 7]);
    assert.deepEqual(ops.diagonal(m, { offset: 5 }).shape, [0]);
    assert.deepEqual([ops.trace(m, { offset: 1 }), ops.trace(m, { offset: -2 }), ops.trace(m, { offset: 5 })].map((t) => values(t)[0]), [6, 6, 0]);
    // np.diagonal(arange(24).reshape(2, 3, 4), 0, 1, 2) == [[0, 5, 10], [12, 17, 22]]; with axes (2, 0) and offset 1 the shape is (3, 1).
    const x = tf.tensor3d(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    assert.deepEqual(values(ops.diagonal(x, { axis1: 1, axis2: 2 })), [0, 5, 10, 12, 17, 22]);
    assert.deepEqual(ops.diagonal(x, { offset: 1, axis1: 2, axis2: 0 }).shape, [3, 1]);
    // np.trace of bools counts in int (Keras: int32).
    const tb = ops.trace(tf.tensor2d([[true, true], [false, true]], undefined, 'bool'));
    assert.deepEqual([tb.dtype, ...values(tb)], ['int32', 2]);
    expectCode(() => ops.dot(a, tf.ones([2, 3])), 'INPUT_SHAPE_MISMATCH', 'size 3', 'size 2');
    expectCode(() => ops.tensordot(a, a, { axes: 3 }), 'INPUT_SHAPE_MISMATCH', 'axes=3');
    expectCode(() => ops.tensordot(a, a, { axes: [[0, 1], [0]] }), 'INVALID_ARGUMENT', 'pair up');
    expectCode(() => ops.diagonal(m, { axis1: 1, axis2: -1 }), 'INVALID_ARGUMENT', 'same axis');
    expectCode(() => ops.trace(f32([1, 2])), 'INPUT_SHAPE_MISMATCH', 'rank 2 or more');
  });
  // The products and the diagonal pass gradients back (checked against Keras in op_fifth_float_paths); empty ones give zeros, as numpy's would.
  const g = tf.grad((v: tf.Tensor) => tf.sum(ops.diagonal(v, { offset: 5 })))(tf.ones([3, 3]));
  assert.deepEqual(values(g), new Array(9).fill(0));
  const gt = tf.grad((v: tf.Tensor) => ops.trace(v, { offset: 9 }))(tf.ones([3, 3]));
  assert.deepEqual(values(gt), new Array(9).fill(0));
  const gd = tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(ops.dot(u, v)))([tf.ones([2, 0]), tf.ones([0, 3])]);
  assert.deepEqual(gd.map((t) => t.shape), [[2, 0], [0, 3]]);
  tf.dispose([g, gt, ...gd]);
  // numpy's tensordot takes a negative count of axes as none: the outer product (np.tensordot([1, 2], [3, 4], -1) == [[3, 4], [6, 8]]).
  const outer = ops.tensordot(f32([1, 2]), f32([3, 4]), { axes: -1 });
  assert.deepEqual([...outer.shape, ...values(outer)], [2, 2, 3, 4, 6, 8]);
  outer.dispose();
});
