// The lookup layers' output modes other than 'int' and TextVectorization's
// ngrams against Keras 3.15.1: golden cases and three Keras-made .keras
// files from test/fixtures/keras-3.15.1-text/make_mode_cases.py (through the
// oracle with its tf shim, see that folder's README), and the errors Keras
// raises that Masque raises too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf, loadModel, loadModelFromBytes, MasqueError, StringLookup, IntegerLookup, TextVectorization, type Model } from '../src/index.js';
import { layerFromKerasEntry } from '../src/io/keras_registry.js';
import { getH5Group } from '../src/io/h5_weights.js';
import { readKerasArchive } from '../src/io/keras_archive.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-text/', import.meta.url));
const json = (name: string) => JSON.parse(readFileSync(`${dir}${name}`, 'utf8'));
interface Arr<T = number> {
  shape: number[];
  data: T[];
}
interface Case {
  name: string;
  class_name: 'StringLookup' | 'IntegerLookup' | 'TextVectorization';
  keras_config: Record<string, unknown>;
  adapt: unknown;
  vocabulary: (string | number)[];
  vocabulary_size: number;
  idf_weights: number[] | null;
  inputs: Arr<string | number>;
  outputs: Arr;
  note?: string;
}
type Lookup = StringLookup | IntegerLookup | TextVectorization;

const input = (c: Case) => tf.tensor(c.inputs.data as never[], c.inputs.shape, c.class_name === 'IntegerLookup' ? 'int32' : 'string');
const maxDiff = (got: ArrayLike<number>, want: number[]) => want.reduce((m, w, i) => Math.max(m, Math.abs(got[i]! - w)), 0);
const idfOf = (l: Lookup) => (l instanceof TextVectorization ? l.idfWeights() : l.idfWeights());

/**
 * Where Masque refuses what Keras computes (docs/keras.md, "Lookup output
 * modes"): a [batch] input to multi_hot, count or tf_idf (Keras counts the
 * whole batch as one sample), a scalar (Masque's inputs have a batch axis),
 * and n-grams of [batch] texts with split null (Keras makes them across the
 * batch).
 */
function refusedShape(c: Case): boolean {
  const mode = c.keras_config['output_mode'];
  if (c.inputs.shape.length === 0) return true;
  if (c.class_name === 'TextVectorization') return c.inputs.shape.length === 1 && c.keras_config['split'] === null && (mode !== 'one_hot' || c.keras_config['ngrams'] !== null);
  return c.inputs.shape.length === 1 && mode !== 'one_hot';
}

test('every golden case: Keras\'s vocabulary, idf weights and encodings (one_hot, multi_hot, count, tf_idf; ngrams in every mode)', () => {
  const { cases } = json('mode_cases.json') as { cases: Case[] };
  assert.equal(cases.length, 48);
  let compared = 0;
  const refused: string[] = [];
  const before = tf.memory().numTensors;
  for (const c of cases) {
    const layer = layerFromKerasEntry({ class_name: c.class_name, config: c.keras_config }, { layerFromConfig: () => assert.fail() }) as Lookup;
    if (c.adapt !== null) layer.adapt(c.adapt);
    assert.deepEqual(layer.getVocabulary(), c.vocabulary, c.name);
    assert.equal(layer.vocabularySize(), c.vocabulary_size, c.name);
    if (c.idf_weights !== null) {
      const idf = idfOf(layer)!;
      assert.equal(idf.length, c.idf_weights.length, c.name);
      // Bit for bit: Keras's float64 log cast to float32, its float32 mean (adapt) or float64 average (given) in front.
      assert.deepEqual(Array.from(idf), Array.from(Float32Array.from(c.idf_weights)), c.name);
    }
    const x = input(c);
    if (refusedShape(c)) {
      assert.throws(() => layer.apply(x), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH', c.name);
      refused.push(c.name);
    } else {
      const y = layer.apply(x) as tf.Tensor;
      assert.deepEqual(y.shape, c.outputs.shape, c.name);
      assert.equal(y.dtype, c.keras_config['output_mode'] === 'int' ? 'int32' : 'float32', c.name);
      const d = maxDiff(y.dataSync() as Float32Array, c.outputs.data);
      assert.ok(d <= 1e-5 * Math.max(1, ...c.outputs.data.map(Math.abs)), `${c.name}: outputs differ by ${d}`);
      compared++;
      y.dispose();
    }
    x.dispose();
    // The config Masque writes is Keras's (vocabulary_size as recorded after adapt).
    const back = layer.getConfig() as Record<string, unknown>;
    assert.equal(back['vocabularySize'], c.keras_config['vocabulary_size'], c.name);
  }
  assert.equal(compared, 44);
  assert.deepEqual(refused, ['sl_one_hot_scalar', 'sl_multi_hot_b', 'il_multi_hot_b', 'tv_count_split_none_ngrams_b']);
  assert.equal(tf.memory().numTensors, before);
});

test('the errors Keras raises for options that do not fit together are Masque\'s too', () => {
  const { errors } = json('mode_cases.json') as { errors: { name: string; class_name: string; kwargs: Record<string, unknown>; call_inputs: unknown; stage: string }[] };
  const make: Record<string, (a: never) => Lookup> = {
    StringLookup: (a) => new StringLookup(a),
    IntegerLookup: (a) => new IntegerLookup(a),
    TextVectorization: (a) => new TextVectorization(a),
  };
  // Masque takes ngrams as a list (JavaScript has no tuples; Keras's configs hold lists); Keras's file error is its own bug (below).
  const accepted = new Set(['ngrams_as_list', 'tf_idf_pad_to_max_tokens_adapted_save_load']);
  let checked = 0;
  for (const e of errors) {
    const args = Object.fromEntries(Object.entries(e.kwargs).map(([k, v]) => [k.replace(/_(\w)/g, (_, ch: string) => ch.toUpperCase()), v]));
    const run = () => {
      const l = make[e.class_name]!(args as never);
      if (e.call_inputs !== null) {
        const x = tf.tensor(e.call_inputs as never[], undefined, 'string');
        try {
          l.apply(x);
        } finally {
          x.dispose();
        }
      }
    };
    if (accepted.has(e.name)) {
      if (e.stage !== 'load') assert.doesNotThrow(run, e.name);
      continue;
    }
    assert.throws(run, (err: unknown) => err instanceof MasqueError && ['INVALID_ARGUMENT', 'NOT_BUILT', 'INPUT_SHAPE_MISMATCH'].includes(err.code), e.name);
    checked++;
  }
  assert.equal(checked, 13);
});

test('Keras-made .keras files with tf_idf (ngrams, adapted), multi_hot (vocabulary in the config) and count (padToMaxTokens) give Keras\'s outputs on raw tokens', async () => {
  const files = ['mode_tfidf_classifier', 'mode_multi_hot_classifier', 'mode_count_classifier'];
  for (const name of files) {
    const golden = json(`${name}.json`);
    const model = (await loadModel(`${dir}${name}.keras`)) as Model;
    const text = model.getLayer(golden.text_layer) as Lookup;
    assert.deepEqual(text.getVocabulary(), golden.vocabulary, name);
    if (golden.idf_weights) assert.deepEqual(Array.from(idfOf(text)!), golden.idf_weights, name);
    const isInt = text instanceof IntegerLookup;
    const x = tf.tensor(golden.inputs, undefined, isInt ? 'int32' : 'string');
    const encoded = text.apply(x) as tf.Tensor;
    assert.deepEqual(encoded.shape, golden.encoded.shape, name);
    assert.ok(maxDiff(encoded.dataSync() as Float32Array, golden.encoded.data) <= 1e-6, name);
    const y = model.predict(x) as tf.Tensor;
    assert.ok(maxDiff(y.dataSync() as Float32Array, golden.outputs[0].data) <= 1e-5, `${name}: model outputs`);
    // Saved again by Masque: the same layout Keras wrote (idf_weights by name in both groups, the vocabulary assets), the same outputs.
    const bytes = await model.toKerasBytes();
    const archive = await readKerasArchive(bytes);
    for (const entry of golden.weights_h5 as string[]) {
      const m = /^(.*)\/vars\/idf_weights \[(\d+)\]/.exec(entry);
      if (m) assert.equal(getH5Group(archive.weights, m[1]!)!.named!['idf_weights']!.shape[0], Number(m[2]), `${name}: ${entry}`);
    }
    assert.deepEqual([...(archive.otherFiles ? Object.keys(archive.otherFiles) : [])].sort(), (golden.zip_entries as string[]).filter((k) => k.startsWith('assets/')).sort(), name);
    const back = await loadModelFromBytes(bytes);
    const y2 = back.predict(x) as tf.Tensor;
    assert.deepEqual(Array.from(y2.dataSync()), Array.from(y.dataSync()), name);
    tf.dispose([x, encoded, y, y2]);
    back.dispose();
    model.dispose();
  }
});
