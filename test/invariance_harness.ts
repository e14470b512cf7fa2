/**
 * The padding-invariance check of the property tests, for any computation
 * on [B, T, F] inputs with [B, T] masks: random rows are padded pre, post or
 * with holes to a random extra length, with garbage or NaN in the padding;
 * each row's valid outputs and input gradients must equal those of the row
 * run alone without padding, padded steps must get zero gradient, the
 * output mask must be the expected one, and no tensor may leak.
 * The attention, merge and pooling properties use it
 * (test/attention_padding_invariance.test.ts,
 * test/attention_activations_padding_invariance.test.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf, getMask } from '../src/index.js';
import { setAttentionPacking, type PackingMode } from '../src/ops/packed_attention_ops.js';
import { assertClose, normals, padRows, pick, rng, type Garbage, type Layout } from './attention_helpers.js';

export const TOL = 3e-5;
/** More runs can be asked for (MASQUE_PROPERTY_RUNS), never fewer than 20. */
export const RUNS = Math.max(20, Number(process.env['MASQUE_PROPERTY_RUNS'] ?? 20) || 20);

/** A computation under test: inputs [B, T, F] each with its [B, T] mask (null when unpadded). */
export type Run = (xs: tf.Tensor[], masks: (tf.Tensor | null)[]) => tf.Tensor;

export interface Side {
  rows: number[][][];
  layout: Layout;
  extra: number;
}

export interface Check {
  what: string;
  run: Run;
  /** The padded sides (one per input; inputs sharing a side share its padding). */
  sides: Side[];
  /** Which side each input uses, and how an input is derived from its side. */
  inputs: { side: number; transform?: (x: tf.Tensor) => tf.Tensor }[];
  features: number;
  /** 'sequence': output [B, T_side0, ...] aligned with side 0; 'pooled': [B, ...]. */
  output: 'sequence' | 'pooled';
  /** The output mask the padded run must carry: side 0's mask, or none. */
  outputMask: 'side0' | 'none';
  garbage: Garbage;
  seed: number;
}

export const layoutArb = fc.constantFrom<Layout>('pre', 'post', 'holes');
export const garbageArb = fc.constantFrom<Garbage>('random', 'nan');

export function sideArb(f: number, minLength: number): fc.Arbitrary<Side> {
  return fc.record({
    rows: fc.array(fc.integer({ min: minLength, max: 5 }), { minLength: 1, maxLength: 3 }).map((ls) => ls.map((l) => Array.from({ length: l }, () => new Array<number>(f).fill(0)))),
    layout: layoutArb,
    extra: fc.integer({ min: 0, max: 4 }),
  });
}

/** Fills the rows of every side with seeded normals (fast-check only chooses the lengths). */
export function fill(sides: Side[], r: () => number): Side[] {
  return sides.map((s) => ({ ...s, rows: s.rows.map((row) => row.map((step) => normals(r, step.length))) }));
}

export function checkInvariance(c: Check): void {
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
    // Per-row output size: everything after [B, T] ('sequence') or after [B] ('pooled').
    const o = out.shape.slice(c.output === 'sequence' ? 2 : 1).reduce((p, q) => p * q, 1);
    // Loss weights: random at valid outputs, 0 at padded ones.
    const wData = c.output === 'sequence' ? padded[0]!.mask.flatMap((valid) => (valid ? normals(r, o) : new Array<number>(o).fill(0))) : normals(r, b * o);
    const w = tf.tensor(wData, out.shape);
    const grads = tf.grads((...raw: tf.Tensor[]) => tf.sum(tf.mul(c.run(build(raw), maskList), w)))(xs);
    const got = out.dataSync() as Float32Array;
    const gotMask = getMask(out);
    if (c.outputMask === 'none') assert.equal(gotMask, null, `${c.what}: output mask`);
    else assert.deepEqual(Array.from(gotMask!.dataSync()), Array.from(ms[0]!.dataSync()), `${c.what}: output mask`);
    const gradData = grads.map((g) => g.dataSync() as Float32Array);
    padded.forEach((p, k) => p.mask.forEach((valid, step) => {
      if (!valid) for (let j = 0; j < f; j++) assert.ok(gradData[k]![step * f + j] === 0, `${c.what}: gradient at padded step ${step} of side ${k} is ${gradData[k]![step * f + j]}`);
    }));
    for (let i = 0; i < b; i++) {
      if (sides.some((s) => s.rows[i]!.length === 0)) continue;
      const alone = sides.map((s) => tf.tensor3d(s.rows[i]!.flat(), [1, s.rows[i]!.length, f]));
      const none = c.inputs.map(() => null);
      const want = c.run(build(alone), none);
      const rowShape = [1, ...(c.output === 'sequence' ? [sides[0]!.rows[i]!.length] : []), ...out.shape.slice(c.output === 'sequence' ? 2 : 1)];
      const wRow = tf.tensor(c.output === 'sequence' ? pick(wData, i, padded[0]!.positions[i]!, t0, o) : wData.slice(i * o, (i + 1) * o), rowShape);
      const wantGrads = tf.grads((...raw: tf.Tensor[]) => tf.sum(tf.mul(c.run(build(raw), none), wRow)))(alone);
      const gotRow = c.output === 'sequence' ? pick(got, i, padded[0]!.positions[i]!, t0, o) : Array.from(got.slice(i * o, (i + 1) * o));
      assertClose(gotRow, want.dataSync() as Float32Array, TOL, `${c.what}: row ${i} outputs`);
      padded.forEach((p, k) => assertClose(pick(gradData[k]!, i, p.positions[i]!, p.t, f), wantGrads[k]!.dataSync() as Float32Array, TOL, `${c.what}: row ${i} gradient of side ${k}`));
    }
  });
  assert.equal(tf.memory().numTensors, before, `${c.what}: tensors leaked`);
}

/** The attention packing modes a property runs under: forced on, forced off, and chosen by the cost model. */
export const modeArb = fc.constantFrom<PackingMode>('auto', 'always', 'never');

/** Runs `body` under a packing mode, restoring the previous one. */
export function withPacking<T>(mode: PackingMode, body: () => T): T {
  const prev = setAttentionPacking(mode);
  try {
    return body();
  } finally {
    setAttentionPacking(prev);
  }
}

/** Builds a two-input attention layer once on a dummy batch of feature size f, so every run shares its weights. */
export function built<L extends { apply(x: tf.Tensor[]): unknown }>(layer: L, f: number): L {
  tf.tidy(() => void layer.apply([tf.zeros([1, 1, f]), tf.zeros([1, 1, f])]));
  return layer;
}
