// Padding invariance of the mask-consuming layers of the attention issue, as
// a property: for random batches of random lengths, padded pre or post (or
// with holes) to random extra lengths, with garbage or NaN in the padding,
// each row's valid outputs and input gradients equal those of the row run
// alone without padding; padded steps get zero gradient. Attention runs with
// the packed path forced on, forced off, and chosen by the cost model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  tf, getMask, Attention, MultiHeadAttention, GlobalAveragePooling1D, GlobalMaxPooling1D, Softmax,
  Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate,
} from '../src/index.js';
import { RUNS, TOL, checkInvariance, fill, garbageArb, layoutArb, sideArb, type Run, type Side, built, modeArb, withPacking } from './invariance_harness.js';
import { assertClose, normals, padRows, pick, rng } from './attention_helpers.js';

test('GlobalAveragePooling1D and GlobalMaxPooling1D are padding-invariant (keepdims too)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }).chain((f) => fc.record({ f: fc.constant(f), side: sideArb(f, 0), garbage: garbageArb, max: fc.boolean(), keepdims: fc.boolean(), seed: fc.nat() })), (s) => {
      const layer = s.max ? new GlobalMaxPooling1D({ keepdims: s.keepdims }) : new GlobalAveragePooling1D({ keepdims: s.keepdims });
      const run: Run = ([x], [m]) => {
        const y = layer.apply(x!, { mask: m ?? undefined }) as tf.Tensor;
        return s.keepdims ? tf.squeeze(y, [1]) : y;
      };
      checkInvariance({ what: layer.className, run, sides: [s.side], inputs: [{ side: 0 }], features: s.f, output: 'pooled', outputMask: 'none', garbage: s.garbage, seed: s.seed });
    }),
    { numRuns: RUNS },
  );
});

test('Softmax over a masked time axis is padding-invariant', () => {
  fc.assert(
    fc.property(fc.record({ side: sideArb(1, 0), garbage: garbageArb, seed: fc.nat() }), (s) => {
      const layer = new Softmax({ axis: -1 });
      // Logits [B, T] with their [B, T] mask; the check sees a [B, T, 1] sequence.
      const run: Run = ([x], [m]) => {
        const y = layer.apply(tf.squeeze(x!, [2]), { mask: m ?? undefined }) as tf.Tensor;
        if (m) assert.deepEqual(Array.from(getMask(y)!.dataSync()), Array.from(m.dataSync()), 'Softmax passes its mask through');
        return tf.expandDims(y, 2);
      };
      checkInvariance({ what: 'Softmax', run, sides: [s.side], inputs: [{ side: 0 }], features: 1, output: 'sequence', outputMask: 'none', garbage: s.garbage, seed: s.seed });
    }),
    { numRuns: RUNS },
  );
});

const MERGES = ['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate'] as const;

test('merge layers are padding-invariant and keep the shared mask', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }).chain((f) => fc.record({ f: fc.constant(f), side: sideArb(f, 0), garbage: garbageArb, kind: fc.constantFrom(...MERGES), seed: fc.nat() })), (s) => {
      const make = { Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate }[s.kind];
      const layer = new make({});
      const run: Run = (xs, ms) => layer.apply(xs, { mask: ms[0] ? ms : undefined }) as tf.Tensor;
      const other = (x: tf.Tensor) => tf.sub(tf.mul(tf.reverse(x, -1), 0.7), 0.3);
      checkInvariance({ what: s.kind, run, sides: [s.side], inputs: [{ side: 0 }, { side: 0, transform: other }], features: s.f, output: 'sequence', outputMask: 'side0', garbage: s.garbage, seed: s.seed });
    }),
    { numRuns: RUNS },
  );
});

test('Attention (dot and concat, scaled, causal) is padding-invariant in self- and cross-attention', () => {
  const arb = fc.integer({ min: 1, max: 3 }).chain((f) =>
    fc.record({ f: fc.constant(f), q: sideArb(f, 1), v: sideArb(f, 1), cross: fc.boolean(), scoreMode: fc.constantFrom<'dot' | 'concat'>('dot', 'concat'), useScale: fc.boolean(), causal: fc.boolean(), garbage: garbageArb, mode: modeArb, seed: fc.nat() }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      const layer = built(new Attention({ scoreMode: s.scoreMode, useScale: s.useScale }), s.f);
      const run: Run = ([q, v], [qm, vm]) => layer.apply([q!, v!], { mask: qm ? [qm, vm!] : undefined, useCausalMask: s.causal }) as tf.Tensor;
      const v = { ...s.v, rows: s.q.rows.map((_, i) => s.v.rows[i % s.v.rows.length]!) };
      // Causal cross-attention compares positions of two different sequences, which padding moves: self-attention only.
      const cross = s.cross && !s.causal;
      withPacking(s.mode, () => checkInvariance({
        what: `Attention ${JSON.stringify({ ...s, q: undefined, v: undefined })}`, run, sides: cross ? [s.q, v] : [s.q], inputs: [{ side: 0 }, { side: cross ? 1 : 0 }],
        features: s.f, output: 'sequence', outputMask: 'side0', garbage: s.garbage, seed: s.seed,
      }));
      layer.dispose();
    }),
    { numRuns: RUNS * 2 },
  );
});

test('MultiHeadAttention is padding-invariant: self-attention, causal self-attention (pre and post padding), cross-attention', () => {
  const arb = fc.integer({ min: 1, max: 4 }).chain((f) =>
    fc.record({
      f: fc.constant(f), q: sideArb(f, 1), v: sideArb(f, 1), cross: fc.boolean(), causal: fc.boolean(), numHeads: fc.integer({ min: 1, max: 2 }), keyDim: fc.integer({ min: 1, max: 3 }),
      valueDim: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }), outputShape: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }), useBias: fc.boolean(),
      slidingWindow: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }), garbage: garbageArb, mode: modeArb, seed: fc.nat(),
    }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      const cross = s.cross && !s.causal && s.slidingWindow === null;
      // A sliding window measures distance in padded positions, which holes change: contiguous padding only.
      const window = s.q.layout === 'holes' ? null : s.slidingWindow;
      const layer = built(new MultiHeadAttention({ numHeads: s.numHeads, keyDim: s.keyDim, valueDim: s.valueDim, outputShape: s.outputShape, useBias: s.useBias, slidingWindow: window }), s.f);
      const run: Run = ([q, v], [qm, vm]) => layer.apply([q!, v!], { queryMask: qm, valueMask: vm, useCausalMask: s.causal }) as tf.Tensor;
      const v = { ...s.v, rows: s.q.rows.map((_, i) => s.v.rows[i % s.v.rows.length]!) };
      withPacking(s.mode, () => checkInvariance({
        what: `MultiHeadAttention ${JSON.stringify({ ...s, q: undefined, v: undefined, layout: s.q.layout })}`, run, sides: cross ? [s.q, v] : [s.q], inputs: [{ side: 0 }, { side: cross ? 1 : 0 }],
        features: s.f, output: 'sequence', outputMask: 'side0', garbage: s.garbage, seed: s.seed,
      }));
      layer.dispose();
    }),
    { numRuns: RUNS * 3 },
  );
});

test('packed and dense attention agree at every position, padded queries included (Keras\'s values there)', () => {
  const arb = fc.integer({ min: 1, max: 4 }).chain((f) =>
    fc.record({ f: fc.constant(f), q: sideArb(f, 0), v: sideArb(f, 0), cross: fc.boolean(), causal: fc.boolean(), mha: fc.boolean(), garbage: garbageArb, seed: fc.nat() }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      const r = rng(s.seed);
      const [q, v0] = fill([s.q, s.v], r);
      const v = s.cross && !s.causal ? { ...v0!, rows: q!.rows.map((_, i) => v0!.rows[i % v0!.rows.length]!) } : q!;
      const pad = (side: Side) => {
        const t = Math.max(1, Math.max(...side.rows.map((row) => row.length)) + side.extra);
        const p = padRows(side.rows, t, side.layout, r, s.f, s.garbage);
        return { x: tf.tensor3d(p.x, [side.rows.length, t, s.f]), m: tf.tensor2d(p.mask, [side.rows.length, t], 'bool') };
      };
      const layer = s.mha ? built(new MultiHeadAttention({ numHeads: 2, keyDim: 2 }), s.f) : built(new Attention({ useScale: true }), s.f);
      tf.tidy(() => {
        const a = pad(q!);
        const b = v === q ? a : pad(v);
        const run = () =>
          (layer instanceof MultiHeadAttention
            ? layer.apply([a.x, b.x], { queryMask: a.m, valueMask: b.m, useCausalMask: s.causal })
            : layer.apply([a.x, b.x], { mask: [a.m, b.m], useCausalMask: s.causal })) as tf.Tensor;
        const dense = withPacking('never', run).dataSync() as Float32Array;
        const packed = withPacking('always', run).dataSync() as Float32Array;
        assertClose(packed, dense, TOL, `${layer.className} packed vs dense`);
      });
      layer.dispose();
    }),
    { numRuns: RUNS * 2 },
  );
});

test('causal self-attention gives the same valid outputs for one batch padded pre and post', () => {
  // The same rows, pre-padded in one batch and post-padded in another, through MHA and Attention with useCausalMask.
  const r = rng(7);
  const f = 3;
  const rows = [5, 2, 4, 1].map((l) => Array.from({ length: l }, () => normals(r, f)));
  const mha = built(new MultiHeadAttention({ numHeads: 2, keyDim: 2 }), f);
  const att = new Attention({ useScale: true });
  for (const mode of ['always', 'never'] as const) {
    withPacking(mode, () => tf.tidy(() => {
      const runs = (['pre', 'post'] as const).map((layout) => {
        const p = padRows(rows, 8, layout, r, f, 'nan');
        const x = tf.tensor3d(p.x, [rows.length, 8, f]);
        const m = tf.tensor2d(p.mask, [rows.length, 8], 'bool');
        const a = mha.apply([x, x], { queryMask: m, valueMask: m, useCausalMask: true }) as tf.Tensor;
        const b = att.apply([x, x], { mask: [m, m], useCausalMask: true }) as tf.Tensor;
        return { p, a: a.dataSync() as Float32Array, b: b.dataSync() as Float32Array };
      });
      rows.forEach((_, i) => {
        assertClose(pick(runs[0]!.a, i, runs[0]!.p.positions[i]!, 8, f), pick(runs[1]!.a, i, runs[1]!.p.positions[i]!, 8, f), TOL, `MHA row ${i} (${mode})`);
        assertClose(pick(runs[0]!.b, i, runs[0]!.p.positions[i]!, 8, f), pick(runs[1]!.b, i, runs[1]!.p.positions[i]!, 8, f), TOL, `Attention row ${i} (${mode})`);
      });
    }));
  }
  mha.dispose();
  att.dispose();
});
