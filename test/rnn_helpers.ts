/**
 * Helpers for the recurrent-layer tests: seeded random weights and data,
 * padding rows into a batch, and Keras's rule for where a row's valid step
 * outputs land in a masked output sequence.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { tf, MasqueError, LSTM, GRU, SimpleRNN, type Layer, type CallArgs, type RNNLayer } from '../src/index.js';

export const KINDS = ['simple_rnn', 'lstm', 'gru', 'gru_reset_before'] as const;
export type Kind = (typeof KINDS)[number];

/** A recurrent layer of the given kind ('gru_reset_before' is GRU with resetAfter: false). */
export function makeRnn(kind: Kind, opts: Record<string, unknown>): RNNLayer {
  const units = opts['units'] as number;
  switch (kind) {
    case 'simple_rnn':
      return new SimpleRNN({ ...opts, units });
    case 'lstm':
      return new LSTM({ ...opts, units });
    case 'gru':
      return new GRU({ ...opts, units });
    case 'gru_reset_before':
      return new GRU({ ...opts, units, resetAfter: false });
  }
}

import { rng } from './helpers.js';

export { rng };
export { expectCode } from './helpers.js';

/** Standard normal samples from a uniform PRNG. */
export function normals(r: () => number, n: number, scale = 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out.push(scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()));
  }
  return out;
}

/** Sets every weight of `layer` to normal(0, scale) draws (Keras cases use 0.5). */
export function randomizeWeights(layer: Layer<CallArgs, boolean>, seed: number, scale = 0.5): void {
  const r = rng(seed);
  layer.setWeights(layer.weights.map((w) => normals(r, w.shape.reduce((a, b) => a * b, 1), scale)));
}

export type Layout = 'pre' | 'post' | 'holes';

/**
 * Places each row's steps (rows[i] is [L_i][F]) into a [B, T, F] batch with
 * a [B, T] mask. 'pre'/'post' pad on one side; 'holes' scatters the valid
 * steps in order among T positions (chosen by `r`). Padded steps hold junk
 * values (`fill`), which a correct layer must ignore. `features` is needed
 * when every row may be empty.
 */
export function padRows(rows: number[][][], t: number, layout: Layout, r: () => number, fill = 7.5, features?: number): { x: number[][][]; mask: boolean[][] } {
  const f = features ?? rows.find((row) => row.length > 0)?.[0]?.length ?? 1;
  const x: number[][][] = [];
  const mask: boolean[][] = [];
  for (const row of rows) {
    const m = new Array<boolean>(t).fill(false);
    if (layout === 'post') for (let k = 0; k < row.length; k++) m[k] = true;
    else if (layout === 'pre') for (let k = 0; k < row.length; k++) m[t - row.length + k] = true;
    else {
      const pos = Array.from({ length: t }, (_, k) => k).sort(() => r() - 0.5).slice(0, row.length).sort((a, b) => a - b);
      for (const p of pos) m[p] = true;
    }
    let k = 0;
    x.push(m.map((v) => (v ? row[k++]! : new Array<number>(f).fill(fill))));
    mask.push(m);
  }
  return { x, mask };
}

/**
 * Keras 3.15.1's masked output sequence for one row, built from the outputs
 * of its valid steps (`valid[j]` is the output of the j-th valid step in
 * processing order): steps are processed forwards (or backwards); a masked
 * step repeats the previous output (the initial h before the first valid
 * step), or is zero with `zeroOutputForMask`. Returned in processing order.
 */
export function kerasSequence(mask: boolean[], valid: number[][], h0: number[], goBackwards: boolean, zeroOutputForMask: boolean): number[][] {
  const order = mask.map((_, k) => k);
  if (goBackwards) order.reverse();
  let prev = h0;
  let j = 0;
  return order.map((s) => {
    if (mask[s]) {
      prev = valid[j++]!;
      return prev;
    }
    return zeroOutputForMask ? h0.map(() => 0) : prev;
  });
}

/** Asserts two nested number arrays are equal within `tol * max(1, |want|)`. */
export function assertClose(got: unknown, want: unknown, tol: number, what: string): void {
  const g = (got as number[]).flat(Infinity as 1) as unknown as number[];
  const w = (want as number[]).flat(Infinity as 1) as unknown as number[];
  assert.equal(g.length, w.length, `${what}: ${g.length} values, expected ${w.length}`);
  for (let i = 0; i < g.length; i++) {
    const d = Math.abs(g[i]! - w[i]!);
    if (!(d <= tol * Math.max(1, Math.abs(w[i]!)))) assert.fail(`${what}: value ${i} is ${g[i]}, expected ${w[i]} (diff ${d})`);
  }
}


/** Nested arrays of a tensor (bools as booleans). */
export function rowsOf(t: tf.Tensor): unknown {
  const toBool = (x: unknown): unknown => (Array.isArray(x) ? x.map(toBool) : x === 1 || x === true);
  return t.dtype === 'bool' ? toBool(t.arraySync()) : t.arraySync();
}

/** The options a padding-invariance property draws for a recurrent layer (with the layer kind beside them). */
export interface RnnSetup {
  units: number;
  features: number;
  lengths: number[];
  extra: number;
  layout: Layout;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  zeroOutputForMask: boolean;
  initialState: boolean;
  seed: number;
}

/** fast-check arbitraries of every RnnSetup field, to spread into fc.record with the kind. */
export const RNN_SETUP_ARBS: { [K in keyof RnnSetup]: fc.Arbitrary<RnnSetup[K]> } = {
  units: fc.integer({ min: 1, max: 3 }),
  features: fc.integer({ min: 1, max: 3 }),
  lengths: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }),
  extra: fc.integer({ min: 0, max: 4 }),
  layout: fc.constantFrom<Layout>('pre', 'post', 'holes'),
  returnSequences: fc.boolean(),
  returnState: fc.boolean(),
  goBackwards: fc.boolean(),
  zeroOutputForMask: fc.boolean(),
  initialState: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
};
