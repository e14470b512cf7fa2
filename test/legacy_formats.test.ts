// Models in the formats before Keras 3's .keras: legacy HDF5 files of Keras 3
// and tf.keras 2, weights files (.weights.h5 and legacy), and TensorFlow.js
// layers models. Fixtures: test/fixtures/keras-3.15.1-h5 (Keras 3.15.1's own
// files, and tf.keras 2.15-format files with Keras 3's outputs) and
// test/fixtures/tfjs-layers-4.22 (written by tfjs-layers itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import {
  tf, ready, loadModel, loadModelFromBytes, loadWeights, loadWeightsFromBytes, saveWeights, saveWeightsToBytes, saveModel, loadTfjsModel,
  modelFromKerasConfig, getMask, MasqueError, Sequential, Dense, LSTM, Input, setWarningHandler,
} from '../src/index.js';
import { compare, loadCase, toTensor, type Case, type CaseArray } from './conformance/cases.js';
import { checkOutputs } from './fixtures/keras-3.15.1-h5/check_h5.mjs';
import { artifactsOf, setSeededWeights, tfjsModels } from './fixtures/tfjs-layers-4.22/tfjs_make.mjs';

await ready();
const require = createRequire(import.meta.url);
const H5 = 'test/fixtures/keras-3.15.1-h5';
const TFJS = 'test/fixtures/tfjs-layers-4.22';
const CASES = ['embedding_mask_zero', 'bidirectional_lstm_concat_sequences_post', 'gru_mask_hole_embedding_sequences', 'fuzz_0273_fn_emb_lstm_dense_relu', 'gqa_self_attention_mask_zero'];

function expectCode(code: string, pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof MasqueError, `expected a MasqueError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

/** Checks outputs (within tol) and output masks against a case's arrays. */
function checkAgainst(y: tf.Tensor | tf.Tensor[], outputs: CaseArray[], masks: (CaseArray | null)[] | undefined, tol: number, what: string): void {
  const ys = Array.isArray(y) ? y : [y];
  assert.equal(ys.length, outputs.length, what);
  ys.forEach((t, i) => {
    const d = compare(t, outputs[i]!, tol, `${what} output ${i}`);
    assert.ok(d.ok, d.message);
    if (masks !== undefined) {
      const dm = compare(getMask(t), masks[i] ?? null, 0, `${what} mask ${i}`);
      assert.ok(dm.ok, dm.message);
    }
  });
}

test("Keras 3's legacy .h5 model files load with Keras's outputs and masks (a functional model with recorded operations too, which Keras cannot reload)", async () => {
  for (const n of CASES) {
    const c = loadCase(`${H5}/${n}.json`);
    const model = await loadModel(`${H5}/${n}.h5`);
    try {
      const y = model.predict((c['inputs'] as CaseArray[]).length === 1 ? toTensor(c['inputs'][0]) : (c['inputs'] as CaseArray[]).map(toTensor));
      checkAgainst(y as tf.Tensor, c['outputs'] as CaseArray[], c['output_masks'] as (CaseArray | null)[], 1e-5, n);
    } finally {
      model.dispose();
    }
  }
});

test('loadWeights reads Keras 3 .weights.h5 files and legacy HDF5 weights files into a model built from the config, bit for bit', async () => {
  for (const n of CASES) {
    const c = loadCase(`${H5}/${n}.json`) as Case;
    for (const file of [`${n}.weights.h5`, `${n}.legacy-weights.h5`, `${n}.h5`]) {
      const model = modelFromKerasConfig(c['config']);
      try {
        await loadWeights(model, `${H5}/${file}`);
        assert.equal(checkOutputs(model, c), null, file);
      } finally {
        model.dispose();
      }
    }
  }
});

test('a compiled .h5 file loads compiled, with its optimizer state: the next step gives the loss Keras computed', async () => {
  for (const n of ['h5_adam_functional', 'h5_rmsprop_sequential']) {
    const keras = JSON.parse(readFileSync(`${H5}/${n}.json`, 'utf8'));
    const model = await loadModel(`${H5}/${n}.h5`);
    try {
      assert.equal(model.optimizer!.iterations, 3, `${n}: the file's iteration count`);
      const b = keras.batches[3];
      const [loss] = model.trainOnBatch(tf.tensor2d(b.x, undefined, 'int32'), tf.tensor1d(b.y, 'int32')) as number[];
      assert.ok(Math.abs(loss! - keras.step4.loss) < 1e-5, `${n}: step 4 loss ${loss} vs Keras ${keras.step4.loss}`);
    } finally {
      model.dispose();
    }
    const uncompiled = await loadModel(`${H5}/${n}.h5`, { compile: false });
    assert.equal(uncompiled.optimizer, null);
    uncompiled.dispose();
  }
});

test("tf.keras 2 files (.h5, and tensorflowjs_converter's model.json) load with Keras 3.15.1's outputs, where Keras 3 refuses them", async () => {
  for (const n of ['tagger', 'sensor', 'stacked', 'nested', 'attention', 'tfop_mean', 'tfop_seq', 'tfop_more', 'tfop_second', 'tfop_third']) {
    const c = JSON.parse(readFileSync(`${H5}/keras2_${n}.json`, 'utf8'));
    // The file is a Keras 2 file Keras 3 reads once time_major is removed, a wrapped layer names its module and
    // a nested model's calls count from 0 (the generator checked it: same outputs; Keras 3 cannot read a tf.keras 2
    // MultiHeadAttention node, nor any TFOpLambda layer, in any form) ...
    if (n === 'attention') assert.match(c.keras3_legacy_loader.probe_error, /MultiHeadAttention/);
    else if (n.startsWith('tfop_')) assert.match(c.keras3_legacy_loader.probe_error, /TFOpLambda/);
    else assert.equal(c.keras3_legacy_loader.without_time_major_with_modules_max_diff, 0);
    // ... and Keras 3 cannot load as written.
    assert.notEqual(c.keras3_legacy_loader.as_written, 'loads');
    for (const load of [() => loadModel(`${H5}/keras2_${n}.h5`), () => loadTfjsModel(`${H5}/keras2_${n}/model.json`)]) {
      const model = await load();
      try {
        const y = model.predict(toTensor(c.inputs[0])) as tf.Tensor;
        checkAgainst(y, c.outputs, undefined, 1e-5, `keras2_${n}`);
        if (n === 'tagger') assert.deepEqual(Array.from(getMask(y)!.dataSync()), Array.from(tf.notEqual(toTensor(c.inputs[0]), 0).dataSync()));
      } finally {
        model.dispose();
      }
    }
  }
});

test("a compiled tf.keras 2 file loads compiled (tf.keras 2.11+'s 'Custom>Adam', metrics saved after fit); its optimizer state, laid out as Keras 2 kept it, is skipped with a warning", async () => {
  const warnings: string[] = [];
  const previous = setWarningHandler((m) => warnings.push(m));
  try {
    const model = await loadModel(`${H5}/keras2_stacked.h5`);
    try {
      assert.equal(model.optimizer!.constructor.name, 'Adam');
      assert.equal(model.optimizer!.iterations, 0);
      assert.equal(model.compileArgs!.loss, 'binary_crossentropy');
      // tf.keras 2 saved the metrics as the MeanMetricWrappers fit built (accuracy around binary_accuracy); they keep their names.
      // A metric named for another function (my_metric) takes its function's name.
      assert.deepEqual(model.compileArgs!.metrics, [['accuracy', 'mae', 'mean_squared_error']]);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /skipped the optimizer state.*fresh optimizer/);
    } finally {
      model.dispose();
    }
  } finally {
    setWarningHandler(previous);
  }
});

test("tfjs-layers' own files load: Keras's outputs and masks for the model, tfjs-layers' outputs where tfjs is right", async () => {
  for (const n of ['tagger', 'sensor']) {
    const c = JSON.parse(readFileSync(`${TFJS}/${n}.json`, 'utf8'));
    const model = await loadTfjsModel(`${TFJS}/${n}/model.json`);
    try {
      const x = toTensor(c.inputs[0]);
      const y = model.predict(x) as tf.Tensor;
      checkAgainst(y, c.keras_outputs, c.keras_output_masks, 1e-5, `${n} against Keras`);
      // tfjs-layers leaves its own values at padded steps of a Bidirectional; at valid steps it agrees.
      const valid = n === 'tagger' ? Array.from(tf.notEqual(x, 0).dataSync()) : null;
      const got = y.dataSync();
      const want = c.tfjs_outputs[0].data as number[];
      const per = want.length / (valid?.length ?? want.length);
      want.forEach((w, i) => {
        if (valid === null || valid[Math.floor(i / per)]) assert.ok(Math.abs(got[i]! - w) <= 1e-5, `${n}[${i}]: ${got[i]} vs tfjs ${w}`);
      });
    } finally {
      model.dispose();
    }
  }
});

test("Keras 2's hard_sigmoid (tfjs's default recurrent activation) is computed as Keras 2 did, and such a model refuses to be saved for Keras 3", async () => {
  const c = JSON.parse(readFileSync(`${TFJS}/lstm_hard_sigmoid.json`, 'utf8'));
  const model = await loadTfjsModel(`${TFJS}/lstm_hard_sigmoid/model.json`);
  const dir = mkdtempSync(join(tmpdir(), 'masque-legacy-'));
  try {
    checkAgainst(model.predict(toTensor(c.inputs[0])) as tf.Tensor, c.tfjs_outputs, undefined, 1e-5, 'lstm_hard_sigmoid');
    await assert.rejects(saveModel(model, join(dir, 'm.keras')), expectCode('UNSUPPORTED_CONFIG', /Keras 2's hard_sigmoid.*Keras 3 has no activation equal to it/s));
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tfjs-layers model made now loads alike from its artifacts, an IOHandler, its files, and a converter-style listing of layers by name', async () => {
  const tfl = require('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
  const spec = tfjsModels(tfl).find((s) => s.name === 'sensor')!;
  const peer = spec.build();
  setSeededWeights(peer, 7);
  const art = await artifactsOf(peer);
  const x = spec.input();
  const want = Array.from((peer.predict(x) as tf.Tensor).dataSync());
  const dir = mkdtempSync(join(tmpdir(), 'masque-tfjs-'));
  try {
    writeFileSync(join(dir, 'w.bin'), new Uint8Array(art.weightData as ArrayBuffer));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: art.modelTopology, format: art.format, weightsManifest: [{ paths: ['w.bin'], weights: art.weightSpecs }] }));
    // tensorflowjs_converter lists the layers by name: reverse the layers' order, each layer's weights in order.
    const specs = art.weightSpecs!;
    const layerOf = (s: { name: string }) => s.name.split('/')[0]!;
    const order = [...new Set(specs.map(layerOf))].reverse();
    const offsets: number[] = [];
    specs.reduce((o, s) => (offsets.push(o), o + 4 * s.shape.reduce((a, b) => a * b, 1)), 0);
    const reordered = order.flatMap((l) => specs.map((s, i) => [s, i] as const).filter(([s]) => layerOf(s) === l));
    const data = new Uint8Array(art.weightData as ArrayBuffer);
    const parts = reordered.map(([s, i]) => data.slice(offsets[i]!, offsets[i]! + 4 * s.shape.reduce((a, b) => a * b, 1)));
    const converted = { modelTopology: art.modelTopology, weightSpecs: reordered.map(([s]) => s), weightData: parts.map((p) => p.buffer as ArrayBuffer) };
    for (const [how, source] of [['artifacts', art], ['IOHandler', tf.io.fromMemory(art)], ['files', join(dir, 'model.json')], ['converter order', converted]] as const) {
      const model = await loadTfjsModel(source as never);
      try {
        const got = Array.from((model.predict(x) as tf.Tensor).dataSync());
        got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1e-5, `${how}[${i}]: ${g} vs tfjs ${want[i]}`));
      } finally {
        model.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a tfjs-layers model holding a nested model loads (tfjs counts the nested model's calls from 1 and names its weights by its inner layers)", async () => {
  const tfl = require('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
  const inner = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [4], activation: 'relu' }), tfl.layers.dense({ units: 2 })] });
  const inp = tfl.input({ shape: [4] });
  const out = tfl.layers.dense({ units: 1 }).apply(inner.apply(inp) as never) as never;
  const peer = tfl.model({ inputs: inp, outputs: out });
  setSeededWeights(peer, 3);
  const art = await artifactsOf(peer);
  assert.ok(art.weightSpecs!.every((s) => !s.name.startsWith(`${inner.name}/`)), 'tfjs names the nested model\'s weights by its inner layers');
  const x = tf.randomNormal([2, 4], 0, 1, 'float32', 1);
  const model = await loadTfjsModel(art);
  try {
    const want = (peer.predict(x) as tf.Tensor).dataSync();
    Array.from((model.predict(x) as tf.Tensor).dataSync()).forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1e-5, `${g} vs tfjs ${want[i]}`));
  } finally {
    model.dispose();
  }
});

test("tfjs-layers' defaults and generic layers load as tfjs-layers runs them (Embedding without maskZero, RNN over a cell and over stacked cells, SpatialDropout1D)", async () => {
  const tfl = require('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
  const cases: [() => import('@tensorflow/tfjs-layers').LayersModel, () => tf.Tensor][] = [
    [() => tfl.sequential({ layers: [tfl.layers.embedding({ inputDim: 10, outputDim: 3, inputLength: 4 }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] }), () => tf.tensor2d([[1, 2, 3, 0], [4, 0, 0, 0]])],
    [() => tfl.sequential({ layers: [tfl.layers.rnn({ cell: tfl.layers.lstmCell({ units: 3 }), inputShape: [5, 2], returnSequences: true })] }), () => tf.randomNormal([2, 5, 2], 0, 1, 'float32', 2)],
    [() => tfl.sequential({ layers: [tfl.layers.rnn({ cell: [tfl.layers.lstmCell({ units: 3 }), tfl.layers.gruCell({ units: 2 })], inputShape: [5, 2] })] }), () => tf.randomNormal([2, 5, 2], 0, 1, 'float32', 3)],
    [() => tfl.sequential({ layers: [tfl.layers.spatialDropout1d({ rate: 0.2, inputShape: [5, 2] }), tfl.layers.flatten(), tfl.layers.dense({ units: 1 })] }), () => tf.randomNormal([2, 5, 2], 0, 1, 'float32', 4)],
  ];
  for (const [k, [make, input]] of cases.entries()) {
    const peer = make();
    setSeededWeights(peer, 10 * k);
    const model = await loadTfjsModel(await artifactsOf(peer));
    try {
      const x = input();
      const want = (peer.predict(x) as tf.Tensor).dataSync();
      Array.from((model.predict(x) as tf.Tensor).dataSync()).forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1e-5, `case ${k}[${i}]: ${g} vs tfjs ${want[i]}`));
    } finally {
      model.dispose();
    }
  }
});

test("a legacy weights file is paired with the model's layers by order, as Keras pairs them, whatever their names", async () => {
  const keras = JSON.parse(readFileSync(`${H5}/swapped_names.json`, 'utf8'));
  const model = new Sequential({ layers: [Input({ shape: [3] }).node!.layer as never, new Dense({ units: 3, name: 'a' }), new Dense({ units: 3, name: 'b', activation: 'tanh' })] });
  try {
    await loadWeights(model, `${H5}/swapped_names.legacy-weights.h5`);
    const got = (model.predict(tf.tensor2d(keras.x)) as tf.Tensor).arraySync() as number[][];
    got.flat().forEach((g, i) => assert.ok(Math.abs(g - keras.keras_output_after_load.flat()[i]) <= 1e-6, `${g} vs Keras ${keras.keras_output_after_load.flat()[i]}`));
  } finally {
    model.dispose();
  }
});

test('loadWeights into a compiled model restores the optimizer state, also before its first step; a file that fails changes neither weights nor optimizer', async () => {
  const make = () => {
    const m = new Sequential({ layers: [Input({ shape: [3] }).node!.layer as never, new Dense({ units: 2 })] });
    m.compile({ optimizer: 'adam', loss: 'mse' });
    return m;
  };
  const a = make();
  const b = make();
  const c = make();
  try {
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
    const y = tf.randomNormal([4, 2], 0, 1, 'float32', 2);
    a.trainOnBatch(x, y);
    a.trainOnBatch(x, y);
    b.trainOnBatch(x, y);
    const bytes = await saveWeightsToBytes(a);
    // Departure 29: Keras skips the state of an optimizer not built yet; Masque builds it and restores the state.
    await loadWeightsFromBytes(c, bytes);
    assert.equal(c.optimizer!.iterations, 2);
    assert.deepEqual(c.optimizer!.variables().map(({ variable }) => Array.from(variable.dataSync())), a.optimizer!.variables().map(({ variable }) => Array.from(variable.dataSync())));
    // The same file with a dataset by name on the Dense layer (which has none): refused, nothing set.
    const { readWeightsH5, writeWeightsH5 } = await import('../src/io/h5_weights.js');
    const tree = await readWeightsH5(bytes);
    tree.groups['layers']!.groups['dense']!.named = { foo: { shape: [1], dtype: 'float32', data: new Float32Array([1]) } };
    const damaged = await writeWeightsH5(tree);
    const weightsBefore = b.getWeights().map((w) => Array.from(w.dataSync()));
    const optimizerBefore = b.optimizer!.variables().map(({ variable }) => Array.from(variable.dataSync()));
    await assert.rejects(loadWeightsFromBytes(b, damaged), expectCode('UNSUPPORTED_FILE', /by name \("foo"\)/));
    assert.deepEqual(b.getWeights().map((w) => Array.from(w.dataSync())), weightsBefore);
    assert.deepEqual(b.optimizer!.variables().map(({ variable }) => Array.from(variable.dataSync())), optimizerBefore);
    assert.equal(b.optimizer!.iterations, 1);
    // Into a compiled model that has not trained (its optimizer not built yet), for Adam and for Nadam (which
    // builds one more variable): the failed load leaves the optimizer unbuilt and no tensor behind.
    for (const optimizer of ['adam', 'nadam']) {
      const fresh = new Sequential({ layers: [Input({ shape: [3] }).node!.layer as never, new Dense({ units: 2 })] });
      fresh.compile({ optimizer, loss: 'mse' });
      const tensors = tf.memory().numTensors;
      const variables = fresh.optimizer!.variables().length;
      await assert.rejects(loadWeightsFromBytes(fresh, damaged), expectCode('UNSUPPORTED_FILE'));
      assert.equal(fresh.optimizer!.variables().length, variables, `${optimizer}: unbuilt again`);
      assert.equal(tf.memory().numTensors, tensors, `${optimizer}: no tensor left`);
      fresh.trainOnBatch(x, y); // and it still trains
      fresh.dispose();
    }
  } finally {
    for (const m of [a, b, c]) m.dispose();
  }
});

test('saveWeights writes the file Keras reads (model.save_weights layout); loadWeights reads it back, and a file that does not fit changes nothing', async () => {
  const make = (units: number) => new Sequential({ layers: [Input({ shape: [4, 3] }).node!.layer as never, new LSTM({ units }), new Dense({ units: 2 })] });
  const a = make(3);
  const b = make(3);
  const other = make(5);
  const dir = mkdtempSync(join(tmpdir(), 'masque-weights-'));
  try {
    const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 3);
    await saveWeights(a, join(dir, 'a.weights.h5'));
    await loadWeights(b, join(dir, 'a.weights.h5'));
    assert.deepEqual(Array.from((b.predict(x) as tf.Tensor).dataSync()), Array.from((a.predict(x) as tf.Tensor).dataSync()));
    // The same bytes without the file system.
    await loadWeightsFromBytes(b, await saveWeightsToBytes(a));
    const before = other.getWeights().map((w) => Array.from(w.dataSync()));
    await assert.rejects(loadWeights(other, join(dir, 'a.weights.h5')), expectCode('WEIGHT_SHAPE_MISMATCH', /shape/));
    assert.deepEqual(other.getWeights().map((w) => Array.from(w.dataSync())), before, 'nothing was set');
    // A legacy weights file of another model: its own layer count.
    await assert.rejects(loadWeights(other, `${H5}/embedding_mask_zero.legacy-weights.h5`), expectCode('WEIGHT_COUNT_MISMATCH', /layers with weights/));
    assert.deepEqual(other.getWeights().map((w) => Array.from(w.dataSync())), before, 'nothing was set');
    await assert.rejects(saveWeights(a, join(dir, 'a.h5')), expectCode('INVALID_ARGUMENT', /\.weights\.h5/));
    await assert.rejects(loadWeights(new Sequential({ layers: [new Dense({ units: 2 })] }), join(dir, 'a.weights.h5')), expectCode('NOT_BUILT'));
  } finally {
    for (const m of [a, b, other]) m.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad legacy and tfjs files give clear, coded errors', async () => {
  const h5 = new Uint8Array(readFileSync(`${H5}/embedding_mask_zero.h5`));
  await assert.rejects(loadModelFromBytes(h5.slice(0, 2000)), expectCode('CORRUPT_FILE', /HDF5/));
  await assert.rejects(loadModel(`${H5}/embedding_mask_zero.weights.h5`), expectCode('UNSUPPORTED_FILE', /model_config/));
  await assert.rejects(loadModel(`${H5}/embedding_mask_zero.legacy-weights.h5`), expectCode('UNSUPPORTED_FILE', /weights file.*loadWeights/));
  await assert.rejects(loadModelFromBytes(h5, { compile: 'yes' } as never), expectCode('INVALID_ARGUMENT', /compile/));

  // A damaged global heap (Keras's name strings) made HDF5's reader loop forever (bad-input seed 811); refused first.
  const weightsFile = new Uint8Array(readFileSync(`${H5}/bidirectional_lstm_concat_sequences_post.weights.h5`));
  weightsFile.fill(0, 2164, 2164 + 64);
  const victim = modelFromKerasConfig(loadCase(`${H5}/bidirectional_lstm_concat_sequences_post.json`)['config']);
  await assert.rejects(loadWeightsFromBytes(victim, weightsFile), expectCode('CORRUPT_FILE', /global heap at byte 2048 is damaged/));
  victim.dispose();
  const topology = JSON.parse(readFileSync(`${TFJS}/lstm_hard_sigmoid/model.json`, 'utf8'));
  const bin = readFileSync(`${TFJS}/lstm_hard_sigmoid/weights.bin`);
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  const base = { modelTopology: topology.modelTopology, weightSpecs: topology.weightsManifest[0].weights, weightData };
  await assert.rejects(loadTfjsModel({ ...base, format: 'graph-model' }), expectCode('UNSUPPORTED_FILE', /graph model/));
  await assert.rejects(loadTfjsModel({ ...base, weightData: weightData.slice(0, 100) }), expectCode('CORRUPT_FILE', /truncated/));
  await assert.rejects(loadTfjsModel({ ...base, weightSpecs: base.weightSpecs.map((s: object, i: number) => (i === 0 ? { ...s, quantization: { dtype: 'uint8', scale: 1, min: 0 } } : s)) }), expectCode('UNSUPPORTED_FILE', /quantized/));
  for (const weightData of [null, [null], 'abc']) {
    await assert.rejects(loadTfjsModel({ ...base, weightData: weightData as never }), expectCode('CORRUPT_FILE', /weightData/));
  }
  // A view of the bytes is read like the ArrayBuffer.
  (await loadTfjsModel({ ...base, weightData: new Uint8Array(weightData) as never })).dispose();
  const badActivation = JSON.parse(JSON.stringify(base.modelTopology));
  badActivation.config.layers[1].config.activation = 'constructor';
  await assert.rejects(loadTfjsModel({ ...base, modelTopology: badActivation }), expectCode('UNKNOWN_NAME', /constructor/));
  await assert.rejects(loadWeightsFromBytes(new Sequential({ layers: [Input({ shape: [2] }).node!.layer as never, new Dense({ units: 1 })] }), new Uint8Array([1, 2, 3])), expectCode('CORRUPT_FILE', /weights file.*\.keras file/));
  for (const dtype of ['float16', '__proto__', 'constructor']) {
    await assert.rejects(loadTfjsModel({ ...base, weightSpecs: base.weightSpecs.map((s: object, i: number) => (i === 0 ? { ...s, dtype } : s)) }), expectCode('UNSUPPORTED_FILE', /dtype/));
  }
  // tf.keras 2.10 and before wrote Attention's and AdditiveAttention's causal flag: false changes nothing, true is refused with the hint.
  const { kerasConfigFromLegacy } = await import('../src/io/keras_legacy.js');
  const attention = (cls: string, causal: boolean) => ({
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: [
        { class_name: 'InputLayer', name: 'q', config: { batch_input_shape: [null, 3, 2], dtype: 'float32', name: 'q' }, inbound_nodes: [] },
        { class_name: cls, name: 'att', config: { name: 'att', trainable: true, dtype: 'float32', use_scale: false, causal, dropout: 0.0 }, inbound_nodes: [[['q', 0, 0, {}], ['q', 0, 0, {}]]] },
      ],
      input_layers: [['q', 0, 0]],
      output_layers: [['att', 0, 0]],
    },
  });
  for (const cls of ['Attention', 'AdditiveAttention']) {
    modelFromKerasConfig(kerasConfigFromLegacy(attention(cls, false), 'keras2', 'test')).dispose();
    assert.throws(() => kerasConfigFromLegacy(attention(cls, true), 'keras2', 'test'), expectCode('UNSUPPORTED_CONFIG', /use_causal_mask/));
  }
  const timeMajor = JSON.parse(JSON.stringify(base.modelTopology));
  timeMajor.config.layers[0].config.time_major = true;
  await assert.rejects(loadTfjsModel({ ...base, modelTopology: timeMajor }), expectCode('UNSUPPORTED_CONFIG', /time_major=true/));
  const dir = mkdtempSync(join(tmpdir(), 'masque-tfjs-bad-'));
  try {
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...topology, weightsManifest: [{ paths: ['missing.bin'], weights: base.weightSpecs }] }));
    await assert.rejects(loadTfjsModel(join(dir, 'model.json')), expectCode('CORRUPT_FILE', /missing\.bin/));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...topology, weightsManifest: [{ paths: ['../weights.bin'], weights: base.weightSpecs }] }));
    await assert.rejects(loadTfjsModel(join(dir, 'model.json')), expectCode('CORRUPT_FILE', /relative/));
    copyFileSync(`${TFJS}/lstm_hard_sigmoid/weights.bin`, join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'model.json'), '{"modelTopology": ');
    await assert.rejects(loadTfjsModel(join(dir, 'model.json')), expectCode('CORRUPT_FILE', /not valid JSON/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loading legacy and tfjs models and weights leaves no tensor behind', async () => {
  const c = loadCase(`${H5}/embedding_mask_zero.json`);
  const run = async () => {
    const m1 = await loadModel(`${H5}/embedding_mask_zero.h5`);
    m1.dispose();
    const m2 = await loadTfjsModel(`${TFJS}/tagger/model.json`);
    m2.dispose();
    const m3 = modelFromKerasConfig(c['config']);
    await loadWeights(m3, `${H5}/embedding_mask_zero.legacy-weights.h5`);
    await loadWeights(m3, `${H5}/embedding_mask_zero.weights.h5`);
    m3.dispose();
    await loadModel(`${H5}/embedding_mask_zero.weights.h5`).catch(() => undefined);
  };
  await run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await run();
  assert.equal(tf.memory().numTensors, before);
});

test("VarianceScaling (tfjs-layers' default initializer) and HeNormal, LecunNormal, LecunUniform draw as Keras's; bad options are refused", () => {
  const kernel = (init: object): number[] => {
    const m = new Sequential({ layers: [Input({ shape: [40] }).node!.layer as never, new Dense({ units: 60, kernelInitializer: init as never })] });
    try {
      return Array.from(m.getWeights()[0]!.dataSync());
    } finally {
      m.dispose();
    }
  };
  const std = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
  // uniform, fan_avg, scale 2: limit sqrt(3 * 2 / 50)
  const u = kernel({ className: 'VarianceScaling', config: { scale: 2, mode: 'fan_avg', distribution: 'uniform', seed: 1 } });
  assert.ok(Math.max(...u.map(Math.abs)) <= Math.sqrt(6 / 50) + 1e-6 && Math.max(...u.map(Math.abs)) > 0.9 * Math.sqrt(6 / 50));
  // truncated normal ('normal' is Keras's alias): the variance scale / fan_in, values within two of Keras's corrected standard deviations
  for (const [init, variance] of [[{ className: 'VarianceScaling', config: { distribution: 'normal', seed: 2 } }, 1 / 40], [{ className: 'HeNormal', config: { seed: 3 } }, 2 / 40], [{ className: 'LecunNormal', config: { seed: 4 } }, 1 / 40]] as const) {
    const v = kernel(init);
    assert.ok(Math.abs(std(v) / Math.sqrt(variance) - 1) < 0.1, `${init.className}: std ${std(v)} vs ${Math.sqrt(variance)}`);
    assert.ok(Math.max(...v.map(Math.abs)) <= (2 * Math.sqrt(variance)) / 0.87962566103423978 + 1e-6);
  }
  assert.ok(Math.max(...kernel({ className: 'LecunUniform', config: { seed: 5 } }).map(Math.abs)) <= Math.sqrt(3 / 40) + 1e-6);
  for (const config of [{ scale: 'x' }, { scale: -1 }, { mode: 'fan' }, { distribution: 'cauchy' }, { input_axes: [0] }]) {
    assert.throws(() => kernel({ className: 'VarianceScaling', config }), expectCode('INVALID_ARGUMENT', /VarianceScaling/));
  }
});
