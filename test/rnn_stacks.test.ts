// Padding invariance of Bidirectional and of stacks, as properties: each
// row's valid outputs, final states and gradients equal those of the row
// run alone without padding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  tf, Bidirectional, Dense, Embedding, Input, LSTM, GRU, Masking, Model, TimeDistributed, getMask, type MergeMode, type SymbolicTensor,
} from '../src/index.js';
import { KINDS, assertClose, makeRnn, normals, padRows, randomizeWeights, rng, rowsOf, type Layout } from './rnn_helpers.js';

const TOL = 2e-5;
const layoutArb = fc.constantFrom<Layout>('pre', 'post', 'holes');

function merge(mode: MergeMode | null, a: number[], b: number[]): number[][] {
  switch (mode) {
    case 'concat':
      return [[...a, ...b]];
    case 'sum':
      return [a.map((v, k) => v + b[k]!)];
    case 'ave':
      return [a.map((v, k) => (v + b[k]!) / 2)];
    case 'mul':
      return [a.map((v, k) => v * b[k]!)];
    default:
      return [a, b];
  }
}

const bidiArb = fc.record({
  kind: fc.constantFrom(...KINDS),
  mergeMode: fc.constantFrom<MergeMode | null>('concat', 'sum', 'ave', 'mul', null),
  units: fc.integer({ min: 1, max: 3 }),
  features: fc.integer({ min: 1, max: 3 }),
  lengths: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }),
  extra: fc.integer({ min: 0, max: 3 }),
  layout: layoutArb,
  returnSequences: fc.boolean(),
  returnState: fc.boolean(),
  initialState: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

test('Bidirectional: padding and holes never change valid outputs, states or input gradients; masked steps are zeros', () => {
  fc.assert(
    fc.property(bidiArb, (s) => {
      const r = rng(s.seed);
      const t = Math.max(1, Math.max(...s.lengths) + s.extra);
      const inner = makeRnn(s.kind, { units: s.units, returnSequences: s.returnSequences, returnState: s.returnState });
      const layer = new Bidirectional({ layer: inner, mergeMode: s.mergeMode });
      tf.tidy(() => void layer.apply(tf.zeros([1, 1, s.features])));
      randomizeWeights(layer, s.seed);
      const ns = layer.forwardLayer.stateCount;
      const u = s.units;
      const rows = s.lengths.map((l) => Array.from({ length: l }, () => normals(r, s.features)));
      const b = rows.length;
      const { x, mask } = padRows(rows, t, s.layout, r, 7.5, s.features);
      const h0 = Array.from({ length: 2 * ns }, () => Array.from({ length: b }, () => (s.initialState ? normals(r, u) : new Array<number>(u).fill(0))));
      const nOut = s.mergeMode === null ? 2 : 1;
      const width = s.mergeMode === 'concat' ? 2 * u : u;
      try {
        tf.tidy(() => {
          const run = (xi: tf.Tensor, m: tf.Tensor | null, init: tf.Tensor[] | null) => {
            const y = layer.apply(xi, { ...(m ? { mask: m } : {}), ...(init ? { initialState: init } : {}) });
            const list = Array.isArray(y) ? y : [y];
            return { outs: list.slice(0, nOut), states: list.slice(nOut) };
          };
          const xt = tf.tensor3d(x, [b, t, s.features]);
          const mt = tf.tensor2d(mask, [b, t], 'bool');
          const h0t = h0.map((h) => tf.tensor2d(h, [b, u]));
          // Loss weights on valid positions only (input order), and on states.
          const wOut = Array.from({ length: nOut }, () => mask.map((m) => m.map((v) => (v ? normals(r, width) : new Array<number>(width).fill(0)))));
          const wLast = Array.from({ length: nOut }, () => Array.from({ length: b }, () => normals(r, width)));
          const wSt = Array.from({ length: 2 * ns }, () => Array.from({ length: b }, () => normals(r, u)));
          // Loss weights for all rows (row = null) or for row i alone (its valid steps only).
          const wOutFor = (k: number, i: number | null): tf.Tensor => {
            if (i === null) return tf.tensor(s.returnSequences ? wOut[k]! : wLast[k]!);
            return s.returnSequences ? tf.tensor3d([wOut[k]![i]!.filter((_, q) => mask[i]![q])]) : tf.tensor2d([wLast[k]![i]!]);
          };
          const wStFor = (k: number, i: number | null): tf.Tensor => tf.tensor2d(i === null ? wSt[k]! : [wSt[k]![i]!]);
          const loss = (p: ReturnType<typeof run>, i: number | null): tf.Scalar => {
            let acc: tf.Tensor = tf.scalar(0);
            p.outs.forEach((o, k) => (acc = tf.add(acc, tf.sum(tf.mul(o, wOutFor(k, i))))));
            p.states.forEach((st, k) => (acc = tf.add(acc, tf.sum(tf.mul(st, wStFor(k, i))))));
            return acc as tf.Scalar;
          };
          const padded = run(xt, mt, s.initialState ? h0t : null);
          for (const o of padded.outs) {
            if (s.returnSequences) assert.deepEqual(rowsOf(getMask(o)!), mask);
            else assert.equal(getMask(o), null);
          }
          for (const st of padded.states) assert.equal(getMask(st), null);
          assert.equal(padded.states.length, s.returnState ? 2 * ns : 0);
          const gPad = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => loss(run(xx, mt, s.initialState ? hh : null), null))(s.initialState ? [xt, ...h0t] : [xt]);
          const gx = gPad[0]!.arraySync() as number[][][];
          const outs = padded.outs.map((o) => o.arraySync() as number[][] | number[][][]);
          const states = padded.states.map((st) => st.arraySync() as number[][]);
          rows.forEach((row, i) => {
            const l = row.length;
            const what = `Bidirectional(${s.kind}, ${s.mergeMode}) row ${i} (length ${l}, ${s.layout}, T=${t})`;
            if (l === 0) {
              if (s.returnSequences) outs.forEach((o) => assert.ok((o as number[][][])[i]!.flat().every((v) => v === 0), `${what}: all zeros`));
              else merge(s.mergeMode, h0[0]![i]!, h0[ns]![i]!).forEach((want, k) => assertClose((outs[k] as number[][])[i], want, TOL, `${what} output ${k}`));
              if (s.returnState) states.forEach((st, k) => assertClose(st[i], h0[k]![i], TOL, `${what} state ${k}`));
              assert.ok(gx[i]!.flat().every((v) => v === 0), `${what}: zero input gradient`);
              return;
            }
            const xi = tf.tensor3d([row]);
            const init = h0.map((h) => tf.tensor2d([h[i]!]));
            const alone = run(xi, null, s.initialState ? init : null);
            const g = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => loss(run(xx, null, s.initialState ? hh : null), i))(s.initialState ? [xi, ...init] : [xi]);
            alone.outs.forEach((o, k) => {
              const want = (o.arraySync() as number[][] | number[][][])[0]!;
              const got = (outs[k] as number[][] | number[][][])[i]!;
              if (!s.returnSequences) return assertClose(got, want, TOL, `${what} output ${k}`);
              let j = 0;
              mask[i]!.forEach((valid, q) => {
                if (valid) assertClose((got as number[][])[q], (want as number[][])[j++], TOL, `${what} output ${k} step ${q}`);
                else assert.ok((got as number[][])[q]!.every((v) => v === 0), `${what} output ${k}: masked step ${q} must be exactly zero`);
              });
            });
            alone.states.forEach((st, k) => assertClose(states[k]![i], (st.arraySync() as number[][])[0], TOL, `${what} state ${k}`));
            const gRow = (g[0]!.arraySync() as number[][][])[0]!;
            let j = 0;
            mask[i]!.forEach((valid, q) => {
              if (valid) assertClose(gx[i]![q], gRow[j++], 1e-4, `${what} input gradient step ${q}`);
              else assert.ok(gx[i]![q]!.every((v) => v === 0), `${what}: masked step ${q} gets a zero gradient`);
            });
          });
        });
      } finally {
        layer.dispose();
      }
    }),
    { numRuns: 40 },
  );
});

/** Pads token rows (ids >= 1) with 0 into [B, T]. */
function padIds(rows: number[][], t: number, layout: Layout, r: () => number): number[][] {
  return padRows(rows.map((row) => row.map((v) => [v])), t, layout, r, 0).x.map((row) => row.map((v) => v[0]!));
}

/** Random id rows (ids 1-9) of the case's lengths, and the padded length. */
function randomIdRows(s: { lengths: number[]; extra: number }, r: () => number): { rows: number[][]; t: number } {
  return { rows: s.lengths.map((l) => Array.from({ length: l }, () => 1 + Math.floor(r() * 9))), t: Math.max(...s.lengths) + s.extra };
}

const stackArb = fc.record({
  lengths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
  extra: fc.integer({ min: 0, max: 4 }),
  layout: layoutArb,
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

test('stack Embedding -> LSTM(returnSequences) -> LSTM -> Dense: outputs and weight gradients are padding-invariant', () => {
  const ids = Input({ shape: [null], dtype: 'int32' });
  const emb = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
  const l1 = new LSTM({ units: 3, returnSequences: true });
  const l2 = new LSTM({ units: 2 });
  const dense = new Dense({ units: 2 });
  const model = new Model({ inputs: ids, outputs: dense.apply(l2.apply(l1.apply(emb.apply(ids)))) });
  randomizeWeights(model, 11);
  const vars = [...l1.weights, ...l2.weights, ...dense.weights].map((w) => w.variable);
  const wOut = [0.7, -1.3];
  fc.assert(
    fc.property(stackArb, (s) => {
      const r = rng(s.seed);
      const { rows, t } = randomIdRows(s, r);
      tf.tidy(() => {
        const x = tf.tensor2d(padIds(rows, t, s.layout, r), undefined, 'int32');
        const lossOf = (xx: tf.Tensor) => () => tf.sum(tf.mul(model.apply(xx) as tf.Tensor, tf.tensor1d(wOut))) as tf.Scalar;
        const out = (model.apply(x) as tf.Tensor).arraySync() as number[][];
        const gPad = tf.variableGrads(lossOf(x), vars).grads;
        const gSum = new Map<string, tf.Tensor>();
        rows.forEach((row, i) => {
          const xi = tf.tensor2d([row], undefined, 'int32');
          assertClose(out[i], (model.apply(xi) as tf.Tensor).arraySync(), TOL, `row ${i} (${s.layout}, T=${t})`);
          const g = tf.variableGrads(lossOf(xi), vars).grads;
          for (const [k, v] of Object.entries(g)) gSum.set(k, gSum.has(k) ? tf.add(gSum.get(k)!, v) : v);
        });
        for (const [k, v] of Object.entries(gPad)) assertClose(v.arraySync(), gSum.get(k)!.arraySync(), 1e-4, `gradient of ${k}`);
      });
    }),
    { numRuns: 25 },
  );
  model.dispose();
});

test('stack Masking -> Bidirectional(LSTM, sequences) -> Bidirectional(GRU) -> Dense: outputs and input gradients are padding-invariant', () => {
  const b1 = new Bidirectional({ layer: new LSTM({ units: 2, returnSequences: true }) });
  const b2 = new Bidirectional({ layer: new GRU({ units: 2 }), mergeMode: 'sum' });
  const dense = new Dense({ units: 1 });
  const inp = Input({ shape: [null, 2] });
  const model = new Model({ inputs: inp, outputs: dense.apply(b2.apply(b1.apply(new Masking({ maskValue: 0 }).apply(inp)) as SymbolicTensor) as SymbolicTensor) });
  // The same layers without Masking, for input gradients with an explicit mask
  // (tfjs has no gradient for the Any op inside Masking's mask).
  const inp2 = Input({ shape: [null, 2] });
  const explicit = new Model({ inputs: inp2, outputs: dense.apply(b2.apply(b1.apply(inp2) as SymbolicTensor) as SymbolicTensor) });
  randomizeWeights(model, 5);
  const fwd = `${b1.name}/${b1.forwardLayer.name}/lstm_cell`;
  assert.match(b1.forwardLayer.name, /^forward_lstm/);
  assert.deepEqual(model.weightPaths().slice(0, 3), [`${fwd}/kernel`, `${fwd}/recurrent_kernel`, `${fwd}/bias`]);
  fc.assert(
    fc.property(stackArb, (s) => {
      const r = rng(s.seed);
      const rows = s.lengths.map((l) => Array.from({ length: l }, () => normals(r, 2)));
      const t = Math.max(...s.lengths) + s.extra;
      tf.tidy(() => {
        const { x, mask } = padRows(rows, t, s.layout, r, 0);
        const xt = tf.tensor3d(x);
        const mt = tf.tensor2d(mask, undefined, 'bool');
        const out = (model.apply(xt) as tf.Tensor).arraySync() as number[][];
        const gx = tf.grad((xx: tf.Tensor) => tf.sum(explicit.apply(xx, { mask: mt }) as tf.Tensor))(xt).arraySync() as number[][][];
        rows.forEach((row, i) => {
          const xi = tf.tensor3d([row]);
          assertClose(out[i], (model.apply(xi) as tf.Tensor).arraySync(), TOL, `row ${i} (${s.layout}, T=${t})`);
          const gi = (tf.grad((xx: tf.Tensor) => tf.sum(explicit.apply(xx) as tf.Tensor))(xi).arraySync() as number[][][])[0]!;
          assertClose(gx[i]!.filter((_, q) => mask[i]![q]), gi, 1e-4, `row ${i} input gradient`);
          assert.ok(gx[i]!.filter((_, q) => !mask[i]![q]).flat().every((v) => v === 0), `row ${i}: padded steps get zero gradient`);
        });
      });
    }),
    { numRuns: 25 },
  );
  model.dispose();
});

test('stack Embedding -> LSTM(returnSequences) -> TimeDistributed(Dense): valid outputs are padding-invariant, the mask passes through', () => {
  const ids = Input({ shape: [null], dtype: 'int32' });
  const model = new Model({
    inputs: ids,
    outputs: new TimeDistributed({ layer: new Dense({ units: 2 }) }).apply(new LSTM({ units: 3, returnSequences: true }).apply(new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(ids))),
  });
  randomizeWeights(model, 17);
  fc.assert(
    fc.property(stackArb, (s) => {
      const r = rng(s.seed);
      const { rows, t } = randomIdRows(s, r);
      tf.tidy(() => {
        const padded = padIds(rows, t, s.layout, r);
        const y = model.apply(tf.tensor2d(padded, undefined, 'int32')) as tf.Tensor;
        assert.deepEqual(rowsOf(getMask(y)!), padded.map((row) => row.map((v) => v !== 0)));
        const out = y.arraySync() as number[][][];
        rows.forEach((row, i) => {
          const alone = (model.apply(tf.tensor2d([row], undefined, 'int32')) as tf.Tensor).arraySync() as number[][][];
          assertClose(out[i]!.filter((_, q) => padded[i]![q] !== 0), alone[0], TOL, `row ${i}`);
        });
      });
    }),
    { numRuns: 20 },
  );
  model.dispose();
});
