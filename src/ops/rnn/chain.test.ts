// The cell-by-cell stack (rnnChain with fused stages) against Keras's own
// StackedRNNCells loop: every cell at each step, one mask for all cells
// (rnnStepLoop over a step that runs the cells in turn). Same outputs, final
// states and input and initial-state gradients for every option and mask
// layout, and the step loop's Keras rules on a hand-checked case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { rnnSequence, type RnnCellKind } from './index.js';
import { rnnChain, type FusedStage } from './chain.js';
import { rnnStepLoop } from './step_loop.js';
import { GATES } from './types.js';
import { prng, randn, randomMask, type MaskLayout } from '../../../test/rnn_args.js';


function stage(r: () => number, kind: RnnCellKind, f: number, u: number, b: number, init: boolean): FusedStage {
  const g = GATES[kind];
  const w = (n: number, shape: number[]) => tf.tensor(randn(r, n, 0.5), shape);
  const n = kind === 'lstm' ? 2 : 1;
  return {
    fused: {
      kind,
      kernel: w(f * g * u, [f, g * u]),
      recurrentKernel: w(u * g * u, [u, g * u]),
      bias: kind === 'gru' ? w(6 * u, [2, 3 * u]) : w(g * u, [g * u]),
      resetAfter: true,
      initialStates: Array.from({ length: n }, () => (init ? w(b * u, [b, u]) : tf.zeros([b, u]))),
    },
  };
}

/** One step of the whole stack, as Keras's StackedRNNCells.call. */
function stackStep(stages: FusedStage[]) {
  return (x: tf.Tensor2D, states: tf.Tensor[]): [tf.Tensor, tf.Tensor[]] => {
    let input: tf.Tensor = x;
    let k = 0;
    const next: tf.Tensor[] = [];
    for (const s of stages) {
      const n = s.fused.initialStates.length;
      const r = rnnSequence({ ...s.fused, initialStates: states.slice(k, k + n), inputs: tf.expandDims(input, 1), mask: null, goBackwards: false, zeroOutputForMask: false, returnSequences: false, implementation: 'reference' });
      k += n;
      input = r.output;
      next.push(...r.states);
    }
    return [input, next];
  };
}

test('a stack run cell by cell (fused) equals Keras\'s step-by-step stack: outputs, states and gradients', () => {
  const kinds: RnnCellKind[][] = [['lstm', 'gru'], ['simple_rnn', 'lstm', 'gru'], ['gru', 'simple_rnn']];
  const layouts: MaskLayout[] = ['none', 'post', 'pre', 'holes'];
  let seed = 1;
  for (const ks of kinds) {
    for (const layout of layouts) {
      for (const [goBackwards, zeroOutputForMask, returnSequences, init] of [[false, false, true, false], [true, false, true, true], [false, true, false, false], [true, true, true, false], [false, false, false, true]]) {
        tf.tidy(() => {
          const r = prng(seed++);
          const [b, t, f] = [3, 6, 2];
          const sizes = ks.map((_, i) => 2 + (i % 2));
          const stages = ks.map((k, i) => stage(r, k, i === 0 ? f : sizes[i - 1]!, sizes[i]!, b, init!));
          const x = tf.tensor3d(randn(r, b * t * f), [b, t, f]);
          const mask = layout === 'none' ? null : tf.tensor2d(randomMask(r, b, t, layout), [b, t], 'bool');
          const h0 = stages.flatMap((s) => s.fused.initialStates);
          const opts = { mask, goBackwards: goBackwards!, zeroOutputForMask: zeroOutputForMask!, returnSequences: returnSequences! };
          const weights = tf.tensor(randn(r, b * (returnSequences ? t : 1) * sizes[sizes.length - 1]!), returnSequences ? [b, t, sizes[sizes.length - 1]!] : [b, sizes[sizes.length - 1]!]);
          const loss = (y: tf.Tensor, st: tf.Tensor[]) => tf.add(tf.sum(tf.mul(y, weights)), tf.addN(st.map((s, i) => tf.mul(tf.sum(s), i + 1))));
          const chain = (xx: tf.Tensor, hh: tf.Tensor[]) => {
            let k = 0;
            const st = stages.map((s) => ({ fused: { ...s.fused, initialStates: hh.slice(k, (k += s.fused.initialStates.length)) } }));
            return rnnChain({ inputs: xx as tf.Tensor3D, ...opts, stages: st });
          };
          const loop = (xx: tf.Tensor, hh: tf.Tensor[]) => rnnStepLoop({ step: stackStep(stages), inputs: xx as tf.Tensor3D, ...opts, initialStates: hh, outputSize: sizes[sizes.length - 1]!, outputStateIndex: h0.length - stages[stages.length - 1]!.fused.initialStates.length, where: 'stack' });
          const a = chain(x, h0);
          const want = loop(x, h0);
          const what = `${ks.join('+')} ${layout} back=${goBackwards} zero=${zeroOutputForMask} seq=${returnSequences} init=${init}`;
          const close = (p: tf.Tensor, q: tf.Tensor, w: string, tol = 2e-5) => {
            const d = tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]!;
            assert.ok(d <= tol, `${what}: ${w} differs by ${d}`);
          };
          close(a.output, want.output, 'output');
          a.states.flat().forEach((s, i) => close(s, want.states[i]!, `state ${i}`));
          const ga = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => {
            const c = chain(xx, hh);
            return loss(c.output, c.states.flat());
          })([x, ...h0]);
          const gw = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => {
            const c = loop(xx, hh);
            return loss(c.output, c.states);
          })([x, ...h0]);
          ga.forEach((g, i) => close(g, gw[i]!, i === 0 ? 'input gradient' : `initial-state ${i - 1} gradient`, 1e-4));
        });
      }
    }
  }
});

test('the step loop: masked steps carry the states and repeat the previous output; all-masked steps skip the cell', () => {
  // Output = 2h (not the state), state h = x + h. Row: [m, 1, m, 2, m], h0 = 3.
  let calls = 0;
  const step = (x: tf.Tensor2D, [h]: tf.Tensor[]): [tf.Tensor, tf.Tensor[]] => {
    calls++;
    const h2 = tf.add(x, h!);
    return [tf.mul(h2, 2), [h2]];
  };
  tf.tidy(() => {
    const args = {
      step,
      inputs: tf.tensor3d([[[9], [1], [9], [2], [9]]]),
      mask: tf.tensor2d([[false, true, false, true, false]], [1, 5], 'bool'),
      initialStates: [tf.tensor2d([[3]])],
      goBackwards: false,
      zeroOutputForMask: false,
      returnSequences: true,
      outputSize: 1,
      where: 'test cell',
    };
    const r = rnnStepLoop(args);
    // Before the first valid step the previous output is h0 (it has the output's size).
    assert.deepEqual(Array.from(r.output.dataSync()), [3, 8, 8, 12, 12]);
    assert.deepEqual(Array.from(r.states[0]!.dataSync()), [6]);
    assert.equal(calls, 2, 'the cell runs at valid steps only (a step with every row masked is skipped)');
    const z = rnnStepLoop({ ...args, zeroOutputForMask: true });
    assert.deepEqual(Array.from(z.output.dataSync()), [0, 8, 0, 12, 0]);
    const back = rnnStepLoop({ ...args, goBackwards: true, returnSequences: false });
    assert.deepEqual(Array.from(back.output.dataSync()), [12], 'the last output repeats the last valid one');
  });
});

test('the step loop checks what the cell returns', () => {
  tf.tidy(() => {
    const base = { inputs: tf.ones([2, 3, 1]) as tf.Tensor3D, mask: null, initialStates: [tf.zeros([2, 2])], goBackwards: false, zeroOutputForMask: false, returnSequences: false, outputSize: 2, where: "MyCell 'my_cell'" };
    const bad = (step: unknown, word: string, code: string) =>
      assert.throws(() => rnnStepLoop({ ...base, step: step as never }), (e: Error & { code?: string }) => e.code === code && e.message.includes(word) && e.message.includes("MyCell 'my_cell'"));
    bad(() => tf.zeros([2, 2]), '[output, newStates]', 'INVALID_CONFIG');
    bad(() => [tf.zeros([2, 2]), [tf.zeros([2, 2]), tf.zeros([2, 2])]], '1 new state(s)', 'INVALID_CONFIG');
    bad(() => [tf.zeros([2, 3]), [tf.zeros([2, 2])]], 'step output must have shape [2, 2]', 'INPUT_SHAPE_MISMATCH');
    bad(() => [tf.zeros([2, 2]), tf.zeros([2, 5])], 'new state 0 must have shape [2, 2]', 'INPUT_SHAPE_MISMATCH');
  });
});
