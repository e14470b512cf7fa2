// Compile settings and optimizer state in .keras files (issue 16), checked
// against Keras 3.15.1 (fixtures in test/fixtures/keras-3.15.1-compile; see
// its README): a Keras-trained file loads compiled in Masque and its next
// step is Keras's; a Masque-trained file loads compiled in Keras (checked by
// check_masque_files.py, whose output is committed) with the same optimizer
// state and the same next step; and Masque's own round trip continues
// exactly where it stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  tf, Input, Embedding, GlobalAveragePooling1D, Dense, Model, Sequential, Adam, Nadam, SGD,
  loadModel, loadModelFromBytes, saveModelToBytes, setWarningHandler, SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy, Precision, AUC, RMSprop, Huber, type CompileArgs,
} from '../src/index.js';
import { readKerasArchive } from '../src/io/keras_archive.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-compile/', import.meta.url));
const json = (name: string) => JSON.parse(readFileSync(`${dir}${name}`, 'utf8'));
type Batch = { x: number[][]; y: number[] };
type Named = { path: string; value: number | number[] | number[][] };
interface StepDoc {
  batches: Batch[];
  step4: { loss: number; accuracy: number };
  weights_after_step4: Named[];
  optimizer_variables_after_step4: Named[];
}

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
const maxAbs = (a: number[], b: number[]) => {
  assert.equal(a.length, b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
};

/** One Masque step on `b`: [loss, accuracy]. */
function stepOn(model: Model, b: Batch): number[] {
  const x = tf.tensor2d(b.x, undefined, 'int32');
  const y = tf.tensor1d(b.y, 'int32');
  try {
    return model.trainOnBatch(x, y) as number[];
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Masque's state after the step against Keras's: weights, optimizer variables (by index), loss and accuracy. */
function expectKerasStep(model: Model, doc: StepDoc, what: string): void {
  const [loss, acc] = stepOn(model, doc.batches[3]!);
  assert.ok(Math.abs(loss! - doc.step4.loss) < 1e-5, `${what}: loss ${loss} vs Keras ${doc.step4.loss}`);
  assert.equal(acc, doc.step4.accuracy, `${what}: accuracy`);
  const weights = model.trainableWeights;
  assert.equal(weights.length, doc.weights_after_step4.length);
  weights.forEach((w, i) => {
    const d = maxAbs(Array.from(w.variable.dataSync()), flat(doc.weights_after_step4[i]!.value));
    assert.ok(d < 1e-5, `${what}: ${w.path} differs from Keras's ${doc.weights_after_step4[i]!.path} by ${d}`);
  });
  const vars = model.optimizer!.variables();
  assert.equal(vars.length, doc.optimizer_variables_after_step4.length, `${what}: optimizer variable count`);
  vars.forEach((v, i) => {
    const want = doc.optimizer_variables_after_step4[i]!;
    const d = maxAbs(Array.from(v.variable.dataSync()), flat(want.value));
    assert.ok(d < 1e-5, `${what}: optimizer variable ${i} (${v.path}) differs from Keras's ${want.path} by ${d}`);
  });
}

for (const [name, optimizer] of [['keras_adam_functional', 'Adam'], ['keras_rmsprop_sequential', 'RMSprop']] as const) {
  test(`a Keras-trained ${optimizer} model (${name}.keras) loads compiled and its next step is Keras's`, async () => {
    const doc = json(`${name}.json`) as StepDoc;
    const model = await loadModel(`${dir}${name}.keras`);
    try {
      assert.ok(model.optimizer !== null, 'compiled');
      assert.equal(model.optimizer.constructor.name, optimizer);
      assert.equal(model.optimizer.iterations, 3);
      // evaluate works at once: Keras's loss and accuracy at the saved weights.
      const b = doc.batches[3]!;
      const [x, y] = [tf.tensor2d(b.x, undefined, 'int32'), tf.tensor1d(b.y, 'int32')];
      const [loss, acc] = (await model.evaluate(x, y)) as number[];
      tf.dispose([x, y]);
      assert.ok(Math.abs(loss! - doc.step4.loss) < 1e-5, `evaluate: ${loss} vs Keras ${doc.step4.loss}`);
      assert.equal(acc, doc.step4.accuracy);
      expectKerasStep(model, doc, name);
      assert.equal(model.optimizer.iterations, 4);
    } finally {
      model.dispose();
    }
  });
}

test('fit continues where Keras stopped: one epoch on the next batch gives Keras\'s weights', async () => {
  const doc = json('keras_adam_functional.json') as StepDoc;
  const before = tf.memory().numTensors;
  const model = await loadModel(`${dir}keras_adam_functional.keras`);
  try {
    const b = doc.batches[3]!;
    const [x, y] = [tf.tensor2d(b.x, undefined, 'int32'), tf.tensor1d(b.y, 'int32')];
    const history = await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
    tf.dispose([x, y]);
    assert.ok(Math.abs(history.history['loss']![0]! - doc.step4.loss) < 1e-5);
    model.trainableWeights.forEach((w, i) => assert.ok(maxAbs(Array.from(w.variable.dataSync()), flat(doc.weights_after_step4[i]!.value)) < 1e-5, w.path));
  } finally {
    model.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'loading a compiled model and disposing it leaves no tensors');
});

test('the Keras file\'s compile settings load as Keras wrote them (optimizer config, loss object, metrics)', async () => {
  const model = await loadModel(`${dir}keras_rmsprop_sequential.keras`);
  try {
    assert.ok(model instanceof Sequential);
    const cfg = model.optimizer!.getConfig() as unknown as Record<string, unknown>;
    assert.equal(cfg['momentum'], 0.5);
    assert.equal(cfg['centered'], true);
    assert.equal(model.compileArgs!.loss, 'sparse_categorical_crossentropy');
    assert.deepEqual(model.compileArgs!.metrics, ['sparse_categorical_accuracy']);
  } finally {
    model.dispose();
  }
  const adam = await loadModel(`${dir}keras_adam_functional.keras`);
  try {
    assert.ok(adam.compileArgs!.loss instanceof SparseCategoricalCrossentropy);
    assert.equal((adam.compileArgs!.loss as SparseCategoricalCrossentropy).fromLogits, true);
  } finally {
    adam.dispose();
  }
});

test('loadModel({ compile: false }) loads a compiled file uncompiled, as Keras\'s load_model(compile=False)', async () => {
  const model = await loadModel(`${dir}keras_adam_functional.keras`, { compile: false });
  try {
    assert.equal(model.optimizer, null);
    await assert.rejects(() => model.evaluate([[1, 2, 0, 0, 0, 0]], [1]), (e: Error & { code?: string }) => e.code === 'NOT_COMPILED');
  } finally {
    model.dispose();
  }
});

test('a Masque-trained file loads compiled in Keras 3.15.1 with the same optimizer state and the same next step (check_masque_files.py)', async () => {
  const doc = json('keras_adam_functional.json') as StepDoc;
  for (const name of ['masque_adam_functional', 'masque_nadam_sequential']) {
    const check = json(`${name}.keras_check.json`);
    assert.equal(check.compiled, true, `${name}: Keras loads it compiled`);
    assert.equal(check.optimizer_state_matches_file, true, `${name}: Keras restored the optimizer variables from the file`);
    assert.equal(check.iterations, 3);
    assert.deepEqual(check.load_warnings, [], `${name}: Keras loads it without optimizer warnings`);
    if (name === 'masque_nadam_sequential') {
      // Metric objects with a Keras class travel with their options.
      assert.deepEqual(check.compile_metrics, ['accuracy', { class: 'SparseTopKCategoricalAccuracy', config: { name: 'top2', dtype: 'float32', k: 2 } }]);
    }
    // Masque's own load of its file, and its next step, against Keras's next step from the same file.
    const model = await loadModel(`${dir}${name}.keras`);
    try {
      assert.equal(model.optimizer!.constructor.name, check.optimizer_class);
      expectKerasStep(model, { ...check, batches: doc.batches } as StepDoc, `${name} (Keras's step from Masque's file)`);
    } finally {
      model.dispose();
    }
  }
});

/** The fixture architecture, built in Masque. */
function buildModel(sequential: boolean, softmax: boolean): Model {
  const layers = () => [new Embedding({ inputDim: 12, outputDim: 4, maskZero: true }), new GlobalAveragePooling1D(), new Dense({ units: 5, activation: 'tanh' }), new Dense({ units: 3, ...(softmax ? { activation: 'softmax' as const } : {}) })];
  if (sequential) return new Sequential({ layers: [Input({ shape: [6], dtype: 'int32' }), ...layers()], name: 'classifier' });
  const inp = Input({ shape: [6], dtype: 'int32', name: 'ids' });
  let x = inp;
  for (const l of layers()) x = l.apply(x) as typeof inp;
  return new Model({ inputs: inp, outputs: x, name: 'classifier' });
}

test('Masque\'s round trip continues fit where it stopped: the step after loading equals the step without saving', async () => {
  const doc = json('keras_adam_functional.json') as StepDoc;
  const before = tf.memory().numTensors;
  for (const make of [() => new Adam({ learningRate: 0.01, amsgrad: true }), () => new Nadam({ learningRate: 0.02 }), () => new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true })]) {
    const a = buildModel(false, false);
    const optA = make();
    a.compile({ optimizer: optA, loss: new SparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    for (const b of doc.batches.slice(0, 3)) stepOn(a, b);
    const bytes = await saveModelToBytes(a);
    const back = await loadModelFromBytes(bytes);
    try {
      assert.equal(back.optimizer!.constructor.name, optA.constructor.name);
      assert.deepEqual(back.optimizer!.getConfig(), { ...optA.getConfig(), learningRate: Math.fround(optA.getConfig().learningRate as number) });
      const [lossA] = stepOn(a, doc.batches[3]!);
      const [lossB] = stepOn(back, doc.batches[3]!);
      assert.ok(Math.abs(lossA! - lossB!) < 1e-6);
      a.trainableWeights.forEach((w, i) => assert.ok(maxAbs(Array.from(w.variable.dataSync()), Array.from(back.trainableWeights[i]!.variable.dataSync())) < 1e-6, `${optA.className}: ${w.path}`));
      const va = optA.variables();
      const vb = back.optimizer!.variables();
      assert.equal(vb.length, va.length);
      va.forEach((v, i) => assert.ok(maxAbs(Array.from(v.variable.dataSync()), Array.from(vb[i]!.variable.dataSync())) < 1e-6, `${optA.className}: ${v.path}`));
      // evaluate works on the loaded model and agrees with the original.
      const x = doc.batches[0]!.x;
      const y = doc.batches[0]!.y;
      const [xs, ys] = [tf.tensor2d(x, undefined, 'int32'), tf.tensor1d(y, 'int32')];
      const ea = (await a.evaluate(xs, ys)) as number[];
      const eb = (await back.evaluate(xs, ys)) as number[];
      tf.dispose([xs, ys]);
      assert.ok(Math.abs(ea[0]! - eb[0]!) < 1e-6);
    } finally {
      a.dispose();
      optA.dispose();
      back.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors leak across save and load');
});

test('the file holds Keras\'s compile_config and optimizer/vars layout', async () => {
  const model = buildModel(false, false);
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'], lossWeights: [0.5] });
  try {
    const doc = json('keras_adam_functional.json') as StepDoc;
    stepOn(model, doc.batches[0]!);
    const archive = await readKerasArchive(await saveModelToBytes(model));
    const cc = (archive.config as Record<string, unknown>)['compile_config'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(cc), ['optimizer', 'loss', 'loss_weights', 'metrics', 'weighted_metrics', 'run_eagerly', 'steps_per_execution', 'jit_compile']);
    const opt = cc['optimizer'] as { class_name: string; config: Record<string, unknown> };
    assert.equal(opt.class_name, 'Adam');
    // Keras's keys in Keras's order; the Keras file of the fixture has the same.
    const kerasFile = await readKerasArchive(new Uint8Array(readFileSync(`${dir}keras_adam_functional.keras`)));
    const kerasOpt = ((kerasFile.config as Record<string, unknown>)['compile_config'] as Record<string, { config: Record<string, unknown> }>)['optimizer']!;
    assert.deepEqual(Object.keys(opt.config), Object.keys(kerasOpt.config));
    assert.deepEqual(cc['loss_weights'], [0.5]);
    assert.deepEqual(cc['metrics'], ['accuracy']);
    const vars = archive.weights.groups['optimizer']!;
    assert.equal(vars.varsAttrs!['name'], 'adam');
    assert.deepEqual(vars.vars.map((v) => [v.dtype, v.shape]), kerasFile.weights.groups['optimizer']!.vars.map((v) => [v.dtype, v.shape]));
    assert.equal(vars.vars[0]!.data[0], 1);
  } finally {
    model.dispose();
  }
});

test('metric objects with a Keras class are written with their options and load back as those classes', async () => {
  const model = buildModel(false, false);
  try {
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: [new SparseTopKCategoricalAccuracy({ k: 2 }), 'acc'], weightedMetrics: [new Precision({ topK: 1, classId: 2, name: 'p2' })] });
    const bytes = await saveModelToBytes(model);
    const cc = ((await readKerasArchive(bytes)).config as Record<string, Record<string, unknown>>)['compile_config']!;
    assert.deepEqual(cc['metrics'], [{ module: 'keras.metrics', class_name: 'SparseTopKCategoricalAccuracy', config: { name: 'sparse_top_k_categorical_accuracy', dtype: 'float32', k: 2 }, registered_name: null }, 'acc']);
    assert.deepEqual(cc['weighted_metrics'], [{ module: 'keras.metrics', class_name: 'Precision', config: { name: 'p2', dtype: 'float32', thresholds: null, top_k: 1, class_id: 2 }, registered_name: null }]);
    const back = await loadModelFromBytes(bytes);
    try {
      const [m0, m1] = back.compileArgs!.metrics as unknown[];
      assert.ok(m0 instanceof SparseTopKCategoricalAccuracy && m0.k === 2);
      assert.equal(m1, 'acc');
      const [p] = back.compileArgs!.weightedMetrics as unknown[];
      assert.ok(p instanceof Precision && p.topK === 1 && p.classId === 2 && p.name === 'p2');
    } finally {
      back.dispose();
    }
  } finally {
    model.dispose();
  }
});

test('compile settings Keras cannot rebuild: saved without them, with a warning; a file Masque cannot honour raises UNSUPPORTED_CONFIG naming the part', async () => {
  const warnings: string[] = [];
  const prev = setWarningHandler((m) => warnings.push(m));
  const model = buildModel(false, false);
  try {
    model.compile({ optimizer: 'sgd', loss: (t: tf.Tensor, p: tf.Tensor) => tf.mean(tf.square(tf.sub(t, p)), -1) });
    const archive = await readKerasArchive(await saveModelToBytes(model));
    assert.equal((archive.config as Record<string, unknown>)['compile_config'], undefined);
    assert.equal(archive.weights.groups['optimizer'], undefined);
    assert.match(warnings.join('\n'), /without its compile settings.*the loss is a function/);
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: [new AUC()] });
    const withAuc = await readKerasArchive(await saveModelToBytes(model));
    assert.equal((withAuc.config as Record<string, unknown>)['compile_config'], undefined);
    assert.match(warnings.join('\n'), /Metric object.*AUC|AUC.*Metric object/s);
  } finally {
    setWarningHandler(prev);
    model.dispose();
  }
  // A Keras file compiled with a loss Masque lacks (it has every built-in Keras loss: a custom one, registered in Python).
  const bytes = new Uint8Array(readFileSync(`${dir}keras_adam_functional.keras`));
  const archive = await readKerasArchive(bytes);
  const config = archive.config as Record<string, Record<string, unknown>>;
  const { writeKerasArchive } = await import('../src/io/keras_archive.js');
  const patched = (part: Record<string, unknown>) => writeKerasArchive({ ...archive, config: { ...config, compile_config: { ...config['compile_config'], ...part } } });
  const before = tf.memory().numTensors;
  for (const [part, words] of [
    [{ loss: 'focal_tversky' }, ['focal_tversky', 'loss']],
    [{ loss: { module: 'my_losses', class_name: 'FocalTversky', config: {}, registered_name: 'my_losses>FocalTversky' } }, ['my_losses>FocalTversky']],
    [{ optimizer: { module: 'keras.optimizers', class_name: 'Lion', config: {}, registered_name: null } }, ['Lion', 'optimizer']],
    [{ metrics: ['mean_iou'] }, ['mean_iou', 'metric']],
  ] as [Record<string, unknown>, string[]][]) {
    const file = await patched(part);
    await assert.rejects(() => loadModelFromBytes(file), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_CONFIG' && words.every((w) => e.message.includes(w)) && e.message.includes('compile: false'));
    const plain = await loadModelFromBytes(file, { compile: false });
    assert.equal(plain.optimizer, null);
    plain.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'a refused load frees what it built');
  await assert.rejects(() => loadModelFromBytes(bytes, { compile: 'yes' as unknown as boolean }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && e.message.includes('compile'));
  await assert.rejects(() => loadModelFromBytes(bytes, { compiled: false } as never), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /unknown option 'compiled'.*Did you mean 'compile'/.test(e.message));
});

test('several outputs: losses, loss weights and metrics keyed by output name survive the round trip (same logs after loading)', async () => {
  const inp = Input({ shape: [2] });
  const a = new Dense({ units: 1, name: 'out_a', kernelInitializer: 'ones' }).apply(inp);
  const b = new Dense({ units: 1, name: 'out_b', kernelInitializer: 'zeros' }).apply(inp);
  const model = new Model({ inputs: inp, outputs: [a, b] as never });
  const x = tf.tensor2d([[1, 2], [0.5, -1]]);
  const ya = tf.tensor2d([[0], [1]]);
  const yb = tf.tensor2d([[1], [3]]);
  try {
    for (const args of [
      { optimizer: new RMSprop({ learningRate: 0.05, momentum: 0.3 }), loss: { out_a: 'mse', out_b: new Huber({ delta: 0.5 }) }, lossWeights: { out_a: 1, out_b: 0.5 }, metrics: { out_b: ['mae'] } },
      { optimizer: 'adagrad', loss: ['mse', 'mae'], lossWeights: [1, 0.25], metrics: ['mae', ['mse', 'mae']] },
    ] as CompileArgs[]) {
      model.compile(args);
      model.trainOnBatch(x, [ya, yb]);
      const bytes = await saveModelToBytes(model);
      const cc = ((await readKerasArchive(bytes)).config as Record<string, Record<string, unknown>>)['compile_config']!;
      if (!Array.isArray(args.loss)) {
        assert.deepEqual(cc['loss'], { out_a: 'mse', out_b: { module: 'keras.losses', class_name: 'Huber', config: { name: 'huber_loss', reduction: 'sum_over_batch_size', delta: 0.5 }, registered_name: null } });
        assert.deepEqual(cc['loss_weights'], { out_a: 1, out_b: 0.5 });
      }
      const back = await loadModelFromBytes(bytes);
      try {
        const want = model.trainOnBatch(x, [ya, yb]) as number[];
        const got = back.trainOnBatch(x, [ya, yb]) as number[];
        assert.equal(got.length, want.length);
        got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `log ${i}: ${v} vs ${want[i]}`));
        assert.deepEqual(await back.evaluate(x, [ya, yb], { returnDict: true }), await model.evaluate(x, [ya, yb], { returnDict: true }));
      } finally {
        back.dispose();
      }
    }
  } finally {
    tf.dispose([x, ya, yb]);
    model.dispose();
  }
});

test('a two-input Masque model with AdamW(amsgrad): Keras restores every optimizer slot to its own variable (check_masque_files.py)', () => {
  const check = json('masque_adamw_branches.keras_check.json');
  const state = json('masque_adamw_branches.masque_state.json');
  assert.equal(check.compiled, true);
  assert.equal(check.optimizer_class, 'AdamW');
  assert.equal(check.optimizer_config.amsgrad, true);
  assert.deepEqual(check.load_warnings, []);
  assert.equal(check.optimizer_variables.length, state.optimizer_variables.length);
  for (const v of check.optimizer_variables as { path: string; in_masque_state: boolean; max_abs_diff: number | null }[]) {
    assert.ok(v.in_masque_state, `${v.path}: Masque has a variable of that path`);
    assert.equal(v.max_abs_diff, 0, `${v.path}: Keras's value is the one Masque saved`);
  }
});

test('optimizer/vars follow Keras\'s build order even when Masque built the slots in two goes', async () => {
  const [v1, v2] = [tf.variable(tf.zeros([2])), tf.variable(tf.zeros([3]))];
  const opt = new Adam({ amsgrad: true });
  try {
    opt.build([v1], ['a/kernel']);
    opt.build([v2], ['b/kernel']);
    const slots = (o: readonly tf.Variable[]) => opt.variablesInOrder(o).map((v) => v.path.replace('adam/', ''));
    assert.deepEqual(slots([v1, v2]), ['iteration', 'learning_rate', 'a_kernel_momentum', 'a_kernel_velocity', 'b_kernel_momentum', 'b_kernel_velocity', 'a_kernel_velocity_hat', 'b_kernel_velocity_hat']);
    assert.deepEqual(slots([v2, v1]).slice(2, 4), ['b_kernel_momentum', 'b_kernel_velocity']);
    assert.equal(new Set(opt.variablesInOrder([v1, v2]).map((v) => v.variable)).size, opt.variables().length);
  } finally {
    opt.dispose();
    tf.dispose([v1, v2]);
  }
});

test('optimizer state as other Keras files hold it: an int64 iteration (TensorFlow backend) loads; a file with an unbuilt optimizer loads compiled with fresh slots, warning only when steps are lost', async () => {
  const doc = json('keras_adam_functional.json') as StepDoc;
  const bytes = new Uint8Array(readFileSync(`${dir}keras_adam_functional.keras`));
  const archive = await readKerasArchive(bytes);
  const { writeKerasArchive } = await import('../src/io/keras_archive.js');
  const opt = archive.weights.groups['optimizer']!;
  const withVars = (vars: typeof opt.vars) => writeKerasArchive({ ...archive, weights: { ...archive.weights, groups: { ...archive.weights.groups, optimizer: { ...opt, vars } } } });

  const int64 = await withVars([{ shape: [], dtype: 'int64', data: BigInt64Array.from([3n]) }, ...opt.vars.slice(1)]);
  const model = await loadModelFromBytes(int64);
  try {
    assert.equal(model.optimizer!.iterations, 3);
    expectKerasStep(model, doc, 'int64 iteration');
  } finally {
    model.dispose();
  }

  const warnings: string[] = [];
  const prev = setWarningHandler((m) => warnings.push(m));
  try {
    for (const [iteration, warns] of [[0, false], [3, true]] as const) {
      warnings.length = 0;
      const head = [{ shape: [], dtype: 'int32' as const, data: Int32Array.from([iteration]) }, opt.vars[1]!];
      const m = await loadModelFromBytes(await withVars(head));
      try {
        assert.equal(m.optimizer!.iterations, 0, 'the state was not loaded');
        assert.equal(m.optimizer!.variables().length, opt.vars.length, 'the slots exist (built at load, as Keras)');
        assert.equal(warnings.some((w) => /skipped the optimizer state.*2/.test(w)), warns, `iteration ${iteration}: ${warnings.join(' | ')}`);
      } finally {
        m.dispose();
      }
    }
  } finally {
    setWarningHandler(prev);
  }
});

test("an optimizer's numbers are written as Python floats: Keras refused SGD's momentum 0 (json read it as an int) and a learning rate of 1", async () => {
  const { unzipSync, strFromU8 } = await import('fflate');
  const model = new Sequential([Input({ shape: [3] }), new Dense({ units: 1 })]);
  model.compile({ optimizer: new SGD({ learningRate: 1, momentum: 0 }), loss: 'mse' });
  const text = strFromU8(unzipSync(await saveModelToBytes(model))['config.json']!);
  assert.match(text, /"learning_rate": 1\.0, /);
  assert.match(text, /"momentum": 0\.0, /);
  assert.match(text, /"ema_momentum": 0\.99, /);
  // Masque reads them back as numbers.
  const back = await loadModelFromBytes(await saveModelToBytes(model));
  assert.equal((back.optimizer as SGD).learningRate, 1);
  model.dispose();
  back.dispose();
});
