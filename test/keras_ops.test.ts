// Keras operations written between layers of a Functional model (arithmetic,
// elementwise functions, softmax, reductions, transpose, reshape, matmul,
// where, indexing) and tf.keras 2's TFOpLambda / SlicingOpLambda layers.
// Fixtures: test/fixtures/keras-3.15.1-ops (gen_ops.py; their forward cases
// and gradients run in conformance_gradients.test.ts) and the keras2_tfop_*
// files of test/fixtures/keras-3.15.1-h5 (legacy_formats.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import {
  tf, ready, loadModel, loadModelFromBytes, saveModelToBytes, loadTfjsModel, modelFromKerasConfig, modelToKerasConfig, getMask, setWarningHandler,
} from '../src/index.js';
import { compare, loadCase, toTensor, type Case, type CaseArray } from './conformance/cases.js';
import { buildCaseModel, runCaseModel } from './conformance/runner.js';
import { expectCode } from './helpers.js';
import { Cast } from '../src/layers/ops/array_ops.js';
import { pythonJsonDumps } from '../src/io/keras_archive.js';

await ready();
const OPS = 'test/fixtures/keras-3.15.1-ops';
const H5 = 'test/fixtures/keras-3.15.1-h5';
const SAVED = ['op_masked_mean_by_hand', 'op_attention_by_hand', 'op_where', 'op_constants', 'op_float_literals', 'op_masked_softmax_neg_inf', 'op_more_activations', 'op_more_shapes', 'op_more_ffn_block', 'op_more_einsum', 'op_more_pad', 'op_third_top_k', 'op_third_split_glu', 'op_third_pad_modes', 'op_third_take_along_axis', 'op_fourth_elementwise', 'op_fifth_products'];
const PLAIN = [
  'op_arith_scalars', 'op_unary', 'op_softmax_axes', 'op_reductions', 'op_shapes', 'op_getitem', 'op_int_bool_arith', 'op_broadcast_tensors', 'op_gated_rnn',
  'op_more_elementwise', 'op_more_ints', 'op_more_divmod', 'op_more_reductions', 'op_more_argmax', 'op_more_softmax_axes', 'op_more_matmul_const', 'op_more_flip_tri',
  'op_third_sort', 'op_third_cumprod', 'op_third_unstack', 'op_third_float_paths', 'op_third_einsum_diagonal', 'op_fourth_axes', 'op_fourth_float_paths', 'op_fifth_float_paths', ...SAVED,
];

function inputsOf(c: Case): tf.Tensor | tf.Tensor[] {
  const xs = (c['inputs'] as CaseArray[]).map(toTensor);
  return xs.length === 1 ? xs[0]! : xs;
}

function checkOutputs(y: tf.Tensor | tf.Tensor[], c: Case, what: string): void {
  const ys = Array.isArray(y) ? y : [y];
  const want = c['outputs'] as CaseArray[];
  assert.equal(ys.length, want.length, what);
  ys.forEach((t, i) => {
    const d = compare(t, want[i]!, (c['tolerance'] as number) ?? 1e-5, `${what} output ${i}`);
    assert.ok(d.ok, d.message);
    assert.equal(getMask(t), null, `${what} output ${i}: operations pass no mask on`);
  });
}

test("Keras's own .keras files with operations between layers load and compute Keras's outputs", async () => {
  for (const n of SAVED) {
    const c = loadCase(`${OPS}/${n}.json`);
    const model = await loadModel(`${OPS}/${n}.keras`);
    try {
      checkOutputs(model.predict(inputsOf(c)) as tf.Tensor | tf.Tensor[], c, n);
    } finally {
      model.dispose();
    }
  }
});

test('a model with operations saves as Keras records it (numbers, constants and indexing keys in their places) and loads back with the same outputs', async () => {
  for (const n of PLAIN) {
    const c = loadCase(`${OPS}/${n}.json`);
    const model = buildCaseModel(c);
    try {
      const config = JSON.stringify(modelToKerasConfig(model));
      if (n === 'op_arith_scalars') assert.match(config, /"class_name":"Subtract","config":\{"name":"subtract[^"]*"\},"registered_name":"Subtract","name":"subtract[^"]*","inbound_nodes":\[\{"args":\[1,\{"class_name":"__keras_tensor__"/);
      if (n === 'op_getitem') assert.match(config, /\{"class_name":"__slice__","config":\{"start":null,"stop":null,"step":-1\}\}/);
      if (n === 'op_constants') assert.match(config, /"class_name":"__tensor__","config":\{"value":\[/);
      if (n === 'op_more_shapes') assert.match(config, /"class_name":"Take","config":\{"name":"take","axis":1\},"registered_name":"Take","name":"take","inbound_nodes":\[\{"args":\[\{"class_name":"__keras_tensor__","config":\{[^}]*"keras_history":\["input_layer",0,0\]\}\},\[0,2\]\]/);
      const again = await loadModelFromBytes(await saveModelToBytes(model));
      try {
        const { outputs } = runCaseModel(again, c);
        checkOutputs(outputs, c, `${n} (saved by Masque)`);
        tf.dispose(outputs);
      } finally {
        again.dispose();
      }
    } finally {
      model.dispose();
    }
  }
});

test("a masked tensor reaching an operation raises MASK_NOT_SUPPORTED by default (Keras drops the mask without a word); under 'warn' the model runs as Keras's", () => {
  const c = loadCase(`${OPS}/nonmasking_op_embedding_scaled_lstm.json`);
  expectCode(() => modelFromKerasConfig(c['config']), 'MASK_NOT_SUPPORTED', "Operation 'multiply'", 'Multiply', "Keras's operations never take or pass on a mask", "maskPolicy 'warn'");
  const warnings: string[] = [];
  const restore = setWarningHandler((m) => warnings.push(m));
  try {
    const model = buildCaseModel(c, 'warn');
    const { outputs } = runCaseModel(model, c);
    checkOutputs(outputs, c, 'nonmasking_op_embedding_scaled_lstm (warn)');
    tf.dispose(outputs);
    model.dispose();
  } finally {
    setWarningHandler(restore);
  }
  assert.ok(warnings.some((w) => w.includes("'multiply'") && w.includes('dropping')), warnings.join('\n'));
});

/** Loads the converter folder `name` of tf.keras 2 TFOpLambda fixtures with its layer entries changed by `edit`. */
function tfopLoader(name: string) {
  const doc = JSON.parse(readFileSync(`${H5}/${name}/model.json`, 'utf8'));
  const weightData = new Uint8Array(readFileSync(`${H5}/${name}/group1-shard1of1.bin`)).buffer;
  return (edit: (layers: Record<string, unknown>[]) => void) => {
    const topology = structuredClone(doc.modelTopology);
    edit(topology.model_config.config.layers);
    return loadTfjsModel({ modelTopology: topology, weightSpecs: doc.weightsManifest[0].weights, weightData });
  };
}

/** The case's config with the first op entry of `className` changed by `edit` (its entry and its first node). */
function edited(name: string, className: string, edit: (entry: Record<string, unknown>, node: { args: unknown[]; kwargs: Record<string, unknown> }) => void): object {
  const c = JSON.parse(readFileSync(`${OPS}/${name}.json`, 'utf8')) as Case;
  const cfg = c['config'] as { config: { layers: Record<string, unknown>[] } };
  const entry = cfg.config.layers.find((l) => l['class_name'] === className && String(l['module']).startsWith('keras.src.ops'))!;
  edit(entry, (entry['inbound_nodes'] as { args: unknown[]; kwargs: Record<string, unknown> }[])[0]!);
  return cfg;
}

test('bad operations give clear, coded errors naming the operation, what was expected and what was received', () => {
  const slice = (start: number | null, stop: number | null, step: number | null) => ({ class_name: '__slice__', config: { start, stop, step } });
  // An index past the end of its axis (the input has 7 steps).
  expectCode(() => modelFromKerasConfig(edited('op_getitem', 'GetItem', (_e, n) => (n.args[1] = [slice(null, null, null), 9]))), 'INVALID_INPUT', 'index 9', 'axis 1', 'size 7');
  // Indexing with a tensor, and a slice step of zero.
  expectCode(() => modelFromKerasConfig(edited('op_getitem', 'GetItem', (_e, n) => (n.args[1] = [{ class_name: '__keras_tensor__', config: { keras_history: ['input_layer', 0, 0] } }]))), 'UNSUPPORTED_CONFIG', 'indexing with tensors is not supported');
  expectCode(() => modelFromKerasConfig(edited('op_getitem', 'GetItem', (_e, n) => (n.args[1] = [slice(null, null, 0)]))), 'INVALID_CONFIG', 'step cannot be zero');
  // A reshape whose sizes do not fit the values (42 per row here, not a multiple of 35): found when it runs, the batch being unknown before.
  const reshaped = modelFromKerasConfig(edited('op_shapes', 'Reshape', (e) => ((e['config'] as Record<string, unknown>)['newshape'] = [-1, 5, 7])));
  const x = tf.zeros([2, 7, 3]);
  expectCode(() => reshaped.predict(x), 'INPUT_SHAPE_MISMATCH', 'Reshape', '[2, 7, 3]', '[-1,5,7]');
  x.dispose();
  reshaped.dispose();
  expectCode(() => modelFromKerasConfig(edited('op_shapes', 'Reshape', (e) => ((e['config'] as Record<string, unknown>)['newshape'] = [-1, -1]))), 'UNSUPPORTED_CONFIG', 'newshape', 'at most one -1', '[-1, -1]');
  // Transpose axes that repeat one, or do not fit the rank.
  expectCode(() => modelFromKerasConfig(edited('op_shapes', 'Transpose', (e) => ((e['config'] as Record<string, unknown>)['axes'] = [0, 1, 1]))), 'INVALID_ARGUMENT', 'repeat an axis');
  expectCode(() => modelFromKerasConfig(edited('op_shapes', 'Transpose', (e) => ((e['config'] as Record<string, unknown>)['axes'] = [0, 1]))), 'INPUT_SHAPE_MISMATCH', 'rank 3');
  // A number where the op takes only tensors; a constant that is not rectangular; a string operand.
  expectCode(() => modelFromKerasConfig(edited('op_unary', 'Exp', (_e, n) => n.args.push(2))), 'INVALID_INPUT', "Exp 'exp'", 'must be tensors');
  expectCode(() => modelFromKerasConfig(edited('op_constants', 'Multiply', (_e, n) => (n.args[1] = { class_name: '__tensor__', config: { value: [[1, 2], [3]], dtype: 'float32' } }))), 'INVALID_CONFIG', 'rectangular');
  expectCode(() => modelFromKerasConfig(edited('op_arith_scalars', 'Add', (_e, n) => (n.args[1] = 'one'))), 'INVALID_INPUT', 'a tensor, a number, a boolean or a constant array', '"one"');
  // Broadcasting that cannot work.
  expectCode(() => modelFromKerasConfig(edited('op_constants', 'Multiply', (_e, n) => (n.args[1] = { class_name: '__tensor__', config: { value: [1, 2, 3, 4, 5, 6, 7, 8, 9], dtype: 'float32' } }))), 'INPUT_SHAPE_MISMATCH', 'do not broadcast');
});

test("tf.keras 2's TFOpLambda functions Masque does not read, and their arguments it does not read, are refused by name", async () => {
  const load = tfopLoader('keras2_tfop_seq');
  const fn = (layers: Record<string, unknown>[], f: string) => layers.find((l) => (l['config'] as Record<string, unknown>)['function'] === f)!;
  const firstNode = (l: Record<string, unknown>) => (l['inbound_nodes'] as unknown[][])[0]!;
  const expectAsync = async (p: Promise<unknown>, code: string, ...words: string[]) => {
    await assert.rejects(p, (e: Error & { code?: string }) => {
      assert.equal(e.code, code, e.message);
      for (const w of words) assert.ok(e.message.includes(w), `message should mention ${w}: ${e.message}`);
      return true;
    });
  };
  await expectAsync(load((ls) => ((fn(ls, 'math.exp')['config'] as Record<string, unknown>)['function'] = 'math.bessel_i0')), 'UNSUPPORTED_CONFIG', "'math.bessel_i0'", 'math.reduce_sum', 'registerKerasLayers');
  await expectAsync(load((ls) => ((firstNode(fn(ls, 'linalg.matmul'))[3] as Record<string, unknown>)['a_is_sparse'] = true)), 'UNSUPPORTED_CONFIG', 'linalg.matmul', 'a_is_sparse=true', 'a_is_sparse=false');
  await expectAsync(load((ls) => ((firstNode(fn(ls, '__operators__.getitem'))[3] as Record<string, unknown>)['slice_spec'] = [['dense', 0, 0]])), 'UNSUPPORTED_CONFIG', 'indexing with a tensor');
  await expectAsync(load((ls) => ((firstNode(fn(ls, 'reshape'))[3] as Record<string, unknown>)['shape'] = ['dense', 0, 0])), 'UNSUPPORTED_CONFIG', "'shape' is a tensor");
  await expectAsync(load((ls) => delete (firstNode(fn(ls, 'where'))[3] as Record<string, unknown>)['y']), 'INVALID_CONFIG', "needs its argument 'y'");
  // Inert keywords at their defaults are dropped: the file loads.
  const ok = await load((ls) => ((firstNode(fn(ls, 'linalg.matmul'))[3] as Record<string, unknown>)['transpose_a'] = false));
  ok.dispose();
});

test('a model read from TFOpLambda layers saves as Keras 3 operations and reads back the same', async () => {
  const c = JSON.parse(readFileSync(`${H5}/keras2_tfop_seq.json`, 'utf8'));
  const model = await loadModel(`${H5}/keras2_tfop_seq.h5`);
  const again = await loadModelFromBytes(await saveModelToBytes(model));
  try {
    const config = JSON.stringify(modelToKerasConfig(again));
    assert.doesNotMatch(config, /TFOpLambda/);
    assert.match(config, /"module":"keras.src.ops.numpy","class_name":"Matmul"/);
    const x = toTensor(c.inputs[0]);
    const y = again.predict(x) as tf.Tensor;
    assert.ok(compare(y, c.outputs[0], 1e-5, 'keras2_tfop_seq re-saved').ok);
    tf.dispose([x, y]);
  } finally {
    model.dispose();
    again.dispose();
  }
});

test("casts to bool are truthiness (numpy's), where tfjs-backend-wasm's Cast keeps a byte of the truncated value", () => {
  const x = tf.tensor([0.5, Number.NaN, -2, 0, -0]);
  const b = new Cast({ name: 'cast', dtype: 'bool' }).apply(x);
  assert.deepEqual(Array.from(b.dataSync()), [1, 1, 1, 0, 0]);
  // The wasm Cast this replaces: 0.5 -> false. If tfjs fixes it, this line tells.
  assert.equal(tf.cast(tf.tensor([0.5]), 'bool').dataSync()[0], tf.getBackend() === 'wasm' ? 0 : 1);
  tf.dispose([x, b]);
});

test('models with operations train (the masked mean by hand, from its Keras file) and leave no tensor behind', async () => {
  const c = loadCase(`${OPS}/op_masked_mean_by_hand.json`);
  const model = await loadModel(`${OPS}/op_masked_mean_by_hand.keras`);
  try {
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const x = inputsOf(c) as tf.Tensor;
    const yTrue = tf.randomNormal([x.shape[0]!, 2], 0, 1, 'float32', 3);
    const first = await model.fit(x, yTrue, { epochs: 1, verbose: 0 });
    tf.dispose(model.predict(x) as tf.Tensor);
    const before = tf.memory().numTensors; // after the optimizer made its variables
    const last = await model.fit(x, yTrue, { epochs: 30, verbose: 0 });
    tf.dispose(model.predict(x) as tf.Tensor);
    assert.equal(tf.memory().numTensors, before, 'fit and predict leaked tensors');
    const l0 = first.history['loss']![0]!;
    const l1 = last.history['loss']!.at(-1)!;
    assert.ok(l1 < l0, `loss should fall: ${l0} -> ${l1}`);
    tf.dispose([x, yTrue]);
  } finally {
    model.dispose();
  }
});

test('ops builds operations into Masque models (saved as Keras records them) and computes on tensors with numpy semantics', async () => {
  const { Input, Model, ops, Embedding, Dense } = await import('../src/index.js');
  const ids = Input({ shape: [null], dtype: 'int32' });
  const valid = ops.cast(ops.notEqual(ids, 0), 'float32');
  const e = new Embedding({ inputDim: 10, outputDim: 3, name: 'emb' }).apply(ids);
  const mean = ops.divide(ops.sum(ops.multiply(e, ops.expandDims(valid, -1)), { axis: 1 }), ops.maximum(ops.sum(valid, { axis: 1, keepdims: true }), 1));
  const model = new Model({ inputs: ids, outputs: [ops.sum(valid, { axis: 1 }), ops.getItem(ids, [ops.slice(), -1]), new Dense({ units: 2 }).apply(mean), ops.greater(1.5, ops.sum(valid, { axis: 1 }))] });
  const x = tf.tensor2d([[5, 3, 0], [7, 0, 0]], undefined, 'int32');
  try {
    const [lengths, last, , short] = model.predict(x) as tf.Tensor[];
    assert.deepEqual(Array.from(lengths!.dataSync()), [2, 1]);
    assert.deepEqual(Array.from(last!.dataSync()), [0, 0]);
    assert.deepEqual(Array.from(short!.dataSync()), [0, 1]); // 1.5 > length, mirrored to length < 1.5
    // The masked mean by hand equals the mean of each row's valid embeddings.
    const table = model.getLayer('emb').getWeights()[0]!.arraySync() as number[][];
    const sub = new Model({ inputs: ids, outputs: mean });
    const got = (sub.predict(x) as tf.Tensor).arraySync() as number[][];
    [[5, 3], [7]].forEach((row, b) => row.length && table[0]!.forEach((_, k) => assert.ok(Math.abs(got[b]![k]! - row.reduce((s, id) => s + table[id]![k]!, 0) / row.length) < 1e-6)));
    // Saved and read back: the same graph of operations.
    const again = await loadModelFromBytes(await saveModelToBytes(model));
    const ys = again.predict(x) as tf.Tensor[];
    const want = model.predict(x) as tf.Tensor[];
    ys.forEach((y, i) => assert.deepEqual(Array.from(y.dataSync()), Array.from(want[i]!.dataSync())));
    assert.match(JSON.stringify(modelToKerasConfig(again)), /"class_name":"GetItem"/);
    tf.dispose([lengths!, last!, short!, ...ys, ...want]);
    again.dispose();
  } finally {
    x.dispose();
    model.dispose();
  }
  // On tensors: numpy's weak numbers and truthy bools.
  const i = tf.tensor([1, 2], undefined, 'int32');
  const b = tf.tensor([true, false], undefined, 'bool');
  const results = [ops.add(i, 2.5), ops.multiply(i, 2), ops.add(b, b), ops.multiply(b, 3), ops.divide(i, 2), ops.cast(tf.tensor([0.5, 0]), 'bool')];
  assert.deepEqual(results.map((r) => r.dtype), ['float32', 'int32', 'bool', 'int32', 'float32', 'bool']);
  assert.deepEqual(results.map((r) => Array.from(r.dataSync())), [[3.5, 4.5], [2, 4], [1, 0], [3, 0], [0.5, 1], [1, 0]]);
  tf.dispose([i, b, ...results]);
  // Bad entries and masks are refused with codes.
  const f = Input({ shape: [4, 2] });
  expectCode(() => ops.getItem(f, [ops.slice(), 'last' as never]), 'INVALID_ARGUMENT', 'ops.getItem', "'...'", '"last"');
  const masked = new Embedding({ inputDim: 5, outputDim: 2, maskZero: true }).apply(Input({ shape: [3], dtype: 'int32' }));
  expectCode(() => new Model({ inputs: masked.node!.inputs as never, outputs: ops.multiply(masked, 2) }), 'MASK_NOT_SUPPORTED', 'Multiply');
});

test("every output has Keras's dtype (int32 for Keras's int64, float32 for float64), on the hand-written and the random models of operations", () => {
  const kerasDtype = (d: string) => (d.startsWith('int') || d.startsWith('uint') ? 'int32' : d.startsWith('float') ? 'float32' : d);
  let checked = 0;
  for (const dir of [OPS, 'test/fixtures/keras-3.15.1-ops-fuzz', 'test/fixtures/keras-3.15.1-ops-more-fuzz', 'test/fixtures/keras-3.15.1-ops-third-fuzz']) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'index.json')) {
      const c = loadCase(`${dir}/${f}`);
      const model = buildCaseModel(c, 'warn');
      const restore = setWarningHandler(() => {});
      try {
        const { outputs, inputs } = runCaseModel(model, c);
        (c['outputs'] as CaseArray[]).forEach((o, i) => assert.equal(outputs[i]!.dtype, kerasDtype(o.dtype), `${f} output ${i}`));
        checked += outputs.length;
        tf.dispose([...outputs, ...inputs]);
      } finally {
        setWarningHandler(restore);
        model.dispose();
      }
    }
  }
  assert.ok(checked > 300, `only ${checked} outputs checked`);
});

test('a Python float written 2.0 stays a float: read from the JSON text, run as float32, and written back as 2.0', async () => {
  const text = readFileSync(`${OPS}/op_float_literals.json`, 'utf8');
  const c = loadCase(`${OPS}/op_float_literals.json`);
  // A config given as an object (JSON.parse's) cannot tell 2.0 from 2: ids * 1.0 is then int32, and its power -1.0 refused as numpy refuses it.
  const model = modelFromKerasConfig((JSON.parse(text) as Case)['config'] as object);
  const exact = buildCaseModel(c);
  try {
    const inputs = (c['inputs'] as CaseArray[]).map(toTensor);
    expectCode(() => model.predict(inputs), 'INVALID_INPUT', 'negative integer powers');
    const ys = exact.predict(inputs) as tf.Tensor[];
    assert.deepEqual(ys.slice(0, 4).map((y) => y.dtype), ['float32', 'float32', 'float32', 'float32']);
    assert.ok(Math.max(...Array.from(ys[3]!.dataSync())) > 2 ** 31, 'ids * 1e9 does not wrap around');
    const saved = pythonJsonDumps(modelToKerasConfig(exact));
    assert.match(saved, /"keras_history": \["input_layer", 0, 0\]\}\}, 2\.0\]/);
    assert.match(saved, /, 1000000000\.0\]/);
    tf.dispose([...inputs, ...ys]);
  } finally {
    model.dispose();
    exact.dispose();
  }
});

test('review fixes: shared operations with other numbers, duplicate axes, impossible reshapes, numpy errors, TFOpLambda details', async () => {
  const { Input, ops } = await import('../src/index.js');
  const { MultiplyOp } = await import('../src/layers/ops/math_ops.js');
  const x = Input({ shape: [4, 3] });
  const mul = new MultiplyOp({ name: 'mul' });
  mul.apply([x, 2]);
  expectCode(() => mul.apply([x, 3]), 'UNSUPPORTED_CONFIG', "Multiply 'mul'", 'called twice with different numbers');
  mul.apply([x, 2]); // the same numbers again: one operation, as recorded
  expectCode(() => ops.sum(x, { axis: [1, -2] }), 'INVALID_ARGUMENT', 'names an axis twice');
  expectCode(() => ops.reshape(ops.getItem(x, 0), [-1, 5]), 'INPUT_SHAPE_MISMATCH', 'cannot reshape', '[4, 3]', '[-1,5]');
  expectCode(() => ops.reshape(tf.zeros([0, 3]), [0, -1]), 'INPUT_SHAPE_MISMATCH', 'cannot be inferred beside a 0');
  const ints = tf.tensor([1, -2, 3], undefined, 'int32');
  const bools = tf.tensor([true, false], undefined, 'bool');
  expectCode(() => ops.power(ints, -1), 'INVALID_INPUT', 'negative integer powers');
  expectCode(() => ops.negative(bools), 'INVALID_INPUT', 'numpy does not take the negative of booleans');
  expectCode(() => ops.subtract(bools, bools), 'INVALID_INPUT', 'numpy does not subtract booleans');
  tf.dispose([ints, bools]);
  // TFOpLambda: kwargs that are not an object; tf.where(cond); keepdims None.
  const load = tfopLoader('keras2_tfop_more');
  const node = (ls: Record<string, unknown>[], f: string) => (ls.find((l) => (l['config'] as Record<string, unknown>)['function'] === f)!['inbound_nodes'] as unknown[][])[0]!;
  await assert.rejects(load((ls) => (node(ls, 'math.abs')[3] = 7)), /fourth entry must be its keyword arguments/);
  await assert.rejects(load((ls) => {
    const kw = node(ls, 'where')[3] as Record<string, unknown>;
    delete kw['x'];
    delete kw['y'];
  }), /tf.where with only a condition/);
  const before = (node: unknown[]) => (node[3] as Record<string, unknown>)['keepdims'];
  const plain = await load(() => {});
  const ok = await load((ls) => {
    assert.equal(before(node(ls, 'math.reduce_any')), false);
    (node(ls, 'math.reduce_any')[3] as Record<string, unknown>)['keepdims'] = null; // TensorFlow's None: False
  });
  const x3 = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 5);
  const [y1, y2] = [plain.predict(x3) as tf.Tensor, ok.predict(x3) as tf.Tensor];
  assert.deepEqual(Array.from(y2.dataSync()), Array.from(y1.dataSync()));
  tf.dispose([x3, y1, y2]);
  plain.dispose();
  ok.dispose();
});

test('second review: a config round trip keeps floats; shared operations with other arguments are refused; big floats and -0.0 are written as Python reads them; mean of an empty int tensor', async () => {
  const { Input, Model, Masking, LSTM, modelToKerasJson } = await import('../src/index.js');
  const { PyFloat } = await import('../src/engine/py_float.js');
  // modelFromKerasConfig(modelToKerasConfig(m)), and through the JSON text, for a Masking model and for Keras's float literals.
  const x = Input({ shape: [5, 3] });
  const masked = new Model({ inputs: x, outputs: new LSTM({ units: 2 }).apply(new Masking({ maskValue: 0 }).apply(x)) });
  const c = loadCase(`${OPS}/op_float_literals.json`);
  const floats = buildCaseModel(c);
  try {
    for (const m of [masked, floats]) {
      const weights = m.getWeights();
      const copies = [modelFromKerasConfig(modelToKerasConfig(m), weights), modelFromKerasConfig(modelToKerasJson(m), weights)];
      const inputs = m === masked ? [tf.randomNormal([2, 5, 3], 0, 1, 'float32', 1)] : (c['inputs'] as CaseArray[]).map(toTensor);
      const want = m.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor | tf.Tensor[];
      for (const copy of copies) {
        const got = copy.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor | tf.Tensor[];
        const [a, b] = [Array.isArray(got) ? got : [got], Array.isArray(want) ? want : [want]];
        a.forEach((t, i) => {
          assert.equal(t.dtype, b[i]!.dtype);
          assert.deepEqual(Array.from(t.dataSync()), Array.from(b[i]!.dataSync()));
        });
        tf.dispose(a);
        copy.dispose();
      }
      tf.dispose([...inputs, ...weights, ...(Array.isArray(want) ? want : [want])]);
    }
    assert.match(modelToKerasJson(masked), /"keras_history": \["input_layer[^"]*", 0, 0\]\}\}, 0\.0\]/);
  } finally {
    masked.dispose();
    floats.dispose();
  }
  // An operation entry called twice with other numbers (Keras keeps them per call; Masque per operation) is refused, comparisons too.
  const twice = (name: string, className: string, other: unknown) =>
    edited(name, className, (entry, node) => {
      const second = structuredClone(node);
      second.args[1] = other;
      (entry['inbound_nodes'] as unknown[]).push(second);
    });
  expectCode(() => modelFromKerasConfig(twice('op_int_bool_arith', 'Multiply', 7)), 'UNSUPPORTED_CONFIG', 'is called 2 times with different numbers');
  expectCode(() => modelFromKerasConfig(twice('op_reductions', 'NotEqual', 2)), 'UNSUPPORTED_CONFIG', "operation 'not_equal", 'called 2 times');
  // A Functional entry without a config object (the bad-input suite, seed 906: a TypeError once the reader allowed for nested models' counts).
  expectCode(() => modelFromKerasConfig({ class_name: 'Functional', config: null }), 'INVALID_CONFIG');
  expectCode(() => modelFromKerasConfig({ class_name: 'Functional', config: { layers: [{ class_name: 'Functional', config: null, name: 'inner' }], input_layers: [], output_layers: [] } }), 'INVALID_CONFIG');
  // Python's repr of floats.
  assert.deepEqual([2, 1e17, -1e18, -0, 2.5].map((v) => pythonJsonDumps(new PyFloat(v))), ['2.0', '1e+17', '-1e+18', '-0.0', '2.5']);
  // tfjs's mean of an empty int32 tensor is float32 (NaN, numpy's), as for a non-empty one.
  const empty = tf.mean(tf.zeros([2, 0], 'int32'), 1);
  assert.equal(empty.dtype, 'float32');
  assert.ok(Array.from(empty.dataSync()).every((v) => Number.isNaN(v)));
  empty.dispose();
});
