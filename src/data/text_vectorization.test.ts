import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf } from '../runtime/tfjs.js';
import { MasqueError } from '../errors.js';
import { TextVectorizer, compareUtf8 } from './text_vectorization.js';

const rows = (t: tf.Tensor) => {
  const v = t.arraySync();
  t.dispose();
  return v;
};

describe('TextVectorizer', () => {
  test("Keras docstring: adapt, ties broken by descending token, output_sequence_length", () => {
    const v = new TextVectorizer({ maxTokens: 5000, outputSequenceLength: 4 });
    v.adapt(['foo bar', 'bar baz', 'baz bada boom']);
    assert.deepEqual(v.vocabulary(), ['', '[UNK]', 'baz', 'bar', 'foo', 'boom', 'bada']);
    assert.equal(v.vocabularySize(), 7);
    const before = tf.memory().numTensors;
    const x = v.call(['foo qux bar', 'qux baz']);
    assert.equal(x.dtype, 'int32');
    assert.deepEqual(rows(x), [[4, 1, 3, 0], [1, 2, 0, 0]]);
    assert.equal(tf.memory().numTensors, before);
  });

  test('Keras docstring: a fixed vocabulary', () => {
    const v = new TextVectorizer({ maxTokens: 5000, outputSequenceLength: 4, vocabulary: ['earth', 'wind', 'and', 'fire'] });
    assert.deepEqual(v.vocabulary(), ['', '[UNK]', 'earth', 'wind', 'and', 'fire']);
    assert.deepEqual(rows(v.call(['earth wind and fire', 'fire and earth michigan'])), [[2, 3, 4, 5], [5, 4, 2, 1]]);
    assert.throws(() => v.adapt(['x']), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT');
  });

  test('standardize: ASCII lowercase, ASCII punctuation stripped, whitespace runs', () => {
    const v = new TextVectorizer();
    assert.deepEqual(v.tokenize("  Don't STOP!\tBelievin'...  ÉTÉ "), ['dont', 'stop', 'believin', 'ÉtÉ']);
    assert.deepEqual(new TextVectorizer({ standardize: 'lower' }).tokenize('A.B c'), ['a.b', 'c']);
    assert.deepEqual(new TextVectorizer({ standardize: null, split: 'character' }).tokenize('Ab😀'), ['A', 'b', '😀']);
    assert.deepEqual(new TextVectorizer({ standardize: (s) => s.toUpperCase(), split: (s) => s.split('-') }).tokenize('a-b'), ['A', 'B']);
  });

  test('maxTokens keeps the most frequent tokens; special tokens are not counted', () => {
    const v = new TextVectorizer({ maxTokens: 4, standardize: null }); // with punctuation stripping '[UNK]' would become 'unk'
    v.adapt(['a a a b b c [UNK] [UNK] [UNK] [UNK]', 'c c d']);
    // a and c both occur 3 times: the tie goes to the larger token, c
    assert.deepEqual(v.vocabulary(), ['', '[UNK]', 'c', 'a']);
    assert.deepEqual(v.vocabulary(false), ['c', 'a']);
    assert.deepEqual(v.encode(['a b c d', '']), [[3, 1, 2, 1], []]);
  });

  test('encodeToTensor pads post to the longest by default, and takes overrides', () => {
    const v = new TextVectorizer();
    v.adapt(['x y z', 'x y', 'x']);
    assert.deepEqual(rows(v.encodeToTensor(['z', 'x y z'])), [[4, 0, 0], [2, 3, 4]]);
    assert.deepEqual(rows(v.encodeToTensor(['z', 'x y z'], { maxlen: 2, padding: 'pre', truncating: 'pre' })), [[0, 4], [3, 4]]);
    assert.deepEqual(v.encodeToTensor(['', '']).shape, [2, 0]);
  });

  test('getConfig returns the constructor arguments', () => {
    const v = new TextVectorizer({ maxTokens: 10, outputSequenceLength: 5 });
    assert.deepEqual(v.getConfig(), { maxTokens: 10, standardize: 'lower_and_strip_punctuation', split: 'whitespace', outputSequenceLength: 5, padding: 'post', truncating: 'post', vocabulary: null });
    const again = new TextVectorizer(v.getConfig());
    assert.deepEqual(again.getConfig(), v.getConfig());
  });

  test('bad arguments raise INVALID_ARGUMENT', () => {
    const bad = (fn: () => unknown, word: string) =>
      assert.throws(fn, (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && e.message.includes(word));
    bad(() => new TextVectorizer({ maxTokens: 1 }), 'maxTokens');
    bad(() => new TextVectorizer({ standardize: 'upper' as never }), 'standardize');
    bad(() => new TextVectorizer({ split: 'comma' as never }), 'split');
    bad(() => new TextVectorizer({ vocabulary: ['a', 'a'] }), '"a"');
    bad(() => new TextVectorizer({ vocabulary: ['a', ''] }), 'mask token');
    bad(() => new TextVectorizer({ maxTokens: 3, vocabulary: ['a', 'b'] }), 'maxTokens');
  });

  test('property: ids index the vocabulary, sorted by count then descending token', () => {
    const word = fc.constantFrom('a', 'b', 'c', 'dd', 'é', 'Z', '😀', 'zz');
    fc.assert(
      fc.property(fc.array(fc.array(word, { maxLength: 6 }).map((w) => w.join(' ')), { maxLength: 8 }), (texts) => {
        const v = new TextVectorizer({ standardize: null });
        v.adapt(texts);
        const vocab = v.vocabulary();
        const counts = new Map<string, number>();
        for (const t of texts.flatMap((s) => v.tokenize(s))) counts.set(t, (counts.get(t) ?? 0) + 1);
        assert.equal(vocab.length, counts.size + 2);
        for (let i = 3; i < vocab.length; i++) {
          const [p, q] = [vocab[i - 1]!, vocab[i]!];
          assert.ok(counts.get(p)! > counts.get(q)! || (counts.get(p) === counts.get(q) && compareUtf8(p, q) > 0));
        }
        v.encode(texts).forEach((ids, r) => assert.deepEqual(ids.map((id) => vocab[id]), v.tokenize(texts[r]!)));
      }),
      { numRuns: 100 },
    );
  });

  test('compareUtf8 orders by code point (UTF-8 bytes), not UTF-16 units', () => {
    assert.ok(compareUtf8('\uffff', '😀') < 0); // '\uffff' < U+1F600, though its UTF-16 unit is larger
    assert.ok(compareUtf8('ab', 'a') > 0);
    assert.equal(compareUtf8('x', 'x'), 0);
  });
});
