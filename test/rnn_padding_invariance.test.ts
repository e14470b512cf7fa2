// Padding invariance of SimpleRNN, LSTM and GRU, as a property: for random
// batches of random lengths, padded pre or post (or with holes) to random
// extra lengths, each row's valid outputs, final states and input gradients
// equal those of the row run alone without padding. Where Keras's own rule
// moves outputs (goBackwards returns processing order; zeroOutputForMask
// zeroes a masked last step), the expected sequence follows that rule, built
// from the unpadded row's outputs (test/rnn_helpers.ts, kerasSequence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf, LSTM, getMask } from '../src/index.js';
import { KINDS, makeRnn, type Kind, assertClose, kerasSequence, normals, padRows, randomizeWeights, rng, rowsOf, RNN_SETUP_ARBS, type RnnSetup } from './rnn_helpers.js';

interface Setup extends RnnSetup {
  kind: Kind;
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  kind: fc.constantFrom(...KINDS),
  ...RNN_SETUP_ARBS,
});

const TOL = 2e-5;

function checkSetup(s: Setup): void {
  const r = rng(s.seed);
  const t = Math.max(1, Math.max(...s.lengths) + s.extra);
  const layer = makeRnn(s.kind, { units: s.units, returnSequences: s.returnSequences, returnState: s.returnState, goBackwards: s.goBackwards, zeroOutputForMask: s.zeroOutputForMask });
  tf.tidy(() => void layer.apply(tf.zeros([1, 1, s.features])));
  randomizeWeights(layer, s.seed);
  const nStates = layer.stateCount;
  const u = s.units;
  const rows = s.lengths.map((l) => Array.from({ length: l }, () => normals(r, s.features)));
  const { x, mask } = padRows(rows, t, s.layout, r, 7.5, s.features);
  const b = rows.length;
  const h0 = Array.from({ length: nStates }, () => Array.from({ length: b }, () => (s.initialState ? normals(r, u) : new Array<number>(u).fill(0))));
  // Loss weights: per row, one per valid step (in processing order) and one per state.
  const wValid = rows.map((row) => row.map(() => normals(r, u)));
  const wState = Array.from({ length: nStates }, () => Array.from({ length: b }, () => normals(r, u)));

  try {
    tf.tidy(() => {
      const xt = tf.tensor3d(x, [b, t, s.features]);
      const mt = tf.tensor2d(mask, [b, t], 'bool');
      const h0t = h0.map((h) => tf.tensor2d(h, [b, u]));
      // Padded run: positions holding the first occurrence of a valid output get its weight.
      const wSeq: number[][][] = mask.map((m, i) => {
        const order = m.map((_, k) => k);
        if (s.goBackwards) order.reverse();
        let j = 0;
        return order.map((step) => (m[step] ? wValid[i]![j++]! : new Array<number>(u).fill(0)));
      });
      const wLast = mask.map((m, i) => {
        const lastStep = s.goBackwards ? 0 : t - 1;
        const l = rows[i]!.length;
        return l > 0 && (m[lastStep] || !s.zeroOutputForMask) ? wValid[i]![l - 1]! : new Array<number>(u).fill(0);
      });
      const lossOf = (out: tf.Tensor, states: tf.Tensor[], wOut: tf.Tensor, ws: tf.Tensor[]) =>
        states.reduce((acc, st, k) => tf.add(acc, tf.sum(tf.mul(st, ws[k]!))), tf.sum(tf.mul(out, wOut)));
      const run = (xi: tf.Tensor, m: tf.Tensor | null, init: tf.Tensor[] | null) => {
        const args = { ...(m ? { mask: m } : {}), ...(init ? { initialState: init } : {}) };
        const y = layer.apply(xi, args);
        const list = Array.isArray(y) ? y : [y];
        return { out: list[0]!, states: list.slice(1) };
      };
      const padded = run(xt, mt, s.initialState ? h0t : null);
      // Output mask: the input mask with returnSequences, else null; states carry none.
      const om = getMask(padded.out);
      if (s.returnSequences) assert.deepEqual(rowsOf(om!), mask);
      else assert.equal(om, null);
      for (const st of padded.states) assert.equal(getMask(st), null);
      assert.equal(padded.states.length, s.returnState ? nStates : 0);

      const wOutPad = tf.tensor(s.returnSequences ? wSeq : wLast);
      const wsT = wState.map((w) => tf.tensor2d(w, [b, u]));
      const gradPad = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => {
        const p = run(xx, mt, s.initialState ? hh : null);
        return lossOf(p.out, p.states, wOutPad, wsT);
      })(s.initialState ? [xt, ...h0t] : [xt]);
      const gx = gradPad[0]!.arraySync() as number[][][];
      const gh = gradPad.slice(1).map((g) => g.arraySync() as number[][]);
      const outPad = padded.out.arraySync() as number[][] | number[][][];
      const statesPad = padded.states.map((st) => st.arraySync() as number[][]);

      rows.forEach((row, i) => {
        const l = row.length;
        let validOuts: number[][] = [];
        let rowStates: number[][] = h0.map((h) => h[i]!);
        let rowGx: number[][] = [];
        let rowGh: number[][] = wState.map((w) => (s.returnState ? w[i]! : new Array<number>(u).fill(0)));
        if (l > 0) {
          const xi = tf.tensor3d([row], [1, l, s.features]);
          const init = h0.map((h) => tf.tensor2d([h[i]!], [1, u]));
          const seqLayerOut = run(xi, null, s.initialState ? init : null);
          // Unpadded run: with returnSequences its outputs are the valid outputs.
          if (s.returnSequences) validOuts = (seqLayerOut.out.arraySync() as number[][][])[0]!;
          if (s.returnState) rowStates = seqLayerOut.states.map((st) => (st.arraySync() as number[][])[0]!);
          const wOutRow = tf.tensor(s.returnSequences ? [wValid[i]!] : [wValid[i]![l - 1]!]);
          const wsRow = wState.map((w) => tf.tensor2d([w[i]!], [1, u]));
          const useLast = s.returnSequences || wLast[i]!.some((v) => v !== 0);
          const g = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => {
            const p = run(xx, null, s.initialState ? hh : null);
            return lossOf(p.out, p.states, useLast ? wOutRow : tf.zerosLike(wOutRow), wsRow);
          })(s.initialState ? [xi, ...init] : [xi]);
          rowGx = (g[0]!.arraySync() as number[][][])[0]!;
          rowGh = g.slice(1).map((gg) => (gg.arraySync() as number[][])[0]!);
          if (!s.returnSequences) {
            const last = (seqLayerOut.out.arraySync() as number[][])[0]!;
            validOuts = new Array<number[]>(l).fill(last); // only the last one is compared
            validOuts[l - 1] = last;
          }
        }
        const what = `${s.kind} row ${i} (length ${l}, ${s.layout}, T=${t})`;
        if (s.returnSequences) {
          const want = kerasSequence(mask[i]!, validOuts, h0[0]![i]!, s.goBackwards, s.zeroOutputForMask);
          assertClose((outPad as number[][][])[i], want, TOL, `${what} output sequence`);
        } else {
          const lastStep = s.goBackwards ? 0 : t - 1;
          const want =
            s.zeroOutputForMask && !mask[i]![lastStep] ? new Array<number>(u).fill(0) : l > 0 ? validOuts[l - 1]! : h0[0]![i]!;
          assertClose((outPad as number[][])[i], want, TOL, `${what} last output`);
        }
        if (s.returnState) statesPad.forEach((st, k) => assertClose(st[i], rowStates[k], TOL, `${what} state ${k}`));
        // Input gradients: valid steps as in the unpadded run, masked steps exactly zero.
        let j = 0;
        mask[i]!.forEach((valid, k) => {
          if (valid) assertClose(gx[i]![k], rowGx[j++], 1e-4, `${what} input gradient at step ${k}`);
          else assert.deepEqual(gx[i]![k], new Array<number>(s.features).fill(0), `${what}: masked step ${k} must get a zero gradient`);
        });
        if (s.initialState) gh.forEach((g, k) => assertClose(g[i], rowGh[k], 1e-4, `${what} initial-state ${k} gradient`));
      });
    });
  } finally {
    layer.dispose();
  }
}

test('SimpleRNN, LSTM, GRU: padding, holes and initial states never change valid outputs, states or gradients', () => {
  fc.assert(
    fc.property(setupArb, (s) => checkSetup(s)),
    { numRuns: 60 },
  );
});

test('goBackwards on post padding: Keras returns processing order, so the mask does not mark the valid outputs', () => {
  // Documented caveat (docs/rnn.md): output[:, k] belongs to input step T-1-k,
  // but the output mask is the input mask, so the valid values sit under False.
  const layer = new LSTM({ units: 2, returnSequences: true, goBackwards: true });
  tf.tidy(() => void layer.apply(tf.zeros([1, 1, 1])));
  randomizeWeights(layer, 3);
  tf.tidy(() => {
    const x = tf.tensor3d([[[1], [2], [0]]]);
    const y = layer.apply(x, { mask: tf.tensor2d([[true, true, false]], undefined, 'bool') }) as tf.Tensor;
    const rowsY = y.arraySync() as number[][][];
    assert.deepEqual(rowsY[0]![0], [0, 0], 'the padded step is processed first and outputs zeros');
    assert.deepEqual(rowsOf(getMask(y)!), [[true, true, false]], 'yet the mask marks position 0 as valid');
    const alone = layer.apply(tf.tensor3d([[[1], [2]]])) as tf.Tensor;
    assertClose(rowsY[0]!.slice(1), (alone.arraySync() as number[][][])[0], TOL, 'valid outputs at positions 1..2');
  });
  layer.dispose();
});
