// Stateful recurrent layers (`stateful: true`) against Keras 3.15.1: the
// cases of test/fixtures/keras-3.15.1-stateful (gen_stateful.py) call a
// model of fixed batch size several times in a row, reset some layers
// between calls, and predict over several batches; every output, mask and
// carried state after each step must match Keras's. Then what Keras does not
// check: padding, errors, gradients, saving, memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ready, tf, Input, Model, Sequential, Masking, Embedding, LSTM, GRU, SimpleRNN, RNN, LSTMCell, GRUCell, Bidirectional, Dense, TimeDistributed, Adam,
  getMask, saveModel, loadModel, modelFromKerasConfig,
} from '../src/index.js';
import { buildCaseModel } from './conformance/runner.js';
import { compare, loadCase, toTensor, type Case, type CaseArray } from './conformance/cases.js';
import { expectCode, isCode, normals, rng } from './helpers.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-stateful', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

interface CallStep {
  inputs: CaseArray[];
  outputs: CaseArray[];
  output_masks?: (CaseArray | null)[];
  states: Record<string, CaseArray[]>;
}
type Step = { call: CallStep } | { reset: string[] } | { predict: CallStep & { batch_size: number } };

const maxAbs = (t: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

type StatefulLike = { resetStates(): void; getStates(): tf.Tensor[] | null };

function checkStates(model: Model, want: Record<string, CaseArray[]>, tol: number, what: string): void {
  for (const [name, arrays] of Object.entries(want)) {
    const got = (model.getLayer(name) as unknown as StatefulLike).getStates();
    assert.ok(got !== null, `${what}: layer ${name} has no states`);
    assert.equal(got.length, arrays.length, `${what}: layer ${name} has ${got.length} states, Keras ${arrays.length}`);
    got.forEach((g, i) => {
      const d = compare(g, arrays[i]!, tol, `${what}: ${name} state ${i}`);
      assert.ok(d.ok, d.message);
    });
    tf.dispose(got);
  }
}

function checkOutputs(out: tf.Tensor | tf.Tensor[], step: CallStep, tol: number, what: string): void {
  const outs = Array.isArray(out) ? out : [out];
  assert.equal(outs.length, step.outputs.length, `${what}: ${outs.length} outputs, Keras ${step.outputs.length}`);
  outs.forEach((o, i) => {
    const d = compare(o, step.outputs[i]!, tol, `${what}: output ${i}`);
    assert.ok(d.ok, d.message);
    if (step.output_masks !== undefined) {
      const m = compare(getMask(o), step.output_masks[i] ?? null, 0, `${what}: mask ${i}`);
      assert.ok(m.ok, m.message);
    }
  });
}

for (const f of files) {
  const c: Case = loadCase(join(dir, f));
  test(`stateful against Keras 3.15.1: ${c['name']}: ${c['about']}`, async () => {
    await ready();
    const tol = (c['tolerance'] as number | undefined) ?? 1e-5;
    const model = buildCaseModel(c);
    const start = tf.memory().numTensors;
    const steps = c['steps'] as Step[];
    steps.forEach((s, k) => {
      const what = `${c['name']} step ${k}`;
      if ('reset' in s) {
        for (const name of s.reset) (model.getLayer(name) as unknown as StatefulLike).resetStates();
        return;
      }
      const step = 'call' in s ? s.call : s.predict;
      const x = step.inputs.map(toTensor);
      const out = model.predict(x.length === 1 ? x[0]! : x, { batchSize: 'predict' in s ? s.predict.batch_size : x[0]!.shape[0]! });
      checkOutputs(out, step, tol, what);
      checkStates(model, step.states, tol, what);
      tf.dispose([x, out]);
    });
    // The states held do not grow with the number of calls.
    assert.equal(tf.memory().numTensors, start);
    model.dispose();
  });
}

/** Masking -> stateful LSTM(sequences) -> Dense, batch `b`, in `T`-step calls. */
function statefulTagger(b: number, opts: { units?: number; bidirectional?: boolean } = {}): Model {
  const inp = Input({ shape: [null, 3], batchSize: b });
  const rnn = new LSTM({ units: opts.units ?? 4, returnSequences: true, stateful: true, name: 'lstm' });
  const seq = opts.bidirectional ? new Bidirectional({ layer: rnn, name: 'bidi' }).apply(new Masking().apply(inp)) : rnn.apply(new Masking().apply(inp));
  return new Model({ inputs: inp, outputs: new Dense({ units: 2 }).apply(seq) });
}

function sequenceBatch(r: () => number, b: number, t: number, lengths: number[], padTo = t, pad = 0): tf.Tensor {
  const data = new Float32Array(b * padTo * 3).fill(pad);
  for (let i = 0; i < b; i++) for (let s = 0; s < lengths[i]!; s++) for (let f = 0; f < 3; f++) data[(i * padTo + s) * 3 + f] = normals(r, 1)[0]!;
  return tf.tensor3d(data, [b, padTo, 3]);
}

test('stateful: a long sequence cut into calls gives what one call over the whole sequence gives (outputs and final states)', async () => {
  await ready();
  const r = rng(3);
  const whole = sequenceBatch(r, 2, 12, [12, 12]);
  const stateful = statefulTagger(2);
  const plainIn = Input({ shape: [null, 3] });
  const plain = new Model({ inputs: plainIn, outputs: new Dense({ units: 2 }).apply(new LSTM({ units: 4, returnSequences: true }).apply(new Masking().apply(plainIn))) });
  plain.setWeights(stateful.getWeights());
  const ref = plain.predict(whole) as tf.Tensor;
  const parts = [0, 5, 9, 12].slice(1).map((end, i, a) => {
    const begin = i === 0 ? 0 : a[i - 1]!;
    const x = tf.slice(whole, [0, begin, 0], [2, end - begin, 3]);
    const y = stateful.predict(x) as tf.Tensor;
    x.dispose();
    return y;
  });
  const joined = tf.concat(parts, 1);
  assert.ok(maxDiff(joined, ref) < 1e-6);
  tf.dispose([whole, ref, joined, ...parts]);
  stateful.dispose();
  plain.dispose();
});

test('stateful: padding changes no output at valid steps and no carried state (post, pre, more padding, NaN in the padding)', async () => {
  await ready();
  const r = rng(5);
  for (const bidirectional of [false, true]) {
    const lengths = [[4, 2, 0], [3, 5, 1], [2, 2, 2]];
    const base = statefulTagger(3, { bidirectional });
    const padded = statefulTagger(3, { bidirectional });
    padded.setWeights(base.getWeights());
    const name = bidirectional ? 'bidi' : 'lstm';
    for (const ls of lengths) {
      const t = Math.max(...ls, 1);
      const x = sequenceBatch(r, 3, t, ls);
      // The same rows padded with 3 more masked steps.
      const more = tf.tidy(() => tf.concat([x, tf.zeros([3, 3, 3])], 1));
      const a = base.predict(x) as tf.Tensor;
      const b = padded.predict(more) as tf.Tensor;
      const valid = tf.tidy(() => tf.cast(tf.expandDims(getMask(a)!, -1), 'float32'));
      const diff = tf.tidy(() => tf.max(tf.abs(tf.mul(tf.sub(a, tf.slice(b, [0, 0, 0], a.shape)), valid))).dataSync()[0]!);
      assert.ok(diff < 1e-6, `bidirectional ${bidirectional}: outputs differ by ${diff}`);
      const sa = (base.getLayer(name) as unknown as StatefulLike).getStates()!;
      const sb = (padded.getLayer(name) as unknown as StatefulLike).getStates()!;
      sa.forEach((s, i) => assert.ok(maxDiff(s, sb[i]!) < 1e-6, `state ${i}`));
      tf.dispose([x, more, a, b, valid, sa, sb]);
    }
    base.dispose();
    padded.dispose();
  }
});

test('stateful: NaN in masked steps does not reach the outputs or the carried states', async () => {
  await ready();
  const inp = Input({ shape: [null, 3], batchSize: 2 });
  const lstm = new LSTM({ units: 3, stateful: true, returnSequences: true });
  const model = new Model({ inputs: inp, outputs: lstm.apply(new Masking({ maskValue: -1 }).apply(inp)) });
  const clean = tf.tensor3d([[[1, 2, 3], [0.5, 0.1, 0.2], [-1, -1, -1]], [[0.3, 0.3, 0.3], [-1, -1, -1], [-1, -1, -1]]]);
  const before = model.predict(clean) as tf.Tensor;
  const s1 = lstm.getStates()!;
  lstm.resetStates();
  // NaN cannot be a Masking value; give the masked steps an explicit mask instead, with NaN in them.
  const x = tf.tensor3d([[[1, 2, 3], [0.5, 0.1, 0.2], [NaN, NaN, NaN]], [[0.3, 0.3, 0.3], [NaN, 1, NaN], [NaN, NaN, NaN]]]);
  const mask = tf.tensor2d([[1, 1, 0], [1, 0, 0]], undefined, 'bool');
  const y = lstm.apply(x, { mask }) as tf.Tensor;
  const s2 = lstm.getStates()!;
  s1.forEach((s, i) => assert.ok(maxDiff(s, s2[i]!) < 1e-6));
  assert.ok(!Array.from(s2[0]!.dataSync()).some(Number.isNaN));
  const valid = tf.tensor3d([[[1], [1], [0]], [[1], [0], [0]]]);
  assert.ok(tf.max(tf.abs(tf.mul(tf.sub(before, y), valid))).dataSync()[0]! < 1e-6);
  tf.dispose([clean, before, s1, s2, x, mask, y, valid]);
  model.dispose();
});

test('stateful: fit trains with states carried between batches; shuffling or bucketing is refused; memory stays flat', async () => {
  await ready();
  const r = rng(11);
  const model = statefulTagger(2);
  model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'mse' });
  const x = sequenceBatch(r, 8, 6, [6, 4, 6, 6, 2, 6, 5, 6]);
  const y = tf.tidy(() => tf.randomNormal([8, 6, 2], 0, 1, 'float32', 1));
  await assert.rejects(() => model.fit(x, y, { batchSize: 2, epochs: 1, verbose: 0 }), isCode('INVALID_ARGUMENT', "stateful layers (lstm)", 'shuffle'));
  await assert.rejects(
    () => model.fit({ sequences: [[[1, 2, 3]], [[1, 1, 1]]], labels: [[[0, 1]], [[1, 0]]], labelsPerStep: true }, undefined, { batchSize: 2, shuffle: false, verbose: 0 }),
    isCode('INVALID_ARGUMENT', 'bucketing would reorder'),
  );
  // A last batch of another size: Keras raises as well.
  const [x7, y7] = [tf.slice(x, 0, 7), tf.slice(y, 0, 7)];
  await assert.rejects(() => model.fit(x7, y7, { batchSize: 2, shuffle: false, verbose: 0 }), isCode('INPUT_SHAPE_MISMATCH', 'stateful with batch size 2'));
  tf.dispose([x7, y7]);
  model.resetStates();
  const first = await model.fit(x, y, { batchSize: 2, epochs: 1, shuffle: false, verbose: 0 });
  const start = tf.memory().numTensors;
  let last = first;
  for (let e = 0; e < 4; e++) {
    model.resetStates();
    last = await model.fit(x, y, { batchSize: 2, epochs: 1, shuffle: false, verbose: 0 });
  }
  assert.equal(tf.memory().numTensors, start);
  assert.ok(last.history['loss']![0]! < first.history['loss']![0]!, `loss ${first.history['loss']} -> ${last.history['loss']}`);
  tf.dispose([x, y]);
  model.dispose();
});

test('stateful: a training step gives the gradients of the call from the carried states, with no gradient into them', async () => {
  await ready();
  const r = rng(13);
  const model = statefulTagger(2);
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x1 = sequenceBatch(r, 2, 4, [4, 3]);
  const x2 = sequenceBatch(r, 2, 4, [2, 4]);
  const y = tf.tidy(() => tf.randomNormal([2, 4, 2], 0, 1, 'float32', 2));
  // Twin without stateful, given the carried states as initialState.
  const inp = Input({ shape: [null, 3] });
  const h = Input({ shape: [4] });
  const c = Input({ shape: [4] });
  const twin = new Model({ inputs: [inp, h, c], outputs: new Dense({ units: 2 }).apply(new LSTM({ units: 4, returnSequences: true }).apply(new Masking().apply(inp), { initialState: [h, c] })) });
  twin.setWeights(model.getWeights());
  twin.compile({ optimizer: 'sgd', loss: 'mse' });
  model.predict(x1);
  const carried = (model.getLayer('lstm') as unknown as StatefulLike).getStates()!;
  const a = model.trainOnBatch(x2, y) as number;
  const b = twin.trainOnBatch([x2, ...carried], y) as number;
  assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  const wa = model.getWeights();
  const wb = twin.getWeights();
  wa.forEach((w, i) => assert.ok(maxDiff(w, wb[i]!) < 1e-6, `weight ${i}`));
  tf.dispose([x1, x2, y, carried, wa, wb]);
  model.dispose();
  twin.dispose();
});

test('stateful: errors name what was wrong (unknown batch size, another batch size, bad reset values, reordering predict)', async () => {
  await ready();
  const noBatch = Input({ shape: [null, 3] });
  expectCode(() => new LSTM({ units: 2, stateful: true }).apply(noBatch), 'INVALID_CONFIG', 'fixed batch size', 'batchSize');
  const model = statefulTagger(2);
  const x3 = tf.zeros([3, 4, 3]);
  expectCode(() => model.predict(x3), 'INPUT_SHAPE_MISMATCH', "LSTM 'lstm'", 'batch size 2', 'received a batch of 3');
  // predict in batches of 2 over 3 rows leaves a last batch of 1.
  expectCode(() => model.predict(x3, { batchSize: 2 }), 'INPUT_SHAPE_MISMATCH', 'received a batch of 1');
  const lstm = model.getLayer('lstm') as LSTM;
  expectCode(() => lstm.resetStates([tf.zeros([2, 4])]), 'INVALID_ARGUMENT', '2 tensor(s)');
  expectCode(() => lstm.resetStates([tf.zeros([2, 4]), tf.zeros([3, 4])]), 'INPUT_SHAPE_MISMATCH', 'state 1', '[2, 4]', '[3, 4]');
  expectCode(() => model.predict({ sequences: [[[1, 2, 3]], [[1, 1, 1]]] }), 'INVALID_ARGUMENT', 'bucketing');
  const p = model.predict({ sequences: [[[1, 2, 3]], [[1, 1, 1], [2, 2, 2]]], bucketing: false }) as tf.Tensor;
  assert.deepEqual(p.shape, [2, 2, 2]);
  expectCode(() => new Bidirectional({ layer: new GRU({ units: 2 }) }).resetStates(), 'INVALID_ARGUMENT', 'stateful');
  expectCode(() => new GRU({ units: 2 }).resetStates([tf.zeros([1, 2])]), 'INVALID_ARGUMENT', 'stateful: true');
  expectCode(() => new Bidirectional({ layer: new GRU({ units: 2, stateful: true }), backwardLayer: new GRU({ units: 2, goBackwards: true }) }), 'INVALID_ARGUMENT', 'stateful');
  tf.dispose([x3, p]);
  model.dispose();
});

test('stateful: resetStates with values, getStates copies, model.resetStates reaches nested layers, dispose frees the states', async () => {
  await ready();
  const before = tf.memory().numTensors;
  const model = statefulTagger(2, { bidirectional: true });
  const bidi = model.getLayer('bidi') as Bidirectional;
  const x = tf.ones([2, 3, 3]);
  tf.dispose(model.predict(x));
  const s = bidi.getStates()!;
  assert.equal(s.length, 4);
  assert.ok(s.every((t) => maxAbs(t) > 0));
  tf.dispose(s);
  model.resetStates();
  const z = bidi.getStates()!;
  assert.ok(z.every((t) => maxAbs(t) === 0));
  tf.dispose(z);
  const given = [1, 2, 3, 4].map((v) => tf.fill([2, 4], v));
  bidi.resetStates(given);
  tf.dispose(given); // the layer keeps its own copies
  const back = bidi.getStates()!;
  assert.deepEqual(back.map((t) => t.dataSync()[0]), [1, 2, 3, 4]);
  tf.dispose(back);
  // Starting from given states equals calling with them as initialState.
  const plainIn = Input({ shape: [null, 3], batchSize: 2 });
  const plainLstm = new LSTM({ units: 4, returnSequences: true });
  const plain = new Model({ inputs: plainIn, outputs: plainLstm.apply(plainIn) });
  const inner = bidi.forwardLayer as LSTM;
  const innerWeights = inner.getWeights();
  plain.setWeights(innerWeights);
  tf.dispose(innerWeights);
  const h = tf.fill([2, 4], 0.5);
  const cc = tf.fill([2, 4], -0.5);
  inner.resetStates([h, cc]);
  const a = inner.apply(x) as tf.Tensor;
  const b = plainLstm.apply(x, { initialState: [h, cc] }) as tf.Tensor;
  assert.ok(maxDiff(a, b) < 1e-6);
  tf.dispose([h, cc, a, b, x]);
  plain.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('stateful: RNN(cell) and a stack of cells carry all their states; Sequential with batchSize; TimeDistributed after it', async () => {
  await ready();
  const r = rng(17);
  const model = new Sequential({
    layers: [
      new Masking({ inputShape: [null, 3], batchSize: 2 }),
      new RNN({ cell: [new LSTMCell({ units: 3 }), new GRUCell({ units: 2 })], stateful: true, returnSequences: true, name: 'rnn' }),
      new TimeDistributed({ layer: new Dense({ units: 1 }) }),
    ],
  });
  const rnn = model.getLayer('rnn') as RNN;
  const x = sequenceBatch(r, 2, 5, [5, 3]);
  const whole = model.predict(x) as tf.Tensor;
  const sWhole = rnn.getStates()!;
  assert.deepEqual(sWhole.map((t) => t.shape), [[2, 3], [2, 3], [2, 2]]);
  rnn.resetStates();
  const a = model.predict(tf.slice(x, [0, 0, 0], [2, 2, 3])) as tf.Tensor;
  const b = model.predict(tf.slice(x, [0, 2, 0], [2, 3, 3])) as tf.Tensor;
  assert.ok(maxDiff(tf.concat([a, b], 1), whole) < 1e-6);
  const sParts = rnn.getStates()!;
  sParts.forEach((s, i) => assert.ok(maxDiff(s, sWhole[i]!) < 1e-6));
  tf.dispose([x, whole, sWhole, a, b, sParts]);
  model.dispose();
});

test('stateful: a Masque file keeps stateful and the batch size; Keras configs with stateful load (an Embedding model, a SimpleRNN)', async () => {
  await ready();
  const dirOut = mkdtempSync(join(tmpdir(), 'masque-stateful-'));
  try {
    const inp = Input({ shape: [null], batchSize: 2, dtype: 'int32' });
    const out = new Dense({ units: 2 }).apply(new GRU({ units: 3, stateful: true, returnSequences: true, name: 'gru' }).apply(new Embedding({ inputDim: 9, outputDim: 4, maskZero: true }).apply(inp)));
    const model = new Model({ inputs: inp, outputs: out });
    const path = join(dirOut, 'm.keras');
    await saveModel(model, path);
    const loaded = await loadModel(path);
    const gru = loaded.getLayer('gru') as GRU;
    assert.equal(gru.stateful, true);
    const x1 = tf.tensor2d([[1, 2, 0], [3, 0, 0]], undefined, 'int32');
    const x2 = tf.tensor2d([[4, 5, 6], [7, 8, 0]], undefined, 'int32');
    const ya = [model.predict(x1), model.predict(x2)] as tf.Tensor[];
    const yb = [loaded.predict(x1), loaded.predict(x2)] as tf.Tensor[];
    ya.forEach((y, i) => assert.ok(maxDiff(y, yb[i]!) === 0));
    tf.dispose([x1, x2, ...ya, ...yb]);
    model.dispose();
    loaded.dispose();
  } finally {
    rmSync(dirOut, { recursive: true, force: true });
  }
  const cfg = {
    class_name: 'Sequential',
    config: { name: 's', layers: [{ class_name: 'InputLayer', config: { batch_shape: [2, 3, 1] } }, { class_name: 'SimpleRNN', config: { name: 'rnn', units: 2, stateful: true } }] },
  };
  const m = modelFromKerasConfig(cfg);
  assert.equal((m.getLayer('rnn') as SimpleRNN).stateful, true);
  m.dispose();
});
