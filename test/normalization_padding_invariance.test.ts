// Padding invariance of the normalization family, as a property: random
// batches of random lengths, padded pre or post (or with holes) to random
// extra lengths, with garbage or NaN in the padding. For the per-sample
// layers (GroupNormalization, UnitNormalization over features or time,
// Normalization, Rescaling, BatchNormalization at inference), each row's
// valid outputs, input gradients and weight gradients equal those of the row
// run alone without padding. For training-mode BatchNormalization, whose
// statistics span the batch, the reference is every valid step packed into
// one unpadded row: same valid outputs, gradients and moving statistics
// after the step. The output mask is the input mask; padded steps get zero
// gradient (except a NaN step's own gradient in per-step UnitNormalization).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf, getMask, BatchNormalization, GroupNormalization, UnitNormalization, Normalization, Rescaling, type Layer } from '../src/index.js';
import { assertClose, normals, padRows, pick, rng, type Garbage, type Layout } from './attention_helpers.js';

const TOL = 5e-5;
const RUNS = Math.max(20, Number(process.env['MASQUE_PROPERTY_RUNS'] ?? 20) || 20);

type Kind = 'batchnorm' | 'batchnorm_training' | 'groupnorm' | 'unitnorm_features' | 'unitnorm_time' | 'unitnorm_both' | 'normalization' | 'rescaling';
const KINDS: Kind[] = ['batchnorm', 'batchnorm_training', 'groupnorm', 'unitnorm_features', 'unitnorm_time', 'unitnorm_both', 'normalization', 'rescaling'];

interface Setup {
  kind: Kind;
  lengths: number[];
  layout: Layout;
  extra: number;
  garbage: Garbage;
  seed: number;
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  kind: fc.constantFrom(...KINDS),
  lengths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
  layout: fc.constantFrom<Layout>('pre', 'post', 'holes'),
  extra: fc.integer({ min: 0, max: 4 }),
  garbage: fc.constantFrom<Garbage>('random', 'nan'),
  seed: fc.nat(),
});

const FEATURES: Record<Kind, number> = { batchnorm: 3, batchnorm_training: 3, groupnorm: 4, unitnorm_features: 3, unitnorm_time: 2, unitnorm_both: 2, normalization: 3, rescaling: 2 };

/** The layer of `kind`, built, with random weights and statistics. */
function makeLayer(kind: Kind, r: () => number): Layer {
  const f = FEATURES[kind];
  const layer: Layer = {
    batchnorm: () => new BatchNormalization({ momentum: 0.7 }),
    batchnorm_training: () => new BatchNormalization({ momentum: 0.7 }),
    groupnorm: () => new GroupNormalization({ groups: 2 }),
    unitnorm_features: () => new UnitNormalization(),
    unitnorm_time: () => new UnitNormalization({ axis: 1 }),
    unitnorm_both: () => new UnitNormalization({ axis: [1, 2] }),
    normalization: () => new Normalization({ mean: normals(r, f), variance: normals(r, f).map((v) => 0.5 + v * v) }),
    rescaling: () => new Rescaling({ scale: normals(r, f), offset: 0.3 }),
  }[kind]();
  tf.tidy(() => void layer.apply(tf.zeros([1, 1, f])));
  layer.setWeights(layer.weights.map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    return w.name === 'moving_variance' ? normals(r, n).map((v) => 0.5 + v * v) : normals(r, n);
  }));
  return layer;
}

interface Run {
  y: tf.Tensor;
  inputGrad: tf.Tensor;
  weightGrads: tf.Tensor[];
  state: number[][];
}

/** One call of `layer` on `x` (with `mask`), starting from the non-trainable state `start`: outputs, gradients of sum(y · w), state after. */
function runOnce(layer: Layer, x: tf.Tensor, mask: tf.Tensor | null, w: tf.Tensor, training: boolean, start: number[][]): Run {
  const frozen = layer.weights.filter((v) => !v.trainable);
  const reset = () => frozen.forEach((v, i) => v.variable.assign(tf.tensor(start[i]!, v.shape)));
  const call = (a: tf.Tensor) => layer.apply(a, mask === null ? { training } : { mask, training }) as tf.Tensor;
  reset();
  const inputGrad = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(call(a), w)))(x);
  reset();
  const trainable = layer.weights.filter((v) => v.trainable).map((v) => v.variable);
  const weightGrads = trainable.length === 0 ? [] : (() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(call(x), w)) as tf.Scalar, trainable);
    value.dispose();
    return trainable.map((v) => grads[v.name]!);
  })();
  reset();
  const y = call(x);
  return { y, inputGrad, weightGrads, state: frozen.map((v) => Array.from(v.variable.dataSync())) };
}

function check(s: Setup): void {
  const r = rng(s.seed);
  const f = FEATURES[s.kind];
  const layer = makeLayer(s.kind, r);
  const training = s.kind === 'batchnorm_training';
  const start = layer.weights.filter((v) => !v.trainable).map((v) => Array.from(v.variable.dataSync()));
  const rows = s.lengths.map((l) => Array.from({ length: l }, () => normals(r, f)));
  const t = Math.max(...s.lengths) + s.extra;
  const p = padRows(rows, t, s.layout, r, f, s.garbage);
  const b = rows.length;
  const what = `${s.kind} ${JSON.stringify({ ...s, seed: s.seed })}`;
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = tf.tensor3d(p.x, [b, t, f]);
    const mask = tf.tensor2d(p.mask, [b, t], 'bool');
    const wData = p.mask.flatMap((valid) => (valid ? normals(r, f) : new Array<number>(f).fill(0)));
    const got = runOnce(layer, x, mask, tf.tensor3d(wData, [b, t, f]), training, start);
    assert.deepEqual(Array.from(getMask(got.y)!.dataSync()), p.mask.map(Number), `${what}: output mask`);
    const gy = got.y.dataSync() as Float32Array;
    const gx = got.inputGrad.dataSync() as Float32Array;
    // UnitNormalization over features works per step: a NaN step's own gradient is 0 · NaN, as for
    // Dense (the derivative of the padded computation); NaN never reaches valid steps or weights.
    const perStepNaN = s.kind === 'unitnorm_features' && s.garbage === 'nan';
    p.mask.forEach((valid, step) => {
      if (!valid && !perStepNaN) for (let k = 0; k < f; k++) assert.ok(gx[step * f + k] === 0, `${what}: gradient at padded step ${step} is ${gx[step * f + k]}`);
    });
    // The reference calls: each row alone, or (training BatchNormalization) every valid step packed into one row.
    const groups = training ? [rows.map((_, i) => i)] : rows.map((_, i) => [i]);
    const sums = got.weightGrads.map((g) => new Float64Array(g.size));
    for (const members of groups) {
      const steps = members.flatMap((i) => rows[i]!);
      const wr = members.flatMap((i) => pick(wData, i, p.positions[i]!, t, f));
      const ref = runOnce(layer, tf.tensor3d(steps.flat(), [1, steps.length, f]), null, tf.tensor3d(wr, [1, steps.length, f]), training, start);
      const gotRows = members.flatMap((i) => pick(gy, i, p.positions[i]!, t, f));
      assertClose(gotRows, ref.y.dataSync() as Float32Array, TOL, `${what}: rows ${members} outputs`);
      assertClose(members.flatMap((i) => pick(gx, i, p.positions[i]!, t, f)), ref.inputGrad.dataSync() as Float32Array, TOL, `${what}: rows ${members} input gradients`);
      ref.weightGrads.forEach((g, k) => g.dataSync().forEach((v, j) => (sums[k]![j]! += v)));
      if (training) ref.state.forEach((v, k) => assertClose(got.state[k]!, v, TOL, `${what}: moving statistic ${k} after the step`));
    }
    got.weightGrads.forEach((g, k) => assertClose(g.dataSync() as Float32Array, sums[k]!, 1e-4, `${what}: weight gradient ${k}`));
  });
  assert.equal(tf.memory().numTensors, before, `${what}: tensors leaked`);
  layer.dispose();
}

test('the normalization layers are padding-invariant: valid outputs, masks, input and weight gradients, moving statistics', () => {
  fc.assert(fc.property(setupArb, (s) => check(s)), { numRuns: RUNS * 4 });
});

test('every kind, every layout, NaN padding: one run each', () => {
  for (const kind of KINDS) for (const layout of ['pre', 'post', 'holes'] as const) check({ kind, lengths: [3, 1, 4], layout, extra: 2, garbage: 'nan', seed: 11 });
});
