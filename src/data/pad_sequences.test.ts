import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { tf } from '../runtime/tfjs.js';
import { MasqueError } from '../errors.js';
import { castNumber, padSequences } from './pad_sequences.js';
import { checkPadSequencesCase, requiredWords } from '../../test/conformance/pad_sequences_case.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/keras-3.15.1/', import.meta.url));
const caseFiles = readdirSync(fixtures).filter((f) => f.startsWith('pad_sequences_') && f.endsWith('.json')).sort();
const loadCase = (f: string) => JSON.parse(readFileSync(fixtures + f, 'utf8')) as Record<string, unknown>;

function raises(fn: () => unknown, code: string, ...words: string[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MasqueError, `expected a MasqueError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const w of words) assert.ok(e.message.includes(w), `message lacks ${JSON.stringify(w)}: ${e.message}`);
    return true;
  });
}

const values = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync() as ArrayLike<number | string>);
  t.dispose();
  return v;
};

describe('padSequences: Keras 3.15.1 conformance cases', () => {
  test('the fixture folder holds pad_sequences cases', () => assert.ok(caseFiles.length >= 1));
  for (const f of caseFiles) {
    test(f.replace(/\.json$/, ''), () => {
      const before = tf.memory().numTensors;
      const r = checkPadSequencesCase(loadCase(f));
      assert.ok(r.pass, r.message);
      assert.equal(tf.memory().numTensors, before);
    });
  }
  test('the checker fails a wrong output, a missing error and a vague error', () => {
    const c = loadCase('pad_sequences_defaults.json') as { outputs: { data: number[] }[] };
    c.outputs[0]!.data[3] = 99;
    assert.equal(checkPadSequencesCase(c).pass, false);
    const e = loadCase('pad_sequences_error_padding_middle.json');
    assert.equal(checkPadSequencesCase({ ...e, args: { sequences: [[1]], padding: 'post' } }).pass, false);
    assert.deepEqual(requiredWords('Padding type "middle" not understood'), ['padding', '"middle"']);
    assert.deepEqual(requiredWords('Shape of sample (3,) of sequence at position 1 is different from expected shape (2,)'), ['[3]', 'position 1', '[2]']);
    assert.equal(checkPadSequencesCase({ ...e, error_message: 'Padding type "sideways" not understood' }).pass, false);
  });
});

describe('padSequences', () => {
  test('defaults: pre padding, pre truncation, int32', () => {
    const t = padSequences([[1], [2, 3], [4, 5, 6]]);
    assert.equal(t.dtype, 'int32');
    assert.deepEqual(t.shape, [3, 3]);
    assert.deepEqual(values(t), [0, 0, 1, 0, 2, 3, 4, 5, 6]);
  });

  test('returnLengths gives the valid length of each row after truncation', () => {
    const { padded, lengths } = padSequences([[1], [], [2, 3, 4, 5]], { maxlen: 3, padding: 'post', returnLengths: true });
    assert.deepEqual(Array.from(lengths), [1, 0, 3]);
    assert.deepEqual(values(padded), [1, 0, 0, 0, 0, 0, 3, 4, 5]);
  });

  test('typed arrays, feature vectors and strings', () => {
    assert.deepEqual(values(padSequences([Int32Array.of(7, 8), Float32Array.of(1.5)], { dtype: 'float32', value: -1 })), [7, 8, -1, 1.5]);
    const f = padSequences([[Float32Array.of(1, 2)], []], { dtype: 'float32', padding: 'post' });
    assert.deepEqual(f.shape, [2, 1, 2]);
    assert.deepEqual(values(f), [1, 2, 0, 0]);
    const s = padSequences([['a', 'b'], ['c']], { dtype: 'string', padding: 'post' });
    assert.equal(s.dtype, 'string');
    assert.deepEqual(values(s), ['a', 'b', 'c', '']);
    // A typed array's steps are all scalars (checked once, not step by step): still refused after vector steps, and before them.
    raises(() => padSequences([[[1, 2]], Int32Array.of(3, 4)]), 'INVALID_SEQUENCES', 'position 1', '[2]', '[]');
    raises(() => padSequences([Int32Array.of(3, 4), [[1, 2]]]), 'INVALID_SEQUENCES', 'position 1', '[2]', '[]');
  });

  test('numpy casts: wrap, truncate toward zero, NaN, bool', () => {
    assert.deepEqual([castNumber(300, 'int8'), castNumber(-200, 'int8'), castNumber(70000, 'uint16'), castNumber(-1, 'uint8')], [44, 56, 4464, 255]);
    assert.deepEqual([castNumber(-1.5, 'int32'), castNumber(8.99, 'int32'), castNumber(NaN, 'int32'), castNumber(Infinity, 'int16')], [-1, 8, -2147483648, 0]);
    assert.equal(castNumber(2 ** 31, 'int32'), -(2 ** 31));
    const b = padSequences([[0, 2, NaN]], { dtype: 'bool' });
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(values(b), [0, 1, 1]);
    assert.deepEqual(values(padSequences([[true, false]])), [1, 0]);
  });

  test('maxlen 0 and empty lists (departure 6)', () => {
    assert.deepEqual(padSequences([[1, 2], [3]], { maxlen: 0 }).shape, [2, 0]);
    const { padded, lengths } = padSequences([[[1, 2]]], { maxlen: 0, truncating: 'post', returnLengths: true });
    assert.deepEqual(padded.shape, [1, 0, 2]);
    assert.deepEqual(Array.from(lengths), [0]);
    assert.deepEqual(padSequences([]).shape, [0, 0]);
    assert.deepEqual(padSequences([], { maxlen: 4 }).shape, [0, 4]);
  });

  test('errors name what was wrong, expected and received', () => {
    raises(() => padSequences(5 as never), 'INVALID_SEQUENCES', 'iterable', 'received 5');
    raises(() => padSequences('abc' as never), 'INVALID_SEQUENCES', 'string');
    raises(() => padSequences([1, 2] as never), 'INVALID_SEQUENCES', 'position 0', '1');
    raises(() => padSequences(Int32Array.of(7) as never), 'INVALID_SEQUENCES', 'non-iterable', '7');
    assert.deepEqual(values(padSequences(new Set([[1], [2, 3]]))), [0, 1, 2, 3]);
    raises(() => padSequences(['ab', 'c'] as never), 'INVALID_SEQUENCES', 'position 0', 'is a string');
    raises(() => padSequences([[[1, 2], [3, 4]], [[1, 2, 3]]]), 'INVALID_SEQUENCES', 'Shape of sample [3]', 'position 1', 'expected shape [2]');
    raises(() => padSequences([[[1, 2], [3]]]), 'INVALID_SEQUENCES', 'ragged', 'step 1');
    raises(() => padSequences([[1]], { maxlen: -1 }), 'INVALID_ARGUMENT', 'maxlen', '-1');
    raises(() => padSequences([[1]], { maxlen: 1.5 }), 'INVALID_ARGUMENT', 'maxlen', '1.5');
    raises(() => padSequences([[1]], { dtype: 'float64' as never }), 'INVALID_ARGUMENT', 'dtype', '"float64"', "'float32'");
    raises(() => padSequences([['a']], { dtype: 'object' as never, value: '<pad>' }), 'INVALID_ARGUMENT', '"object"', "'string'", 'value');
    raises(() => padSequences([[1]], { value: 'x' }), 'INVALID_ARGUMENT', "'int32'", '"x"');
    raises(() => padSequences([['a']], { dtype: 'string', value: 0 }), 'INVALID_ARGUMENT', "'string'", '0');
    raises(() => padSequences([['a']]), 'INVALID_SEQUENCES', 'position 0', '"a"', "dtype 'string'");
    raises(() => padSequences([[1]], { dtype: 'string' }), 'INVALID_SEQUENCES', 'string tokens', '1');
    raises(() => padSequences([[1, 2]], { padding: 'middle' as never }), 'INVALID_ARGUMENT', 'padding', '"middle"');
    raises(() => padSequences([[1]], { truncating: 'middle' as never }), 'INVALID_ARGUMENT', 'truncating', '"middle"');
  });

  test('padding and truncating are checked lazily, as in Keras', () => {
    assert.deepEqual(padSequences([[], []], { padding: 'middle' as never }).shape, [2, 0]);
    // truncating is checked before the cast, padding after it
    raises(() => padSequences([['a']], { truncating: 'x' as never, padding: 'y' as never }), 'INVALID_ARGUMENT', 'truncating');
    raises(() => padSequences([['a']], { padding: 'y' as never }), 'INVALID_SEQUENCES', '"a"');
  });

  test('property: each row is the truncated sequence placed at the padded end', () => {
    const arb = fc.record({
      seqs: fc.array(fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 8 }), { maxLength: 6 }),
      maxlen: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
      padding: fc.constantFrom('pre' as const, 'post' as const),
      truncating: fc.constantFrom('pre' as const, 'post' as const),
      value: fc.integer({ min: -5, max: 5 }),
    });
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(arb, ({ seqs, maxlen, padding, truncating, value }) => {
        const { padded, lengths } = padSequences(seqs, { maxlen, padding, truncating, value, returnLengths: true });
        const L = maxlen ?? Math.max(0, ...seqs.map((s) => s.length));
        assert.deepEqual(padded.shape, [seqs.length, L]);
        const data = values(padded);
        seqs.forEach((s, i) => {
          const kept = L === 0 ? [] : truncating === 'pre' ? s.slice(-L) : s.slice(0, L);
          const fill = new Array<number>(L - kept.length).fill(value);
          assert.equal(lengths[i], kept.length);
          assert.deepEqual(data.slice(i * L, (i + 1) * L), padding === 'pre' ? [...fill, ...kept] : [...kept, ...fill]);
        });
      }),
      { numRuns: 200 },
    );
    assert.equal(tf.memory().numTensors, before);
  });
});
