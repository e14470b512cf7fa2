/**
 * Attention whose cost follows the real tokens. Rows of a batch are grouped
 * by the window of their valid queries and keys, each group is gathered into
 * a compact [G, Wq] x [G, Wk] block (sliced to its own window, so a pre- or
 * post-padded row costs the same), attention runs per group, and the results
 * are scattered back. Query positions with no attention work (masked query,
 * or no valid key) take a per-row fallback (Keras's uniform attention, or 0).
 * Masked keys outside a window contribute exactly 0 to a softmax whose row
 * has a valid entry, so the result equals the dense computation.
 */
import { tf } from '../runtime/tfjs.js';

export type PackingMode = 'auto' | 'always' | 'never';
let packingMode: PackingMode = 'auto';

/**
 * 'auto' packs when the cost model says it saves work; 'always' packs every
 * masked batch into as many groups as there are distinct windows (tests use
 * it to compare the packed and dense paths); 'never' always runs dense.
 * Returns the previous mode.
 */
export function setAttentionPacking(mode: PackingMode): PackingMode {
  const prev = packingMode;
  packingMode = mode;
  return prev;
}

/** Relative costs, in multiply-adds, used to choose the groups. */
export interface AttentionCosts {
  /** Per (query, key) pair. */
  pair: number;
  /** Per gathered query or key token (projections). */
  token: number;
  /** Fixed cost of one group (op overheads), in the same units. */
  group: number;
}

export interface PlanArgs {
  b: number;
  t: number;
  s: number;
  /** [B*T] 1 = valid query, or null (all valid). */
  qValid: Uint8Array | null;
  /** [B*S] 1 = valid key, or null (all valid). */
  kValid: Uint8Array | null;
  causal: boolean;
  slidingWindow: number | null;
  /**
   * A valid query with no valid key: 'fallback' takes the fallback row
   * (right for MHA, whose such rows attend uniformly to all S keys);
   * 'full' computes that batch row over its full key range (Attention's
   * `scores - 1e9` is not exactly uniform).
   */
  noKey: 'fallback' | 'full';
  costs: AttentionCosts;
}

export interface AttentionGroup {
  rows: number[];
  wq: number;
  wk: number;
  qStart: number[];
  kStart: number[];
  /** [G*Wq*Wk] 1 = key may be attended (key valid, causal, window); query validity is not included. */
  mask: Uint8Array;
}

export interface AttentionPlan {
  groups: AttentionGroup[];
  /** [B*T] index into the concatenation [group outputs..., fallback rows]. */
  assemble: Int32Array;
  /** Estimated work of this plan and of the dense computation (same units). */
  cost: number;
  denseCost: number;
}

/**
 * Chooses groups of rows and their windows. Returns null when packing would
 * not save work (no masks, or every row spans the whole length).
 */
export function planPackedAttention(a: PlanArgs): AttentionPlan | null {
  if (packingMode === 'never') return null;
  const { b, t, s, qValid, kValid, causal, slidingWindow: w } = a;
  const costs = packingMode === 'always' ? { ...a.costs, group: 0 } : a.costs;
  const fallbackAt = new Uint8Array(b * t);
  const rows: { row: number; qf: number; wq: number; kf: number; wk: number }[] = [];
  const prefix = new Int32Array(s + 1);
  for (let r = 0; r < b; r++) {
    for (let j = 0; j < s; j++) prefix[j + 1] = prefix[j]! + (kValid === null || kValid[r * s + j] ? 1 : 0);
    let qf = -1;
    let ql = -1;
    let full = false;
    for (let i = 0; i < t; i++) {
      if (qValid !== null && !qValid[r * t + i]) {
        fallbackAt[r * t + i] = 1;
        continue;
      }
      let lo = 0;
      let hi = s - 1;
      if (causal) hi = Math.min(hi, i);
      if (w !== null) {
        lo = Math.max(lo, i - w + 1);
        hi = Math.min(hi, i + w - 1);
      }
      if (lo > hi || prefix[hi + 1]! - prefix[lo]! === 0) {
        if (a.noKey === 'fallback') {
          fallbackAt[r * t + i] = 1;
          continue;
        }
        full = true;
      }
      if (qf < 0) qf = i;
      ql = i;
    }
    if (qf < 0) continue;
    let kf = 0;
    let kl = s - 1;
    if (!full) {
      while (kf < s && !(kValid === null || kValid[r * s + kf])) kf++;
      while (kl > kf && !(kValid === null || kValid[r * s + kl])) kl--;
    }
    rows.push({ row: r, qf, wq: ql - qf + 1, kf, wk: kl - kf + 1 });
  }
  const denseCost = b * (t * s * costs.pair + (t + s) * costs.token) + costs.group;
  // Partition rows (sorted by key window, then query window) into contiguous groups.
  rows.sort((x, y) => y.wk - x.wk || y.wq - x.wq);
  const n = rows.length;
  const best = new Float64Array(n + 1);
  const cut = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    best[i] = Infinity;
    let wq = 0;
    let wk = 0;
    for (let j = i - 1; j >= 0; j--) {
      wq = Math.max(wq, rows[j]!.wq);
      wk = Math.max(wk, rows[j]!.wk);
      const g = i - j;
      const c = best[j]! + g * (wq * wk * costs.pair + (wq + wk) * costs.token) + costs.group;
      if (c < best[i]!) {
        best[i] = c;
        cut[i] = j;
      }
    }
  }
  const cost = best[n]! + costs.group; // + gathering and assembling
  if (cost >= denseCost && packingMode !== 'always') return null;
  const groups: AttentionGroup[] = [];
  for (let i = n; i > 0; i = cut[i]!) groups.unshift(makeGroup(rows.slice(cut[i]!, i), a));
  const assemble = new Int32Array(b * t);
  let offset = 0;
  for (const g of groups) offset += g.rows.length * g.wq;
  for (let r = 0; r < b; r++) assemble.fill(offset + r, r * t, (r + 1) * t);
  offset = 0;
  for (const g of groups) {
    g.rows.forEach((r, k) => {
      for (let i = 0; i < g.wq; i++) {
        const pos = r * t + g.qStart[k]! + i;
        if (!fallbackAt[pos] && (qValid === null || qValid[pos])) assemble[pos] = offset + k * g.wq + i;
      }
    });
    offset += g.rows.length * g.wq;
  }
  return { groups, assemble, cost, denseCost };
}

function makeGroup(members: { row: number; qf: number; wq: number; kf: number; wk: number }[], a: PlanArgs): AttentionGroup {
  const wq = Math.max(...members.map((m) => m.wq));
  const wk = Math.max(...members.map((m) => m.wk));
  const qStart = members.map((m) => Math.min(m.qf, a.t - wq));
  const kStart = members.map((m) => Math.min(m.kf, a.s - wk));
  const mask = new Uint8Array(members.length * wq * wk);
  members.forEach((m, g) => {
    for (let i = 0; i < wq; i++) {
      const qi = qStart[g]! + i;
      for (let j = 0; j < wk; j++) {
        const kj = kStart[g]! + j;
        const ok =
          (a.kValid === null || a.kValid[m.row * a.s + kj] === 1) &&
          (!a.causal || qi >= kj) &&
          (a.slidingWindow === null || Math.abs(qi - kj) < a.slidingWindow);
        mask[(g * wq + i) * wk + j] = ok ? 1 : 0;
      }
    }
  });
  return { rows: members.map((m) => m.row), wq, wk, qStart, kStart, mask };
}

/**
 * `x[indices]` along axis 0, with a gradient that works on every backend
 * (tfjs's gather gradient needs UnsortedSegmentSum, which wasm lacks):
 * the gradient scatters and sums into the gathered rows.
 */
export function gatherRows(x: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xv = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([indices]);
    return {
      value: tf.gather(xv, indices),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(tf.expandDims(saved[0]!, 1), dy, xv.shape),
    };
  });
  return f(x);
}

/** One group's attention: q [G, Wq, ...], keys [G, Wk, ...], mask [G, Wq, Wk] bool; returns [G, Wq, ...F]. */
export type AttendFn = (query: tf.Tensor, keys: tf.Tensor[], mask: tf.Tensor) => tf.Tensor;

/**
 * Runs `attend` on each group of `plan` and assembles the [B, T, ...F]
 * result; positions without work take `fallback()` ([B, ...F]).
 * `query` is [B, T, ...], each of `keys` is [B, S, ...].
 */
export function packedAttention(plan: AttentionPlan, query: tf.Tensor, keys: tf.Tensor[], attend: AttendFn, fallback: () => tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [b, t] = query.shape as [number, number];
    const s = keys[0]!.shape[1]!;
    const flatQ = tf.reshape(query, [b * t, ...query.shape.slice(2)]);
    const flatK = keys.map((k) => tf.reshape(k, [b * s, ...k.shape.slice(2)]));
    const parts: tf.Tensor[] = [];
    let outShape: number[] | null = null;
    for (const g of plan.groups) {
      const n = g.rows.length;
      const qIdx = new Int32Array(n * g.wq);
      const kIdx = new Int32Array(n * g.wk);
      g.rows.forEach((r, k) => {
        for (let i = 0; i < g.wq; i++) qIdx[k * g.wq + i] = r * t + g.qStart[k]! + i;
        for (let j = 0; j < g.wk; j++) kIdx[k * g.wk + j] = r * s + g.kStart[k]! + j;
      });
      const qi = tf.tensor1d(qIdx, 'int32');
      const ki = tf.tensor1d(kIdx, 'int32');
      const qRows = gatherRows(flatQ, qi);
      // Self-attention over the same window gathers the same rows: gather once.
      const sameRows = qIdx.length === kIdx.length && qIdx.every((v, i) => v === kIdx[i]);
      const qc = tf.reshape(qRows, [n, g.wq, ...query.shape.slice(2)]);
      const kc = flatK.map((fk, m) => tf.reshape(sameRows && keys[m] === query ? qRows : gatherRows(fk, ki), [n, g.wk, ...keys[m]!.shape.slice(2)]));
      const mask = tf.tensor3d(g.mask, [n, g.wq, g.wk], 'bool');
      const out = attend(qc, kc, mask);
      outShape = out.shape.slice(2);
      parts.push(tf.reshape(out, [n * g.wq, -1]));
    }
    const fb = fallback();
    outShape = outShape ?? fb.shape.slice(1);
    const width = outShape.reduce((x, y) => x * y, 1);
    const fb3 = tf.reshape(fb, [b, 1, width]);
    if (parts.length === 0) return tf.reshape(tf.mul(fb3, tf.ones([b, t, 1])), [b, t, ...outShape]);
    // The packed rows are scattered into place (a scatter of the real tokens
    // is far cheaper on wasm than a gather of all B*T positions), and every
    // other position takes its row's fallback: kept rows scattered + fallback
    // * (not packed). Window rows a position does not take (a padded query
    // inside a group's window) are zeroed first; every value is finite (the
    // inputs' padding is guarded), so each sum has exactly one nonzero term.
    const packed = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
    const rows = packed.shape[0]!;
    const dst = new Int32Array(rows);
    let offset = 0;
    for (const g of plan.groups) {
      g.rows.forEach((r, k) => {
        for (let i = 0; i < g.wq; i++) dst[offset + k * g.wq + i] = r * t + g.qStart[k]! + i;
      });
      offset += g.rows.length * g.wq;
    }
    const notPacked = Float32Array.from(plan.assemble, (a) => (a < rows ? 0 : 1));
    const keep = Float32Array.from(dst, (pos, src) => (plan.assemble[pos] === src ? 1 : 0));
    const kept = keep.every((k) => k === 1) ? packed : tf.mul(packed, tf.tensor2d(keep, [rows, 1]));
    const scattered = tf.reshape(scatterRows(kept, tf.tensor1d(dst, 'int32'), b * t), [b, t, width]);
    const out = tf.add(scattered, tf.mul(fb3, tf.tensor3d(notPacked, [b, t, 1])));
    return tf.reshape(out, [b, t, ...outShape]);
  });
}

/**
 * Rows of `x` written to rows `indices` of a zero [n, ...] tensor (indices
 * distinct), with a gradient that gathers them back.
 */
export function scatterRows(x: tf.Tensor, indices: tf.Tensor, n: number): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xv = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([indices]);
    return {
      value: tf.scatterND(tf.expandDims(indices, 1), xv, [n, ...xv.shape.slice(1)]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.gather(dy, saved[0]!),
    };
  });
  return f(x);
}

/** A [B, T] bool mask's values on the CPU (null stays null). */
export function maskValues(mask: tf.Tensor | null): Uint8Array | null {
  if (mask === null) return null;
  const d = mask.dataSync() as Uint8Array | Int32Array;
  return d instanceof Uint8Array ? d : Uint8Array.from(d);
}

/** True when `mask` is null or all true (read back to the CPU). */
export function allValid(mask: tf.Tensor | null): boolean {
  return mask === null || maskValues(mask)!.every((v) => v !== 0);
}
