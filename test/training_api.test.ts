// Training as Keras users expect (issue 16): per-step labels without a flag,
// evaluate's output, predict on variable-length sequences, and evaluate or
// predict from inside a running fit's callbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Sequential, Embedding, GRU, Dense, SGD, MasqueError, getMask, type Logs } from '../src/index.js';

const isCode = (code: string, ...words: string[]) => (e: unknown) => {
  assert.ok(e instanceof MasqueError, `expected a MasqueError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  for (const w of words) assert.ok(e.message.includes(w), `message should mention ${JSON.stringify(w)}: ${e.message}`);
  return true;
};

/** A masked tagger with fixed weights: Embedding(maskZero) -> GRU(returnSequences) -> Dense(3, softmax). */
function tagger(seed = 3): Sequential {
  const model = new Sequential({
    layers: [
      new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, inputShape: [null], embeddingsInitializer: { className: 'RandomUniform', config: { seed } } }),
      new GRU({ units: 3, returnSequences: true, kernelInitializer: { className: 'GlorotUniform', config: { seed } }, recurrentInitializer: { className: 'Orthogonal', config: { seed } } }),
      new Dense({ units: 3, activation: 'softmax', kernelInitializer: { className: 'GlorotUniform', config: { seed } } }),
    ],
  });
  return model;
}

const seqs = [[3, 1, 4, 1, 5], [9, 2], [6, 5, 3], [5], [8, 9, 7, 9]];
const tags = seqs.map((s) => s.map((t) => t % 3));

test('per-step labels are recognised without labelsPerStep: fit and evaluate give what labelsPerStep: true gives', async () => {
  const results: { history: number[]; evaluated: number[] }[] = [];
  for (const labelsPerStep of [undefined, true]) {
    const model = tagger();
    model.compile({ optimizer: new SGD({ learningRate: 0.5 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const ds = { sequences: seqs, labels: tags, ...(labelsPerStep ? { labelsPerStep } : {}) };
    const h = await model.fit(ds, { epochs: 2, batchSize: 2, seed: 7, verbose: 0 });
    const evaluated = (await model.evaluate(ds, { batchSize: 2, verbose: 0 })) as number[];
    results.push({ history: [...h.history['loss']!, ...h.history['accuracy']!], evaluated });
    model.dispose();
  }
  assert.deepEqual(results[0], results[1]);
  assert.ok(results[0]!.evaluated.every(Number.isFinite));
});

test('per-step labels: a wrong length is named; labelsPerStep: false reads labels per sample; equal lengths read either way', async () => {
  const model = tagger();
  model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  const bad = tags.map((t, i) => (i === 3 ? [0, 1] : t));
  await assert.rejects(model.fit({ sequences: seqs, labels: bad }, { verbose: 0 }), isCode('INVALID_SEQUENCES', 'label 3 has 2 entries while sequence 3 has 1 steps', 'one label per step'));
  await assert.rejects(model.evaluate({ sequences: seqs, labels: bad }, { verbose: 0 }), isCode('INVALID_SEQUENCES', 'label 3 has 2 entries'));
  await assert.rejects(model.fit({ sequences: seqs, labels: tags, labelsPerStep: false }, { verbose: 0 }), isCode('INVALID_SEQUENCES', 'label 1 is a vector of 2 numbers but label 0 is a vector of 5 numbers'));
  // One label per sequence still works (a sequence classifier).
  const clf = new Sequential({ layers: [new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, inputShape: [null] }), new GRU({ units: 3 }), new Dense({ units: 2, activation: 'softmax' })] });
  clf.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  const h = await clf.fit({ sequences: seqs, labels: [0, 1, 1, 0, 1] }, { verbose: 0 });
  assert.equal(h.history['loss']!.length, 1);
  // Equal lengths: per-step and per-sample readings are the same [batch, L] targets.
  const same = [[1, 2, 3], [4, 5, 6]];
  const l = [[0, 1, 2], [2, 1, 0]];
  const a = (await model.evaluate({ sequences: same, labels: l }, { verbose: 0 })) as number;
  const b = (await model.evaluate({ sequences: same, labels: l, labelsPerStep: true }, { verbose: 0 })) as number;
  assert.equal(a, b);
  model.dispose();
  clf.dispose();
});

/** The largest absolute difference between two tensors. */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Runs `fn` with process.stdout.write captured (and isTTY set as given); returns what was written. */
async function captureStdout(isTTY: boolean, fn: () => Promise<unknown>): Promise<string> {
  const out = process.stdout as unknown as { write: (s: string) => boolean; isTTY: boolean | undefined };
  const [write, tty] = [out.write, out.isTTY];
  let text = '';
  out.write = (s: string) => ((text += s), true);
  out.isTTY = isTTY;
  try {
    await fn();
  } finally {
    out.write = write;
    out.isTTY = tty;
  }
  return text;
}

test('evaluate prints as Keras does: verbose 1 a progress bar on a terminal (one line elsewhere), 2 one line, 0 nothing; default 1', async () => {
  const model = tagger();
  model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const ds = { sequences: seqs, labels: tags };
  const line = /^3 steps - \d+\.\ds - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n$/;
  assert.match(await captureStdout(false, () => model.evaluate(ds, { batchSize: 2, verbose: 2 })), line);
  assert.match(await captureStdout(false, () => model.evaluate(ds, { batchSize: 2, verbose: 1 })), line);
  assert.match(await captureStdout(false, () => model.evaluate(ds, { batchSize: 2 })), line);
  assert.equal(await captureStdout(false, () => model.evaluate(ds, { batchSize: 2, verbose: 0 })), '');
  const bar = await captureStdout(true, () => model.evaluate(ds, { batchSize: 2, verbose: 1 }));
  assert.match(bar, /\r3\/3 \[={30}\] [\d.]+ steps\/s [\d.]+s loss: \d\.\d{4} accuracy: \d\.\d{4} *\n$/);
  assert.ok(!bar.includes('Epoch'), bar);
  // What it prints is what it returns.
  let printed = '';
  const values = (await (async () => {
    let r: unknown;
    printed = await captureStdout(false, async () => (r = await model.evaluate(ds, { batchSize: 2, verbose: 2, returnDict: true })));
    return r;
  })()) as Logs;
  assert.ok(printed.includes(`loss: ${values['loss']!.toFixed(4)}`), printed);
  model.dispose();
});

test('predict({ sequences }) pads per batch as fit does and returns one padded tensor in input order, with the mask of the valid steps', () => {
  const model = tagger();
  const many = [[3, 1, 4, 1, 5, 9, 2], [6], [5, 3], [5, 8, 9, 7], [9], [3, 2, 3, 8, 4], [6, 2, 6]];
  const before = tf.memory().numTensors;
  const out = model.predict({ sequences: many }, { batchSize: 3 }) as tf.Tensor;
  assert.deepEqual(out.shape, [7, 7, 3]);
  const mask = getMask(out)!;
  assert.equal(mask.dtype, 'bool');
  assert.deepEqual(mask.arraySync(), many.map((s) => Array.from({ length: 7 }, (_, t) => (t < s.length ? 1 : 0))));
  // Each row's valid steps are what the model gives for that sequence alone; padded steps are 0.
  const rows = out.arraySync() as number[][][];
  many.forEach((s, i) => {
    const ids = tf.tensor2d([s], undefined, 'int32');
    const alone = model.predict(ids) as tf.Tensor;
    const want = alone.arraySync() as number[][][];
    ids.dispose();
    for (let t = 0; t < 7; t++) {
      for (let c = 0; c < 3; c++) {
        const expected = t < s.length ? want[0]![t]![c]! : 0;
        assert.ok(Math.abs(rows[i]![t]![c]! - expected) < 1e-5, `row ${i} step ${t}: ${rows[i]![t]![c]} vs ${expected}`);
      }
    }
    alone.dispose();
  });
  // Without bucketing, with another batch size, with labels present (ignored): the same numbers.
  for (const [ds, batchSize] of [[{ sequences: many, bucketing: false }, 2], [{ sequences: many, labels: many.map((s) => s.map(() => 1)) }, 32]] as const) {
    const again = model.predict(ds, { batchSize }) as tf.Tensor;
    assert.ok(maxDiff(again, out) < 1e-5);
    again.dispose();
  }
  // padding 'pre': the valid steps are at the end of each row.
  const pre = model.predict({ sequences: many, padding: 'pre' }, { batchSize: 3 }) as tf.Tensor;
  assert.deepEqual(getMask(pre)!.arraySync(), many.map((s) => Array.from({ length: 7 }, (_, t) => (t >= 7 - s.length ? 1 : 0))));
  const preRows = pre.arraySync() as number[][][];
  many.forEach((s, i) => assert.ok(Math.abs(preRows[i]![6]![0]! - rows[i]![s.length - 1]![0]!) < 1e-5, `pre row ${i}`));
  tf.dispose([out, pre]);
  // A sequence classifier: one row per sequence, in input order.
  const clf = new Sequential({ layers: [new Embedding({ inputDim: 10, outputDim: 4, maskZero: true }), new GRU({ units: 3 }), new Dense({ units: 2 })] });
  const scores = clf.predict({ sequences: many }, { batchSize: 2 }) as tf.Tensor;
  assert.deepEqual(scores.shape, [7, 2]);
  const ids = tf.tensor2d([many[3]!], undefined, 'int32');
  const alone = clf.predict(ids) as tf.Tensor;
  ids.dispose();
  assert.ok(tf.tidy(() => maxDiff(tf.slice(scores, [3, 0], [1, 2]), alone)) < 1e-5);
  tf.dispose([scores, alone]);
  clf.dispose();
  assert.equal(tf.memory().numTensors, before, 'no leak');
  assert.throws(() => model.predict({ sequences: [] }), isCode('INVALID_INPUT', 'empty'));
  assert.throws(() => model.predict({ sequences: [[1, -2]] }), isCode('INVALID_SEQUENCES', 'sequence 0, step 1'));
  assert.throws(() => model.predict({ sequences: many }, { batch_size: 2 } as never), isCode('INVALID_ARGUMENT', 'Did you mean batchSize?'));
  model.dispose();
});
