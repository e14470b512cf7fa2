// The output modes of the lookup layers other than 'int' ('one_hot',
// 'multi_hot', 'count', 'tf_idf') and TextVectorization's ngrams: behaviour
// Masque adds or refuses beyond the golden cases of
// keras_lookup_modes.test.ts (padding tokens never change an encoding, the
// vocabulary size is fixed once set, files keep the idf weights, errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  tf, Input, TextVectorization, StringLookup, IntegerLookup, Dense, Model, loadModelFromBytes, MasqueError,
} from '../src/index.js';
import { readKerasArchive, writeKerasArchive } from '../src/io/keras_archive.js';
import { getH5Group } from '../src/io/h5_weights.js';
import { assertPredictLeaksNothing, expectCode } from './helpers.js';

const strings = (rows: string[][]) => tf.tensor(rows, undefined, 'string');
const values = (t: tf.Tensor | tf.Tensor[] | unknown) => Array.from((t as tf.Tensor).dataSync() as Float32Array);

test('multi_hot, count and tf_idf: padding tokens (the mask token) change no encoding, however many and wherever they are', () => {
  const vocabulary = ['a', 'b', 'c', 'd'];
  const layers = [
    new StringLookup({ vocabulary, maskToken: '', outputMode: 'multi_hot' }),
    new StringLookup({ vocabulary, maskToken: '', outputMode: 'count' }),
    new StringLookup({ vocabulary, maskToken: '', outputMode: 'tf_idf', idfWeights: [0.5, 1.25, 2, 0.75] }),
    new StringLookup({ vocabulary, maskToken: '', outputMode: 'one_hot' }),
  ];
  const before = tf.memory().numTensors;
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'zz'), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
      fc.nat(5),
      fc.boolean(),
      (rows, extra, front) => {
        const width = Math.max(...rows.map((r) => r.length));
        const pad = (w: number) => rows.map((r) => (front ? [...new Array<string>(w - r.length).fill(''), ...r] : [...r, ...new Array<string>(w - r.length).fill('')]));
        for (const layer of layers.slice(0, 3)) {
          const [x1, x2] = [strings(pad(width)), strings(pad(width + extra))];
          const [y1, y2] = [layer.apply(x1) as tf.Tensor, layer.apply(x2) as tf.Tensor];
          // The mask token has no id outside 'int' mode: '[UNK]' and the 4 tokens.
          assert.deepEqual(y2.shape, [rows.length, 5]);
          assert.deepEqual(values(y2), values(y1));
          tf.dispose([x1, x2, y1, y2]);
        }
        // one_hot: a padding token is a row of zeros.
        const x = tf.tensor(['', 'a'], [2, 1], 'string');
        const y = layers[3]!.apply(x) as tf.Tensor;
        assert.deepEqual(values(y), [0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        tf.dispose([x, y]);
      },
    ),
    { numRuns: 60, seed: 17 },
  );
  assert.equal(tf.memory().numTensors, before);
});

test('count and tf_idf count repeats; OOV tokens count at their OOV id; IntegerLookup spreads them by floor modulo', () => {
  const count = new StringLookup({ vocabulary: ['a', 'b'], outputMode: 'count' });
  assert.deepEqual(values(count.apply(strings([['a', 'a', 'x', 'b', 'y', 'a']]))), [2, 3, 1]);
  const tfidf = new StringLookup({ vocabulary: ['a', 'b'], outputMode: 'tf_idf', idfWeights: [0.5, 0.25] });
  // Without the OOV token in front, its id gets the weights' average (0.375), as in Keras.
  assert.deepEqual(Array.from(tfidf.idfWeights()!), [0.375, 0.5, 0.25]);
  assert.deepEqual(values(tfidf.apply(strings([['a', 'a', 'x', 'b', 'y', 'a']]))), [0.75, 1.5, 0.25]);
  const withSpecial = new StringLookup({ vocabulary: ['[UNK]', 'a', 'b'], outputMode: 'tf_idf', idfWeights: [9, 0.5, 0.25] });
  assert.deepEqual(Array.from(withSpecial.idfWeights()!), [9, 0.5, 0.25]);
  const ints = new IntegerLookup({ vocabulary: [10, 20], numOovIndices: 2, maskToken: 0, outputMode: 'multi_hot', maxTokens: 8, padToMaxTokens: true });
  // ids: the mask 0 has none (dropped), 0-1 OOV (7 mod 2 = 1 -> id 1, -4 mod 2 = 0 -> id 0), 2 = 10, 3 = 20; 8 columns.
  assert.deepEqual(ints.getVocabulary(), [-1, -1, 10, 20]);
  assert.deepEqual(values(ints.apply(tf.tensor([[0, 7, 10], [0, 0, -4]], undefined, 'int32'))), [0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
});

test('tf_idf adapt: each row (or each text) is a document; the idf is log(1 + documents / (1 + documents holding the token))', () => {
  const lookup = new StringLookup({ outputMode: 'tf_idf' });
  lookup.adapt([['a', 'a', 'b'], ['a', 'c'], ['c', 'c', 'c']]);
  // counts: a 3, c 4, b 1 -> c, a, b; documents holding: c 2, a 2, b 1 of 3.
  assert.deepEqual(lookup.getVocabulary(), ['[UNK]', 'c', 'a', 'b']);
  const idf = [2, 2, 1].map((d) => Math.fround(Math.log(1 + 3 / (1 + d))));
  // The OOV id's weight: TensorFlow's reduce_mean of the float32 weights, summed in float32.
  const mean = Math.fround(Math.fround(Math.fround(idf[0]! + idf[1]!) + idf[2]!) / 3);
  assert.deepEqual(Array.from(lookup.idfWeights()!), [mean, ...idf]);
  // A flat list: each token its own document (Keras expands it to [n, 1]); a flat batch of an iterable: one document.
  const flat = new StringLookup({ outputMode: 'tf_idf' });
  flat.adapt(['a', 'a', 'b']);
  assert.deepEqual(Array.from(flat.idfWeights()!).slice(1), [Math.fround(Math.log(1 + 3 / 3)), Math.fround(Math.log(1 + 3 / 2))]);
  const batches = new StringLookup({ outputMode: 'tf_idf' });
  batches.adapt(new Set([['a', 'a', 'b']]));
  assert.deepEqual(Array.from(batches.idfWeights()!).slice(1), [Math.fround(Math.log(1.5)), Math.fround(Math.log(1.5))]);
  const tv = new TextVectorization({ outputMode: 'tf_idf' });
  tv.adapt(['the cat', 'the the dog']);
  // Outside 'int' mode the padding token '' has no id.
  assert.deepEqual(tv.getVocabulary(), ['[UNK]', 'the', 'dog', 'cat']);
  assert.deepEqual(Array.from(tv.idfWeights()!).slice(1), [2, 1, 1].map((d) => Math.fround(Math.log(1 + 2 / (1 + d)))));
});

test('TextVectorization ngrams: widths in turn, joined by a space, in adapt, int ids and the encodings', () => {
  const tv = new TextVectorization({ ngrams: [1, 3], vocabulary: ['a', 'a b c', 'c'] });
  assert.deepEqual(tv.tokenize('A b c d'), ['a', 'b', 'c', 'd', 'a b c', 'b c d']);
  assert.deepEqual(Array.from((tv.apply(tf.tensor(['a b c', 'c'], undefined, 'string')) as tf.Tensor).dataSync()), [2, 1, 4, 3, 4, 0, 0, 0]);
  const counts = new TextVectorization({ ngrams: 2, outputMode: 'count' });
  counts.adapt(['x y x y']);
  // Ties by count go by the token's bytes, descending: 'y' > 'x y' > 'x'.
  assert.deepEqual(counts.getVocabulary(), ['[UNK]', 'y', 'x y', 'x', 'y x']);
  // 'z' and 'y z' are unknown: both count at '[UNK]'.
  assert.deepEqual(values(counts.apply(tf.tensor(['x y x y z'], undefined, 'string'))), [2, 2, 2, 2, 1]);
  // A huge n costs no more than the text (widths beyond its length give nothing).
  assert.deepEqual(new TextVectorization({ ngrams: 2 ** 31, vocabulary: ['a'] }).tokenize('a b'), ['a', 'b', 'a b']);
  // Character n-grams are joined by a space too (Keras passes separator ' ').
  const chars = new TextVectorization({ split: 'character', ngrams: [2], standardize: null, vocabulary: ['a b'] });
  assert.deepEqual(tv.tokenize(''), []);
  assert.deepEqual(chars.tokenize('abc'), ['a b', 'b c']);
});

test('in the modes other than int the vocabulary size is fixed once set, and a refused change keeps the old vocabulary', () => {
  const lookup = new StringLookup({ outputMode: 'multi_hot' });
  lookup.adapt(['a', 'b']);
  expectCode(() => lookup.adapt(['a', 'b', 'c']), 'INVALID_ARGUMENT', 'cannot change', '3', '4');
  assert.deepEqual(lookup.getVocabulary(), ['[UNK]', 'b', 'a']);
  lookup.adapt(['x', 'y', 'y']);
  assert.deepEqual(lookup.getVocabulary(), ['[UNK]', 'y', 'x']);
  const tfidf = new StringLookup({ outputMode: 'tf_idf', vocabulary: ['a'], idfWeights: [1] });
  expectCode(() => tfidf.setVocabulary(['a', 'b'], [1, 2]), 'INVALID_ARGUMENT', 'cannot change');
  assert.deepEqual(Array.from(tfidf.idfWeights()!), [1, 1]);
  // padToMaxTokens fixes the width instead, so the vocabulary may change.
  const padded = new StringLookup({ outputMode: 'count', maxTokens: 5, padToMaxTokens: true });
  padded.adapt(['a']);
  padded.adapt(['a', 'b', 'c']);
  assert.deepEqual((padded.apply(strings([['c']])) as tf.Tensor).shape, [1, 5]);
  // 'int' mode: any size.
  const ints = new StringLookup();
  ints.adapt(['a']);
  ints.adapt(['a', 'b']);
  assert.equal(ints.vocabularySize(), 3);
});

test('errors: shapes the encodings do not take, options that do not fit together, a vocabulary not set', () => {
  const mh = new StringLookup({ vocabulary: ['a'], outputMode: 'multi_hot' });
  expectCode(() => mh.apply(tf.tensor(['a', 'b'], undefined, 'string')), 'INPUT_SHAPE_MISMATCH', "'multi_hot'", '[batch, k]', '[2]', 'single vector');
  expectCode(() => mh.apply(tf.tensor([[['a']]], undefined, 'string')), 'INPUT_SHAPE_MISMATCH', '[1, 1, 1]');
  const oh = new StringLookup({ vocabulary: ['a'], outputMode: 'one_hot' });
  assert.deepEqual((oh.apply(tf.tensor([['a', 'b']], undefined, 'string')) as tf.Tensor).shape, [1, 2, 2]);
  expectCode(() => new StringLookup({ outputMode: 'multi_hot' }).apply(strings([['a']])), 'NOT_BUILT', 'adapt');
  expectCode(() => new StringLookup({ vocabulary: ['a'], outputMode: 'tf_idf' }), 'INVALID_ARGUMENT', 'idfWeights must be given');
  expectCode(() => new StringLookup({ idfWeights: [1], outputMode: 'tf_idf' }), 'INVALID_ARGUMENT', 'vocabulary');
  expectCode(() => new StringLookup({ vocabulary: ['a'], idfWeights: [1] }), 'INVALID_ARGUMENT', "only for outputMode 'tf_idf'");
  expectCode(() => new StringLookup({ vocabulary: ['a', 'b'], idfWeights: [1], outputMode: 'tf_idf' }), 'INVALID_ARGUMENT', '2 entries', '1');
  expectCode(() => new StringLookup({ vocabulary: ['a'], idfWeights: [NaN], outputMode: 'tf_idf' }), 'INVALID_ARGUMENT', 'finite');
  expectCode(() => new StringLookup({ outputMode: 'multi_hot', sparse: true }), 'INVALID_ARGUMENT', 'sparse');
  expectCode(() => new StringLookup({ outputMode: 'tf_idf' }).adapt(['[UNK]', '[UNK]']), 'INVALID_INPUT', 'no tokens');
  expectCode(() => new StringLookup({ outputMode: 'tf_idf' }).adapt([[['a']]]), 'INVALID_INPUT', 'nested');
  // A tensor of numbers given to a string lookup's adapt (before this round, in every mode: a TypeError from sorting numbers as strings).
  for (const mode of ['int', 'tf_idf'] as const) {
    const nums = tf.tensor([[1, 2]]);
    expectCode(() => new StringLookup({ outputMode: mode }).adapt(nums), 'INVALID_INPUT', 'expects strings', 'float32', '[1, 2]');
    nums.dispose();
  }
  const halves = tf.tensor([1.5]);
  expectCode(() => new IntegerLookup().adapt(halves), 'INVALID_INPUT', 'int32 integers', '1.5');
  halves.dispose();
  const t3 = tf.tensor([[['a']]], undefined, 'string');
  expectCode(() => new StringLookup({ outputMode: 'tf_idf' }).adapt(t3), 'INVALID_INPUT', '[1, 1, 1]');
  t3.dispose();
  expectCode(() => new TextVectorization({ outputMode: 'count', outputSequenceLength: 4 }), 'INVALID_ARGUMENT', 'outputSequenceLength', "'count'");
  expectCode(() => new TextVectorization({ outputMode: 'one_hot', vocabulary: ['a'] }), 'INVALID_ARGUMENT', 'split must be null');
  expectCode(() => new TextVectorization({ outputMode: 'multi_hot', split: null, vocabulary: ['a'] }).apply(tf.tensor(['a'], undefined, 'string')), 'INPUT_SHAPE_MISMATCH', '[1]');
  expectCode(() => new TextVectorization({ split: null, ngrams: 2, vocabulary: ['a'] }).apply(tf.tensor(['a'], undefined, 'string')), 'INPUT_SHAPE_MISMATCH', 'n-grams across the batch');
  expectCode(() => new TextVectorization({ outputMode: 'count' }).apply(tf.tensor(['a'], undefined, 'string')), 'NOT_BUILT', 'adapt');
  const tv = new TextVectorization({ outputMode: 'tf_idf', vocabulary: ['a'], idfWeights: [1] });
  expectCode(() => tv.setVocabulary(['b']), 'INVALID_ARGUMENT', 'needs idfWeights');
  // A null vocabulary (bad-input seed 807) ended in a TypeError.
  expectCode(() => tv.setVocabulary(null as never, [4, 2]), 'INVALID_ARGUMENT', 'needs a vocabulary');
  // split null, one text a row: one_hot and the counting modes work on [batch, 1].
  const one = new TextVectorization({ outputMode: 'one_hot', split: null, vocabulary: ['a', 'b'] });
  assert.deepEqual(values(one.apply(tf.tensor(['b', '', 'q'], [3, 1], 'string'))), [0, 0, 1, 0, 0, 0, 1, 0, 0]);
});

test('a tf_idf text model saves its vocabulary and idf weights as Keras does, and loads back to the same outputs', async () => {
  const tv = new TextVectorization({ outputMode: 'tf_idf', ngrams: 2, maxTokens: 12, padToMaxTokens: true, name: 'vectorize' });
  tv.adapt(['the cat sat', 'the dog sat down', 'a cat', 'the end']);
  const texts = Input({ shape: [], dtype: 'string' });
  const model = new Model({ inputs: texts, outputs: new Dense({ units: 2, name: 'dense' }).apply(tv.apply(texts)) });
  const x = tf.tensor(['the cat sat down', 'nothing known', ''], undefined, 'string');
  const y = model.predict(x) as tf.Tensor;
  const bytes = await model.toKerasBytes();
  const archive = await readKerasArchive(bytes);
  const idf = Array.from(tv.idfWeights()!);
  assert.equal(idf.length, 12);
  for (const path of ['layers/text_vectorization', 'layers/text_vectorization/_lookup_layer']) {
    assert.deepEqual(Array.from(getH5Group(archive.weights, path)!.named!['idf_weights']!.data as Float32Array), idf, path);
  }
  const back = await loadModelFromBytes(bytes);
  const y2 = back.predict(x) as tf.Tensor;
  assert.deepEqual(values(y2), values(y));
  // Without its idf weights the file is refused, naming what is missing.
  delete getH5Group(archive.weights, 'layers/text_vectorization')!.named;
  await assert.rejects(loadModelFromBytes(await writeKerasArchive(archive)), (e: unknown) => e instanceof MasqueError && e.code === 'CORRUPT_FILE' && /idf_weights/.test(e.message));
  // Named variables on a layer that has none in Masque: refused, not ignored.
  const archive2 = await readKerasArchive(bytes);
  getH5Group(archive2.weights, 'layers/dense')!.named = { extra: { shape: [1], dtype: 'float32', data: new Float32Array(1) } };
  await assert.rejects(loadModelFromBytes(await writeKerasArchive(archive2)), (e: unknown) => e instanceof MasqueError && e.code === 'UNSUPPORTED_FILE' && /"extra"/.test(e.message));
  assertPredictLeaksNothing(back, x);
  tf.dispose([x, y, y2]);
  back.dispose();
  model.dispose();
});

test('review fixes: adapt with no token keeps the vocabulary (as Keras); flat batches of unsplit texts are one document each; an un-adapted tf_idf layer refuses to be saved; huge numOovIndices refused', async () => {
  for (const mode of ['int', 'multi_hot', 'tf_idf'] as const) {
    const l = new StringLookup({ outputMode: mode });
    l.adapt([['a', 'b'], ['a']]);
    const [vocab, idf] = [l.getVocabulary(), l.idfWeights()];
    l.adapt([]);
    l.adapt(new Set<string[]>());
    assert.deepEqual(l.getVocabulary(), vocab, mode);
    assert.deepEqual(l.idfWeights(), idf, mode);
  }
  // Keras: a rank-1 batch of unsplit texts stays rank 1 and is one document; an array is [n, 1], a document a text.
  const perBatch = new TextVectorization({ outputMode: 'tf_idf', split: null });
  perBatch.adapt(new Set([['x', 'y'], ['x', 'z']]));
  assert.deepEqual(perBatch.getVocabulary(), ['[UNK]', 'x', 'z', 'y']);
  assert.deepEqual(Array.from(perBatch.idfWeights()!).slice(1), [2, 1, 1].map((d) => Math.fround(Math.log(1 + 2 / (1 + d)))));
  const perText = new TextVectorization({ outputMode: 'tf_idf', split: null });
  perText.adapt(['x', 'y', 'x', 'z']);
  assert.deepEqual(Array.from(perText.idfWeights()!).slice(1), [2, 1, 1].map((d) => Math.fround(Math.log(1 + 4 / (1 + d)))));
  expectCode(() => new TextVectorization({ split: null, ngrams: 2 }).adapt(new Set([['x', 'y']])), 'INVALID_INPUT', 'n-grams across');
  // No idf weights yet: saving fails with a coded error instead of writing a file that cannot be read back.
  const tokens = Input({ shape: [null], dtype: 'string' });
  const model = new Model({ inputs: tokens, outputs: new StringLookup({ maxTokens: 5, padToMaxTokens: true, outputMode: 'tf_idf' }).apply(tokens) });
  await assert.rejects(model.toKerasBytes(), (e: unknown) => e instanceof MasqueError && e.code === 'NOT_BUILT' && /idf weights/.test(e.message));
  model.dispose();
  expectCode(() => new StringLookup({ vocabulary: ['a'], numOovIndices: 2 ** 33 }), 'INVALID_ARGUMENT', 'numOovIndices');
});
