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
import { setAttentionPacking, type PackingMode } from '../src/ops/packed_attention_ops.js';
import { assertClose, normals, padRows, pick, rng, type Garbage, type Layout } from './attention_helpers.js';

const TOL = 3e-5;
// More runs can be asked for (MASQUE_PROPERTY_RUNS), never fewer than 20.
const RUNS = Math.max(20, Number(process.env['MASQUE_PROPERTY_RUNS'] ?? 20) || 20);

/** A computation under test: inputs [B, T, F] each with its [B, T] mask (null when unpadded). */
type Run = (xs: tf.Tensor[], masks: (tf.Tensor | null)[]) => tf.Tensor;

interface Side {
  rows: number[][][];
  layout: Layout;
  extra: number;
}

interface Check {
  what: string;
  run: Run;
  /** The padded sides (one per input; inputs sharing a side share its padding). */
  sides: Side[];
  /** Which side each input uses, and how the second input of a merge is derived. */
  inputs: { side: number; transform?: (x: tf.Tensor) => tf.Tensor }[];
  features: number;
  /** 'sequence': output [B, T_side0, O] aligned with side 0; 'pooled': [B, O]. */
  output: 'sequence' | 'pooled';
  /** The output mask the padded run must carry: side 0's mask, or none. */
  outputMask: 'side0' | 'none';
  garbage: Garbage;
  seed: number;
}

const layoutArb = fc.constantFrom<Layout>('pre', 'post', 'holes');
const garbageArb = fc.constantFrom<Garbage>('random', 'nan');
const modeArb = fc.constantFrom<PackingMode>('auto', 'always', 'never');

function sideArb(f: number, minLength: number): fc.Arbitrary<Side> {
  return fc.record({
    rows: fc.array(fc.integer({ min: minLength, max: 5 }), { minLength: 1, maxLength: 3 }).map((ls) => ls.map((l) => Array.from({ length: l }, () => new Array<number>(f).fill(0)))),
    layout: layoutArb,
    extra: fc.integer({ min: 0, max: 4 }),
  });
}

/** Fills the rows of every side with seeded normals (fast-check only chooses the lengths). */
function fill(sides: Side[], r: () => number): Side[] {
  return sides.map((s) => ({ ...s, rows: s.rows.map((row) => row.map((step) => normals(r, step.length))) }));
}

function checkInvariance(c: Check): void {
  const r = rng(c.seed);
  const sides = fill(c.sides, r);
  const f = c.features;
  const padded = sides.map((s) => {
    const t = Math.max(1, Math.max(...s.rows.map((row) => row.length)) + s.extra);
    return { t, ...padRows(s.rows, t, s.layout, r, f, c.garbage) };
  });
  const b = sides[0]!.rows.length;
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const xs = padded.map((p) => tf.tensor3d(p.x, [b, p.t, f]));
    const ms = padded.map((p) => tf.tensor2d(p.mask, [b, p.t], 'bool'));
    const build = (raw: tf.Tensor[]) => c.inputs.map((inp) => (inp.transform ? inp.transform(raw[inp.side]!) : raw[inp.side]!));
    const maskList = c.inputs.map((inp) => ms[inp.side]!);
    const out = c.run(build(xs), maskList);
    const t0 = padded[0]!.t;
    // Loss weights: random at valid outputs, 0 at padded ones.
    const o = out.shape[out.rank - 1]!;
    const wData = c.output === 'sequence'
      ? padded[0]!.mask.flatMap((valid) => (valid ? normals(r, o) : new Array<number>(o).fill(0)))
      : normals(r, b * o);
    const w = tf.tensor(wData, out.shape);
    const grads = tf.grads((...raw: tf.Tensor[]) => tf.sum(tf.mul(c.run(build(raw), maskList), w)))(xs);
    const got = out.dataSync() as Float32Array;
    const gotMask = getMask(out);
    if (c.outputMask === 'none') assert.equal(gotMask, null, `${c.what}: output mask`);
    else assert.deepEqual(Array.from(gotMask!.dataSync()), Array.from(ms[0]!.dataSync()), `${c.what}: output mask`);
    const gradData = grads.map((g) => g.dataSync() as Float32Array);
    // Padded steps never receive gradient.
    padded.forEach((p, k) => p.mask.forEach((valid, step) => {
      if (!valid) for (let j = 0; j < f; j++) assert.ok(gradData[k]![step * f + j] === 0, `${c.what}: gradient at padded step ${step} of input side ${k} is ${gradData[k]![step * f + j]}`);
    }));
    for (let i = 0; i < b; i++) {
      if (sides.some((s) => s.rows[i]!.length === 0)) continue;
      const alone = sides.map((s) => tf.tensor3d(s.rows[i]!.flat(), [1, s.rows[i]!.length, f]));
      const none = c.inputs.map(() => null);
      const want = c.run(build(alone), none);
      const wRow = c.output === 'sequence'
        ? tf.tensor3d(pick(wData, i, padded[0]!.positions[i]!, t0, o), [1, sides[0]!.rows[i]!.length, o])
        : tf.tensor2d(wData.slice(i * o, (i + 1) * o), [1, o]);
      const wantGrads = tf.grads((...raw: tf.Tensor[]) => tf.sum(tf.mul(c.run(build(raw), none), wRow)))(alone);
      const wantOut = want.dataSync() as Float32Array;
      const gotRow = c.output === 'sequence' ? pick(got, i, padded[0]!.positions[i]!, t0, o) : Array.from(got.slice(i * o, (i + 1) * o));
      assertClose(gotRow, wantOut, TOL, `${c.what}: row ${i} outputs`);
      padded.forEach((p, k) => assertClose(pick(gradData[k]!, i, p.positions[i]!, p.t, f), wantGrads[k]!.dataSync() as Float32Array, TOL, `${c.what}: row ${i} gradient of side ${k}`));
    }
  });
  assert.equal(tf.memory().numTensors, before, `${c.what}: tensors leaked`);
}

/** Runs `body` under a packing mode, restoring the previous one. */
function withPacking<T>(mode: PackingMode, body: () => T): T {
  const prev = setAttentionPacking(mode);
  try {
    return body();
  } finally {
    setAttentionPacking(prev);
  }
}

/** Builds a two-input attention layer once on a dummy batch, so that every run shares its weights. */
function built<L extends Attention | MultiHeadAttention>(layer: L, f: number): L {
  tf.tidy(() => void layer.apply([tf.zeros([1, 1, f]), tf.zeros([1, 1, f])]));
  return layer;
}

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
