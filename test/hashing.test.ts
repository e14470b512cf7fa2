// TensorFlow's string hashes (FarmHash Fingerprint64, SipHash-2-4), the
// Hashing layer and the lookup layers' hashed OOV ids: the hashes against
// Google's own C++ libraries (test/fixtures/hashing/make_hash_vectors.py,
// through Debian's libfarmhash0 and libhighwayhash0), and the examples that
// Keras's and TensorFlow's documentation print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf, Hashing, StringLookup, IntegerLookup, Input, Embedding, Model, loadModel, loadModelFromBytes, getMask, MasqueError } from '../src/index.js';
import { fingerprint64, hashBuckets, sipHash } from '../src/ops/string_hash.js';
import { layerFromKerasEntry } from '../src/io/keras_registry.js';
import { readZip } from '../src/io/zip.js';
import { assertPredictLeaksNothing, expectCode } from './helpers.js';

const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/hashing/hash_vectors.json', import.meta.url)), 'utf8'));
const ints = (t: unknown) => Array.from((t as tf.Tensor).dataSync());
const strings = (rows: string[][] | string[]) => tf.tensor(rows, undefined, 'string');

test('FarmHash Fingerprint64 and SipHash-2-4 equal Google\'s C++ (TensorFlow\'s hashes) on 154 strings: block-size lengths, Unicode, emoji', () => {
  const keys = (vectors.keys as string[][]).map(([a, b]) => [BigInt(a!), BigInt(b!)] as const);
  assert.equal(vectors.cases.length, 154);
  for (const c of vectors.cases as { text: string; fingerprint64: string; siphash: string[] }[]) {
    assert.equal(fingerprint64(c.text).toString(), c.fingerprint64, JSON.stringify(c.text));
    keys.forEach((k, i) => assert.equal(sipHash(k, c.text).toString(), c.siphash[i], `${JSON.stringify(c.text)} key ${i}`));
  }
  // TensorFlow's documentation: to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) and to_hash_bucket_strong(["Hello", "TF"], 3, [1, 2]).
  assert.deepEqual(Array.from(hashBuckets(['Hello', 'TensorFlow', '2.x'], 3, null)), [0, 2, 2]);
  assert.deepEqual(Array.from(hashBuckets(['Hello', 'TF'], 3, [1, 2])), [2, 0]);
});

test('Hashing gives the bins of Keras\'s documented examples (FarmHash, salt, maskValue), on strings and numbers', () => {
  const abcde = strings([['A'], ['B'], ['C'], ['D'], ['E']]);
  assert.deepEqual(ints(new Hashing({ numBins: 3 }).apply(abcde)), [1, 0, 1, 1, 2]);
  assert.deepEqual(ints(new Hashing({ numBins: 3, salt: 133 }).apply(abcde)), [0, 0, 2, 1, 0]);
  assert.deepEqual(ints(new Hashing({ numBins: 3, salt: [133, 133] }).apply(abcde)), [0, 0, 2, 1, 0]);
  assert.deepEqual(ints(new Hashing({ numBins: 3, maskValue: '' }).apply(strings([['A'], ['B'], [''], ['C'], ['D']]))), [1, 1, 0, 2, 2]);
  // Numbers hash as their int64 decimal digits; floats are cut toward zero first.
  const h = new Hashing({ numBins: 1000 });
  assert.deepEqual(ints(h.apply(tf.tensor([[12, -7, 0]], undefined, 'int32'))), ints(h.apply(strings([['12', '-7', '0']]))));
  assert.deepEqual(ints(h.apply(tf.tensor([[12.9, -7.5, -0.5]]))), ints(h.apply(strings([['12', '-7', '0']]))));
  // maskValue on numbers; numBins 1 sets nothing apart (as in Keras).
  const m = new Hashing({ numBins: 5, maskValue: 0 });
  assert.deepEqual(ints(m.apply(tf.tensor([[0, 3]], undefined, 'int32')))[0], 0);
  assert.deepEqual(ints(new Hashing({ numBins: 1, maskValue: '' }).apply(strings([['', 'x']]))), [0, 0]);
  // Encoded outputs.
  const oh = new Hashing({ numBins: 3, outputMode: 'one_hot' }).apply(abcde) as tf.Tensor;
  assert.deepEqual(oh.shape, [5, 3]);
  assert.deepEqual(ints(oh), [0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1]);
  const count = new Hashing({ numBins: 3, outputMode: 'count' }).apply(strings([['A', 'B', 'C', 'D', 'E']])) as tf.Tensor;
  assert.deepEqual(ints(count), [1, 3, 1]);
  tf.dispose([abcde, oh, count]);
});

test('lookup layers with several OOV ids hash unknown tokens as TensorFlow does (FarmHash, or SipHash with a salt)', () => {
  // OOV ids 0..2, then 'a' = 3: the buckets of TensorFlow's documented examples.
  const s = new StringLookup({ vocabulary: ['a'], numOovIndices: 3 });
  assert.deepEqual(ints(s.apply(strings(['Hello', 'TensorFlow', '2.x', 'a']))), [0, 2, 2, 3]);
  const salted = new StringLookup({ vocabulary: ['a'], numOovIndices: 3, salt: [1, 2] });
  assert.deepEqual(ints(salted.apply(strings(['Hello', 'TF']))), [2, 0]);
  assert.deepEqual(salted.getConfig()['salt'], [1, 2]);
  // With a mask token, the OOV ids start at 1 in 'int' mode.
  const masked = new StringLookup({ vocabulary: ['a'], numOovIndices: 3, maskToken: '' });
  assert.deepEqual(ints(masked.apply(strings(['Hello', '', 'a']))), [1, 0, 4]);
  // IntegerLookup: floor modulo by default, the hash of the decimal digits with oovMethod 'farmhash'.
  const il = new IntegerLookup({ vocabulary: [5], numOovIndices: 3, oovMethod: 'farmhash' });
  assert.deepEqual(ints(il.apply(tf.tensor([12, -1, 5], undefined, 'int32'))), Array.from(hashBuckets(['12', '-1'], 3, null)).concat([3]));
  expectCode(() => new IntegerLookup({ numOovIndices: 2, salt: 3 }), 'INVALID_ARGUMENT', 'salt', "'farmhash'");
  expectCode(() => new StringLookup({ numOovIndices: 2, salt: 2 ** 62 }), 'INVALID_ARGUMENT', 'salt', '2^53');
  expectCode(() => new StringLookup({ numOovIndices: 2, salt: [1, 2, 3] as never }), 'INVALID_ARGUMENT', 'salt', 'pair');
});

test('Hashing errors: options Keras refuses, values that cannot be hashed, shapes the encodings do not take', () => {
  expectCode(() => new Hashing({ numBins: 0 }), 'INVALID_ARGUMENT', 'numBins');
  expectCode(() => new Hashing({ numBins: 3, salt: 1.5 }), 'INVALID_ARGUMENT', 'salt');
  expectCode(() => new Hashing({ numBins: 3, outputMode: 'tf_idf' as never }), 'INVALID_ARGUMENT', 'outputMode');
  expectCode(() => new Hashing({ numBins: 3, sparse: true }), 'INVALID_ARGUMENT', 'sparse');
  expectCode(() => new Hashing({ numBins: 3, dtype: 'float32' }), 'INVALID_ARGUMENT', "'int'", 'float32');
  expectCode(() => new Hashing({ numBins: 3, maskValue: NaN }), 'INVALID_ARGUMENT', 'maskValue');
  const h = new Hashing({ numBins: 3 });
  const nan = tf.tensor([[1, NaN]]);
  expectCode(() => h.apply(nan), 'INVALID_INPUT', 'NaN', 'int64');
  expectCode(() => new Hashing({ numBins: 3, maskValue: '' }).apply(tf.tensor([[1]], undefined, 'int32')), 'INVALID_INPUT', 'maskValue', 'int32');
  expectCode(() => h.apply(tf.tensor([[true]], undefined, 'bool')), 'INVALID_INPUT', 'bool');
  expectCode(() => new Hashing({ numBins: 3, outputMode: 'multi_hot' }).apply(strings(['a', 'b'])), 'INPUT_SHAPE_MISMATCH', '[2]');
  nan.dispose();
});

test('a Hashing model saves and loads (Keras\'s int64 dtype policy in the config), masks through Embedding(maskZero) and leaks nothing', async () => {
  const tokens = Input({ shape: [null], dtype: 'string' });
  const hashing = new Hashing({ numBins: 50, maskValue: '', salt: [7, 11], name: 'hash' });
  const emb = new Embedding({ inputDim: 50, outputDim: 3, maskZero: true });
  const model = new Model({ inputs: tokens, outputs: emb.apply(hashing.apply(tokens)) });
  const x = strings([['the', 'cat', ''], ['a', '', '']]);
  const y = model.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 1, 0, 1, 0, 0]);
  const bytes = await model.toKerasBytes();
  const config = JSON.parse(new TextDecoder().decode(readZip(bytes).get('config.json')!));
  const entry = config.config.layers.find((l: { class_name: string }) => l.class_name === 'Hashing');
  assert.deepEqual(entry.config.dtype, { module: 'keras', class_name: 'DTypePolicy', config: { name: 'int64' }, registered_name: null });
  assert.deepEqual(entry.config.salt, [7, 11]);
  const back = await loadModelFromBytes(bytes);
  const y2 = back.predict(x) as tf.Tensor;
  assert.deepEqual(ints(y2), ints(y));
  assertPredictLeaksNothing(back, x);
  tf.dispose([x, y, y2]);
  back.dispose();
  model.dispose();
});

interface HashCase {
  name: string;
  class_name: 'Hashing' | 'StringLookup' | 'IntegerLookup';
  keras_config: Record<string, unknown>;
  adapt: unknown;
  vocabulary: (string | number)[] | null;
  inputs: { shape: number[]; data: (string | number)[]; dtype: string };
  outputs: { shape: number[]; data: number[] };
}

const INT32 = (v: unknown) => typeof v === 'number' && v >= -(2 ** 31) && v <= 2 ** 31 - 1;

test('every golden case of Keras 3.15.1 (hash_cases.json, its tf kernels from Google\'s C++): Hashing and hashed OOV ids', () => {
  const { cases } = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/keras-3.15.1-text/hash_cases.json', import.meta.url)), 'utf8')) as { cases: HashCase[] };
  assert.equal(cases.length, 50);
  const outcome: Record<string, string[]> = { whole: [], elements: [], refusedSalt: [], refusedShape: [], int64: [] };
  const before = tf.memory().numTensors;
  for (const c of cases) {
    const make = () => layerFromKerasEntry({ class_name: c.class_name, config: c.keras_config }, { layerFromConfig: () => assert.fail() }) as Hashing | StringLookup;
    const salt = c.keras_config['salt'] as number[] | null;
    if (salt !== null && salt.some((s) => !Number.isSafeInteger(s))) {
      // 2^62 + 1 reaches JavaScript as 2^62: refused, never hashed with another key.
      assert.throws(make, (e: unknown) => e instanceof MasqueError && e.code === 'UNSUPPORTED_CONFIG' && /2\^53/.test(e.message), c.name);
      outcome['refusedSalt']!.push(c.name);
      continue;
    }
    const layer = make();
    if (c.adapt !== null) (layer as StringLookup).adapt(c.adapt);
    if (c.vocabulary !== null) assert.deepEqual((layer as StringLookup).getVocabulary(), c.vocabulary, c.name);
    const dtype = c.inputs.dtype === 'string' ? 'string' : c.inputs.dtype === 'float32' ? 'float32' : 'int32';
    const mode = c.keras_config['output_mode'];
    if (c.inputs.shape.length === 0 || (c.inputs.shape.length === 1 && mode !== 'int' && mode !== 'one_hot')) {
      const x = tf.tensor(c.inputs.data as never[], c.inputs.shape, dtype);
      assert.throws(() => layer.apply(x), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH', c.name);
      x.dispose();
      outcome['refusedShape']!.push(c.name);
      continue;
    }
    let data = c.inputs.data;
    let shape = c.inputs.shape;
    let want = c.outputs.data;
    if (dtype === 'int32' && !data.every(INT32)) {
      // Masque's integer tensors are int32: check the values that fit, one by one, where the output is one per value.
      if (mode !== 'int') {
        outcome['int64']!.push(c.name);
        continue;
      }
      const keep = data.map((v, i) => (INT32(v) ? i : -1)).filter((i) => i >= 0);
      [data, want, shape] = [keep.map((i) => data[i]!), keep.map((i) => want[i]!), [keep.length]];
      outcome['elements']!.push(c.name);
    } else {
      outcome['whole']!.push(c.name);
    }
    const x = tf.tensor(data as never[], shape, dtype);
    const y = layer.apply(x) as tf.Tensor;
    assert.deepEqual(y.shape, shape === c.inputs.shape ? c.outputs.shape : shape, c.name);
    assert.deepEqual(Array.from(y.dataSync()), want, c.name);
    tf.dispose([x, y]);
  }
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(outcome, {
    whole: outcome['whole'],
    elements: ['hash_int64_bt', 'hash_int64_mask', 'hash_int64_mask_salt', 'hash_salt_int64_input', 'il_farmhash_oov2', 'il_farmhash_oov3_mask', 'il_farmhash_oov3_salt', 'il_floormod_oov3_negative'],
    refusedSalt: ['hash_salt_large_pair', 'sl_oov3_salt_pair_mask_int', 'il_farmhash_oov4_salt_pair_mask'],
    refusedShape: ['hash_scalar', 'hash_multi_hot_b', 'hash_count_b_float32', 'il_farmhash_multi_hot_b'],
    int64: ['il_farmhash_count_adapt_salt'],
  });
  assert.equal(outcome['whole']!.length, 34);
});

test('the errors Keras raises for Hashing and salts are Masque\'s too', () => {
  const { errors } = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/keras-3.15.1-text/hash_cases.json', import.meta.url)), 'utf8')) as { errors: { name: string; class_name: string; kwargs: Record<string, unknown> }[] };
  const make: Record<string, (a: never) => unknown> = { Hashing: (a) => new Hashing(a), StringLookup: (a) => new StringLookup(a), IntegerLookup: (a) => new IntegerLookup(a) };
  for (const e of errors) {
    const args = Object.fromEntries(Object.entries(e.kwargs).map(([k, v]) => [k.replace(/_(\w)/g, (_, ch: string) => ch.toUpperCase()), v]));
    assert.throws(() => make[e.class_name]!(args as never), (err: unknown) => err instanceof MasqueError && err.code === 'INVALID_ARGUMENT', e.name);
  }
  assert.equal(errors.length, 16);
});

test('Keras-made .keras files with Hashing (maskValue, salt -> Embedding(maskZero) -> LSTM; multi_hot on integers) give Keras\'s bins and outputs', async () => {
  for (const name of ['hash_model', 'hash_multi_hot_model']) {
    const golden = JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/keras-3.15.1-text/${name}.json`, import.meta.url)), 'utf8'));
    const model = await loadModel(fileURLToPath(new URL(`./fixtures/keras-3.15.1-text/${name}.keras`, import.meta.url)));
    const isString = golden.inputs.dtype === 'string';
    const [b, k] = golden.inputs.shape as [number, number];
    const width = golden.hashed.shape.length === 2 ? golden.hashed.shape[1] : k;
    // Masque's integer tensors are int32: keep the rows whose values fit (one row here holds 2^53 - 1).
    const rows = Array.from({ length: b }, (_, r) => r).filter((r) => isString || golden.inputs.data.slice(r * k, (r + 1) * k).every(INT32));
    const pick = <T>(data: T[], w: number) => rows.flatMap((r) => data.slice(r * w, (r + 1) * w));
    const x = tf.tensor(pick(golden.inputs.data, k) as never, [rows.length, k], isString ? 'string' : 'int32');
    const hashed = model.getLayer(golden.hashing_layer).apply(x) as tf.Tensor;
    assert.deepEqual(Array.from(hashed.dataSync()), pick(golden.hashed.data, width), name);
    const y = model.predict(x) as tf.Tensor;
    const want = pick(golden.outputs[0].data as number[], golden.outputs[0].shape[1]);
    const d = want.reduce((m, w, i) => Math.max(m, Math.abs(y.dataSync()[i]! - w)), 0);
    assert.ok(d <= 1e-5, `${name}: ${d}`);
    // Saved again by Masque: Keras's config of the layer, the same outputs.
    const bytes = await model.toKerasBytes();
    const config = JSON.parse(new TextDecoder().decode(readZip(bytes).get('config.json')!));
    const entry = config.config.layers.find((l: { class_name: string }) => l.class_name === 'Hashing');
    assert.deepEqual(entry.config, golden.hashing_config_written.config, name);
    const back = await loadModelFromBytes(bytes);
    const y2 = back.predict(x) as tf.Tensor;
    assert.deepEqual(Array.from(y2.dataSync()), Array.from(y.dataSync()), name);
    tf.dispose([x, hashed, y, y2]);
    back.dispose();
    model.dispose();
  }
});

test('review fixes: numBins beyond int32 refused; a float maskValue meets float32 inputs as Keras compares them (in float32)', () => {
  expectCode(() => new Hashing({ numBins: 2 ** 32 }), 'INVALID_ARGUMENT', 'numBins');
  // The most bins, encoded: more values than can be allocated is a coded error, not a RangeError.
  const rows = tf.tensor([['a', 'b'], ['c', 'd']], undefined, 'string');
  expectCode(() => new Hashing({ numBins: 2 ** 31 - 1, outputMode: 'count' }).apply(rows), 'INVALID_INPUT', '1 GiB', "outputMode 'count'");
  rows.dispose();
  const x = tf.tensor([[0.1], [2]]);
  assert.equal(ints(new Hashing({ numBins: 3, maskValue: 0.1 }).apply(x))[0], 0);
  x.dispose();
});
