// The recurrence split over threads (helper worker threads) against the same
// call on one thread: outputs, states and input gradients identical,
// weight gradients equal up to summation order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { tf } from '../../runtime/tfjs.js';
import { rnnSequence, rnnSequences, rnnSequencesConcatReversed, type RnnCellKind, type RnnSequenceArgs } from './index.js';
import { kernelThreads, polledKernelRequests, recomputedSavedCalls, setKernelSpin, setKernelThreads, splitKernelCalls, withForcedSplit } from './parallel.js';
import { disposeArgs, mismatch, prng, randn, randomRnnArgs, type MaskLayout } from '../../../test/rnn_args.js';
import { expectCode } from '../../../test/helpers.js';

/** Outputs, final states, then gradients of a fixed random linear loss w.r.t. inputs, kernel, recurrentKernel, bias, initial states. */
function run(a: RnnSequenceArgs, seed: number): Float32Array[] {
  const params = [a.inputs, a.kernel, a.recurrentKernel, ...(a.bias ? [a.bias] : []), ...a.initialStates];
  return tf.tidy(() => {
    const call = (p: tf.Tensor[]) =>
      rnnSequence({ ...a, implementation: 'fused', inputs: p[0] as tf.Tensor3D, kernel: p[1] as tf.Tensor2D, recurrentKernel: p[2] as tf.Tensor2D, bias: a.bias ? p[3]! : null, initialStates: p.slice(a.bias ? 4 : 3) as tf.Tensor2D[] });
    const plain = call(params);
    const r = prng(seed);
    const wOut = tf.tensor(randn(r, plain.output.size), plain.output.shape);
    const wStates = plain.states.map((s) => tf.tensor(randn(r, s.size), s.shape));
    const { grads } = tf.valueAndGrads((...p: tf.Tensor[]) => {
      const res = call(p);
      return tf.addN([tf.sum(tf.mul(res.output, wOut)), ...res.states.map((s, i) => tf.sum(tf.mul(s, wStates[i]!)))]) as tf.Scalar;
    })(params);
    return [plain.output, ...plain.states, ...grads].map((t) => Float32Array.from(t.dataSync() as Float32Array));
  });
}

/** Runs `fn` with every call split over `threads` groups, then restores the settings. */
const withThreads = withForcedSplit;

const kinds: { kind: RnnCellKind; resetAfter?: boolean }[] = [{ kind: 'lstm' }, { kind: 'gru' }, { kind: 'gru', resetAfter: false }, { kind: 'simple_rnn' }];

test('split over 2 and 3 threads: outputs, states and input gradients equal one thread exactly; weight gradients to float32 rounding', () => {
  assert.ok(kernelThreads() >= 1);
  const before = tf.memory().numTensors;
  const splitBefore = splitKernelCalls();
  let seed = 1;
  for (const k of kinds) {
    for (const layout of ['post', 'pre', 'holes', 'none'] as MaskLayout[]) {
      for (const opts of [{ returnSequences: true, goBackwards: false, zeroOutputForMask: true }, { returnSequences: false, goBackwards: true, zeroOutputForMask: false }]) {
        const a = randomRnnArgs({ ...k, b: 7, t: 9, f: 5, u: 6, layout, seed: seed++, nonZeroInitial: true, withBias: true });
        const rdm = tf.tensor2d(Array.from({ length: 7 * 6 }, (_, i) => (i % 5 === 0 ? 0 : 1.25)), [7, 6]);
        const args = { ...a, ...opts, recurrentDropoutMask: rdm };
        setKernelThreads(1);
        const one = run(args, seed);
        setKernelThreads();
        for (const threads of [2, 3]) {
          const many = withThreads(threads, () => run(args, seed));
          const nStates = k.kind === 'lstm' ? 2 : 1;
          const what = `${k.kind}${k.resetAfter === false ? ' (reset before)' : ''} ${layout} ${JSON.stringify(opts)} on ${threads} threads`;
          one.forEach((want, i) => {
            const exact = i <= nStates || i === nStates + 1; // outputs, states, d inputs
            if (exact) assert.deepEqual(many[i], want, `${what}: value ${i} differs`);
            else {
              const msg = mismatch(many[i]!, want, 1e-5, `${what}: gradient ${i}`, 1e-6);
              assert.equal(msg, null, msg ?? '');
            }
          });
        }
        disposeArgs(a);
        rdm.dispose();
      }
    }
  }
  assert.ok(splitKernelCalls() - splitBefore >= 2 * 4 * 4 * 2 * 2, 'the calls were split over threads');
  setKernelThreads();
  assert.equal(tf.memory().numTensors, before);
});

test('setKernelThreads takes an integer >= 1, caps it at the machine\'s cores and returns the number calls will use', () => {
  expectCode(() => setKernelThreads(0), 'INVALID_ARGUMENT', 'setKernelThreads', 'integer >= 1', '0');
  expectCode(() => setKernelThreads(1.5), 'INVALID_ARGUMENT', '1.5');
  const cores = availableParallelism();
  try {
    assert.equal(setKernelThreads(1), 1);
    assert.equal(kernelThreads(), 1);
    assert.equal(setKernelThreads(cores + 5), cores);
    assert.equal(kernelThreads(), cores);
    assert.equal(setKernelThreads(), Math.min(4, cores));
  } finally {
    setKernelThreads();
  }
});

test('setKernelSpin takes milliseconds from 0 to 100 (default 1); split calls give the same results whether the threads poll for each other or sleep', () => {
  for (const bad of [-0.5, 101, Number.NaN, '2' as unknown as number]) expectCode(() => setKernelSpin(bad), 'INVALID_ARGUMENT', 'setKernelSpin', 'from 0 to 100');
  assert.equal(setKernelSpin(), 1);
  const a = randomRnnArgs({ kind: 'gru', b: 6, t: 5, f: 3, u: 4, layout: 'pre', seed: 41, nonZeroInitial: true, withBias: true });
  const args = { ...a, returnSequences: true, goBackwards: false, zeroOutputForMask: false };
  try {
    const polling = withThreads(2, () => run(args, 5));
    assert.equal(setKernelSpin(0), 0);
    const sleeping = withThreads(2, () => run(args, 5));
    assert.equal(setKernelSpin(5), 5);
    const longer = withThreads(2, () => run(args, 5));
    sleeping.forEach((v, i) => assert.deepEqual(v, polling[i], `value ${i}`));
    longer.forEach((v, i) => assert.deepEqual(v, polling[i], `value ${i}`));
  } finally {
    setKernelSpin();
    disposeArgs(a);
  }
});

test('a Bidirectional layer\'s two directions wake the sleeping helper before they are prepared, so that it is polling when their request comes (rnnSequences and rnnSequencesConcatReversed)', () => {
  const fa = randomRnnArgs({ kind: 'lstm', b: 4, t: 6, f: 3, u: 4, layout: 'post', seed: 51, nonZeroInitial: false, withBias: true });
  const ba = randomRnnArgs({ kind: 'lstm', b: 4, t: 6, f: 3, u: 4, layout: 'post', seed: 52, nonZeroInitial: false, withBias: true });
  const both: [RnnSequenceArgs, RnnSequenceArgs] = [
    { ...fa, returnSequences: true, goBackwards: false, zeroOutputForMask: false },
    { ...ba, mask: fa.mask, returnSequences: true, goBackwards: true, zeroOutputForMask: false },
  ];
  const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  try {
    setKernelSpin(50);
    withThreads(2, () => {
      tf.dispose(rnnSequences(both).flatMap((r) => [r.output, ...r.states])); // the helper starts
      for (const run of [() => tf.dispose(rnnSequences(both).flatMap((r) => [r.output, ...r.states])), () => tf.dispose(rnnSequencesConcatReversed(both).output)]) {
        sleep(150); // the helper's poll runs out
        const polled = polledKernelRequests();
        const split = splitKernelCalls();
        run();
        assert.equal(splitKernelCalls() - split, 1, 'the two directions ran at once');
        assert.equal(polledKernelRequests() - polled, 1, 'the helper was polling when the request came');
      }
      // The wake-up looks at the arguments before they are checked: bad ones still get the check's coded error.
      expectCode(() => rnnSequences([{ ...both[0], inputs: undefined as unknown as tf.Tensor }, both[1]]), 'INPUT_SHAPE_MISMATCH', 'inputs');
    });
  } finally {
    setKernelSpin();
    disposeArgs(fa);
    disposeArgs(ba);
  }
});

test('a second split call, which reuses the pooled buffers of the first (in both threads), gives the same result', () => {
  const a = randomRnnArgs({ kind: 'lstm', b: 5, t: 7, f: 3, u: 4, layout: 'post', seed: 99, nonZeroInitial: true, withBias: true });
  const args = { ...a, returnSequences: true, goBackwards: false, zeroOutputForMask: false };
  try {
    setKernelThreads(1);
    const one = run(args, 3);
    const before = splitKernelCalls();
    const many = withThreads(2, () => run(args, 3));
    assert.ok(splitKernelCalls() > before, 'the calls were split');
    assert.deepEqual(many[0], one[0]);
    const again = withThreads(2, () => run(args, 3));
    again.forEach((v, i) => assert.deepEqual(v, many[i], `value ${i} differs on the second split call`));
  } finally {
    setKernelThreads();
    disposeArgs(a);
  }
});

test('split calls where whole groups of rows are fully masked (no tokens in a group) give the one-thread result', () => {
  // Rows 1 and 2 have no valid step; with 3 threads each row is a group of its own.
  const a = randomRnnArgs({ kind: 'lstm', b: 3, t: 6, f: 3, u: 4, layout: 'none', seed: 5, nonZeroInitial: true, withBias: true });
  const mask = tf.tensor2d([[1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], [3, 6], 'bool');
  for (const opts of [{ returnSequences: true, goBackwards: false, zeroOutputForMask: true }, { returnSequences: false, goBackwards: false, zeroOutputForMask: false }]) {
    const args = { ...a, ...opts, mask };
    setKernelThreads(1);
    const one = run(args, 8);
    const before = splitKernelCalls();
    const many = withThreads(3, () => run(args, 8));
    assert.ok(splitKernelCalls() > before, 'the call was split');
    const nStates = 2;
    one.forEach((want, i) => {
      if (i <= nStates + 1) assert.deepEqual(many[i], want, `value ${i}`);
      else assert.equal(mismatch(many[i]!, want, 1e-5, `gradient ${i}`, 1e-6), null);
    });
  }
  setKernelThreads();
  disposeArgs(a);
  mask.dispose();
});

test('threads turned off between a split forward pass and its backward pass: the backward pass runs every group here, with the same gradients', () => {
  const a = randomRnnArgs({ kind: 'gru', b: 6, t: 7, f: 3, u: 5, layout: 'pre', seed: 17, nonZeroInitial: true, withBias: true });
  const args = { ...a, returnSequences: true, goBackwards: false, zeroOutputForMask: true };
  setKernelThreads(1);
  const one = run(args, 4);
  withThreads(2, () => {
    const params = [args.inputs, args.kernel, args.recurrentKernel, args.bias!, ...args.initialStates];
    let splitInBackward = -1;
    const splitBefore = splitKernelCalls();
    const grads = tf.tidy(() => {
      const r = prng(4);
      const { grads: g } = tf.valueAndGrads((...p: tf.Tensor[]) => {
        const res = rnnSequence({ ...args, implementation: 'fused', inputs: p[0] as tf.Tensor3D, kernel: p[1] as tf.Tensor2D, recurrentKernel: p[2] as tf.Tensor2D, bias: p[3]!, initialStates: p.slice(4) as tf.Tensor2D[] });
        setKernelThreads(1);
        splitInBackward = splitKernelCalls();
        const wOut = tf.tensor(randn(r, res.output.size), res.output.shape);
        const wState = tf.tensor(randn(r, res.states[0]!.size), res.states[0]!.shape);
        return tf.add(tf.sum(tf.mul(res.output, wOut)), tf.sum(tf.mul(res.states[0]!, wState))) as tf.Scalar;
      })(params);
      return g.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    });
    assert.ok(splitInBackward > splitBefore, 'the forward pass was split');
    assert.equal(splitKernelCalls(), splitInBackward, 'the backward pass did not split');
    grads.forEach((g, i) => assert.equal(mismatch(g, one[2 + i]!, 1e-5, `gradient ${i}`, 1e-6), null));
  });
  setKernelThreads();
  disposeArgs(a);
});

/**
 * A forward direction over `fa`'s inputs and mask and a backward one with
 * `ba`'s weights (`first`: more arguments of the forward one), as one flat
 * list of parameters (the shared inputs, then each direction's weights and
 * states) and a function that rebuilds both directions' arguments from it.
 */
function bothDirections(fa: ReturnType<typeof randomRnnArgs>, ba: ReturnType<typeof randomRnnArgs>, first: Partial<RnnSequenceArgs> = {}): { params: tf.Tensor[]; rebuild: (p: tf.Tensor[]) => RnnSequenceArgs[] } {
  const dirs: RnnSequenceArgs[] = [
    { ...fa, returnSequences: true, goBackwards: false, zeroOutputForMask: true, ...first },
    { ...ba, inputs: fa.inputs, mask: fa.mask, returnSequences: true, goBackwards: true, zeroOutputForMask: true },
  ];
  const own = (a: RnnSequenceArgs) => [a.kernel, a.recurrentKernel, a.bias!, ...a.initialStates];
  const n = own(dirs[0]!).length;
  return {
    params: [fa.inputs, ...own(dirs[0]!), ...own(dirs[1]!)],
    rebuild: (p) =>
      dirs.map((a, d) => {
        const q = p.slice(1 + d * n, 1 + (d + 1) * n);
        return { ...a, inputs: p[0]!, kernel: q[0]!, recurrentKernel: q[1]!, bias: q[2]!, initialStates: q.slice(3) as tf.Tensor2D[] };
      }),
  };
}

test('two recurrences at once (rnnSequences, one per thread): outputs, states and every gradient equal each run alone on one thread, exactly', () => {
  const before = tf.memory().numTensors;
  for (const k of kinds) {
    for (const layout of ['post', 'pre', 'holes'] as MaskLayout[]) {
      const fa = randomRnnArgs({ ...k, b: 6, t: 8, f: 5, u: 4, layout, seed: 31, nonZeroInitial: true, withBias: true });
      const ba = randomRnnArgs({ ...k, b: 6, t: 8, f: 5, u: 4, layout: 'none', seed: 32, nonZeroInitial: true, withBias: true });
      const rdm = tf.tensor2d(Array.from({ length: 6 * 4 }, (_, i) => (i % 3 === 0 ? 0 : 1.5)), [6, 4]);
      const { params, rebuild } = bothDirections(fa, ba, { recurrentDropoutMask: rdm });
      const runBoth = (together: boolean): Float32Array[] =>
        tf.tidy(() => {
          const call = (p: tf.Tensor[]) => (together ? rnnSequences(rebuild(p)) : rebuild(p).map((a) => rnnSequence(a)));
          const outs = call(params);
          const r = prng(5);
          const ws = outs.flatMap((o) => [o.output, ...o.states]).map((t) => tf.tensor(randn(r, t.size), t.shape));
          const { grads } = tf.valueAndGrads((...p: tf.Tensor[]) => tf.addN(call(p).flatMap((o) => [o.output, ...o.states]).map((t, i) => tf.sum(tf.mul(t, ws[i]!)))) as tf.Scalar)(params);
          return [...outs.flatMap((o) => [o.output, ...o.states]), ...grads].map((t) => Float32Array.from(t.dataSync() as Float32Array));
        });
      setKernelThreads(1);
      const alone = runBoth(false);
      const togetherOne = runBoth(true);
      const calls = splitKernelCalls();
      const together = withThreads(2, () => runBoth(true));
      assert.ok(splitKernelCalls() >= calls + 2, 'the forward and backward passes ran on two threads');
      alone.forEach((want, i) => {
        assert.deepEqual(togetherOne[i], want, `${k.kind} ${layout}: value ${i} (one thread)`);
        assert.deepEqual(together[i], want, `${k.kind} ${layout}: value ${i} (two threads)`);
      });
      setKernelThreads();
      disposeArgs(fa);
      disposeArgs(ba);
      rdm.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

/**
 * `grads(between)` on two threads (`between` runs after the forward pass,
 * before the backward pass) equals `want` exactly in three cases: the
 * helper undisturbed (it held its saved activations), threads turned off
 * in between, and the helper restarted in between (one recomputation here
 * in each of the last two).
 */
function heldOrRecomputed(label: string, grads: (between: () => void) => Float32Array[], want: Float32Array[]): void {
  const cases: [string, () => void, boolean][] = [
    ['undisturbed', () => {}, false],
    ['threads turned off', () => setKernelThreads(1), true],
    ['helper restarted', () => {
      setKernelThreads(1);
      setKernelThreads(2);
    }, true],
  ];
  for (const [what, between, recomputes] of cases) {
    const calls = splitKernelCalls();
    const again = recomputedSavedCalls();
    const got = withThreads(2, () => grads(between));
    assert.ok(splitKernelCalls() > calls, `${label}${what}: the forward pass ran on two threads`);
    assert.equal(recomputedSavedCalls() - again, recomputes ? 1 : 0, `${label}${what}: activations computed again`);
    got.forEach((g, i) => assert.deepEqual(g, want[i], `${label}${what}: gradient ${i}`));
    setKernelThreads();
  }
}

test('two recurrences at once under a tape: the helper keeps its saved activations; when it lost them (threads off, or restarted) the backward pass computes them again here, with the same gradients, exactly', () => {
  const before = tf.memory().numTensors;
  const fa = randomRnnArgs({ kind: 'lstm', b: 6, t: 8, f: 5, u: 4, layout: 'holes', seed: 41, nonZeroInitial: true, withBias: true });
  const ba = randomRnnArgs({ kind: 'lstm', b: 6, t: 8, f: 5, u: 4, layout: 'none', seed: 42, nonZeroInitial: true, withBias: true });
  const { params, rebuild } = bothDirections(fa, ba);
  // Gradients of a fixed linear loss; `between` runs after the forward pass, before the backward pass.
  const grads = (between: () => void): Float32Array[] =>
    tf.tidy(() => {
      const r = prng(6);
      const { grads: g } = tf.valueAndGrads((...p: tf.Tensor[]) => {
        const outs = rnnSequences(rebuild(p)).flatMap((o) => [o.output, ...o.states]);
        between();
        return tf.addN(outs.map((t) => tf.sum(tf.mul(t, tf.tensor(randn(r, t.size), t.shape))))) as tf.Scalar;
      })(params);
      return g.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    });
  setKernelThreads(1);
  const want = grads(() => {});
  heldOrRecomputed('', grads, want);
  disposeArgs(fa);
  disposeArgs(ba);
  assert.equal(tf.memory().numTensors, before);
});

test('one call split over two threads under a tape: the helper keeps its group\'s saved activations; when it lost them (threads off, or restarted) the backward pass computes them again here, with the same gradients, exactly', () => {
  const before = tf.memory().numTensors;
  for (const kind of ['lstm', 'gru'] as RnnCellKind[]) {
    const a = randomRnnArgs({ kind, b: 7, t: 9, f: 5, u: 6, layout: 'holes', seed: 77, nonZeroInitial: true, withBias: true });
    const params = [a.inputs, a.kernel, a.recurrentKernel, a.bias!, ...a.initialStates];
    // Gradients of a fixed linear loss; `between` runs after the forward pass, before the backward pass.
    const grads = (between: () => void): Float32Array[] =>
      tf.tidy(() => {
        const r = prng(8);
        const { grads: g } = tf.valueAndGrads((...p: tf.Tensor[]) => {
          const res = rnnSequence({ ...a, returnSequences: true, goBackwards: false, zeroOutputForMask: true, implementation: 'fused', inputs: p[0] as tf.Tensor3D, kernel: p[1] as tf.Tensor2D, recurrentKernel: p[2] as tf.Tensor2D, bias: p[3]!, initialStates: p.slice(4) as tf.Tensor2D[] });
          between();
          return tf.addN([res.output, ...res.states].map((t) => tf.sum(tf.mul(t, tf.tensor(randn(r, t.size), t.shape))))) as tf.Scalar;
        })(params);
        return g.map((t) => Float32Array.from(t.dataSync() as Float32Array));
      });
    setKernelThreads(1);
    const one = grads(() => {});
    setKernelThreads();
    // The undisturbed split: its weight gradients add the two groups' (float32 rounding apart from one thread's).
    const want = withThreads(2, () => grads(() => {}));
    want.forEach((g, i) => assert.equal(mismatch(g, one[i]!, 1e-5, `${kind}: gradient ${i} on two threads`, 1e-6), null));
    heldOrRecomputed(`${kind} `, grads, want);
    disposeArgs(a);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('inference on a large batch (cut into chunks of rows, on 1 and 2 threads) gives the outputs and states of the forward pass under a tape, exactly', () => {
  const before = tf.memory().numTensors;
  for (const k of kinds) {
    // 1100 rows: 5 chunks, so on 2 threads the helper answers in two rounds (its second reply must not overwrite the first's rows).
    const a = randomRnnArgs({ ...k, b: 1100, t: 6, f: 3, u: 4, layout: 'post', seed: 41, nonZeroInitial: true, withBias: true });
    for (const opts of [{ returnSequences: true, goBackwards: false, zeroOutputForMask: true }, { returnSequences: false, goBackwards: true, zeroOutputForMask: false }]) {
      const args: RnnSequenceArgs = { ...a, ...opts, implementation: 'fused' };
      const read = (r: { output: tf.Tensor; states: tf.Tensor[] }) => [r.output, ...r.states].map((t) => Float32Array.from(t.dataSync() as Float32Array));
      // Under a tape the call runs whole (not in chunks): the reference for the chunked inference.
      const taped = tf.tidy(() => {
        let out: Float32Array[] = [];
        tf.valueAndGrads((...p: tf.Tensor[]) => {
          const r = rnnSequence({ ...args, kernel: p[0] as tf.Tensor2D });
          out = read(r);
          return tf.sum(r.output) as tf.Scalar;
        })([a.kernel]);
        return out;
      });
      for (const threads of [1, 2]) {
        const got = threads === 1 ? (setKernelThreads(1), tf.tidy(() => read(rnnSequence(args)))) : withThreads(2, () => tf.tidy(() => read(rnnSequence(args))));
        setKernelThreads();
        got.forEach((v, i) => assert.deepEqual(v, taped[i], `${k.kind} ${JSON.stringify(opts)} on ${threads} thread(s): value ${i}`));
      }
      const both = tf.tidy(() => rnnSequences([args, { ...args, goBackwards: !args.goBackwards }]).flatMap(read));
      const alone = tf.tidy(() => [rnnSequence(args), rnnSequence({ ...args, goBackwards: !args.goBackwards })].flatMap(read));
      both.forEach((v, i) => assert.deepEqual(v, alone[i], `${k.kind} rnnSequences: value ${i}`));
      // Two calls, each in chunks on 2 threads: the second call's helper replies must leave the first call's in place.
      const bothSplit = withThreads(2, () => tf.tidy(() => rnnSequences([args, { ...args, goBackwards: !args.goBackwards }]).flatMap(read)));
      bothSplit.forEach((v, i) => assert.deepEqual(v, alone[i], `${k.kind} rnnSequences on 2 threads: value ${i}`));
    }
    disposeArgs(a);
  }
  assert.equal(tf.memory().numTensors, before);
});
