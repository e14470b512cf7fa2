// The CTC loss against Keras 3.15.1 (test/fixtures/keras-3.15.1-trainapi/ctc.json,
// generate_ctc.py there): per-row losses and the reduced loss from Keras, its
// gradient with respect to the logits from PyTorch's analytic CTC in float64
// (check_ctc.py there, which checks it against Keras's finite differences); masked frames (Masque's departure: a row's
// frames are its valid steps) against Keras's ctc_loss with each row's
// frame count; padding invariance with NaN in the padding; training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ready, tf, attachMask, computeLoss, ctcLoss, ctcDecode, CTC, getLoss, Sequential, Input, Masking, LSTM, Dense, Adam } from '../src/index.js';
import { expectCode } from './helpers.js';

interface Case { name: string; about: string; y_true: number[][]; y_pred: number[][][]; frames: number[] | null; per_row: number[]; value: number; grad: number[][][]; grad_reference: number[][][] }
interface DecodeCase { name: string; inputs: number[][][]; lengths: number[]; merge_repeated: boolean; mask_index: number; beam: [number, number] | null; decoded: number[][][]; scores: number[][] }
const golden = JSON.parse(readFileSync(new URL('fixtures/keras-3.15.1-trainapi/ctc.json', import.meta.url), 'utf8')) as { cases: Case[]; decode: DecodeCase[] };
const near = (got: number, want: number, what: string, tol = 1e-5) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs Keras ${want}`);
const frameMask = (frames: number[], t: number) => tf.tensor2d(frames.map((n) => Array.from({ length: t }, (_, i) => i < n)), undefined, 'bool');

for (const c of golden.cases) {
  test(`ctc (${c.name}: ${c.about}) matches Keras 3.15.1: per row, reduced, and the gradient`, async () => {
    await ready();
    const before = tf.memory().numTensors;
    const yTrue = tf.tensor2d(c.y_true, undefined, 'int32');
    const yPred = tf.tensor3d(c.y_pred);
    const t = yPred.shape[1];
    const mask = c.frames === null ? null : frameMask(c.frames, t);
    const rows = ctcLoss(yTrue, yPred, mask);
    rows.dataSync().forEach((v, i) => near(v, c.per_row[i]!, `${c.name} row ${i}`));
    const value = computeLoss('ctc', yTrue, yPred, { mask });
    near(value.dataSync()[0]!, c.value, `${c.name} value`);
    // The loss object reads the mask attached to yPred, as compile's loss does.
    const withMask = yPred.clone();
    if (mask !== null) attachMask(withMask, mask);
    const viaClass = new CTC().apply(yTrue, withMask);
    near(viaClass.dataSync()[0]!, c.value, `${c.name} CTC().apply`);
    const g = tf.grad((p: tf.Tensor) => computeLoss(getLoss('ctc'), yTrue, p, { mask }))(yPred);
    // Keras's gradient as PyTorch's analytic one in float64 (check_ctc.py checked it against Keras's finite differences).
    const want = c.grad_reference.flat(2);
    g.dataSync().forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!)), `${c.name} grad[${i}]: ${v} vs ${want[i]}`));
    tf.dispose([yTrue, yPred, rows, value, withMask, viaClass, g, ...(mask ? [mask] : [])]);
    assert.equal(tf.memory().numTensors, before, 'no leak');
  });
}

test('ctc ignores padded frames: more padding, holding NaN, changes neither the losses nor the gradient, and the padding gets none', async () => {
  await ready();
  const c = golden.cases.find((x) => x.frames !== null)!;
  const yTrue = tf.tensor2d(c.y_true, undefined, 'int32');
  const yPred = tf.tensor3d(c.y_pred);
  const [b, t, k] = yPred.shape;
  const mask = frameMask(c.frames!, t);
  const extra = 5;
  // The valid frames, then NaN in every padded frame (the old padding too) and 5 more NaN frames.
  const valid = tf.expandDims(mask, 2);
  const nanPadded = tf.concat([tf.where(valid, yPred, tf.fill([b, t, k], NaN)), tf.fill([b, extra, k], NaN)], 1);
  const bigMask = frameMask(c.frames!, t + extra);
  const rowsA = ctcLoss(yTrue, yPred, mask).dataSync();
  const rowsB = ctcLoss(yTrue, nanPadded, bigMask).dataSync();
  assert.deepEqual(Array.from(rowsB), Array.from(rowsA));
  const ga = tf.grad((p: tf.Tensor) => computeLoss('ctc', yTrue, p, { mask }))(yPred).arraySync() as number[][][];
  const gb = tf.grad((p: tf.Tensor) => computeLoss('ctc', yTrue, p, { mask: bigMask }))(nanPadded).arraySync() as number[][][];
  for (let i = 0; i < b; i++) {
    for (let s = 0; s < t + extra; s++) {
      const inside = s < c.frames![i]!;
      gb[i]![s]!.forEach((v, j) => assert.equal(v, inside ? ga[i]![s]![j] : 0, `row ${i} frame ${s}`));
    }
  }
});

test('a model trains with the ctc loss on masked sequences: the loss falls and nothing leaks', async () => {
  await ready();
  const r = (seed: number) => () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const rand = r(7);
  // Each sequence spells its label: frames of features one-hot over 3 symbols, with repeats, padded with zeros.
  const labels = [[1, 2, 0], [2, 2, 1], [3, 1, 0], [1, 3, 2]];
  const xs = labels.map((row) => {
    const frames: number[][] = [];
    for (const v of row.filter((u) => u !== 0)) for (let i = 0; i < 2; i++) frames.push([0, 1, 2, 3].map((j) => (j === v ? 1 : 0.1 * rand())));
    while (frames.length < 8) frames.push([0, 0, 0, 0]);
    return frames;
  });
  const model = new Sequential({ layers: [Input({ shape: [null, 4] }), new Masking(), new LSTM({ units: 8, returnSequences: true }), new Dense({ units: 4 })] } as never);
  model.compile({ optimizer: new Adam({ learningRate: 0.05 }), loss: 'ctc' });
  const x = tf.tensor3d(xs);
  const y = tf.tensor2d(labels, undefined, 'int32');
  const first = (await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 })).history['loss']![0] as number;
  const before = tf.memory().numTensors;
  const last = (await model.fit(x, y, { epochs: 40, batchSize: 4, verbose: 0 })).history['loss']!.at(-1) as number;
  assert.equal(tf.memory().numTensors, before, 'fit leaked tensors');
  assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
  tf.dispose([x, y]);
  model.dispose();
});

test('ctc refuses what it cannot compute, naming what was wrong', async () => {
  await ready();
  const p = tf.zeros([2, 4, 3]);
  expectCode(() => ctcLoss(tf.tensor2d([[1, 3], [0, 0]], undefined, 'int32'), p), 'INVALID_INPUT', 'label ids', '[0, 3)', 'received 3', 'row 0');
  expectCode(() => ctcLoss(tf.tensor2d([[1, -1], [0, 0]]), p), 'INVALID_INPUT', 'received -1');
  expectCode(() => ctcLoss(tf.tensor1d([1, 2], 'int32'), p), 'INPUT_SHAPE_MISMATCH', 'yTrue', '[2]');
  expectCode(() => ctcLoss(tf.tensor2d([[1], [2]], undefined, 'int32'), tf.zeros([2, 3])), 'INPUT_SHAPE_MISMATCH', 'yPred', '[2, 3]');
  expectCode(() => ctcLoss(tf.tensor2d([[1], [2]], undefined, 'int32'), p, tf.ones([2, 5], 'bool')), 'MASK_SHAPE_MISMATCH', '[2, 4]', '[2, 5]');
});

for (const c of golden.decode) {
  test(`ctcDecode ${c.beam === null ? 'greedy' : 'beam search'} (${c.name}) gives Keras 3.15.1's ids and scores, from lengths and from the same frames as a mask`, async () => {
    await ready();
    const x = tf.tensor3d(c.inputs);
    const options = c.beam === null ? { mergeRepeated: c.merge_repeated } : { strategy: 'beam_search' as const, beamWidth: c.beam[0], topPaths: c.beam[1] };
    const [decoded, scores] = ctcDecode(x, { sequenceLengths: c.lengths, maskIndex: c.mask_index, ...options });
    assert.deepEqual(decoded.arraySync(), c.decoded);
    (scores.arraySync() as number[][]).forEach((row, i) => near(row[0]!, c.scores[i]![0]!, `${c.name} score ${i}`));
    // The lengths as the input's mask, the batch padded by 3 more frames of noise: the same answer.
    const t = x.shape[1];
    const padded = tf.concat([x, tf.randomNormal([x.shape[0], 3, x.shape[2]])], 1);
    attachMask(padded, frameMask(c.lengths, t + 3));
    const [d2, s2] = ctcDecode(padded, { maskIndex: c.mask_index, ...options });
    assert.deepEqual((d2.arraySync() as number[][][]).map((paths) => paths.map((row) => row.slice(0, t))), c.decoded);
    assert.deepEqual(Array.from(s2.dataSync()), Array.from(scores.dataSync()));
    tf.dispose([x, decoded, scores, padded, d2, s2]);
  });
}

test('ctcDecode skips a masked frame inside a row (a hole), as if the row did not have it, and refuses what it cannot do', async () => {
  await ready();
  // Frames: a, a, [hole: b], a, blank, a -> with the hole skipped: a a a _ a -> "a a" merged to "a", then "a".
  const ids = [1, 1, 2, 1, 0, 1];
  const x = tf.tensor3d([ids.map((k) => [0, 1, 2].map((j) => (j === k ? 0 : -5)))]);
  attachMask(x, tf.tensor2d([[true, true, false, true, true, true]], undefined, 'bool'));
  assert.deepEqual((ctcDecode(x)[0].arraySync() as number[][][])[0]![0]!.slice(0, 3), [1, 1, -1]);
  expectCode(() => ctcDecode(x, { strategy: 'beam' as never }), 'INVALID_ARGUMENT', 'strategy', 'beam_search', '"beam"');
  expectCode(() => ctcDecode(x, { strategy: 'beam_search', beamWidth: 2, topPaths: 3 }), 'INVALID_ARGUMENT', 'topPaths (3)', 'beamWidth (2)');
  expectCode(() => ctcDecode(x, { beamWidth: 4 }), 'INVALID_ARGUMENT', 'beamWidth', 'beam_search');
  expectCode(() => ctcDecode(x, { strategy: 'beam_search', mergeRepeated: false }), 'INVALID_ARGUMENT', 'mergeRepeated');
  expectCode(() => ctcDecode(x, { strategy: 'beam_search', beamWidth: 0 }), 'INVALID_ARGUMENT', 'beamWidth', 'positive integer');
  expectCode(() => ctcDecode(x, { strategy: 'beam_search', beamWidth: 1e9, topPaths: 1 }), 'INVALID_ARGUMENT', 'beamWidth 1000000000', 'at most 100000000');
  expectCode(() => ctcDecode(x, { sequenceLengths: [7] }), 'INVALID_ARGUMENT', 'sequenceLengths', '[0, 6]');
  expectCode(() => ctcDecode(x, { maskIndex: 3 }), 'INVALID_ARGUMENT', 'maskIndex', '[0, 3)');
  expectCode(() => ctcDecode(x, { merge_repeated: false } as never), 'INVALID_ARGUMENT', 'merge_repeated', 'mergeRepeated');
  expectCode(() => ctcDecode(tf.zeros([2, 3])), 'INVALID_ARGUMENT', 'inputs', '[batch, frames, classes]');
});
