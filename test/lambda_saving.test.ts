// Lambda layers hold a function, which no .keras file can carry across
// languages: saving one, and loading a Keras file with one, raise errors that
// name the layer and say what to do (a registered custom layer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf, Input, Embedding, Lambda, GlobalAveragePooling1D, Model, loadModel, modelToKerasConfig, registerKerasLayers, MasqueError } from '../src/index.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-text/', import.meta.url));

function lambdaModel(): Model {
  const ids = Input({ shape: [null], dtype: 'int32' });
  const h = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(ids);
  const d = new Lambda({ fn: (x) => tf.mul(x as tf.Tensor, 2), mask: 'passthrough', name: 'double' }).apply(h);
  return new Model({ inputs: ids, outputs: new GlobalAveragePooling1D({ name: 'pool' }).apply(d as never) });
}

function isAdvice(e: unknown): boolean {
  assert.ok(e instanceof MasqueError, String(e));
  assert.equal(e.code, 'UNSUPPORTED_CONFIG');
  assert.match(e.message, /'double'/);
  assert.match(e.message, /Lambda/);
  assert.match(e.message, /custom layer/);
  assert.match(e.message, /registerKerasLayers/);
  return true;
}

test('saving a model with a Lambda raises UNSUPPORTED_CONFIG naming the layer and the way out', async () => {
  const model = lambdaModel();
  await assert.rejects(model.toKerasBytes(), isAdvice);
  assert.throws(() => modelToKerasConfig(model), isAdvice);
  model.dispose();
});

test('loading a Keras file with a Lambda raises UNSUPPORTED_CONFIG with the same advice; registering a layer for it loads the file', async () => {
  const path = `${dir}lambda_layer.keras`;
  await assert.rejects(loadModel(path), isAdvice);
  // The advice, followed: a Masque layer for Keras's Lambda (x * 2, mask passed on).
  registerKerasLayers({ Lambda: { create: (config) => new Lambda({ name: config['name'] as string, fn: (x) => tf.mul(x as tf.Tensor, 2), mask: 'passthrough' }) } });
  const model = await loadModel(path);
  const golden = JSON.parse(readFileSync(`${dir}lambda_layer.json`, 'utf8'));
  const x = tf.tensor(golden.inputs[0].data, golden.inputs[0].shape, 'int32');
  const y = model.predict(x) as tf.Tensor;
  const d = tf.max(tf.abs(tf.sub(y, tf.tensor(golden.outputs[0].data, golden.outputs[0].shape)))).dataSync()[0]!;
  assert.ok(d <= 1e-6, `max |Masque - Keras| = ${d}`);
  tf.dispose([x, y]);
  model.dispose();
});
