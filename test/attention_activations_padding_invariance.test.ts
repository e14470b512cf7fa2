// Padding invariance of the layers of issue 14 as properties: for random
// batches of random lengths, padded pre or post (or with holes) to random
// extra lengths, with garbage or NaN in the padding, each row's valid
// outputs, masks and input gradients equal those of the row run alone
// without padding (test/invariance_harness.ts). GroupQueryAttention and
// AdditiveAttention run with the packed path forced on, forced off, and
// chosen by the cost model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  tf, getMask, collectLosses, GroupQueryAttention, AdditiveAttention, ELU, LeakyReLU, PReLU, Identity, GaussianDropout, AlphaDropout, SpatialDropout1D,
  ActivityRegularization, Dot, ReversibleEmbedding, type Layer,
} from '../src/index.js';
import { assertClose, normals, padRows, pick, rng } from './attention_helpers.js';
import { RUNS, TOL, checkInvariance, garbageArb, layoutArb, sideArb, type Run, built, modeArb, withPacking } from './invariance_harness.js';

const ELEMENTWISE = ['ELU', 'LeakyReLU', 'PReLU', 'Identity', 'GaussianDropout', 'AlphaDropout', 'SpatialDropout1D', 'ActivityRegularization'] as const;

function elementwise(kind: (typeof ELEMENTWISE)[number], p: number): Layer {
  switch (kind) {
    case 'ELU': return new ELU({ alpha: 0.2 + p });
    case 'LeakyReLU': return new LeakyReLU({ negativeSlope: 2 * p });
    case 'PReLU': return new PReLU({ sharedAxes: [1], alphaInitializer: { className: 'RandomNormal', config: { stddev: 1 } } });
    case 'Identity': return new Identity();
    case 'GaussianDropout': return new GaussianDropout({ rate: p / 2 });
    case 'AlphaDropout': return new AlphaDropout({ rate: p / 2 });
    case 'SpatialDropout1D': return new SpatialDropout1D({ rate: p / 2 });
    case 'ActivityRegularization': return new ActivityRegularization({ l1: p, l2: 1 - p });
  }
}

test('ELU, LeakyReLU, PReLU (shared over time), Identity, the dropouts at inference and ActivityRegularization are padding-invariant and keep the mask', () => {
  const arb = fc.integer({ min: 1, max: 3 }).chain((f) => fc.record({ f: fc.constant(f), side: sideArb(f, 0), kind: fc.constantFrom(...ELEMENTWISE), p: fc.double({ min: 0.05, max: 0.95, noNaN: true }), garbage: garbageArb, seed: fc.nat() }));
  fc.assert(
    fc.property(arb, (s) => {
      const layer = elementwise(s.kind, s.p);
      tf.tidy(() => void layer.apply(tf.zeros([1, 1, s.f]))); // build (PReLU's alpha) before counting tensors
      const run: Run = ([x], [m]) => layer.apply(x!, { mask: m ?? undefined, training: false }) as tf.Tensor;
      checkInvariance({ what: `${s.kind} ${JSON.stringify({ ...s, side: undefined })}`, run, sides: [s.side], inputs: [{ side: 0 }], features: s.f, output: 'sequence', outputMask: 'side0', garbage: s.garbage, seed: s.seed });
      layer.dispose();
    }),
    { numRuns: RUNS * 2 },
  );
});

test('the dropouts in training keep the mask, and NaN in padding stays in the padding', () => {
  const x = tf.tensor3d([[[1, -2], [NaN, NaN], [0.5, 3]], [[2, 1], [Infinity, NaN], [NaN, 1]]]);
  const mask = tf.tensor2d([[true, false, true], [true, false, false]], [2, 3], 'bool');
  for (const layer of [new GaussianDropout({ rate: 0.3, seed: 1 }), new AlphaDropout({ rate: 0.3, seed: 1 }), new SpatialDropout1D({ rate: 0.3, seed: 1 })]) {
    const y = layer.apply(x, { mask, training: true }) as tf.Tensor;
    assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 0, 1, 1, 0, 0], layer.className);
    const v = y.dataSync();
    for (const i of [0, 1, 4, 5, 6, 7]) assert.ok(Number.isFinite(v[i]!), `${layer.className}: valid entry ${i} is ${v[i]}`);
  }
});

test('ActivityRegularization: the loss and its gradient count valid steps only (padding-invariant)', () => {
  const arb = fc.integer({ min: 1, max: 3 }).chain((f) => fc.record({ f: fc.constant(f), side: sideArb(f, 0), l1: fc.double({ min: 0.01, max: 1, noNaN: true }), l2: fc.double({ min: 0.01, max: 1, noNaN: true }), garbage: garbageArb, seed: fc.nat() }));
  fc.assert(
    fc.property(arb, (s) => {
      const layer = new ActivityRegularization({ l1: s.l1, l2: s.l2 });
      const r = rng(s.seed);
      const rows = s.side.rows.map((row) => row.map(() => normals(r, s.f)));
      const t = Math.max(1, Math.max(...rows.map((row) => row.length)) + s.side.extra);
      const p = padRows(rows, t, s.side.layout, r, s.f, s.garbage);
      const b = rows.length;
      tf.tidy(() => {
        const lossOf = (x: tf.Tensor, m: tf.Tensor | null) => {
          const { result, losses } = collectLosses(() => layer.apply(x, { mask: m ?? undefined }));
          assert.equal(losses.length, 1);
          tf.dispose(result as tf.Tensor);
          return losses[0]!;
        };
        const x = tf.tensor3d(p.x, [b, t, s.f]);
        const m = tf.tensor2d(p.mask, [b, t], 'bool');
        const { value, grads } = tf.valueAndGrads((xx: tf.Tensor) => lossOf(xx, m))([x]);
        const gx = grads[0]!.dataSync();
        p.mask.forEach((valid, step) => {
          if (!valid) for (let j = 0; j < s.f; j++) assert.ok(gx[step * s.f + j] === 0, `gradient at padded step ${step} is ${gx[step * s.f + j]}`);
        });
        let total = 0;
        rows.forEach((row, i) => {
          if (row.length === 0) return;
          const alone = tf.tensor3d(row.flat(), [1, row.length, s.f]);
          const { value: v, grads: g } = tf.valueAndGrads((xx: tf.Tensor) => lossOf(xx, null))([alone]);
          total += v.dataSync()[0]!;
          // The padded batch divides by its batch size b; alone, by 1.
          assertClose(pick(gx, i, p.positions[i]!, t, s.f).map((v2) => v2 * b), g[0]!.dataSync(), TOL, `row ${i} gradient`);
        });
        assertClose([value.dataSync()[0]! * b], [total], TOL, 'loss x batch = sum of the rows\' losses');
      });
      layer.dispose();
    }),
    { numRuns: RUNS },
  );
});

test('GroupQueryAttention is padding-invariant: self, causal, sliding window, cross-attention with a key mask, gate, scores path', () => {
  const arb = fc.integer({ min: 1, max: 4 }).chain((f) =>
    fc.record({
      f: fc.constant(f), q: sideArb(f, 1), v: sideArb(f, 1), cross: fc.boolean(), withKey: fc.boolean(), causal: fc.boolean(),
      kvHeads: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 3 }), headDim: fc.integer({ min: 1, max: 3 }), useBias: fc.boolean(), useGate: fc.boolean(),
      scores: fc.boolean(), slidingWindow: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }), garbage: garbageArb, mode: modeArb, seed: fc.nat(),
    }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      const cross = s.cross && !s.causal && s.slidingWindow === null;
      // A sliding window measures distance in padded positions, which holes change: contiguous padding only.
      const window = s.q.layout === 'holes' ? null : s.slidingWindow;
      const layer = built(new GroupQueryAttention({ headDim: s.headDim, numQueryHeads: s.kvHeads * s.groups, numKeyValueHeads: s.kvHeads, useBias: s.useBias, useGate: s.useGate, slidingWindow: window }), s.f);
      const key = (x: tf.Tensor) => tf.sub(tf.mul(tf.reverse(x, -1), 0.5), 0.25);
      const run: Run = ([q, v, k], [qm, vm, km]) => {
        const out = layer.apply(k ? [q!, v!, k] : [q!, v!], { queryMask: qm, valueMask: vm, keyMask: k ? km : undefined, useCausalMask: s.causal, returnAttentionScores: s.scores });
        return Array.isArray(out) ? out[0]! : out;
      };
      const v = { ...s.v, rows: s.q.rows.map((_, i) => s.v.rows[i % s.v.rows.length]!) };
      const kv = cross ? 1 : 0;
      const inputs = [{ side: 0 }, { side: kv }, ...(s.withKey ? [{ side: kv, transform: key }] : [])];
      withPacking(s.mode, () => checkInvariance({
        what: `GroupQueryAttention ${JSON.stringify({ ...s, q: undefined, v: undefined, layout: s.q.layout })}`, run, sides: cross ? [s.q, v] : [s.q], inputs,
        features: s.f, output: 'sequence', outputMask: 'side0', garbage: s.garbage, seed: s.seed,
      }));
      layer.dispose();
    }),
    { numRuns: RUNS * 3 },
  );
});

test('AdditiveAttention is padding-invariant in self- and cross-attention (scaled, causal)', () => {
  const arb = fc.integer({ min: 1, max: 3 }).chain((f) =>
    fc.record({ f: fc.constant(f), q: sideArb(f, 1), v: sideArb(f, 1), cross: fc.boolean(), useScale: fc.boolean(), causal: fc.boolean(), garbage: garbageArb, mode: modeArb, seed: fc.nat() }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      const layer = built(new AdditiveAttention({ useScale: s.useScale }), s.f);
      const run: Run = ([q, v], [qm, vm]) => layer.apply([q!, v!], { mask: qm ? [qm, vm!] : undefined, useCausalMask: s.causal }) as tf.Tensor;
      const v = { ...s.v, rows: s.q.rows.map((_, i) => s.v.rows[i % s.v.rows.length]!) };
      const cross = s.cross && !s.causal;
      withPacking(s.mode, () => checkInvariance({
        what: `AdditiveAttention ${JSON.stringify({ ...s, q: undefined, v: undefined })}`, run, sides: cross ? [s.q, v] : [s.q], inputs: [{ side: 0 }, { side: cross ? 1 : 0 }],
        features: s.f, output: 'sequence', outputMask: 'side0', garbage: s.garbage, seed: s.seed,
      }));
      layer.dispose();
    }),
    { numRuns: RUNS * 2 },
  );
});

test('Dot over a masked time axis (axes 1) and over features (axes 2) is padding-invariant at valid positions', () => {
  const arb = fc.integer({ min: 1, max: 3 }).chain((f) => fc.record({ f: fc.constant(f), side: sideArb(f, 0), time: fc.boolean(), normalize: fc.boolean(), garbage: garbageArb, seed: fc.nat() }));
  fc.assert(
    fc.property(arb, (s) => {
      const layer = new Dot({ axes: s.time ? 1 : 2, normalize: s.normalize });
      const other = (x: tf.Tensor) => tf.sub(tf.mul(tf.reverse(x, -1), 0.7), 0.3);
      const run: Run = s.time
        ? ([x, y], ms) => {
            const out = layer.apply([x!, y!], { mask: ms[0] ? ms : undefined }) as tf.Tensor;
            assert.equal(getMask(out), null);
            return out;
          }
        : ([x, y], [m]) => {
            // Scores [B, T, T]: summed over the valid columns, so the check sees a sequence aligned with the rows.
            const sc = layer.apply([x!, y!], { mask: m ? [m, m] : undefined }) as tf.Tensor;
            const cols = m ? tf.cast(tf.expandDims(m, 1), 'float32') : tf.onesLike(sc);
            return tf.expandDims(tf.sum(tf.mul(sc, cols), -1), -1);
          };
      checkInvariance({
        what: `Dot ${JSON.stringify({ ...s, side: undefined })}`, run, sides: [s.side], inputs: [{ side: 0 }, { side: 0, transform: other }],
        features: s.f, output: s.time ? 'pooled' : 'sequence', outputMask: 'none', garbage: s.garbage, seed: s.seed,
      });
    }),
    { numRuns: RUNS * 2 },
  );
});

test('ReversibleEmbedding: forward outputs and masks are padding-invariant', () => {
  const arb = fc.record({
    rows: fc.array(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 0, maxLength: 5 }), { minLength: 1, maxLength: 3 }),
    layout: layoutArb, extra: fc.integer({ min: 0, max: 4 }), seed: fc.nat(),
  });
  const emb = new ReversibleEmbedding({ inputDim: 9, outputDim: 3, maskZero: true, embeddingsInitializer: { className: 'RandomNormal', config: { stddev: 1 } } });
  tf.tidy(() => void emb.apply(tf.ones([1, 1], 'int32')));
  fc.assert(
    fc.property(arb, (s) => {
      const r = rng(s.seed);
      const t = Math.max(1, Math.max(...s.rows.map((row) => row.length)) + s.extra);
      // Ids as one-feature rows; padding id 0 (the mask comes from the ids).
      const p = padRows(s.rows.map((row) => row.map((id) => [id])), t, s.layout, r, 1);
      const ids = p.mask.map((valid, i) => (valid ? p.x[i]! : 0));
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const got = emb.apply(tf.tensor2d(ids, [s.rows.length, t], 'int32')) as tf.Tensor;
        assert.deepEqual(Array.from(getMask(got)!.dataSync()), p.mask.map(Number), 'forward mask = ids != 0');
        s.rows.forEach((row, i) => {
          if (row.length === 0) return;
          const want = emb.apply(tf.tensor2d(row, [1, row.length], 'int32')) as tf.Tensor;
          assertClose(pick(got.dataSync(), i, p.positions[i]!, t, 3), want.dataSync(), TOL, `row ${i} embeddings`);
        });
      });
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    }),
    { numRuns: RUNS },
  );
  emb.dispose();
});

test('ReversibleEmbedding: reverse logits (tied or not, soft-capped) are padding-invariant and keep the mask', () => {
  const arb = fc.integer({ min: 1, max: 3 }).chain((f) =>
    fc.record({ f: fc.constant(f), side: sideArb(f, 0), tie: fc.boolean(), cap: fc.option(fc.double({ min: 0.5, max: 5, noNaN: true }), { nil: null }), garbage: garbageArb, seed: fc.nat() }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      const emb = new ReversibleEmbedding({ inputDim: 5, outputDim: s.f, tieWeights: s.tie, logitSoftCap: s.cap, embeddingsInitializer: { className: 'RandomNormal', config: { stddev: 1 } } });
      tf.tidy(() => void emb.apply(tf.ones([1, 1], 'int32')));
      const run: Run = ([x], [m]) => emb.apply(x!, { mask: m ?? undefined, reverse: true }) as tf.Tensor;
      checkInvariance({ what: `ReversibleEmbedding reverse ${JSON.stringify({ ...s, side: undefined })}`, run, sides: [s.side], inputs: [{ side: 0 }], features: s.f, output: 'sequence', outputMask: 'side0', garbage: s.garbage, seed: s.seed });
      emb.dispose();
    }),
    { numRuns: RUNS },
  );
});
