/**
 * Float64 references of the normalization departures (docs/keras.md):
 * GroupNormalization and UnitNormalization with moments over valid
 * positions only, and training-mode BatchNormalization (Keras's masked
 * moments, `sum(x·m) / (sum(m) + 1e-7)`, with the moving statistics after
 * the call), which Keras cannot run on one channel. Test code only: plain
 * loops over Float64Arrays, written from the formulas of
 * keras/src/layers/normalization/*.py (v3.15.1).
 */
import type { Arr64 } from './reference64.js';

/** Whether flat position `i` of an array of `shape` is valid under `mask` (over the leading dims), or true without one. */
function validAt(mask: boolean[] | null, maskShape: number[], shape: number[], i: number): boolean {
  if (mask === null) return true;
  const inner = shape.slice(maskShape.length).reduce((p, q) => p * q, 1);
  return mask[Math.floor(i / inner)]!;
}

/** Index of position `i` along each dim of `shape`. */
function coords(shape: number[], i: number): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return out;
}

/** Positions grouped by `key(coords)`. */
function groupBy(shape: number[], key: (c: number[]) => string): Map<string, number[]> {
  const size = shape.reduce((p, q) => p * q, 1);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < size; i++) {
    const k = key(coords(shape, i));
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(i);
  }
  return groups;
}

/** Mean and variance of the valid members (divided by count + offset); none valid: 0 and 0. */
function moments(x: Float64Array, members: number[], valid: (i: number) => boolean, offset: number): [number, number] {
  const v = members.filter(valid);
  const n = v.length + offset;
  if (n === 0) return [0, 0];
  const mean = v.reduce((s, i) => s + x[i]!, 0) / n;
  return [mean, v.reduce((s, i) => s + (x[i]! - mean) ** 2, 0) / n];
}

export interface GroupNormSpec {
  groups: number;
  axis: number;
  epsilon: number;
}

/** GroupNormalization with moments over the valid positions of each (sample, group). */
export function groupNorm64(spec: GroupNormSpec, x: Arr64, mask: boolean[] | null, maskShape: number[], gamma: Arr64 | null, beta: Arr64 | null): Arr64 {
  const shape = x.shape;
  const axis = spec.axis < 0 ? spec.axis + shape.length : spec.axis;
  const channels = shape[axis]!;
  const groups = spec.groups === -1 ? channels : spec.groups;
  const per = channels / groups;
  const out = new Float64Array(x.data.length);
  for (const members of groupBy(shape, (c) => `${c[0]}/${Math.floor(c[axis]! / per)}`).values()) {
    const [mean, variance] = moments(x.data, members, (i) => validAt(mask, maskShape, shape, i), 0);
    const inv = 1 / Math.sqrt(variance + spec.epsilon);
    for (const i of members) {
      const ch = coords(shape, i)[axis]!;
      out[i] = (x.data[i]! - mean) * inv * (gamma ? gamma.data[ch]! : 1) + (beta ? beta.data[ch]! : 0);
    }
  }
  return { shape, data: out };
}

/** UnitNormalization: x · min(1/sqrt(sum of the valid x² over `axes`), 1e12). */
export function unitNorm64(axes: number[], x: Arr64, mask: boolean[] | null, maskShape: number[]): Arr64 {
  const shape = x.shape;
  const pos = axes.map((a) => (a < 0 ? a + shape.length : a));
  const out = new Float64Array(x.data.length);
  for (const members of groupBy(shape, (c) => c.map((v, d) => (pos.includes(d) ? '*' : v)).join('/')).values()) {
    const s = members.filter((i) => validAt(mask, maskShape, shape, i)).reduce((t, i) => t + x.data[i]! ** 2, 0);
    const inv = s > 0 ? Math.min(1 / Math.sqrt(s), Math.fround(1e12)) : Math.fround(1e12);
    for (const i of members) out[i] = x.data[i]! * inv;
  }
  return { shape, data: out };
}

export interface BatchNormSpec {
  axis: number;
  momentum: number;
  epsilon: number;
}

export interface BatchNormState {
  gamma: Arr64 | null;
  beta: Arr64 | null;
  movingMean: Arr64;
  movingVariance: Arr64;
}

/**
 * Training-mode BatchNormalization (no renorm): the batch moments of each
 * channel over its valid positions (Keras's count offset 1e-7 with a mask),
 * the normalized output, and the moving statistics after the call.
 */
export function batchNormTraining64(spec: BatchNormSpec, x: Arr64, mask: boolean[] | null, maskShape: number[], s: BatchNormState): { y: Arr64; movingMean: Float64Array; movingVariance: Float64Array } {
  const shape = x.shape;
  const axis = spec.axis < 0 ? spec.axis + shape.length : spec.axis;
  const channels = shape[axis]!;
  const y = new Float64Array(x.data.length);
  const movingMean = new Float64Array(channels);
  const movingVariance = new Float64Array(channels);
  for (const members of groupBy(shape, (c) => String(c[axis])).values()) {
    const ch = coords(shape, members[0]!)[axis]!;
    const [mean, variance] = moments(x.data, members, (i) => validAt(mask, maskShape, shape, i), mask === null ? 0 : 1e-7);
    const inv = 1 / Math.sqrt(variance + spec.epsilon);
    for (const i of members) y[i] = (x.data[i]! - mean) * inv * (s.gamma ? s.gamma.data[ch]! : 1) + (s.beta ? s.beta.data[ch]! : 0);
    movingMean[ch] = s.movingMean.data[ch]! * spec.momentum + mean * (1 - spec.momentum);
    movingVariance[ch] = s.movingVariance.data[ch]! * spec.momentum + variance * (1 - spec.momentum);
  }
  return { y: { shape, data: y }, movingMean, movingVariance };
}
