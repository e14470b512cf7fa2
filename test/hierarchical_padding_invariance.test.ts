// Documents of sentences of words: TimeDistributed(Embedding({ maskZero }))
// -> TimeDistributed(LSTM) -> LSTM over sentences -> Dense. Two levels of
// padding: padding words inside a sentence and padding sentences inside a
// document. As a property (fast-check): for random documents padded pre or
// post to random extra sentences and words, the word mask ([B, S, W]), the
// sentence mask ([B, S]: a sentence is valid when it has a valid word), the
// sentence vectors at valid sentences, the outputs and the gradients of
// every weight equal those of each document run alone without padding.
// Keras 3.15.1 drops these masks (docs/keras.md, departure 16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { tf, Input, Embedding, LSTM, Dense, TimeDistributed, Model, getMask, loadModel, type SymbolicTensor } from '../src/index.js';
import { assertClose, normals, randomizeWeights, rng, rowsOf } from './rnn_helpers.js';

const VOCAB = 12;

interface Setup {
  docs: number[][][];
  extraSentences: number;
  extraWords: number;
  sentencesAt: 'pre' | 'post';
  wordsAt: 'pre' | 'post';
  seed: number;
}

const sentence = fc.array(fc.integer({ min: 1, max: VOCAB - 1 }), { minLength: 1, maxLength: 4 });
const setupArb: fc.Arbitrary<Setup> = fc.record({
  docs: fc.array(fc.array(sentence, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  extraSentences: fc.integer({ min: 0, max: 2 }),
  extraWords: fc.integer({ min: 0, max: 3 }),
  sentencesAt: fc.constantFrom('pre' as const, 'post' as const),
  wordsAt: fc.constantFrom('pre' as const, 'post' as const),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

/** The document classifier of docs/guide.md, with its sentence vectors as a second output. */
function documentModel(seed: number): Model {
  const ids = Input({ shape: [null, null], dtype: 'int32', name: 'documents' });
  const words = new TimeDistributed({ layer: new Embedding({ inputDim: VOCAB, outputDim: 3, maskZero: true }), name: 'words' }).apply(ids);
  const sentences = new TimeDistributed({ layer: new LSTM({ units: 3 }), name: 'sentences' }).apply(words);
  const doc = new LSTM({ units: 2, name: 'document' }).apply(sentences);
  const label = new Dense({ units: 2, name: 'label' }).apply(doc);
  const model = new Model({ inputs: ids, outputs: [sentences, label] });
  randomizeWeights(model, seed);
  return model;
}

/** Documents as one [B, S, W] id batch, sentences and words padded with 0 at the given ends. */
function padDocs(docs: number[][][], s: number, w: number, sentencesAt: 'pre' | 'post', wordsAt: 'pre' | 'post'): number[][][] {
  const padTo = <T>(xs: T[], n: number, fill: () => T, at: 'pre' | 'post'): T[] => {
    const pad = Array.from({ length: n - xs.length }, fill);
    return at === 'pre' ? [...pad, ...xs] : [...xs, ...pad];
  };
  return docs.map((d) =>
    padTo(
      d.map((sent) => padTo(sent, w, () => 0, wordsAt)),
      s,
      () => new Array<number>(w).fill(0),
      sentencesAt,
    ),
  );
}

const longest = (xs: number[]) => Math.max(0, ...xs);

/** The outputs, masks and weight gradients of `model` on `ids` with loss sum(label · wLabel). */
function run(model: Model, ids: number[][][], wLabel: number[][]) {
  const x = tf.tensor3d(ids, undefined, 'int32');
  try {
    const vars = model.trainableWeights.map((w) => w.variable);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul((model.apply(x, { training: false }) as tf.Tensor[])[1]!, tf.tensor2d(wLabel))) as tf.Scalar, vars);
    const gradients = vars.map((v) => Array.from(grads[v.name]!.dataSync()));
    tf.dispose([value, ...Object.values(grads)]);
    const outs = model.apply(x, { training: false }) as tf.Tensor[];
    const result = {
      sentences: rowsOf(outs[0]!) as number[][][],
      sentenceMask: rowsOf(getMask(outs[0]!)!) as boolean[][],
      label: rowsOf(outs[1]!) as number[][],
      labelMasked: getMask(outs[1]!) !== null,
      grads: gradients,
    };
    tf.dispose(outs);
    return result;
  } finally {
    x.dispose();
  }
}

const TOL = 5e-5;

test('hierarchical padding changes nothing: word and sentence masks, sentence vectors, outputs and gradients equal each document alone', () => {
  const before = tf.memory().numTensors;
  fc.assert(
    fc.property(setupArb, (s) => {
      const model = documentModel(s.seed);
      const r = rng(s.seed ^ 0x5bd1e995);
      const wLabel = s.docs.map(() => normals(r, 2));
      const sMax = longest(s.docs.map((d) => d.length)) + s.extraSentences;
      const wMax = longest(s.docs.flatMap((d) => d.map((sent) => sent.length))) + s.extraWords;
      try {
        const padded = run(model, padDocs(s.docs, sMax, wMax, s.sentencesAt, s.wordsAt), wLabel);
        assert.equal(padded.labelMasked, false, 'the document LSTM returns no mask');
        const gradSum = padded.grads.map((g) => g.map(() => 0));
        s.docs.forEach((doc, i) => {
          const alone = run(model, padDocs([doc], doc.length, longest(doc.map((x) => x.length)), 'post', 'post'), [wLabel[i]!]);
          assertClose(padded.label[i], alone.label[0], TOL, `document ${i}: label`);
          // Valid sentences, in order, wherever the padding put them.
          const valid = padded.sentenceMask[i]!;
          assert.deepEqual(valid.filter(Boolean).length, doc.length, `document ${i}: one valid sentence per real sentence`);
          const at = valid.map((v, k) => (v ? k : -1)).filter((k) => k >= 0);
          assert.deepEqual(at, s.sentencesAt === 'post' ? doc.map((_, k) => k) : doc.map((_, k) => sMax - doc.length + k), `document ${i}: sentence mask`);
          assertClose(at.map((k) => padded.sentences[i]![k]), alone.sentences[0], TOL, `document ${i}: sentence vectors`);
          alone.grads.forEach((g, k) => g.forEach((v, j) => (gradSum[k]![j]! += v)));
        });
        padded.grads.forEach((g, k) => assertClose(g, gradSum[k], 2e-4, `gradient of ${model.trainableWeights[k]!.path}`));
      } finally {
        model.dispose();
      }
    }),
    { numRuns: 40, seed: 16 },
  );
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});

test('the masks inside: TimeDistributed(Embedding) gives [B, S, W] (made by the Embedding), TimeDistributed(LSTM) gives [B, S]; specs agree', () => {
  const model = documentModel(3);
  const words = model.getLayer('words');
  const sentences = model.getLayer('sentences');
  const ids = Input({ shape: [null, null], dtype: 'int32' });
  const w = words.apply(ids) as SymbolicTensor;
  const s = sentences.apply(w) as SymbolicTensor;
  assert.deepEqual(w.spec.mask?.shape, [null, null, null]);
  assert.equal(w.spec.mask?.origin?.className, 'Embedding');
  assert.deepEqual(s.spec.mask?.shape, [null, null]);
  const x = tf.tensor3d(padDocs([[[1, 2], [3]], [[4, 5, 6]]], 3, 4, 'post', 'post'), undefined, 'int32');
  const wt = words.apply(x) as tf.Tensor;
  const st = sentences.apply(wt) as tf.Tensor;
  assert.deepEqual(rowsOf(getMask(wt)!), [
    [[true, true, false, false], [true, false, false, false], [false, false, false, false]],
    [[true, true, true, false], [false, false, false, false], [false, false, false, false]],
  ]);
  assert.deepEqual(rowsOf(getMask(st)!), [[true, true, false], [true, false, false]]);
  tf.dispose([x, wt, st]);
  model.dispose();
});

test('departure 16 against Keras: the Keras-made document classifier gives Keras\'s output unpadded, and the same output padded, where Keras\'s moves', async () => {
  const dir = new URL('./fixtures/keras-3.15.1-text/', import.meta.url).pathname;
  const golden = JSON.parse(readFileSync(`${dir}document_classifier.json`, 'utf8'));
  const model = await loadModel(`${dir}document_classifier.keras`);
  const t = (a: { data: number[]; shape: number[] }, dtype: 'int32' | 'float32' = 'float32') => tf.tensor(a.data, a.shape, dtype);
  const keras = t(golden.outputs[0]);
  const kerasPadded = t(golden.keras_padded_outputs[0]);
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
  const x = t(golden.inputs[0], 'int32');
  const xPadded = t(golden.padded_inputs[0], 'int32');
  const y = model.predict(x) as tf.Tensor;
  const yPadded = model.predict(xPadded) as tf.Tensor;
  assert.ok(maxDiff(y, keras) <= 1e-5, 'no padding: Keras-exact');
  assert.ok(maxDiff(yPadded, keras) <= 1e-5, 'padded: the unpadded answer');
  assert.ok(maxDiff(kerasPadded, keras) > 1e-3, 'Keras 3.15.1 changes its answer with the padding');
  tf.dispose([keras, kerasPadded, x, xPadded, y, yPadded]);
  model.dispose();
});
