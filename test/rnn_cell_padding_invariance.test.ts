// Padding invariance of RNN(cell), as a property: RNN over each built-in
// cell, over stacks of cells (built-in, custom, mixed) and over custom cells
// (one whose output is its state, one whose output is not). For random
// batches of random lengths, padded pre or post (or with holes) to random
// extra lengths, each row's valid outputs, final states, output mask, input
// gradients and initial-state gradients equal those of the row run alone
// without padding. Where Keras's rule moves outputs (goBackwards returns
// processing order; zeroOutputForMask zeroes a masked last step), the
// expected sequence follows that rule (test/rnn_helpers.ts, kerasSequence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf, getMask, RNN, LSTMCell, GRUCell, SimpleRNNCell, StackedRNNCells, type AbstractRNNCell } from '../src/index.js';
import { MinimalRNNCell, PeepholeLSTMCell, ProjectedRNNCell } from '../examples/custom_cells.js';
import { assertClose, kerasSequence, normals, padRows, randomizeWeights, rng, rowsOf, RNN_SETUP_ARBS, type RnnSetup } from './rnn_helpers.js';

const CELLS = {
  simple: (u: number): AbstractRNNCell => new SimpleRNNCell({ units: u }),
  lstm: (u: number): AbstractRNNCell => new LSTMCell({ units: u }),
  gru: (u: number): AbstractRNNCell => new GRUCell({ units: u }),
  gru_reset_before: (u: number): AbstractRNNCell => new GRUCell({ units: u, resetAfter: false }),
  stacked: (u: number): AbstractRNNCell => new StackedRNNCells({ cells: [new SimpleRNNCell({ units: u + 1 }), new LSTMCell({ units: u }), new GRUCell({ units: u })] }),
  minimal: (u: number): AbstractRNNCell => new MinimalRNNCell({ units: u }),
  peephole: (u: number): AbstractRNNCell => new PeepholeLSTMCell({ units: u }),
  projected: (u: number): AbstractRNNCell => new ProjectedRNNCell({ units: u + 1, outputUnits: u }),
  stacked_custom: (u: number): AbstractRNNCell => new StackedRNNCells({ cells: [new PeepholeLSTMCell({ units: u + 1 }), new GRUCell({ units: u }), new MinimalRNNCell({ units: u })] }),
};
type CellKind = keyof typeof CELLS;

interface Setup extends RnnSetup {
  cell: CellKind;
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  cell: fc.constantFrom(...(Object.keys(CELLS) as CellKind[])),
  ...RNN_SETUP_ARBS,
});

const TOL = 2e-5;
const zeros = (n: number) => new Array<number>(n).fill(0);

function checkSetup(s: Setup): void {
  const r = rng(s.seed);
  const t = Math.max(1, Math.max(...s.lengths) + s.extra);
  const layer = new RNN({ cell: CELLS[s.cell](s.units), returnSequences: s.returnSequences, returnState: s.returnState, goBackwards: s.goBackwards, zeroOutputForMask: s.zeroOutputForMask });
  tf.tidy(() => void layer.apply(tf.zeros([1, 1, s.features])));
  randomizeWeights(layer, s.seed, 0.4);
  const sizes = layer.stateSizes;
  const u = layer.outputSize;
  const b = s.lengths.length;
  const rows = s.lengths.map((l) => Array.from({ length: l }, () => normals(r, s.features)));
  const { x, mask } = padRows(rows, t, s.layout, r, 7.5, s.features);
  const h0 = sizes.map((n) => Array.from({ length: b }, () => (s.initialState ? normals(r, n, 0.5) : zeros(n))));
  // The output before the first valid step: the last cell's first initial state when it has the output's size.
  const top = layer.cell instanceof StackedRNNCells ? layer.cell.cells[layer.cell.cells.length - 1]! : layer.cell;
  const count = (v: unknown): number => (Array.isArray(v) ? v.reduce((n: number, w) => n + count(w), 0) : 1);
  const lastFirst = sizes.length - count(top.stateSize);
  const h0Out = (i: number) => (sizes[lastFirst] === u ? h0[lastFirst]![i]! : zeros(u));
  const wValid = rows.map((row) => row.map(() => normals(r, u)));
  const wState = sizes.map((n) => Array.from({ length: b }, () => normals(r, n)));
  try {
    tf.tidy(() => {
      const run = (xi: tf.Tensor, m: tf.Tensor | null, init: tf.Tensor[] | null) => {
        const y = layer.apply(xi, { ...(m ? { mask: m } : {}), ...(init ? { initialState: init } : {}) });
        const list = Array.isArray(y) ? y : [y];
        return { out: list[0]!, states: list.slice(1) };
      };
      const lossOf = (out: tf.Tensor, states: tf.Tensor[], wOut: tf.Tensor, ws: tf.Tensor[]) => states.reduce((acc, st, k) => tf.add(acc, tf.sum(tf.mul(st, ws[k]!))), tf.sum(tf.mul(out, wOut)));
      const xt = tf.tensor3d(x, [b, t, s.features]);
      const mt = tf.tensor2d(mask, [b, t], 'bool');
      const h0t = h0.map((h, k) => tf.tensor2d(h, [b, sizes[k]!]));
      const padded = run(xt, mt, s.initialState ? h0t : null);
      const om = getMask(padded.out);
      if (s.returnSequences) assert.deepEqual(rowsOf(om!), mask);
      else assert.equal(om, null);
      for (const st of padded.states) assert.equal(getMask(st), null);
      assert.equal(padded.states.length, s.returnState ? sizes.length : 0);
      // Loss weights: each valid output in processing order (or the last output), and each state.
      const wSeq = mask.map((m, i) => {
        const order = m.map((_, k) => k);
        if (s.goBackwards) order.reverse();
        let j = 0;
        return order.map((step) => (m[step] ? wValid[i]![j++]! : zeros(u)));
      });
      const wLast = mask.map((m, i) => {
        const l = rows[i]!.length;
        return l > 0 && (m[s.goBackwards ? 0 : t - 1] || !s.zeroOutputForMask) ? wValid[i]![l - 1]! : zeros(u);
      });
      const wOutPad = tf.tensor(s.returnSequences ? wSeq : wLast);
      const wsT = wState.map((w, k) => tf.tensor2d(w, [b, sizes[k]!]));
      const gradPad = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => {
        const p = run(xx, mt, s.initialState ? hh : null);
        return lossOf(p.out, p.states, wOutPad, s.returnState ? wsT : []);
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
        let rowGh: number[][] = wState.map((w, k) => (s.returnState ? w[i]! : zeros(sizes[k]!)));
        if (l > 0) {
          const xi = tf.tensor3d([row], [1, l, s.features]);
          const init = h0.map((h, k) => tf.tensor2d([h[i]!], [1, sizes[k]!]));
          const alone = run(xi, null, s.initialState ? init : null);
          const seq = alone.out.arraySync() as number[][][] | number[][];
          validOuts = s.returnSequences ? (seq as number[][][])[0]! : new Array<number[]>(l).fill((seq as number[][])[0]!);
          rowStates = s.returnState ? alone.states.map((st) => (st.arraySync() as number[][])[0]!) : rowStates;
          const wOutRow = tf.tensor(s.returnSequences ? [wValid[i]!] : [wLast[i]!]);
          const wsRow = wState.map((w, k) => tf.tensor2d([w[i]!], [1, sizes[k]!]));
          const g = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => {
            const p = run(xx, null, s.initialState ? hh : null);
            return lossOf(p.out, p.states, wOutRow, s.returnState ? wsRow : []);
          })(s.initialState ? [xi, ...init] : [xi]);
          rowGx = (g[0]!.arraySync() as number[][][])[0]!;
          rowGh = g.slice(1).map((gg) => (gg.arraySync() as number[][])[0]!);
        }
        const what = `${s.cell} row ${i} (length ${l}, ${s.layout}, T=${t})`;
        if (s.returnSequences) {
          assertClose((outPad as number[][][])[i], kerasSequence(mask[i]!, validOuts, h0Out(i), s.goBackwards, s.zeroOutputForMask), TOL, `${what} output sequence`);
        } else {
          const want = s.zeroOutputForMask && !mask[i]![s.goBackwards ? 0 : t - 1] ? zeros(u) : l > 0 ? validOuts[l - 1]! : h0Out(i);
          assertClose((outPad as number[][])[i], want, TOL, `${what} last output`);
        }
        if (s.returnState) statesPad.forEach((st, k) => assertClose(st[i], rowStates[k], TOL, `${what} state ${k}`));
        let j = 0;
        mask[i]!.forEach((valid, k) => {
          if (valid) assertClose(gx[i]![k], rowGx[j++], 1e-4, `${what} input gradient at step ${k}`);
          else assert.deepEqual(gx[i]![k], zeros(s.features), `${what}: masked step ${k} must get a zero gradient`);
        });
        if (s.initialState && l > 0) gh.forEach((g, k) => assertClose(g[i], rowGh[k], 1e-4, `${what} initial-state ${k} gradient`));
      });
    });
  } finally {
    layer.dispose();
  }
}

test('RNN over built-in, stacked and custom cells: padding, holes and initial states never change valid outputs, states, masks or gradients', () => {
  fc.assert(
    fc.property(setupArb, (s) => checkSetup(s)),
    { numRuns: Number(process.env.CELL_RUNS ?? 80) },
  );
});
