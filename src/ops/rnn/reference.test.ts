// The reference implementation: Keras rules on hand-checkable cases, and its
// tfjs gradients against central finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { MasqueError } from '../../errors.js';
import { rnnSequence, type RnnSequenceArgs } from './index.js';
import { disposeArgs, prng, randn, randomRnnArgs } from '../../../test/rnn_args.js';

const ref = (a: RnnSequenceArgs) => rnnSequence({ ...a, implementation: 'reference' });

test('masked steps carry the state; leading masked steps repeat a non-zero h0 (Keras numpy backend, unroll=False)', () => {
  // SimpleRNN, linear, U = 1: h = x + 0.5 h. Row: [m, 1, m, 2, m] with h0 = 3.
  const args: RnnSequenceArgs = {
    kind: 'simple_rnn',
    inputs: tf.tensor3d([[[9], [1], [9], [2], [9]]]),
    kernel: tf.tensor2d([[1]]),
    recurrentKernel: tf.tensor2d([[0.5]]),
    bias: null,
    activation: 'linear',
    mask: tf.tensor2d([[false, true, false, true, false]], [1, 5], 'bool'),
    initialStates: [tf.tensor2d([[3]])],
    goBackwards: false,
    zeroOutputForMask: false,
    returnSequences: true,
  };
  const fwd = ref(args);
  assert.deepEqual(Array.from(fwd.output.dataSync()), [3, 2.5, 2.5, 3.25, 3.25]);
  assert.deepEqual(Array.from(fwd.states[0]!.dataSync()), [3.25]);
  const zero = ref({ ...args, zeroOutputForMask: true });
  assert.deepEqual(Array.from(zero.output.dataSync()), [0, 2.5, 0, 3.25, 0]);
  const last = ref({ ...args, zeroOutputForMask: true, returnSequences: false });
  assert.deepEqual(Array.from(last.output.dataSync()), [0], 'the last output is the last element of the sequence');
  // goBackwards: processing order t = 4..0, returned in that order.
  const back = ref({ ...args, goBackwards: true });
  assert.deepEqual(Array.from(back.output.dataSync()), [3, 3.5, 3.5, 2.75, 2.75]);
  tf.dispose([fwd, zero, last, back] as never);
  disposeArgs(args);
});

test('argument errors name the argument and the expected shape', () => {
  const a = randomRnnArgs({ kind: 'lstm', b: 2, t: 3, f: 2, u: 2, layout: 'post', seed: 1 });
  const full = { ...a, goBackwards: false, zeroOutputForMask: false, returnSequences: false };
  const check = (over: Partial<RnnSequenceArgs>, code: string, word: string) =>
    assert.throws(() => rnnSequence({ ...full, ...over }), (e: unknown) => e instanceof MasqueError && e.code === code && e.message.includes(word));
  check({ initialStates: [a.initialStates[0]!] }, 'INVALID_ARGUMENT', 'h0, c0');
  check({ kernel: tf.zeros([3, 8]) as tf.Tensor2D }, 'INPUT_SHAPE_MISMATCH', 'kernel');
  check({ mask: tf.ones([2, 4], 'bool') as tf.Tensor2D }, 'MASK_SHAPE_MISMATCH', '[2, 3]');
  check({ bias: tf.zeros([3]) }, 'INPUT_SHAPE_MISMATCH', 'bias');
  check({ kind: 'gru' }, 'INPUT_SHAPE_MISMATCH', 'recurrentKernel');
  check({ activation: 'nope', implementation: 'reference' }, 'UNKNOWN_NAME', 'nope');
  disposeArgs(a);
});

/** Central finite differences of a scalar loss over every entry of `params` (float32, step 1e-2). */
function numericGrads(loss: (p: tf.Tensor[]) => tf.Scalar, params: tf.Tensor[]): Float32Array[] {
  const h = 1e-2;
  return params.map((p, pi) => {
    const base = p.dataSync().slice();
    const g = new Float32Array(base.length);
    for (let k = 0; k < base.length; k++) {
      const at = (d: number) => {
        const v = base.slice();
        v[k] = base[k]! + d;
        const moved = tf.tensor(v, p.shape);
        const ps = params.map((q, qi) => (qi === pi ? moved : q));
        const l = tf.tidy(() => loss(ps).dataSync()[0]!);
        moved.dispose();
        return l;
      };
      g[k] = (at(h) - at(-h)) / (2 * h);
    }
    return g;
  });
}

const FD_CASES = [
  { kind: 'lstm', layout: 'holes', goBackwards: true, zeroOutputForMask: false, returnSequences: true },
  { kind: 'lstm', layout: 'post', goBackwards: false, zeroOutputForMask: true, returnSequences: false, rdm: true },
  { kind: 'gru', layout: 'pre', goBackwards: false, zeroOutputForMask: true, returnSequences: true, resetAfter: true },
  { kind: 'gru', layout: 'holes', goBackwards: true, zeroOutputForMask: false, returnSequences: false, resetAfter: false, rdm: true },
  { kind: 'simple_rnn', layout: 'post', goBackwards: false, zeroOutputForMask: false, returnSequences: true },
] as const;

for (const c of FD_CASES) {
  test(`reference gradients match central finite differences: ${JSON.stringify(c)}`, () => {
    const b = 2, t = 4, f = 2, u = 2;
    const a = randomRnnArgs({ kind: c.kind, b, t, f, u, layout: c.layout, seed: 7, nonZeroInitial: true, resetAfter: 'resetAfter' in c ? c.resetAfter : true });
    const r = prng(3);
    const rdm = 'rdm' in c ? tf.tensor2d(randn(r, b * u, 1), [b, u]) : null;
    const outW = tf.tensor(randn(r, b * (c.returnSequences ? t : 1) * u), c.returnSequences ? [b, t, u] : [b, u]);
    const stateW = a.initialStates.map(() => tf.tensor2d(randn(r, b * u), [b, u]));
    const params = [a.inputs, a.kernel, a.recurrentKernel, a.bias!, ...a.initialStates];
    const loss = (p: tf.Tensor[]) => {
      const res = ref({
        ...a, ...c, inputs: p[0] as tf.Tensor3D, kernel: p[1] as tf.Tensor2D, recurrentKernel: p[2] as tf.Tensor2D, bias: p[3]!,
        initialStates: p.slice(4) as tf.Tensor2D[], recurrentDropoutMask: rdm,
      });
      return tf.addN([tf.sum(tf.mul(res.output, outW)), ...res.states.map((s, i) => tf.sum(tf.mul(s, stateW[i]!)))]) as tf.Scalar;
    };
    const analytic = tf.grads((...p: tf.Tensor[]) => loss(p))(params);
    const numeric = numericGrads(loss, params);
    const names = ['inputs', 'kernel', 'recurrentKernel', 'bias', 'h0', 'c0'];
    analytic.forEach((g, i) => {
      const got = g.dataSync();
      for (let k = 0; k < got.length; k++) {
        const d = Math.abs(got[k]! - numeric[i]![k]!);
        assert.ok(d <= 3e-3 * Math.max(1, Math.abs(numeric[i]![k]!)), `d ${names[i]}[${k}]: autodiff ${got[k]}, finite difference ${numeric[i]![k]}`);
      }
    });
    // Inputs at masked steps get exactly zero gradient.
    const m = a.mask!.dataSync();
    const gx = analytic[0]!.dataSync();
    for (let k = 0; k < b * t; k++) if (!m[k]) for (let j = 0; j < f; j++) assert.equal(gx[k * f + j], 0, `d inputs at masked step ${k}`);
    tf.dispose([...analytic, outW, ...stateW]);
    rdm?.dispose();
    disposeArgs(a);
  });
}
