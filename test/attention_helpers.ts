/**
 * Helpers for the attention, pooling and merge tests: seeded data, padding
 * rows into a batch (pre, post, or with holes) with garbage or NaN in the
 * padding, and tolerant comparison.
 */
import assert from 'node:assert/strict';
import { tf, MasqueError } from '../src/index.js';

export { rng, normals, expectCode } from './helpers.js';


export type Layout = 'pre' | 'post' | 'holes';
export type Garbage = 'random' | 'nan' | 'inf';

export interface Padded {
  /** [B, T, F] flat. */
  x: number[];
  /** [B, T] flat. */
  mask: boolean[];
  /** For each row, the positions of its valid steps, in order. */
  positions: number[][];
}

/** Pads rows (row -> steps -> features) to length `t` with the given layout and garbage in the padding. */
export function padRows(rows: number[][][], t: number, layout: Layout, r: () => number, f: number, garbage: Garbage = 'random'): Padded {
  const x: number[] = [];
  const mask: boolean[] = [];
  const positions: number[][] = [];
  for (const row of rows) {
    const l = row.length;
    let pos: number[];
    if (layout === 'post') pos = Array.from({ length: l }, (_, i) => i);
    else if (layout === 'pre') pos = Array.from({ length: l }, (_, i) => t - l + i);
    else {
      const all = Array.from({ length: t }, (_, i) => i);
      for (let i = t - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      pos = all.slice(0, l).sort((a, b) => a - b);
    }
    positions.push(pos);
    const at = new Map(pos.map((p, i) => [p, i]));
    for (let s = 0; s < t; s++) {
      const i = at.get(s);
      mask.push(i !== undefined);
      if (i !== undefined) x.push(...row[i]!);
      else x.push(...Array.from({ length: f }, () => (garbage === 'nan' ? NaN : garbage === 'inf' ? Infinity : 100 * (r() - 0.5))));
    }
  }
  return { x, mask, positions };
}

/** Asserts |a - b| <= tol * max(1, |b|) elementwise, naming `what`. */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} != ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (!(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)))) assert.fail(`${what}: element ${i} is ${a}, expected ${b}`);
  }
}

/** The rows of a [B, T, F] array at the given positions, flattened in order. */
export function pick(values: ArrayLike<number>, row: number, positions: number[], t: number, f: number): number[] {
  const out: number[] = [];
  for (const p of positions) for (let k = 0; k < f; k++) out.push(values[(row * t + p) * f + k]!);
  return out;
}


/** A bool [B, T] tensor from row lengths (post-padded). */
export function lengthMask(lengths: number[], t: number): tf.Tensor {
  return tf.tensor2d(lengths.flatMap((l) => Array.from({ length: t }, (_, i) => i < l)), [lengths.length, t], 'bool');
}
