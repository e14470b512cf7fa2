// The fused WebAssembly kernel against the reference: outputs, final states
// and every gradient, on random shapes, masks and options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { fusedUnsupportedReason, rnnSequence, type RnnCellKind, type RnnSequenceArgs } from './index.js';
import { rnnKernel, setRelaxedSimd } from './kernel.js';
import { FUSED_ACTIVATIONS } from './types.js';
import { activationAccuracy, disposeArgs, mismatch, prng, randn, randomRnnArgs, runWithGrads, type MaskLayout } from '../../../test/rnn_args.js';

// This file compares the kernel with tfjs's ops value by value at 1e-5,
// also with unbounded activations that amplify float32 rounding. The plain
// build rounds its products as tfjs's ops do; the relaxed build (fused
// multiply-adds, the default where the engine has relaxed SIMD) rounds
// differently, and is compared with the same reference, relative to each
// tensor's scale, in test/relaxed_simd.test.ts (both builds and tfjs's ops
// are within 3e-6 of scale of a float64 run there: docs/rnn.md).
setRelaxedSimd(false);

const TOL = 1e-5;
/** Extra absolute tolerance per unit of a tensor's largest value (gradients are long float32 sums). */
const SCALE_TOL = 1e-6;

const NAMES = ['output', 'state 0', 'state 1'];

function compare(a: RnnSequenceArgs, what: string, seed: number): void {
  const ref = runWithGrads({ ...a, implementation: 'reference' }, seed);
  const fused = runWithGrads({ ...a, implementation: 'fused' }, seed);
  const nStates = a.kind === 'lstm' ? 2 : 1;
  const names = [...NAMES.slice(0, 1 + nStates), 'loss', 'd inputs', 'd kernel', 'd recurrentKernel', ...(a.bias ? ['d bias'] : []), 'd h0', 'd c0'];
  assert.equal(fused.length, ref.length);
  ref.forEach((want, i) => {
    const msg = mismatch(fused[i]!, want, TOL, `${what}: ${names[i]}`, SCALE_TOL);
    assert.equal(msg, null, msg ?? '');
  });
}

test('the kernel loads and is chosen by default on this backend', () => {
  assert.notEqual(rnnKernel(), null);
  assert.equal(fusedUnsupportedReason({ kind: 'lstm', activation: 'tanh', recurrentActivation: 'sigmoid' }), null);
  assert.match(String(fusedUnsupportedReason({ kind: 'gru', activation: 'gelu', recurrentActivation: 'sigmoid' })), /gelu/);
  assert.match(String(fusedUnsupportedReason({ kind: 'lstm', activation: 'tanh', recurrentActivation: 'hard_sigmoid' })), /hard_sigmoid/);
});

test('kernel activations are accurate to 4e-7 over [-20, 20]', () => {
  const k = rnnKernel()!;
  const n = 4000;
  const xs = Float32Array.from({ length: n }, (_, i) => -20 + (40 * i) / n);
  const base = (k.heapBase() + 15) & ~15;
  const need = base + 8 * n - k.memory.buffer.byteLength;
  if (need > 0) k.memory.grow(Math.ceil(need / 65536));
  const refs: Record<number, (x: number) => number> = { 0: (x) => x, 1: (x) => Math.max(x, 0), 2: (x) => 1 / (1 + Math.exp(-x)), 3: Math.tanh };
  for (const [id, fn] of Object.entries(refs)) {
    new Float32Array(k.memory.buffer, base, n).set(xs);
    k.applyActivation(Number(id), base, base + 4 * n, n);
    const got = new Float32Array(k.memory.buffer, base + 4 * n, n);
    for (let i = 0; i < n; i++) {
      const want = fn(xs[i]!);
      assert.ok(Math.abs(got[i]! - want) <= 4e-7 * Math.max(1, Math.abs(want)), `activation ${id} at ${xs[i]}: ${got[i]} vs ${want}`);
    }
  }
});

test('kernel tanh, sigmoid and exp are within 2 ulp of float64 and unbiased (no drift in long recurrences)', () => {
  // A bias of about 1 ulp (the earlier rational tanh read low near 0) adds up over the steps of
  // an LSTM or GRU: fuzz cases ended 1e-5 from float64, where Keras's float32 is within 1e-6.
  // (The relaxed-SIMD build is held to the same bounds in test/relaxed_simd.test.ts.)
  const r = activationAccuracy(rnnKernel()!);
  for (const [name, a] of Object.entries(r.errors)) {
    assert.ok(a.worst <= 2, `${name}: ${a.worst.toFixed(2)} ulp`);
    assert.ok(Math.abs(a.meanSigned) <= 0.1, `${name}: mean signed error ${a.meanSigned.toFixed(3)} ulp`);
  }
  // Special values: NaN stays NaN, the infinities saturate.
  assert.deepEqual(r.tanhSpecial, [NaN, 1, -1, 0]);
  const sig = r.sigmoidSpecial;
  // exp's input is clamped to [-87, 88], so sigmoid(-Infinity) is 1 / (1 + e^88), about 6e-39.
  assert.deepEqual([sig[0], sig[1], sig[3]], [NaN, 1, 0.5]);
  assert.ok(sig[2]! >= 0 && sig[2]! < 1e-38, `sigmoid(-Infinity) = ${sig[2]}`);
});

const KINDS: { kind: RnnCellKind; resetAfter?: boolean }[] = [{ kind: 'lstm' }, { kind: 'gru', resetAfter: true }, { kind: 'gru', resetAfter: false }, { kind: 'simple_rnn' }];
const LAYOUTS: MaskLayout[] = ['none', 'post', 'pre', 'holes'];

for (const k of KINDS) {
  test(`fused equals reference (outputs, states, all gradients): ${k.kind}${k.resetAfter === undefined ? '' : ` resetAfter=${k.resetAfter}`}`, () => {
    const r = prng(k.kind.length * 31 + (k.resetAfter ? 1 : 0));
    let seed = 100;
    for (const layout of LAYOUTS) {
      for (let flags = 0; flags < 8; flags++) {
        const shape = { b: 1 + Math.floor(r() * 5), t: 1 + Math.floor(r() * 6), f: 1 + Math.floor(r() * 5), u: [1, 2, 3, 4, 5, 8][Math.floor(r() * 6)]! };
        const a = randomRnnArgs({ ...k, ...shape, layout, seed: seed++, nonZeroInitial: r() < 0.5, withBias: r() < 0.8 });
        const useDropout = r() < 0.3;
        const args: RnnSequenceArgs = {
          ...a,
          goBackwards: (flags & 1) !== 0,
          zeroOutputForMask: (flags & 2) !== 0,
          returnSequences: (flags & 4) !== 0,
          inputDropoutMask: useDropout ? tf.tensor2d(randn(r, shape.b * shape.f), [shape.b, shape.f]) : null,
          recurrentDropoutMask: useDropout ? tf.tensor2d(randn(r, shape.b * shape.u), [shape.b, shape.u]) : null,
        };
        compare(args, `${layout} flags=${flags} ${JSON.stringify(shape)} dropout=${useDropout}`, seed);
        disposeArgs(args);
      }
    }
  });
}

test('fused equals reference for every fused activation pair and for larger shapes', () => {
  let seed = 900;
  for (const kind of ['lstm', 'gru', 'simple_rnn'] as const) {
    for (const [activation, recurrentActivation] of [['relu', 'sigmoid'], ['linear', 'tanh'], ['sigmoid', 'relu'], ['tanh', 'linear']]) {
      // With unbounded activations (linear, relu) an expansive recurrent
      // kernel amplifies float32 rounding ~1e4-fold over 11 steps (both
      // implementations then sit ~1e-3 from a float64 run); a contractive one
      // keeps the comparison at the 1e-5 level this test is about.
      const a = randomRnnArgs({ kind, b: 9, t: 11, f: 6, u: 12, layout: 'holes', seed: seed++, recurrentScale: 0.15 });
      const args = { ...a, activation, recurrentActivation, goBackwards: seed % 2 === 0, zeroOutputForMask: false, returnSequences: true };
      compare(args, `${kind} ${activation}/${recurrentActivation}`, seed);
      disposeArgs(args);
    }
  }
});

test('a batch with every step masked returns h0 (or zeros) and the initial states, with gradients', () => {
  for (const [kind, t] of [['lstm', 4], ['gru', 4], ['simple_rnn', 4], ['lstm', 1], ['gru', 1]] as const) {
    const a = randomRnnArgs({ kind, b: 3, t, f: 2, u: 3, layout: 'none', seed: 5, nonZeroInitial: true });
    const mask = tf.zeros([3, t], 'bool') as tf.Tensor2D;
    for (const zeroOutputForMask of [false, true]) {
      compare({ ...a, mask, goBackwards: false, zeroOutputForMask, returnSequences: true }, `${kind} all masked`, 1);
      compare({ ...a, mask, goBackwards: true, zeroOutputForMask, returnSequences: false }, `${kind} all masked, last`, 2);
    }
    mask.dispose();
    disposeArgs(a);
  }
});

test('tensor count stays flat over repeated fused forward + backward', () => {
  const a = randomRnnArgs({ kind: 'lstm', b: 4, t: 6, f: 3, u: 5, layout: 'post', seed: 11 });
  const vars = [tf.variable(a.kernel), tf.variable(a.recurrentKernel), tf.variable(a.bias!)];
  const step = () => {
    const { value, grads } = tf.variableGrads(() => {
      const r = rnnSequence({ ...a, kernel: vars[0]!, recurrentKernel: vars[1]!, bias: vars[2]!, goBackwards: false, zeroOutputForMask: false, returnSequences: true });
      return tf.sum(r.output) as tf.Scalar;
    });
    tf.dispose([value, ...Object.values(grads)]);
    tf.tidy(() => {
      rnnSequence({ ...a, goBackwards: true, zeroOutputForMask: true, returnSequences: false });
    });
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    step();
    assert.equal(tf.memory().numTensors, before, `iteration ${i}`);
  }
  tf.dispose(vars);
  disposeArgs(a);
});

test('the kernel gemm equals a plain product for every row count (4-row, 2-row and 1-row tiles), column count, transposed A and accumulation', () => {
  const k = rnnKernel()!;
  const r = prng(21);
  for (const n of [1, 2, 3, 4, 5, 6, 7, 9, 13]) {
    for (const kk of [1, 3, 17]) {
      for (const m of [4, 8, 12, 36, 68]) {
        for (const transposed of [false, true]) {
          for (const accumulate of [false, true]) {
            const a = randn(r, n * kk);
            const b = randn(r, kk * m);
            const c0 = randn(r, n * m);
            // A is [n, kk] (ars = kk, aps = 1) or stored transposed as [kk, n] (ars = 1, aps = n).
            const aStored = transposed ? Array.from({ length: kk * n }, (_, i) => a[(i % n) * kk + Math.floor(i / n)]!) : a;
            const base = (k.heapBase() + 15) & ~15;
            const need = base + 4 * (n * kk + kk * m + n * m) + 64;
            if (k.memory.buffer.byteLength < need) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
            const f = new Float32Array(k.memory.buffer);
            const pa = base, pb = pa + ((4 * n * kk + 15) & ~15), pc = pb + ((4 * kk * m + 15) & ~15);
            f.set(aStored, pa >> 2);
            f.set(b, pb >> 2);
            f.set(c0, pc >> 2);
            k.gemm(pa, transposed ? 1 : kk, transposed ? n : 1, pb, m, pc, m, n, kk, m, accumulate ? 1 : 0);
            const got = new Float32Array(k.memory.buffer, pc, n * m);
            for (let i = 0; i < n; i++) {
              for (let j = 0; j < m; j++) {
                let want = accumulate ? Math.fround(c0[i * m + j]!) : 0;
                for (let p = 0; p < kk; p++) want += Math.fround(a[i * kk + p]!) * Math.fround(b[p * m + j]!);
                assert.ok(Math.abs(got[i * m + j]! - want) <= 1e-5 * (1 + Math.abs(want)), `n ${n} k ${kk} m ${m} transposed ${transposed} accumulate ${accumulate}: C[${i}, ${j}] = ${got[i * m + j]}, expected ${want}`);
              }
            }
          }
        }
      }
    }
  }
});

test('every activation pair is right after a call of any other kind and configuration (no state survives between kernel calls)', () => {
  // Units that are not a multiple of 4 leave padded lanes in the kernel's
  // layout; activations with act(0) != 0 (sigmoid) make those lanes of h
  // nonzero, so whatever sits in the padded rows of R reaches the real lanes.
  const acts = Object.keys(FUSED_ACTIVATIONS);
  const previous: { kind: RnnCellKind; resetAfter?: boolean }[] = KINDS;
  let seed = 2000;
  for (const prev of previous) {
    for (const training of [false, true]) {
      for (const next of KINDS) {
        const pairs = next.kind === 'simple_rnn' ? acts.map((a) => [a, 'sigmoid']) : acts.flatMap((a) => acts.map((ra) => [a, ra]));
        for (const [activation, recurrentActivation] of pairs) {
          // The previous call: larger, with other data, forward only or forward and backward.
          const p = randomRnnArgs({ ...prev, b: 6, t: 7, f: 5, u: 7, layout: 'holes', seed: seed++, nonZeroInitial: true, withBias: true });
          const pArgs: RnnSequenceArgs = { ...p, implementation: 'fused', goBackwards: seed % 2 === 0, zeroOutputForMask: false, returnSequences: true };
          if (training) runWithGrads(pArgs, seed);
          else tf.tidy(() => void rnnSequence(pArgs).output.dataSync());
          disposeArgs(p);
          const a = randomRnnArgs({ ...next, b: 3, t: 4, f: 2, u: [1, 3, 5][seed % 3]!, layout: 'post', seed: seed++, nonZeroInitial: true, withBias: true, recurrentScale: 0.3 });
          const args: RnnSequenceArgs = { ...a, activation, recurrentActivation, goBackwards: seed % 3 === 0, zeroOutputForMask: false, returnSequences: seed % 2 === 0 };
          const what = `${next.kind}${next.resetAfter === undefined ? '' : ` resetAfter=${next.resetAfter}`} ${activation}/${recurrentActivation} after ${prev.kind}${prev.resetAfter === undefined ? '' : ` resetAfter=${prev.resetAfter}`} (${training ? 'forward and backward' : 'forward'})`;
          // The fused call first: the reference must not run between the two kernel calls.
          const fused = runWithGrads({ ...args, implementation: 'fused' }, seed);
          const ref = runWithGrads({ ...args, implementation: 'reference' }, seed);
          ref.forEach((want, i) => {
            const msg = mismatch(fused[i]!, want, TOL, `${what}: value ${i}`, SCALE_TOL);
            assert.equal(msg, null, msg ?? '');
          });
          disposeArgs(a);
        }
      }
    }
  }
});
