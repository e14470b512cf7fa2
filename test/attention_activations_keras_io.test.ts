// Keras files of the layers of issue 14: importing each Keras 3.15.1 case
// and exporting it again gives Keras's layer configs (the same keys and
// values as Keras's get_config wrote), regularizers and constraints convert
// both ways, and a GroupQueryAttention model's .keras file has Keras's
// layout (group `grouped_query_attention`, sub-layers `_query_dense`, …)
// and reloads with the same outputs. (Real Keras loading Masque's files of
// these layers: test/keras_roundtrip.test.ts, fixtures fn_attention_gqa_additive,
// fn_activations_regularization and fn_layer_options.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  tf, Input, Model, Embedding, GroupQueryAttention, PReLU, ReversibleEmbedding, modelFromKerasConfig, modelToKerasConfig, saveModelToBytes, loadModelFromBytes, type SymbolicTensor,
} from '../src/index.js';
import { readKerasArchive } from '../src/io/keras_archive.js';
import { getH5Group } from '../src/io/h5_weights.js';
import { assertClose } from './attention_helpers.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-more', import.meta.url));
const CLASSES = new Set(['GroupQueryAttention', 'AdditiveAttention', 'ELU', 'LeakyReLU', 'PReLU', 'Identity', 'GaussianDropout', 'AlphaDropout', 'SpatialDropout1D', 'ActivityRegularization', 'ReversibleEmbedding', 'EinsumDense', 'Dot']);

test('the new layers export the config Keras wrote, key for key and value for value', () => {
  const seen = new Set<string>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const c = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
    if (c.call_error_type) continue;
    const model = modelFromKerasConfig(c.config, undefined, { maskPolicy: 'ignore' });
    const out = modelToKerasConfig(model) as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    const original = c.config.config.layers as { config: Record<string, unknown> }[];
    for (const l of out.config.layers.filter((x) => CLASSES.has(x.class_name))) {
      const want = original.find((o) => o.config['name'] === l.config['name'])!.config;
      assert.deepEqual(Object.keys(l.config).sort(), Object.keys(want).sort(), `${f}: ${l.class_name} config keys`);
      for (const k of Object.keys(want)) assert.deepEqual(l.config[k], want[k], `${f}: ${l.class_name} ${k}`);
      seen.add(l.class_name);
    }
    model.dispose();
  }
  assert.deepEqual([...seen].sort(), [...CLASSES].sort());
});

test('regularizers and constraints convert to Keras\'s serialized objects and back', () => {
  const inp = Input({ shape: [4, 3] });
  const p = new PReLU({ alphaRegularizer: 'l2', alphaConstraint: { className: 'MaxNorm', config: { max_value: 2, axis: 0 } } });
  const model = new Model({ inputs: inp, outputs: p.apply(inp) as SymbolicTensor });
  const cfg = modelToKerasConfig(model) as { config: { layers: { config: Record<string, unknown> }[] } };
  const layer = cfg.config.layers[1]!.config;
  assert.deepEqual(layer['alpha_regularizer'], { module: 'keras.regularizers', class_name: 'L2', config: {}, registered_name: null });
  assert.deepEqual(layer['alpha_constraint'], { module: 'keras.constraints', class_name: 'MaxNorm', config: { max_value: 2, axis: 0 }, registered_name: null });
  const back = modelFromKerasConfig(cfg);
  const w = back.weights[0]!;
  assert.equal(w.regularizer !== null && w.constraint !== null, true);
  // L2 by name defaults to 0.01 (Keras's keras.regularizers.get('l2')).
  tf.tidy(() => {
    w.variable.assign(tf.ones(w.shape));
    assertClose(back.regularizationLosses()[0]!.dataSync(), [0.01 * 12], 1e-6, 'l2 penalty');
    const projected = w.constraint!(tf.fill(w.shape, 3)).dataSync();
    assertClose([projected[0]!], [3 * (2 / (1e-7 + 3 * 2))], 1e-6, 'MaxNorm over axis 0 (norm of 4 threes is 6)');
  });
  model.dispose();
  back.dispose();
});

test('a GroupQueryAttention model saves Keras\'s .keras layout and reloads with the same outputs', async () => {
  const ids = Input({ shape: [null], dtype: 'int32' });
  const e = new Embedding({ inputDim: 9, outputDim: 4, maskZero: true }).apply(ids) as SymbolicTensor;
  const g = new GroupQueryAttention({ headDim: 2, numQueryHeads: 4, numKeyValueHeads: 2, useGate: true });
  const logits = new ReversibleEmbedding({ inputDim: 9, outputDim: 4 });
  const out = logits.apply(g.apply([e, e]) as SymbolicTensor, { reverse: true }) as SymbolicTensor;
  const model = new Model({ inputs: ids, outputs: out });
  const bytes = await saveModelToBytes(model);
  const archive = await readKerasArchive(bytes);
  for (const sub of ['_query_dense', '_key_dense', '_gate_dense', '_value_dense', '_output_dense']) {
    assert.equal(getH5Group(archive.weights, `layers/grouped_query_attention/${sub}`)?.vars.length, 2, sub);
  }
  assert.ok(getH5Group(archive.weights, 'layers/grouped_query_attention/_softmax') && getH5Group(archive.weights, 'layers/grouped_query_attention/_dropout_layer'));
  const entry = (archive.config as { config: { layers: { class_name: string; build_config?: unknown }[] } }).config.layers.find((l) => l.class_name === 'GroupQueryAttention')!;
  assert.deepEqual(entry.build_config, { shapes_dict: { query_shape: [null, null, 4], value_shape: [null, null, 4] } });
  const loaded = await loadModelFromBytes(bytes);
  tf.tidy(() => {
    const x = tf.tensor2d([[3, 1, 0], [5, 0, 0]], [2, 3], 'int32');
    assertClose((loaded.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync(), 1e-6, 'reloaded outputs');
  });
  model.dispose();
  loaded.dispose();
});
