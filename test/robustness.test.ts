/**
 * Regression tests for the robustness issue: each input that used to crash
 * the process, kill the backend, lose a file, leak or answer wrongly now
 * gives a result or a coded MasqueError (the bad-input suite covers the
 * random rest).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  tf, MasqueError, Sequential, Input, Model, Embedding, Dense, Dropout, LSTM, Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D,
  GlobalMaxPooling1D, LayerNormalization, Attention, Add, Masking, padSequences, loadModelFromBytes, getOptimizer, getLoss, getMetric,
  modelFromKerasConfig, modelToKerasConfig, TextVectorizer, planBatches, padBatch, embeddingLookup, setMaskPolicy, setKerasWeights, Mean,
  MeanMetricWrapper, setWarningHandler, collectLosses, registerKerasLayers, ProgressBar, Adam, ReduceLROnPlateau, AUC, Huber, GroupNormalization, Flatten, MultiHeadAttention, GroupQueryAttention, Layer, type CallArgs,
} from '../src/index.js';
import { expectCode } from './helpers.js';

function backendWorks(): void {
  const x = tf.tensor1d([1, 2]);
  const y = tf.add(x, x);
  assert.deepEqual(Array.from(y.dataSync()), [2, 4]);
  tf.dispose([x, y]);
}

test('a window longer than the input (Conv1D, pooling) or an input with no steps raises INPUT_SHAPE_MISMATCH before tfjs sees it; the backend survives', () => {
  const short = tf.ones([2, 3, 4]);
  const empty = tf.ones([2, 0, 4]);
  expectCode(() => new Conv1D({ filters: 2, kernelSize: 5 }).apply(short), 'INPUT_SHAPE_MISMATCH', "Conv1D 'conv1d", 'spans 5 steps', 'only 3');
  expectCode(() => new MaxPooling1D({ poolSize: 4 }).apply(short), 'INPUT_SHAPE_MISMATCH', 'spans 4 steps', 'only 3');
  expectCode(() => new AveragePooling1D().apply(empty), 'INPUT_SHAPE_MISMATCH', '0 time steps');
  expectCode(() => new Conv1D({ filters: 2, kernelSize: 1 }).apply(empty), 'INPUT_SHAPE_MISMATCH', '0 time steps');
  // 'same' padding has an output for any non-empty input, as in Keras.
  const y = new MaxPooling1D({ poolSize: 4, padding: 'same' }).apply(short) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 1, 4]);
  backendWorks();
  tf.dispose([short, empty, y]);
});

test('fit on sequences whose batch is shorter than a Conv1D kernel fails with the layer and the lengths named, and frees what it made', async () => {
  const model = new Sequential([Input({ shape: [null], dtype: 'int32' }), new Embedding({ inputDim: 10, outputDim: 4 }), new Conv1D({ filters: 2, kernelSize: 5 }), new GlobalMaxPooling1D(), new Dense({ units: 1 })]);
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const before = tf.memory().numTensors;
  await assert.rejects(model.fit({ sequences: [[1, 2, 3], [4, 5]], labels: [0, 1] }, { verbose: 0 }), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH' && /spans 5 steps/.test(e.message));
  assert.equal(tf.memory().numTensors, before);
  backendWorks();
  model.dispose();
});

test('global pooling of an empty batch gives an empty result, not a wasm trap', () => {
  const x = tf.ones([0, 3, 4]);
  for (const layer of [new GlobalAveragePooling1D(), new GlobalMaxPooling1D()]) {
    const y = layer.apply(x) as tf.Tensor;
    assert.deepEqual(y.shape, [0, 4]);
    y.dispose();
  }
  backendWorks();
  x.dispose();
});

test("the Keras spellings new Sequential([a, b]) and a leading Input build the model", () => {
  const m = new Sequential([new Dense({ units: 3, inputShape: [4] }), new Dense({ units: 1 })]);
  assert.equal(m.layers.length, 2);
  const y = m.predict(tf.ones([2, 4])) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 1]);
  const m2 = new Sequential([Input({ shape: [null], dtype: 'int32' }), new Embedding({ inputDim: 5, outputDim: 2, maskZero: true })]);
  assert.deepEqual(m2.outputs[0]!.shape, [null, null, 2]);
  tf.dispose(y);
  m.dispose();
  m2.dispose();
});

test('NaN, infinite and fractional token ids are refused with their position, not looked up as row 0 and marked valid', () => {
  const emb = new Embedding({ inputDim: 5, outputDim: 2, maskZero: true });
  for (const bad of [NaN, Infinity, 1.5]) {
    const ids = tf.tensor2d([[1, bad, 0]]);
    expectCode(() => emb.apply(ids), 'INVALID_INPUT', `id ${bad}`, '[0, 1]');
    ids.dispose();
  }
  const strings = tf.tensor2d([['a', 'b']]);
  expectCode(() => emb.apply(strings), 'INVALID_INPUT', 'string tensor');
  strings.dispose();
  emb.dispose();
});

test('Dropout with rate 1 in training outputs zeros, as Keras does, not NaN', () => {
  const x = tf.ones([2, 3]);
  const y = new Dropout({ rate: 1 }).apply(x, { training: true }) as tf.Tensor;
  assert.deepEqual(Array.from(y.dataSync()), [0, 0, 0, 0, 0, 0]);
  tf.dispose([x, y]);
});

test('a Constant initializer takes a matrix (pretrained embeddings) and refuses what does not fit or is not numeric', () => {
  const table = [[1, 2], [3, 4], [5, 6]];
  const emb = new Embedding({ inputDim: 3, outputDim: 2, embeddingsInitializer: { className: 'Constant', config: { value: table } } });
  const ids = tf.tensor2d([[2, 0]], undefined, 'int32');
  const y = emb.apply(ids) as tf.Tensor;
  assert.deepEqual(y.arraySync(), [[[5, 6], [1, 2]]]);
  tf.dispose([ids, y]);
  emb.dispose();
  const wrong = new Embedding({ inputDim: 4, outputDim: 2, embeddingsInitializer: { className: 'Constant', config: { value: table } } });
  expectCode(() => wrong.build([null, null]), 'WEIGHT_SHAPE_MISMATCH', '[3, 2]', '[4, 2]');
  const text = new Dense({ units: 2, kernelInitializer: { className: 'Constant', config: { value: 'abc' } } });
  expectCode(() => text.build([null, 3]), 'INVALID_ARGUMENT', 'Constant');
});

test("names that are JavaScript object properties ('constructor', '__proto__', 'toString') are unknown names, not Object's", () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    assert.throws(() => new Dense({ units: 2, activation: name }), (e: unknown) => e instanceof MasqueError && e.code === 'UNKNOWN_NAME', name);
    assert.throws(() => new Dense({ units: 2, kernelInitializer: name }).build([null, 2]), (e: unknown) => e instanceof MasqueError && e.code === 'UNKNOWN_NAME', name);
    assert.throws(() => getOptimizer(name), (e: unknown) => e instanceof MasqueError, name);
    assert.throws(() => getLoss(name), (e: unknown) => e instanceof MasqueError, name);
    assert.throws(() => getMetric(name), (e: unknown) => e instanceof MasqueError, name);
  }
});

test('shape errors that tfjs used to report in its own words are MasqueErrors naming the layer (LayerNormalization, Attention, Add)', () => {
  const ln = new LayerNormalization();
  const x4 = tf.ones([2, 3, 4]);
  const x3 = tf.ones([2, 3, 3]);
  tf.dispose(ln.apply(x4) as tf.Tensor);
  expectCode(() => ln.apply(x3), 'INPUT_SHAPE_MISMATCH', "LayerNormalization 'layer_normalization", '[4]', '[2, 3, 3]');
  const q = tf.ones([2, 3, 4]);
  const v = tf.ones([3, 5, 4]);
  expectCode(() => new Attention().apply([q, v]), 'INPUT_SHAPE_MISMATCH', 'batch sizes');
  expectCode(() => new Add().apply([x4, x3]), 'INPUT_SHAPE_MISMATCH', "Add 'add");
  expectCode(() => new Dense({ units: 2 }).apply(tf.scalar(1)), 'INPUT_SHAPE_MISMATCH', 'batch axis');
  tf.dispose([x4, x3, q, v]);
  ln.dispose();
});

test('failed loads and bad multi-input predicts leave the tensor count where it was', async () => {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL('./fixtures/keras-3.15.1/stacked_embedding_lstm_lstm_dense.keras', import.meta.url))));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) {
    // The config and weights parse; the weights file is cut short: the load fails after the layers were built.
    const cut = bytes.slice(0, bytes.length - 200 - i);
    await assert.rejects(loadModelFromBytes(cut), (e: unknown) => e instanceof MasqueError);
  }
  assert.equal(tf.memory().numTensors, before);
  const a = Input({ shape: [3] });
  const b = Input({ shape: [3] });
  const m = new Model({ inputs: [a, b], outputs: new Add().apply([a, b]) });
  const counted = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    assert.throws(() => m.predict([[[1, 2, 3]], 'not data' as never]), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_INPUT');
    assert.throws(() => m.predict([[[1, 2, 3]], [[1, 2]]]), (e: unknown) => e instanceof MasqueError);
  }
  assert.equal(tf.memory().numTensors, counted);
  m.dispose();
});

test('padSequences refuses a huge result before allocating, and cyclic or absurd arguments with coded errors', () => {
  const t0 = Date.now();
  expectCode(() => padSequences([[1, 2, 3]], { maxlen: 3e8 }), 'INVALID_ARGUMENT', '300000000', 'MiB', 'nothing was allocated');
  assert.ok(Date.now() - t0 < 1000, 'the refusal must come before any allocation');
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  expectCode(() => padSequences([cyclic] as never), 'INVALID_SEQUENCES');
  expectCode(() => padSequences(null as never), 'INVALID_SEQUENCES');
  expectCode(() => padSequences([[1]], { max_len: 3 } as never), 'INVALID_ARGUMENT', 'Did you mean maxlen?');
  expectCode(() => padSequences([[1]], 5 as never), 'INVALID_ARGUMENT');
});

test('null and undefined where options or data belong are MasqueErrors, not TypeErrors', () => {
  for (const make of [() => new Dense(null as never), () => new LSTM(undefined as never), () => new Masking(7 as never)]) {
    assert.throws(make, (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT');
  }
  const m = new Sequential([new Dense({ units: 1, inputShape: [2] })]);
  for (const bad of [null, undefined, 5, 'x', { a: 1 }]) {
    assert.throws(() => m.predict(bad as never), (e: unknown) => e instanceof MasqueError, String(bad));
  }
  m.dispose();
});

test('a save that fails part-way (file-size limit) leaves the previous file untouched and no temporary file behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'masque-save-'));
  try {
    const path = join(dir, 'model.keras');
    writeFileSync(path, 'the previous good file');
    const program = join(dir, 'save.mts');
    const index = new URL('../src/index.js', import.meta.url).href;
    writeFileSync(
      program,
      `import { ready, Sequential, Dense } from ${JSON.stringify(index)};
await ready();
const m = new Sequential([new Dense({ units: 256, inputShape: [256] })]);
try { await m.save(${JSON.stringify(path)}); console.log('saved'); } catch (e) { console.log('ERROR', e.code, e.message); }`,
    );
    // 64 KiB: enough for Node and tsx, far too little for a 256x256 float32 kernel (256 KiB).
    const r = spawnSync('bash', ['-c', `ulimit -f 64; exec "${process.execPath}" --import tsx "${program}"`], { encoding: 'utf8', timeout: 120_000, cwd: fileURLToPath(new URL('..', import.meta.url)) });
    assert.match(r.stdout, /ERROR SAVE_FAILED .*model\.keras.*previous file, if any, is unchanged/, r.stdout + r.stderr.slice(0, 2000));
    assert.equal(readFileSync(path, 'utf8'), 'the previous good file');
    assert.deepEqual(readdirSync(dir).sort(), ['model.keras', 'save.mts']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('save refuses a path that is not a .keras file name or is a folder, with coded errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'masque-save-'));
  const m = new Sequential([new Dense({ units: 1, inputShape: [2] })]);
  try {
    await assert.rejects(m.save(42 as never), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT');
    await assert.rejects(m.save(join(dir, 'model.h5')), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && /\.keras/.test(e.message));
    const folder = join(dir, 'folder.keras');
    (await import('node:fs')).mkdirSync(folder);
    await assert.rejects(m.save(folder), (e: unknown) => e instanceof MasqueError && /folder/.test(e.message));
    await assert.rejects(m.save(join(dir, 'missing', 'model.keras')), (e: unknown) => e instanceof MasqueError && e.code === 'SAVE_FAILED');
    assert.ok(!existsSync(join(dir, 'missing')));
  } finally {
    m.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a layer too large to allocate is INVALID_CONFIG naming its weight and shape (not a RangeError from tfjs); nothing is left behind', () => {
  const before = tf.memory().numTensors;
  expectCode(() => new Embedding({ inputDim: 11, outputDim: 1e9 }).build([null, 3]), 'INVALID_CONFIG', "Embedding", "'embeddings'", '[11, 1000000000]', '2^30');
  expectCode(() => new Dense({ units: 2 ** 20 }).build([null, 2 ** 11]), 'INVALID_CONFIG', "'kernel'", '[2048, 1048576]');
  assert.equal(tf.memory().numTensors, before);
  backendWorks();
});

test('a Keras config listing a layer no output depends on builds as in Keras, and that layer\'s weights are freed with the model', () => {
  const i = Input({ shape: [3] });
  const a = new Dense({ units: 2, name: 'a' }).apply(i);
  const b = new Dense({ units: 2, name: 'b' }).apply(i);
  const two = new Model({ inputs: i, outputs: [a, b] });
  const cfg = JSON.parse(JSON.stringify(modelToKerasConfig(two))) as { config: { output_layers: unknown[] } };
  two.dispose();
  for (const refs of [[cfg.config.output_layers[0]], [cfg.config.output_layers[0], []]]) {
    const before = tf.memory().numTensors;
    const m = modelFromKerasConfig({ ...cfg, config: { ...cfg.config, output_layers: refs } });
    assert.deepEqual(m.outputs.length, 1);
    assert.deepEqual(m.weights.map((w) => w.path), ['a/kernel', 'a/bias']);
    m.dispose();
    assert.equal(tf.memory().numTensors, before, `after ${JSON.stringify(refs)}`);
  }
});

test('misspelt or Keras-spelt options of the data helpers, embeddingLookup and modelFromKerasConfig are refused, not ignored', () => {
  expectCode(() => new TextVectorizer({ max_tokens: 4 } as never), 'INVALID_ARGUMENT', "unknown option 'max_tokens'", 'maxTokens');
  expectCode(() => new TextVectorizer(5 as never), 'INVALID_ARGUMENT', 'received 5');
  const tv = new TextVectorizer({ vocabulary: ['a'] });
  expectCode(() => tv.encodeToTensor(['a'], { max_len: 3 } as never), 'INVALID_ARGUMENT', "unknown option 'max_len'", 'maxlen');
  expectCode(() => planBatches([1, 2], { batch_size: 2 } as never), 'INVALID_ARGUMENT', "unknown option 'batch_size'", 'batchSize');
  expectCode(() => planBatches([1, 2], { batchSize: 2, bucketing: { pool_batches: 3 } } as never), 'INVALID_ARGUMENT', "'pool_batches'", 'poolBatches');
  expectCode(() => padBatch([[1, 2]], [0], { multiple_of: 8 } as never), 'INVALID_ARGUMENT', "unknown option 'multiple_of'", 'multipleOf');
  const table = tf.ones([3, 2]);
  const ids = tf.tensor1d([1], 'int32');
  expectCode(() => embeddingLookup(table, ids, { check_ids: false } as never), 'INVALID_ARGUMENT', "'check_ids'", 'checkIds');
  const m = new Sequential([Input({ shape: [2] }), new Dense({ units: 1 })]);
  expectCode(() => modelFromKerasConfig(modelToKerasConfig(m), undefined, { mask_policy: 'warn' } as never), 'INVALID_ARGUMENT', "'mask_policy'", 'maskPolicy');
  m.dispose();
  tf.dispose([table, ids]);
});

test('call arguments that are not an object, or contain themselves, are INVALID_ARGUMENT (the engine\'s walks over them overflowed the stack)', () => {
  const x = tf.ones([2, 3, 4]);
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  const bare = Object.create(null) as Record<string, unknown>;
  bare['initialState'] = cyclic;
  expectCode(() => new Flatten().apply(x, cyclic as never), 'INVALID_ARGUMENT', 'must be an object such as { training, mask }');
  expectCode(() => new Dense({ units: 2 }).apply(x, 5 as never), 'INVALID_ARGUMENT', 'received 5');
  expectCode(() => new LSTM({ units: 2 }).apply(x, { initialState: cyclic } as never), 'INVALID_ARGUMENT', 'contains itself');
  expectCode(() => new LSTM({ units: 2 }).apply(x, bare as never), 'INVALID_ARGUMENT', 'contains itself');
  expectCode(() => new Dense({ units: 2 }).apply(Input({ shape: [3, 4] }), { training: cyclic } as never), 'INVALID_ARGUMENT', 'contains itself');
  expectCode(() => new Dense({ units: 2 }).apply([x, cyclic] as never), 'INVALID_ARGUMENT', 'the inputs contain');
  // The attention layers read value and key from the call arguments first.
  expectCode(() => new MultiHeadAttention({ numHeads: 1, keyDim: 2 }).apply(x, 5 as never), 'INVALID_ARGUMENT', "MultiHeadAttention 'multi_head_attention", 'received 5');
  expectCode(() => new GroupQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1 }).apply(Input({ shape: [3, 4] }), null as never), 'INVALID_INPUT', 'expects [query, value]');
  x.dispose();
});

test('a call argument the layer does not take is INVALID_ARGUMENT, Keras spellings first: they were ignored (attention_mask, initial_state, use_causal_mask)', () => {
  const x = tf.ones([2, 3, 4]);
  const m = tf.ones([2, 3, 3], 'bool');
  const s = [tf.zeros([2, 2]), tf.zeros([2, 2])];
  expectCode(() => new MultiHeadAttention({ numHeads: 1, keyDim: 2 }).apply(x, { value: x, attention_mask: m } as never), 'INVALID_ARGUMENT', "unknown call argument 'attention_mask'", 'Did you mean attentionMask?', 'camelCase');
  expectCode(() => new LSTM({ units: 2 }).apply(x, { initial_state: s } as never), 'INVALID_ARGUMENT', "'initial_state'", 'Did you mean initialState?');
  expectCode(() => new Attention().apply([x, x], { use_causal_mask: true } as never), 'INVALID_ARGUMENT', "'use_causal_mask'", 'useCausalMask');
  expectCode(() => new Dense({ units: 2 }).apply(x, { trainig: true } as never), 'INVALID_ARGUMENT', "'trainig'", 'Did you mean training?', 'It takes training, mask.');
  expectCode(() => new Dense({ units: 2 }).apply(Input({ shape: [3, 4] }), { initialState: s } as never), 'INVALID_ARGUMENT', "'initialState'", 'It takes training, mask.');
  // What each layer takes still works.
  const y = new LSTM({ units: 2 }).apply(x, { initialState: s, training: false }) as tf.Tensor;
  const z = new MultiHeadAttention({ numHeads: 1, keyDim: 2 }).apply(x, { value: x, attentionMask: m, useCausalMask: true }) as tf.Tensor;
  // A custom layer's own call arguments pass; Keras's spellings of Masque's do not.
  class Scale extends Layer<CallArgs & { factor?: number }> {
    call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs & { factor?: number }): tf.Tensor {
      return tf.mul(inputs as tf.Tensor, args.factor ?? 1);
    }
  }
  const w = new Scale().apply(x, { factor: 2 } as never) as tf.Tensor;
  assert.equal(w.dataSync()[0], 2);
  expectCode(() => new Scale().apply(x, { attention_mask: m } as never), 'INVALID_ARGUMENT', "'attention_mask'", 'Did you mean attentionMask?');
  tf.dispose([x, m, ...s, y, z, w]);
});

test('loadModel reports a cyclic compile option as a coded error', async () => {
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  await assert.rejects(loadModelFromBytes(new Uint8Array(4), { compile: cyclic as never }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && e.message.includes('compile must be true or false'));
});

test('arguments of the wrong kind to the rest of the API are coded errors naming what was expected, not TypeErrors later', () => {
  const before = tf.memory().numTensors;
  const table = tf.ones([3, 2]);
  const m = new Sequential([Input({ shape: [2] }), new Dense({ units: 1 })]);
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  expectCode(() => embeddingLookup(table, [1, 2] as never), 'INVALID_ARGUMENT', 'must be tensors');
  expectCode(() => setMaskPolicy(cyclic as never), 'INVALID_ARGUMENT', "'error', 'warn', 'ignore'");
  expectCode(() => new TextVectorizer().adapt(5 as never), 'INVALID_INPUT', 'iterable) of strings', 'received 5');
  expectCode(() => padBatch([[1]], null as never), 'INVALID_ARGUMENT', 'indices');
  expectCode(() => planBatches(5 as never, { batchSize: 2 }), 'INVALID_ARGUMENT', 'lengths');
  expectCode(() => m.setWeights(undefined as never), 'INVALID_ARGUMENT', 'setWeights expects a list of 2');
  expectCode(() => setKerasWeights(m, undefined as never), 'INVALID_ARGUMENT', 'weights must be a list');
  expectCode(() => getMetric(1 as never), 'INVALID_ARGUMENT', 'metric name or a Metric object');
  expectCode(() => new Mean({ name: 'x' } as never), 'INVALID_ARGUMENT', 'Mean: the name must be a non-empty string');
  expectCode(() => new MeanMetricWrapper(5 as never, 'x'), 'INVALID_ARGUMENT', 'expected a function');
  expectCode(() => setWarningHandler(5 as never), 'INVALID_ARGUMENT', 'setWarningHandler');
  expectCode(() => collectLosses(5 as never), 'INVALID_ARGUMENT', 'collectLosses');
  expectCode(() => registerKerasLayers(5 as never), 'INVALID_ARGUMENT', 'registerKerasLayers');
  expectCode(() => m.summary(5 as never), 'INVALID_ARGUMENT', 'print must be a function');
  expectCode(() => new ProgressBar({} as never), 'INVALID_ARGUMENT', 'epochs must be a positive integer');
  // Cyclic values in messages (JSON.stringify threw on them).
  expectCode(() => new GroupNormalization({ groups: cyclic as never }), 'INVALID_ARGUMENT', 'groups must be a positive integer');
  // null options mean no options, as everywhere else.
  for (const make of [() => new Adam(null as never), () => new ReduceLROnPlateau(null as never), () => new AUC(null as never), () => new Huber(null as never), () => new TextVectorizer(null as never)]) {
    const o = make() as { dispose?: () => void };
    o.dispose?.();
  }
  m.dispose();
  table.dispose();
  assert.equal(tf.memory().numTensors, before);
});
