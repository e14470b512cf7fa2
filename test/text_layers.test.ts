// TextVectorization, StringLookup and IntegerLookup against Keras 3.15.1
// (fixtures in test/fixtures/keras-3.15.1-text, made by make_text_fixtures.py
// through the oracle): the same vocabularies and ids on texts with
// punctuation and Unicode, the same outputs from Keras-made .keras files
// taking raw strings, no mask from the text layers (Keras makes none), and
// the vocabulary saved as Keras saves it (assets/<layer path>/vocabulary.txt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  tf, Input, TextVectorization, StringLookup, IntegerLookup, Embedding, LSTM, Dense, Model, Sequential, getMask,
  loadModel, loadModelFromBytes, modelToKerasConfig, MasqueError, type TextVectorizationArgs, type SymbolicTensor,
} from '../src/index.js';
import { layerFromKerasEntry } from '../src/io/keras_registry.js';
import { readZip } from '../src/io/zip.js';
import { expectCode } from './helpers.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-text/', import.meta.url));
const json = (name: string) => JSON.parse(readFileSync(`${dir}${name}`, 'utf8'));
interface Arr {
  shape: number[];
  data: number[];
}
const ints = (t: tf.Tensor) => ({ shape: t.shape, data: Array.from(t.dataSync() as Int32Array) });
const maxDiff = (got: tf.Tensor, want: Arr) => tf.tidy(() => tf.max(tf.abs(tf.sub(got, tf.tensor(want.data, want.shape)))).dataSync()[0]!);
const camel = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()), v]));

test('TextVectorization gives Keras\'s vocabulary and ids for every standardize/split setting, on punctuation and Unicode', () => {
  const { adapt_texts: adaptTexts, texts, cases } = json('text_vectorization_cases.json');
  const input = tf.tensor(texts as string[], [texts.length], 'string');
  for (const c of cases as { config: Record<string, unknown>; keras_config: Record<string, unknown>; vocabulary: string[]; ids: Arr }[]) {
    const what = JSON.stringify(c.config);
    // From the camelCase options, and from Keras's own config through the importer.
    const fromOptions = new TextVectorization(camel(c.config) as TextVectorizationArgs);
    const fromKeras = layerFromKerasEntry({ class_name: 'TextVectorization', config: c.keras_config }, { layerFromConfig: () => assert.fail() }) as TextVectorization;
    for (const layer of [fromOptions, fromKeras]) {
      if (!('vocabulary' in c.config)) layer.adapt(adaptTexts);
      assert.deepEqual(layer.getVocabulary(), c.vocabulary, `${what}: vocabulary`);
      const ids = layer.apply(input) as tf.Tensor;
      assert.deepEqual(ints(ids), { shape: c.ids.shape, data: c.ids.data }, `${what}: ids`);
      assert.equal(getMask(ids), null, `${what}: no mask, as in Keras`);
      ids.dispose();
    }
    // Masque's Keras config of the layer is Keras's, key for key.
    const exported = (modelToKerasConfig(new Sequential({ layers: [Input({ shape: [], dtype: 'string' }), fromOptions] as never })) as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers[1]!.config;
    assert.deepEqual({ ...exported, name: 'x' }, { ...c.keras_config, name: 'x' }, `${what}: exported config`);
  }
  input.dispose();
});

test('a Keras-made text classifier (.keras with its vocabulary asset) takes raw strings in Masque: Keras\'s ids and outputs', async () => {
  const g = json('text_classifier.json');
  const model = await loadModel(`${dir}text_classifier.keras`);
  const vectorize = model.getLayer('vectorize') as TextVectorization;
  assert.deepEqual(vectorize.getVocabulary(), g.vocabulary);
  const texts = tf.tensor(g.texts as string[], [g.texts.length], 'string');
  const ids = vectorize.apply(texts) as tf.Tensor;
  assert.deepEqual(ints(ids), g.ids);
  assert.equal(getMask(ids), null);
  assert.equal(g.ids_mask, null, 'Keras makes no mask either');
  // The Embedding after it masks the padding id 0.
  const embedded = model.getLayer('embed').apply(ids) as tf.Tensor;
  assert.deepEqual(Array.from(getMask(embedded)!.dataSync()), g.ids.data.map((v: number) => (v !== 0 ? 1 : 0)));
  const y = model.predict(g.texts) as tf.Tensor;
  assert.ok(maxDiff(y, g.outputs[0]) <= 1e-5, `max |Masque - Keras| = ${maxDiff(y, g.outputs[0])}`);
  tf.dispose([texts, ids, embedded, y]);
  model.dispose();
});

test('a Keras-made model with StringLookup(maskToken \'\') and IntegerLookup(maskToken 0), adapted: Keras\'s vocabularies, ids and outputs', async () => {
  const g = json('lookup_classifier.json');
  const model = await loadModel(`${dir}lookup_classifier.keras`);
  const strings = model.getLayer('strings') as StringLookup;
  const integers = model.getLayer('integers') as IntegerLookup;
  assert.deepEqual(strings.getVocabulary(), g.string_vocabulary);
  assert.deepEqual(integers.getVocabulary(), g.int_vocabulary);
  const tokens = tf.tensor(g.tokens as string[][], undefined, 'string');
  const sIds = strings.apply(tokens) as tf.Tensor;
  const iIds = integers.apply(tf.tensor(g.ints as number[][], undefined, 'int32')) as tf.Tensor;
  assert.deepEqual(ints(sIds), g.string_ids);
  assert.deepEqual(ints(iIds), g.int_ids);
  // Keras's index lookups have no compute_mask: no mask, even with a mask token.
  assert.equal(getMask(sIds), null);
  assert.equal(g.string_ids_mask, null);
  assert.equal(g.int_ids_mask, null);
  const y = model.predict([g.tokens, g.ints]) as tf.Tensor;
  assert.ok(maxDiff(y, g.outputs[0]) <= 1e-5, `max |Masque - Keras| = ${maxDiff(y, g.outputs[0])}`);
  tf.dispose([tokens, sIds, iIds, y]);
  model.dispose();
});

test('saved by Masque, the text models keep Keras\'s zip layout (assets with the same bytes) and load back taking raw strings', async () => {
  for (const [name, feed] of [
    ['text_classifier', (g: Record<string, unknown>) => g['texts']],
    ['lookup_classifier', (g: Record<string, unknown>) => [g['tokens'], g['ints']]],
  ] as const) {
    const g = json(`${name}.json`);
    const keras = readZip(new Uint8Array(readFileSync(`${dir}${name}.keras`)));
    const model = await loadModel(`${dir}${name}.keras`);
    const bytes = await model.toKerasBytes();
    const mine = readZip(bytes);
    const assets = (m: Map<string, Uint8Array>) => [...m.keys()].filter((k) => k.startsWith('assets/')).sort();
    assert.deepEqual(assets(mine), assets(keras), `${name}: asset members`);
    for (const k of assets(keras)) assert.deepEqual(mine.get(k), keras.get(k), `${name}: ${k}`);
    const back = await loadModelFromBytes(bytes);
    const y = back.predict(feed(g) as never) as tf.Tensor;
    assert.ok(maxDiff(y, g.outputs[0]) <= 1e-5, `${name}: after the round trip`);
    y.dispose();
    back.dispose();
    model.dispose();
  }
});

test('a text model built in Masque (adapt, Embedding(maskZero), LSTM) saves its vocabulary and takes raw strings after loading', async () => {
  const texts = Input({ shape: [], dtype: 'string', name: 'texts' });
  const vectorize = new TextVectorization({ maxTokens: 50, outputSequenceLength: 6, name: 'vectorize' });
  vectorize.adapt(['Good movie!', 'bad, BAD movie', 'naïve café ÉTÉ 😀']);
  const ids = vectorize.apply(texts);
  assert.deepEqual(ids.spec, { shape: [null, 6], dtype: 'int32', mask: null });
  const h = new Embedding({ inputDim: 50, outputDim: 4, maskZero: true }).apply(ids);
  const model = new Model({ inputs: texts, outputs: new Dense({ units: 1 }).apply(new LSTM({ units: 3 }).apply(h)) });
  const sample = ['a good movie', 'BAD!', '😀 café'];
  const y = model.predict(sample) as tf.Tensor;
  const files = readZip(await model.toKerasBytes());
  const vocab = new TextDecoder().decode(files.get('assets/layers/text_vectorization/vocabulary.txt'));
  assert.equal(vocab, vectorize.getVocabulary().join('\n'));
  assert.ok(files.has('assets/layers/text_vectorization/_lookup_layer/vocabulary.txt'));
  const back = await loadModelFromBytes(await model.toKerasBytes());
  assert.deepEqual((back.getLayer('vectorize') as TextVectorization).getVocabulary(), vectorize.getVocabulary());
  const y2 = back.predict(sample) as tf.Tensor;
  assert.deepEqual(Array.from(y2.dataSync()), Array.from(y.dataSync()));
  // A vocabulary given to the constructor lives in the config: no asset.
  const fixed = new Model({ inputs: texts, outputs: new TextVectorization({ vocabulary: ['good', 'bad'], name: 'fixed' }).apply(texts) });
  assert.deepEqual([...readZip(await fixed.toKerasBytes()).keys()].filter((k) => k.startsWith('assets/')), []);
  tf.dispose([y, y2]);
  back.dispose();
  model.dispose();
});

test('StringLookup and IntegerLookup: Keras\'s id layout, invert, OOV rules and errors', () => {
  const s = new StringLookup({ vocabulary: ['a', 'b', 'c'], maskToken: '' });
  assert.deepEqual(s.getVocabulary(), ['', '[UNK]', 'a', 'b', 'c']);
  assert.deepEqual(ints(s.apply(tf.tensor([['a', 'x', ''], ['c', 'b', 'a']], undefined, 'string')) as tf.Tensor).data, [2, 1, 0, 4, 3, 2]);
  const inv = new StringLookup({ vocabulary: ['a', 'b'], invert: true, maskToken: '' });
  assert.deepEqual((inv.apply(tf.tensor([[0, 1, 2, 3, 7]], undefined, 'int32')) as tf.Tensor).arraySync(), [['', '[UNK]', 'a', 'b', '[UNK]']]);
  // Several OOV ids for integers: floor modulo (Keras's default oovMethod).
  const il = new IntegerLookup({ vocabulary: [10, 20], numOovIndices: 3 });
  assert.deepEqual(il.getVocabulary(), [-1, -1, -1, 10, 20]);
  assert.deepEqual(ints(il.apply(tf.tensor([[10, 20, 1, 2, 3, 4, -7]], undefined, 'int32')) as tf.Tensor).data, [3, 4, 1, 2, 0, 1, 2]);
  const strict = new StringLookup({ vocabulary: ['a'], numOovIndices: 0 });
  expectCode(() => strict.apply(tf.tensor(['a', 'zz'], undefined, 'string')), 'INVALID_INPUT', '"zz"', 'numOovIndices');
  // Several OOV ids for strings: FarmHash64 buckets (test/hashing.test.ts).
  assert.deepEqual(new StringLookup({ numOovIndices: 2 }).getVocabulary(), ['[UNK]', '[UNK]']);
  expectCode(() => new StringLookup({ vocabulary: ['a', 'b', 'a'] }), 'INVALID_ARGUMENT', '"a"', 'unique');
  expectCode(() => new StringLookup({ vocabulary: ['a', ''], maskToken: '' }), 'INVALID_ARGUMENT', 'mask token');
  expectCode(() => new StringLookup({ outputMode: 'two_hot' as never }), 'INVALID_ARGUMENT', 'outputMode', "'multi_hot'", 'two_hot');
  expectCode(() => new StringLookup({ outputMode: 'one_hot', invert: true }), 'INVALID_ARGUMENT', 'invert');
  expectCode(() => new TextVectorization({ ngrams: 0 }), 'INVALID_ARGUMENT', 'ngrams', 'positive');
  expectCode(() => new TextVectorization({ standardize: 'upper' as never }), 'INVALID_ARGUMENT', 'standardize');
  expectCode(() => new TextVectorization({ maxTokens: 3, vocabulary: ['a', 'b'] }), 'INVALID_ARGUMENT', 'maxTokens');
  expectCode(() => new TextVectorization({ max_tokens: 3 } as never), 'INVALID_ARGUMENT', 'maxTokens');
  const adapted = new TextVectorization({ vocabulary: ['a'] });
  expectCode(() => adapted.adapt(['a b']), 'INVALID_ARGUMENT', 'fixed vocabulary');
  // Text layers take strings; the others refuse them, and they refuse numbers.
  expectCode(() => new TextVectorization().apply(tf.tensor([1, 2])), 'INVALID_INPUT', 'string tensor');
  expectCode(() => new TextVectorization().apply(tf.tensor([['a', 'b']], undefined, 'string')), 'INPUT_SHAPE_MISMATCH', '[batch, 1]');
  const texts = Input({ shape: [], dtype: 'string' });
  expectCode(() => new Dense({ units: 1 }).apply(texts as SymbolicTensor), 'INVALID_INPUT');
});

test('a function standardize or split works in Masque and cannot be saved to Keras format', async () => {
  const tv = new TextVectorization({ standardize: (t) => t.toUpperCase(), split: (t) => t.split('-'), vocabulary: ['A', 'B'] });
  assert.deepEqual(ints(tv.apply(tf.tensor(['a-b-c'], [1], 'string')) as tf.Tensor).data, [2, 3, 1]);
  const texts = Input({ shape: [], dtype: 'string' });
  const model = new Model({ inputs: texts, outputs: tv.apply(texts) });
  await assert.rejects(model.toKerasBytes(), (e: unknown) => e instanceof MasqueError && e.code === 'UNSUPPORTED_CONFIG' && /standardize/.test(e.message));
});

test('a vocabulary asset that is missing or holds a line that is not a token is a CORRUPT_FILE naming the line', () => {
  const ints = new IntegerLookup();
  ints.adapt([[3, 5, 5, 7]]);
  const saved = ints.saveAssets()!;
  // One token a line in id order, the OOV token first (the layout of the Keras-made fixture files).
  assert.deepEqual(new TextDecoder().decode(saved['vocabulary.txt']).split('\n').filter(Boolean), ints.getVocabulary().map(String));
  assert.equal(ints.getVocabulary()[0], -1);
  const back = new IntegerLookup();
  back.loadAssets(saved, 'test.keras');
  assert.deepEqual(back.getVocabulary(), ints.getVocabulary());
  expectCode(() => new IntegerLookup().loadAssets({ 'vocabulary.txt': new TextEncoder().encode('5\nfive\n') }, 'test.keras'), 'CORRUPT_FILE', 'line 2', 'five', 'int32 integers');
  expectCode(() => new StringLookup().loadAssets({}, 'test.keras'), 'CORRUPT_FILE', 'vocabulary.txt');
  const strings = new StringLookup({ maskToken: '' });
  strings.adapt([['b', 'a', 'b']]);
  const copy = new StringLookup({ maskToken: '' });
  copy.loadAssets(strings.saveAssets()!, 'test.keras');
  assert.deepEqual(copy.getVocabulary(), strings.getVocabulary());
  expectCode(() => new StringLookup({ vocabulary: ['a'] }).adapt([['a']]), 'INVALID_ARGUMENT', 'fixed vocabulary');
});
