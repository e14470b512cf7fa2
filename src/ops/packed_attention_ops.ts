/**
 * Attention whose cost follows the real tokens. Rows of a batch are grouped
 * by the window of their valid queries and keys, each group is gathered into
 * a compact [G, Wq] x [G, Wk] block (sliced to its own window, so a pre- or
 * post-padded row costs the same), attention runs per group, and the results
 * are scattered back. Query positions with no attention work (masked query,
 * or no valid key) take a per-row fallback (Keras's uniform attention, or 0).
 * Masked keys outside a window contribute exactly 0 to a softmax whose row
 * has a valid entry, so the result equals the dense computation.
 *
 * What padding still costs is a few passes over the padded batch, written
 * in JavaScript on the tensors in place on the wasm and cpu backends: the
 * fallback's mean over all steps (read with the gather, in one op; for an
 * Embedding's own output read from its table by the ids, so the padded
 * steps are one cached row), the assembled output (one write), and in
 * training one write of the input's gradient; every other op works on the
 * real tokens only.
 */
import { tf } from '../runtime/tfjs.js';
import { f32, knownNonzeroRows, markSparseRows, onCpuMemoryBackend, sliceRowsFast, wasmHeapOffset, writeTensor } from './heap_view.js';
import { heapOps } from './heap_ops.js';
import { forEachRun } from './mask_ops.js';
import { tableRowsOf } from './lookup_source.js';

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
  /** Return a plan even when it does not save work over the dense computation (the caller's packed path is the faster one). */
  force?: boolean;
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
  const banded = causal || w !== null;
  for (let r = 0; r < b; r++) {
    if (!banded) {
      // Every query of the row sees the same keys: its window is its valid queries, and padded queries take the fallback.
      const span = unbandedRow(r, a);
      if (span !== null) rows.push(span);
      continue;
    }
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
  // Partition rows (sorted by key window, then query window) into contiguous
  // groups. Cuts are only considered between rows of different windows:
  // splitting a run of equal windows never lowers the cost (each part costs
  // what its rows cost in the whole, plus a group), and a batch sorted by
  // length has few runs.
  rows.sort((x, y) => y.wk - x.wk || y.wq - x.wq);
  const n = rows.length;
  const ends: number[] = [0];
  for (let i = 1; i <= n; i++) if (i === n || rows[i]!.wk !== rows[i - 1]!.wk || rows[i]!.wq !== rows[i - 1]!.wq) ends.push(i);
  const best = new Float64Array(n + 1);
  const cut = new Int32Array(n + 1);
  for (let e = 1; e < ends.length; e++) {
    const i = ends[e]!;
    best[i] = Infinity;
    let wq = 0;
    let wk = 0;
    for (let f = e - 1; f >= 0; f--) {
      const j = ends[f]!;
      // Rows j .. ends[f + 1] - 1 share one window: the first of them has it.
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
  if (cost >= denseCost && packingMode !== 'always' && a.force !== true) return null;
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

/**
 * Row r's query and key windows when no causal or sliding-window band
 * applies (each valid query sees every valid key of its row), found by
 * scanning the masks natively (indexOf); null when no query of the row is
 * computed (none valid, or no valid key with noKey 'fallback'). Positions
 * outside the valid queries take the fallback.
 */
function unbandedRow(r: number, a: PlanArgs): { row: number; qf: number; wq: number; kf: number; wk: number } | null {
  const { t, s, qValid, kValid } = a;
  const [qf, ql] = qValid === null ? [0, t - 1] : validSpan(qValid, r * t, t);
  if (qf < 0) return null;
  const [kf, kl] = kValid === null ? [0, s - 1] : validSpan(kValid, r * s, s);
  if (kf < 0) return a.noKey === 'fallback' ? null : { row: r, qf, wq: ql - qf + 1, kf: 0, wk: s };
  return { row: r, qf, wq: ql - qf + 1, kf, wk: kl - kf + 1 };
}

/** The first and last index (relative to `start`) of a 1 in valid[start, start + n), or [-1, -1]. */
function validSpan(valid: Uint8Array, start: number, n: number): [number, number] {
  const first = valid.indexOf(1, start);
  if (first < 0 || first >= start + n) return [-1, -1];
  return [first - start, valid.lastIndexOf(1, start + n - 1) - start];
}

function makeGroup(members: { row: number; qf: number; wq: number; kf: number; wk: number }[], a: PlanArgs): AttentionGroup {
  let wq = 0;
  let wk = 0;
  for (const m of members) {
    wq = Math.max(wq, m.wq);
    wk = Math.max(wk, m.wk);
  }
  const qStart = members.map((m) => Math.min(m.qf, a.t - wq));
  const kStart = members.map((m) => Math.min(m.kf, a.s - wk));
  const mask = new Uint8Array(members.length * wq * wk);
  const { kValid, causal, slidingWindow: w, s } = a;
  const banded = causal || w !== null;
  for (let g = 0; g < members.length; g++) {
    const k0 = kStart[g]!;
    const keys = members[g]!.row * s + k0;
    const first = g * wq * wk;
    // The key validity of this row's window, the same for each of its queries.
    for (let j = 0; j < wk; j++) mask[first + j] = kValid === null || kValid[keys + j] === 1 ? 1 : 0;
    for (let i = 1; i < wq; i++) mask.copyWithin(first + i * wk, first, first + wk);
    if (!banded) continue;
    for (let i = 0; i < wq; i++) {
      const qi = qStart[g]! + i;
      const o = first + i * wk;
      for (let j = 0; j < wk; j++) {
        const kj = k0 + j;
        if ((causal && qi < kj) || (w !== null && Math.abs(qi - kj) >= w)) mask[o + j] = 0;
      }
    }
  }
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

/** Where a group's rows are in the gathered rows: its queries from row `qRow`, its keys from row `kRow`. */
export interface GroupSpan {
  group: AttentionGroup;
  qRow: number;
  kRow: number;
}

/**
 * Every group's attention at once: `query` is the gathered query rows
 * [Nq, ...], each of `keys` the gathered key rows [Nk, ...], `spans` the
 * groups in order; returns [Nq, ...F].
 */
export type AttendAllFn = (query: tf.Tensor, keys: tf.Tensor[], spans: GroupSpan[]) => tf.Tensor;

/**
 * Row from[k] of `src` to row to[k] of `dst` for k < count (a null list
 * stands for 0, 1, 2, ...), rows of f values: one block copy per run of
 * consecutive rows on both sides (a batch row's window is one run).
 */
function copyRowRuns(src: Float32Array, dst: Float32Array, from: Int32Array | null, to: Int32Array | null, count: number, f: number): void {
  for (let k = 0; k < count; ) {
    let e = k + 1;
    while (e < count && (from === null || from[e] === from[e - 1]! + 1) && (to === null || to[e] === to[e - 1]! + 1)) e++;
    const a = (from === null ? k : from[k]!) * f;
    dst.set(src.subarray(a, a + (e - k) * f), (to === null ? k : to[k]!) * f);
    k = e;
  }
}

/**
 * Rows [start, start + size) of a float32 [M, F] tensor, differentiable.
 * On the wasm backend the rows are copied alone (tf.slice there reads the
 * whole input first, once per group) and the gradient writes dy into zeros.
 */
function sliceRows(x: tf.Tensor, start: number, size: number): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.slice(x, [start, 0], [size, x.shape[1]!]);
  const shape = x.shape;
  const f = x.shape[1]!;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: sliceRowsFast(args[0] as tf.Tensor, start, size),
    gradFunc: (dy: tf.Tensor) =>
      writeTensor(shape, 'float32', (out) => {
        out.fill(0);
        out.set(f32(dy), start * f);
      }),
  }))(x);
}

/**
 * Rows `idx` of `x` read as [M, F] rows of its last axis (F = the product
 * of its axes after the first two), and with `withMean` then the B rows of
 * its mean over axis 1 (x is [B, S, ...]): an [N (+ B), F] tensor. On the
 * wasm and cpu backends it is written in JavaScript, reading `x` in place,
 * and so is its gradient, in one tensor: zeros, the mean rows' gradient
 * (dy / S at every step of the row, skipped when it is zero), and the
 * gathered rows' gradients added in. When the mean's gradient is zero the
 * result is marked as zero outside the gathered rows, so that the Embedding
 * gradient visits the real tokens only. The same float32 values as
 * tf.gather, tf.mean (each (row, feature) summed in step order, then one
 * division) and their gradients. Elsewhere the tfjs ops.
 */
export function gatherRowsAndMean(x: tf.Tensor, idx: Int32Array, withMean: boolean): tf.Tensor {
  const [b, s] = x.shape as [number, number];
  const f = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const n = idx.length;
  // (The cpu backend's tf.mean divides before it sums: its numbers differ, so it keeps the tfjs ops.)
  if (!onCpuMemoryBackend() || x.dtype !== 'float32' || (withMean && tf.getBackend() !== 'wasm')) {
    return tf.tidy(() => {
      const rows = gatherRows(tf.reshape(x, [b * s, f]), tf.tensor1d(idx, 'int32'));
      return withMean ? tf.concat([rows, tf.reshape(tf.mean(x, 1), [b, f])], 0) : rows;
    });
  }
  const shape = x.shape;
  const forward = (xt: tf.Tensor) => {
    // An embedding lookup's output is read for its mean from its table by
    // the ids (the same values): its padded steps are one table row, read
    // from cache, not a pass over the padded batch. The ids go into the
    // heap before the output is allocated (an allocation may move the heap).
    const ops = withMean ? heapOps() : null;
    const source = ops !== null ? tableRowsOf(xt, b * s, f) : null;
    const ids = source === null ? null : writeTensor([b * s], 'int32', (o) => o.set(source.ids));
    try {
      return writeTensor([n + (withMean ? b : 0), f], 'float32', (out) => {
        const xv = f32(xt);
        copyRowRuns(xv, out, idx, null, n, f);
        if (!withMean) return;
        const xo = wasmHeapOffset(ids === null ? xt : source!.table);
        if (ops !== null && xo !== null) {
          // One SIMD pass (asm/attention_kernels.ts meanOverSteps), the same float32 sums in the same order.
          ops.meanOverSteps(xo, ids === null ? 0 : wasmHeapOffset(ids)!, b, s, f, out.byteOffset + 4 * n * f);
          return;
        }
        meanRowsJs(xv, out, n * f, b, s, f);
      });
    } finally {
      ids?.dispose();
    }
  };
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: forward(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      let dense = false;
      const dx = writeTensor(shape, 'float32', (out) => {
        const g = f32(dy);
        out.fill(0);
        if (withMean) {
          for (let r = 0; r < b; r++) {
            const o = (n + r) * f;
            let nonzero = false;
            for (let k = 0; k < f; k++) nonzero ||= g[o + k] !== 0;
            if (!nonzero) continue;
            dense = true;
            const row = out.subarray(r * s * f, r * s * f + f);
            for (let k = 0; k < f; k++) row[k] = g[o + k]! / s;
            for (let j = 1; j < s; j++) out.copyWithin((r * s + j) * f, r * s * f, r * s * f + f);
          }
        }
        if (!dense) {
          copyRowRuns(g, out, null, idx, n, f);
          return;
        }
        for (let i = 0; i < n; i++) {
          const a = idx[i]! * f;
          for (let k = 0; k < f; k++) out[a + k]! += g[i * f + k]!;
        }
      });
      if (!dense) markSparseRows(dx, idx, f);
      return dx;
    },
  }))(x);
}

/** out[o + r f + k] = the mean over the s steps of feature k of row r of x [b, s, f], summed in step order in float32. */
function meanRowsJs(xv: Float32Array, out: Float32Array, o: number, b: number, s: number, f: number): void {
  const acc = new Float32Array(f);
  const f4 = f - (f % 4);
  for (let r = 0; r < b; r++) {
    acc.fill(0);
    for (let a = r * s * f, end = (r + 1) * s * f; a < end; a += f) {
      let k = 0;
      for (; k < f4; k += 4) {
        acc[k]! += xv[a + k]!;
        acc[k + 1]! += xv[a + k + 1]!;
        acc[k + 2]! += xv[a + k + 2]!;
        acc[k + 3]! += xv[a + k + 3]!;
      }
      for (; k < f; k++) acc[k]! += xv[a + k]!;
    }
    for (let k = 0; k < f; k++) out[o + r * f + k] = acc[k]! / s;
  }
}

/**
 * The [B, T, W] output from the packed rows [N, W] and the fallback rows
 * [B, W]: packed row i goes to position dst[i] when keep[i], every position
 * that no packed row takes gets its batch row's fallback. On the wasm and
 * cpu backends written in JavaScript (one write of the output), with a
 * gradient that reads the packed rows' positions of dy and, for the
 * fallback rows, the other positions (only those that can be nonzero when
 * dy is known to be zero elsewhere). The same values as
 * scatter(packed * keep) + fallback * notPacked and its gradient.
 */
function assembleRows(packed: tf.Tensor, fb: tf.Tensor, dst: Int32Array, keep: Uint8Array, notPacked: Uint8Array, b: number, t: number): tf.Tensor {
  const w = packed.shape[1]!;
  const n = dst.length;
  if (!onCpuMemoryBackend() || packed.dtype !== 'float32' || fb.dtype !== 'float32') {
    return tf.tidy(() => {
      const kept = keep.every((k) => k === 1) ? packed : tf.mul(packed, tf.tensor2d(Float32Array.from(keep), [n, 1]));
      const scattered = tf.reshape(scatterRows(kept, tf.tensor1d(dst, 'int32'), b * t), [b, t, w]);
      return tf.add(scattered, tf.mul(tf.reshape(fb, [b, 1, w]), tf.tensor3d(Float32Array.from(notPacked), [b, t, 1])));
    });
  }
  // The packed rows that are kept, and where they go.
  let kept = 0;
  for (let i = 0; i < n; i++) kept += keep[i]!;
  const keptSrc = new Int32Array(kept);
  for (let i = 0, j = 0; i < n; i++) if (keep[i]) keptSrc[j++] = i;
  const keptDst = Int32Array.from(keptSrc, (i) => dst[i]!);
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: writeTensor([b, t, w], 'float32', (out) => {
      const pv = f32(args[0] as tf.Tensor);
      const fv = f32(args[1] as tf.Tensor);
      // Each run of positions that take the fallback: its first row, then doubling block copies.
      for (let r = 0; r < b; r++) {
        forEachRun(notPacked, 1, r * t, (r + 1) * t, (p, q) => {
          for (let k = 0; k < w; k++) out[p * w + k] = fv[r * w + k]!;
          for (let done = 1; done < q - p; ) {
            const m = Math.min(done, q - p - done);
            out.copyWithin((p + done) * w, p * w, (p + m) * w);
            done += m;
          }
        });
      }
      copyRowRuns(pv, out, keptSrc, keptDst, keptSrc.length, w);
    }),
    gradFunc: (dy: tf.Tensor) => {
      const only = knownNonzeroRows(dy, w);
      const sorted = only !== null && only.every((v, i) => i === 0 || v > only[i - 1]!);
      const dPacked = writeTensor([n, w], 'float32', (out) => {
        const g = f32(dy);
        out.fill(0);
        copyRowRuns(g, out, keptDst, keptSrc, keptSrc.length, w);
      });
      const dFb = writeTensor([b, w], 'float32', (out) => {
        const g = f32(dy);
        out.fill(0);
        const add = (p: number) => {
          if (!notPacked[p]) return;
          const o = Math.floor(p / t) * w;
          for (let k = 0; k < w; k++) out[o + k]! += g[p * w + k]!;
        };
        if (sorted) for (const p of only!) add(p);
        else for (let p = 0; p < b * t; p++) add(p);
      });
      return [dPacked, dFb];
    },
  }))(packed, fb);
}

/**
 * Runs `attend` on each group of `plan` and assembles the [B, T, ...F]
 * result; positions without work take `fallback(mean)` ([B, ...F]), where
 * `mean` is the mean over axis 1 of `meanOf` (one of `query` and `keys`,
 * or null when the fallback needs none).
 * `query` is [B, T, ...], each of `keys` is [B, S, ...]. With `attendAll`,
 * the groups are computed by one call of it on all the gathered rows
 * instead of `attend` on each group.
 */
export function packedAttention(plan: AttentionPlan, query: tf.Tensor, keys: tf.Tensor[], attend: AttendFn, fallback: (mean: tf.Tensor | null) => tf.Tensor, meanOf: tf.Tensor | null = null, attendAll: AttendAllFn | null = null): tf.Tensor {
  return tf.tidy(() => {
    const [b, t] = query.shape as [number, number];
    const s = keys[0]!.shape[1]!;
    // All groups' rows are gathered at once (one gradient into each input).
    let nq = 0;
    let nk = 0;
    for (const g of plan.groups) {
      nq += g.rows.length * g.wq;
      nk += g.rows.length * g.wk;
    }
    const qIdx = new Int32Array(nq);
    const kIdx = new Int32Array(nk);
    let qo = 0;
    let ko = 0;
    for (const g of plan.groups) {
      g.rows.forEach((r, k) => {
        for (let i = 0; i < g.wq; i++) qIdx[qo + k * g.wq + i] = r * t + g.qStart[k]! + i;
        for (let j = 0; j < g.wk; j++) kIdx[ko + k * g.wk + j] = r * s + g.kStart[k]! + j;
      });
      qo += g.rows.length * g.wq;
      ko += g.rows.length * g.wk;
    }
    // Positions no packed row takes: they need the fallback (and so its mean) only if there are any.
    // (A position is packed when its entry in plan.assemble is the packed row that gathered it: visiting the gathered rows finds them all.)
    const notPacked = new Uint8Array(b * t).fill(1);
    let packedCount = 0;
    for (let i = 0; i < nq; i++) {
      const p = qIdx[i]!;
      if (plan.assemble[p] === i) {
        notPacked[p] = 0;
        packedCount++;
      }
    }
    const needFallback = plan.groups.length === 0 || packedCount < b * t;
    // Self-attention over the same windows gathers the same rows: gather once.
    let sameRows = qIdx.length === kIdx.length;
    for (let i = 0; sameRows && i < qIdx.length; i++) sameRows = qIdx[i] === kIdx[i];
    const gathered = new Map<tf.Tensor, { rows: tf.Tensor; idx: Int32Array }>();
    let mean: tf.Tensor | null = null;
    const take = (x: tf.Tensor, idx: Int32Array): tf.Tensor => {
      const known = gathered.get(x);
      if (known !== undefined && known.idx === idx) return known.rows;
      const withMean = needFallback && meanOf === x && mean === null;
      const all = gatherRowsAndMean(x, idx, withMean);
      const f = all.shape[1]!;
      const part = withMean ? sliceRows(all, 0, idx.length) : all;
      if (withMean) mean = tf.reshape(sliceRows(all, idx.length, b), [b, ...x.shape.slice(2)]);
      gathered.set(x, { rows: part, idx });
      return part;
    };
    // The tensor whose mean is needed is gathered first, so its rows and its mean come from one op.
    const any = plan.groups.length > 0;
    const qAll = any ? take(query, qIdx) : query;
    const kAll = any ? keys.map((k) => take(k, k === query && sameRows ? qIdx : kIdx)) : [];
    const parts: tf.Tensor[] = [];
    let outShape: number[] | null = null;
    qo = 0;
    ko = 0;
    if (any && attendAll !== null) {
      const spans: GroupSpan[] = plan.groups.map((g) => {
        const span = { group: g, qRow: qo, kRow: ko };
        qo += g.rows.length * g.wq;
        ko += g.rows.length * g.wk;
        return span;
      });
      const out = attendAll(qAll, kAll, spans);
      outShape = out.shape.slice(1);
      parts.push(tf.reshape(out, [nq, -1]));
    }
    for (const g of attendAll !== null ? [] : plan.groups) {
      const n = g.rows.length;
      const qc = tf.reshape(plan.groups.length === 1 ? qAll : sliceRows(qAll, qo, n * g.wq), [n, g.wq, ...query.shape.slice(2)]);
      const kc = kAll.map((ka, m) => tf.reshape(plan.groups.length === 1 ? ka : sliceRows(ka, ko, n * g.wk), [n, g.wk, ...keys[m]!.shape.slice(2)]));
      qo += n * g.wq;
      ko += n * g.wk;
      const mask = tf.tensor3d(g.mask, [n, g.wq, g.wk], 'bool');
      const out = attend(qc, kc, mask);
      outShape = out.shape.slice(2);
      parts.push(tf.reshape(out, [n * g.wq, -1]));
    }
    if (meanOf !== null && mean === null && needFallback) mean = tf.mean(meanOf, 1);
    const fb = needFallback ? fallback(mean) : null;
    outShape = outShape ?? fb!.shape.slice(1);
    const width = outShape.reduce((x, y) => x * y, 1);
    // No position takes the fallback: it is not computed (its rows would be multiplied by 0).
    const fb2 = fb === null ? tf.zeros([b, width]) : tf.reshape(fb, [b, width]);
    if (parts.length === 0) return tf.reshape(tf.mul(tf.reshape(fb2, [b, 1, width]), tf.ones([b, t, 1])), [b, t, ...outShape]);
    // The packed rows go into place, and every other position takes its
    // row's fallback. Window rows a position does not take (a padded query
    // inside a group's window) are dropped.
    const packed = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
    const dst = qIdx;
    const keep = new Uint8Array(dst.length);
    for (let i = 0; i < dst.length; i++) keep[i] = plan.assemble[dst[i]!] === i ? 1 : 0;
    return tf.reshape(assembleRows(packed, fb2, dst, keep, notPacked, b, t), [b, t, ...outShape]);
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

/** Masks already read, by data id (tensor data does not change; one mask is often the query's and the value's). */
const maskReads = new WeakMap<object, Uint8Array>();

/** A [B, T] bool mask's values on the CPU (null stays null); read once per mask data, and not to be modified. */
export function maskValues(mask: tf.Tensor | null): Uint8Array | null {
  if (mask === null) return null;
  const known = maskReads.get(mask.dataId);
  if (known !== undefined) return known;
  const d = mask.dataSync() as Uint8Array | Int32Array;
  const values = d instanceof Uint8Array ? d : Uint8Array.from(d);
  maskReads.set(mask.dataId, values);
  return values;
}

/** True when `mask` is null or all true (read back to the CPU). */
export function allValid(mask: tf.Tensor | null): boolean {
  return mask === null || maskValues(mask)!.every((v) => v !== 0);
}
