/**
 * Helpers for the tests of the recurrent ops: seeded random data, masks of
 * every layout, and a closeness check. Not part of the public API.
 */
import { tf } from '../src/runtime/tfjs.js';
import type { RnnCellKind, RnnSequenceArgs } from '../src/ops/rnn/types.js';
import { rnnSequence } from '../src/ops/rnn/index.js';
import type { RnnKernel } from '../src/ops/rnn/kernel.js';

import { mulberry32 as prng } from '../src/data/bucketing.js';

/** A small seeded PRNG (mulberry32) returning floats in [0, 1). */
export { prng };

/** `n` draws of normal(0, scale). */
export function randn(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  return out;
}

export type MaskLayout = 'none' | 'post' | 'pre' | 'holes' | 'full';

/** A [B, T] mask: post/pre padding with random lengths (0 allowed), random holes, or all valid. */
export function randomMask(r: () => number, b: number, t: number, layout: MaskLayout): boolean[][] {
  const rows: boolean[][] = [];
  for (let i = 0; i < b; i++) {
    const len = i === 0 ? 0 : Math.floor(r() * (t + 1));
    if (layout === 'post') rows.push(Array.from({ length: t }, (_, k) => k < len));
    else if (layout === 'pre') rows.push(Array.from({ length: t }, (_, k) => k >= t - len));
    else if (layout === 'holes') rows.push(Array.from({ length: t }, () => r() < 0.6));
    else rows.push(new Array<boolean>(t).fill(true));
  }
  return rows;
}

/** Options for `randomRnnArgs`. */
export interface RandomRnnOptions {
  kind: RnnCellKind;
  b: number;
  t: number;
  f: number;
  u: number;
  layout: MaskLayout;
  resetAfter?: boolean;
  seed: number;
  nonZeroInitial?: boolean;
  withBias?: boolean;
  /** Standard deviation of the recurrent kernel's entries (default 0.5). */
  recurrentScale?: number;
}

/** Random weights, inputs, mask and initial states for `rnnSequence` (tensors the caller disposes). */
export function randomRnnArgs(o: RandomRnnOptions): Omit<RnnSequenceArgs, 'goBackwards' | 'zeroOutputForMask' | 'returnSequences'> {
  const r = prng(o.seed);
  const g = o.kind === 'lstm' ? 4 : o.kind === 'gru' ? 3 : 1;
  const resetAfter = o.resetAfter !== false;
  const biasShape = o.kind === 'gru' && resetAfter ? [2, 3 * o.u] : [g * o.u];
  const nb = biasShape.reduce((x, y) => x * y, 1);
  const nStates = o.kind === 'lstm' ? 2 : 1;
  return {
    kind: o.kind,
    inputs: tf.tensor3d(randn(r, o.b * o.t * o.f), [o.b, o.t, o.f]),
    kernel: tf.tensor2d(randn(r, o.f * g * o.u, 0.5), [o.f, g * o.u]),
    recurrentKernel: tf.tensor2d(randn(r, o.u * g * o.u, o.recurrentScale ?? 0.5), [o.u, g * o.u]),
    bias: o.withBias === false ? null : tf.tensor(randn(r, nb, 0.5), biasShape),
    resetAfter,
    mask: o.layout === 'none' ? null : tf.tensor2d(randomMask(r, o.b, o.t, o.layout), [o.b, o.t], 'bool'),
    initialStates: Array.from({ length: nStates }, () =>
      o.nonZeroInitial === true ? tf.tensor2d(randn(r, o.b * o.u, 0.5), [o.b, o.u]) : tf.zeros([o.b, o.u]),
    ) as tf.Tensor2D[],
  };
}

/** Disposes every tensor found in the values of `args`. */
export function disposeArgs(args: object): void {
  for (const v of Object.values(args)) {
    if (v instanceof tf.Tensor) v.dispose();
    else if (Array.isArray(v)) for (const x of v) if (x instanceof tf.Tensor) x.dispose();
  }
}

/**
 * First mismatch of |got - want| <= tol * max(1, |want|) + scaleTol * max|want|,
 * as a message, or null when all match. `scaleTol` (default 0) admits the
 * rounding of long sums, which follows the size of the summed terms (about
 * the tensor's largest value), not the size of a sum that cancels.
 */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string, scaleTol = 0): string | null {
  if (got.length !== want.length) return `${what}: ${got.length} values, expected ${want.length}`;
  let big = 0;
  for (let i = 0; i < want.length; i++) big = Math.max(big, Math.abs(want[i]!));
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= tol * Math.max(1, Math.abs(want[i]!)) + scaleTol * big)) return `${what}: value ${i} is ${got[i]}, expected ${want[i]} (diff ${d})`;
  }
  return null;
}

/** Outputs, states, the loss and the gradients of a fixed random linear loss w.r.t. every differentiable argument. */
export function runWithGrads(a: RnnSequenceArgs, seed: number): Float32Array[] {
  const rest = [a.inputs, a.kernel, a.recurrentKernel, ...(a.bias ? [a.bias] : []), ...a.initialStates];
  return tf.tidy(() => {
    const r = prng(seed);
    const call = (p: tf.Tensor[]) => {
      const bias = a.bias ? p[3]! : null;
      return rnnSequence({ ...a, inputs: p[0] as tf.Tensor3D, kernel: p[1] as tf.Tensor2D, recurrentKernel: p[2] as tf.Tensor2D, bias, initialStates: p.slice(a.bias ? 4 : 3) as tf.Tensor2D[] });
    };
    const plain = call(rest);
    const wOut = tf.tensor(randn(r, plain.output.size), plain.output.shape);
    const wStates = plain.states.map((s) => tf.tensor(randn(r, s.size), s.shape));
    const loss = (...p: tf.Tensor[]) => {
      const res = call(p);
      return tf.addN([tf.sum(tf.mul(res.output, wOut)), ...res.states.map((s, i) => tf.sum(tf.mul(s, wStates[i]!)))]) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(loss)(rest);
    return [plain.output, ...plain.states, value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** The spacing of float32 numbers at |v| (one ulp). */
function ulp32(v: number): number {
  const a = Math.max(Math.abs(v), 2 ** -126);
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * The kernel's sigmoid and tanh (`applyActivation`) against float64 on a
 * dense grid (44,000 points in [-12, 12], denser near 0): the largest error
 * in float32 ulps and the mean signed error (its sign flipped for negative
 * x, as both functions are odd about their value at 0), plus what NaN,
 * +-Infinity and 0 give.
 */
export function activationAccuracy(k: RnnKernel): { errors: Record<string, { worst: number; meanSigned: number }>; tanhSpecial: number[]; sigmoidSpecial: number[] } {
  const grid = (lo: number, hi: number, n: number) => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / n);
  const xs = Float32Array.from([...grid(-12, 12, 24000), ...grid(-1, 1, 16000), ...grid(-0.01, 0.01, 4000)]);
  const n = xs.length;
  const base = (k.heapBase() + 15) & ~15;
  const need = base + 8 * n - k.memory.buffer.byteLength;
  if (need > 0) k.memory.grow(Math.ceil(need / 65536));
  const refs: Record<string, [number, (x: number) => number]> = { sigmoid: [2, (x) => 1 / (1 + Math.exp(-x))], tanh: [3, Math.tanh] };
  const errors: Record<string, { worst: number; meanSigned: number }> = {};
  for (const [name, [id, fn]] of Object.entries(refs)) {
    new Float32Array(k.memory.buffer, base, n).set(xs);
    k.applyActivation(id, base, base + 4 * n, n);
    const got = new Float32Array(k.memory.buffer, base + 4 * n, n);
    let worst = 0;
    let signedSum = 0;
    for (let i = 0; i < n; i++) {
      const want = fn(xs[i]!);
      const e = (got[i]! - want) / ulp32(want);
      worst = Math.max(worst, Math.abs(e));
      signedSum += xs[i]! > 0 ? e : -e;
    }
    errors[name] = { worst, meanSigned: signedSum / n };
  }
  const special = Float32Array.from([NaN, Infinity, -Infinity, 0]);
  const at = (id: number): number[] => {
    new Float32Array(k.memory.buffer, base, 4).set(special);
    k.applyActivation(id, base, base + 16, 4);
    return Array.from(new Float32Array(k.memory.buffer, base + 16, 4));
  };
  return { errors, tanhSpecial: at(3), sigmoidSpecial: at(2) };
}
