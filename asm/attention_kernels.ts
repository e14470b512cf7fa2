// Inference kernels of the attention and normalization layers, on the tfjs
// wasm backend's heap (exported through asm/heap_ops.ts, so the same rules
// hold: no static data, no allocation; every pointer is a byte offset of a
// buffer the caller owns). Each has a plain tfjs reference that the tests
// compare it against (src/ops/fused_attention_ops.test.ts).

import { vexp } from './simd_math';

@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * Four logits (acc * scale) of keys j..j+3 of a query whose mask row is m
 * (keys at or past wk, and masked keys, become -inf), stored at w + 4 j;
 * returns them.
 */
@inline
function maskedLogits(acc: v128, sv: v128, m: usize, j: i32, wk: i32, w: usize): v128 {
  const keep = i32x4(
    j < wk && load<u8>(m + <usize>j) != 0 ? -1 : 0,
    j + 1 < wk && load<u8>(m + <usize>j + 1) != 0 ? -1 : 0,
    j + 2 < wk && load<u8>(m + <usize>j + 2) != 0 ? -1 : 0,
    j + 3 < wk && load<u8>(m + <usize>j + 3) != 0 ? -1 : 0,
  );
  const l = v128.bitselect(f32x4.mul(acc, sv), f32x4.splat(-Infinity), keep);
  v128.store(w + (<usize>j << 2), l);
  return l;
}

/**
 * Masked scaled dot-product attention of one packed group of `rows` batch
 * rows, each with `wq` queries and `wk` keys, `heads` heads of key size
 * `dk` and value size `dv`. Query (r, i) of head h is the `dk` floats at
 * q + 4 ((r wq + i) qStride + h dk); key (r, j) at k + 4 ((r wk + j) kStride
 * + h dk); value (r, j) at v + 4 ((r wk + j) vStride + h dv); the result
 * goes to out + 4 ((r wq + i) outStride + h dv). mask: u8 [rows, wq, wk],
 * 1 = key j may be attended by query i. `scratch`: (dk + 1) * wkp floats,
 * wkp = wk rounded up to a multiple of 4 (the keys of one row and head,
 * transposed, then one row of weights).
 *
 * Keras's default softmax (`dot_product_attention`): logits (q . k) * scale,
 * masked logits replaced by a huge negative number; so masked keys get
 * weight exactly 0 in a row with a valid key, and a row without one
 * attends uniformly to all wk keys.
 */
export function attendGroup(q: usize, qStride: i32, k: usize, kStride: i32, v: usize, vStride: i32, mask: usize, out: usize, outStride: i32, rows: i32, wq: i32, wk: i32, heads: i32, dk: i32, dv: i32, scale: f32, scratch: usize): void {
  const wkp = (wk + 3) & ~3;
  const kt = scratch;
  // One row of weights, each splat to four lanes.
  const w = scratch + (<usize>(dk * wkp) << 2);
  const sv = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  const dv4 = dv & ~3;
  const ktRow = <usize>wkp << 2;
  const vStep = <usize>vStride << 2;
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      // Keys of this row and head, transposed: kt[d wkp + j] (0 past wk).
      for (let j = 0; j < wkp; j++) {
        const kj = k + (<usize>((r * wk + j) * kStride + h * dk) << 2);
        let dst = kt + (<usize>j << 2);
        for (let d = 0; d < dk; d++) {
          store<f32>(dst, j < wk ? load<f32>(kj + (<usize>d << 2)) : 0);
          dst += ktRow;
        }
      }
      const vRow0 = v + (<usize>(r * wk * vStride + h * dv) << 2);
      for (let i = 0; i < wq; i++) {
        const m = mask + <usize>((r * wq + i) * wk);
        const qi = q + (<usize>((r * wq + i) * qStride + h * dk) << 2);
        // Logits of eight (then four) keys at a time, masked ones -inf, into w's first wkp floats; their maximum.
        let mxv = ninf;
        let j = 0;
        for (; j + 8 <= wkp; j += 8) {
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let kp = kt + (<usize>j << 2);
          let qp = qi;
          for (let d = 0; d < dk; d++) {
            const qd = v128.load32_splat(qp);
            a0 = f32x4.add(a0, f32x4.mul(qd, v128.load(kp)));
            a1 = f32x4.add(a1, f32x4.mul(qd, v128.load(kp, 16)));
            qp += 4;
            kp += ktRow;
          }
          mxv = f32x4.max(mxv, maskedLogits(a0, sv, m, j, wk, w));
          mxv = f32x4.max(mxv, maskedLogits(a1, sv, m, j + 4, wk, w));
        }
        for (; j < wkp; j += 4) {
          let acc = f32x4.splat(0);
          let kp = kt + (<usize>j << 2);
          let qp = qi;
          for (let d = 0; d < dk; d++) {
            acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(qp), v128.load(kp)));
            qp += 4;
            kp += ktRow;
          }
          mxv = f32x4.max(mxv, maskedLogits(acc, sv, m, j, wk, w));
        }
        const mx = Mathf.max(Mathf.max(f32x4.extract_lane(mxv, 0), f32x4.extract_lane(mxv, 1)), Mathf.max(f32x4.extract_lane(mxv, 2), f32x4.extract_lane(mxv, 3)));
        let inv: f32 = 0;
        if (mx == -Infinity) {
          // No valid key: uniform weights over all wk keys.
          const u = f32x4.splat(1.0 / <f32>wk);
          for (let j = 0; j < wkp; j += 4) v128.store(w + (<usize>j << 2), u);
          inv = 1;
        } else {
          // exp(l - max) (0 where masked, as exp(-inf)) and their sum.
          const m4 = f32x4.splat(mx);
          let sumv = f32x4.splat(0);
          for (let j = 0; j < wkp; j += 4) {
            const p = w + (<usize>j << 2);
            const l = v128.load(p);
            const e = v128.and(vexp(f32x4.sub(l, m4)), f32x4.ne(l, ninf));
            v128.store(p, e);
            sumv = f32x4.add(sumv, e);
          }
          inv = 1.0 / hsum(sumv);
        }
        // The weighted sum of the values: sixteen features at a time in four
        // accumulators over the keys (nonzero weights only), then four, then one.
        const o = out + (<usize>((r * wq + i) * outStride + h * dv) << 2);
        let d = 0;
        for (; d + 16 <= dv; d += 16) {
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0);
          let a3 = f32x4.splat(0);
          let vp = vRow0 + (<usize>d << 2);
          for (let j = 0; j < wk; j++) {
            const pj = load<f32>(w + (<usize>j << 2));
            if (pj != 0) {
              const pv = f32x4.splat(pj * inv);
              a0 = f32x4.add(a0, f32x4.mul(pv, v128.load(vp)));
              a1 = f32x4.add(a1, f32x4.mul(pv, v128.load(vp, 16)));
              a2 = f32x4.add(a2, f32x4.mul(pv, v128.load(vp, 32)));
              a3 = f32x4.add(a3, f32x4.mul(pv, v128.load(vp, 48)));
            }
            vp += vStep;
          }
          const od = o + (<usize>d << 2);
          v128.store(od, a0);
          v128.store(od, a1, 16);
          v128.store(od, a2, 32);
          v128.store(od, a3, 48);
        }
        for (; d < dv4; d += 4) {
          let acc = f32x4.splat(0);
          let vp = vRow0 + (<usize>d << 2);
          for (let j = 0; j < wk; j++) {
            const pj = load<f32>(w + (<usize>j << 2));
            if (pj != 0) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(pj * inv), v128.load(vp)));
            vp += vStep;
          }
          v128.store(o + (<usize>d << 2), acc);
        }
        for (; d < dv; d++) {
          let acc: f32 = 0;
          let vp = vRow0 + (<usize>d << 2);
          for (let j = 0; j < wk; j++) {
            acc += load<f32>(w + (<usize>j << 2)) * inv * load<f32>(vp);
            vp += vStep;
          }
          store<f32>(o + (<usize>d << 2), acc);
        }
      }
    }
  }
}

/**
 * The statistics of a row of f floats at xr, for c = its first value: lane
 * 0 the mean of x - c, lane 1 rsqrt(variance + eps), the population
 * variance of x - c taken around that mean (two passes, so nearly constant
 * rows with a large mean keep their precision).
 */
@inline
function rowStats(xr: usize, c: f32, f: i32, eps: f32): v128 {
  const f4 = f & ~3;
  const n: f32 = <f32>f;
  const cv = f32x4.splat(c);
  let acc = f32x4.splat(0);
  let d = 0;
  for (; d < f4; d += 4) acc = f32x4.add(acc, f32x4.sub(v128.load(xr + (<usize>d << 2)), cv));
  let s = hsum(acc);
  for (; d < f; d++) s += load<f32>(xr + (<usize>d << 2)) - c;
  const m: f32 = s / n;
  const mv = f32x4.splat(m);
  acc = f32x4.splat(0);
  for (d = 0; d < f4; d += 4) {
    const e = f32x4.sub(f32x4.sub(v128.load(xr + (<usize>d << 2)), cv), mv);
    acc = f32x4.add(acc, f32x4.mul(e, e));
  }
  let ss = hsum(acc);
  for (; d < f; d++) {
    const e = load<f32>(xr + (<usize>d << 2)) - c - m;
    ss += e * e;
  }
  const inv: f32 = 1.0 / Mathf.sqrt(ss / n + eps);
  return f32x4.replace_lane(f32x4.splat(m), 1, inv);
}

/**
 * Layer normalization of `rows` rows of `f` floats (x and out [rows, f]):
 * out = (x - mean) * (rsqrt(variance + eps) * gamma) + beta, with the
 * population variance of each row. The moments are those of x - c, for c
 * the row's first value (two passes: the mean, then the squared
 * deviations), so that rows with a large mean and a small spread keep
 * their precision, as the tfjs ops of LayerNormalization do. gamma and beta
 * are f floats each, or 0 for none.
 */
export function layerNormRows(x: usize, out: usize, rows: i32, f: i32, gamma: usize, beta: usize, eps: f32): void {
  const f4 = f & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * f) << 2);
    const or = out + (<usize>(r * f) << 2);
    const c = load<f32>(xr);
    const cv = f32x4.splat(c);
    // x - mean = (x - c) - m.
    const st = rowStats(xr, c, f, eps);
    const m = f32x4.extract_lane(st, 0);
    const inv = f32x4.extract_lane(st, 1);
    const mv = f32x4.splat(m);
    const iv = f32x4.splat(inv);
    let d = 0;
    for (; d < f4; d += 4) {
      const o = <usize>d << 2;
      const sc = gamma != 0 ? f32x4.mul(iv, v128.load(gamma + o)) : iv;
      let y = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), cv), mv), sc);
      if (beta != 0) y = f32x4.add(y, v128.load(beta + o));
      v128.store(or + o, y);
    }
    for (; d < f; d++) {
      const o = <usize>d << 2;
      const sc: f32 = gamma != 0 ? inv * load<f32>(gamma + o) : inv;
      let y = (load<f32>(xr + o) - c - m) * sc;
      if (beta != 0) y += load<f32>(beta + o);
      store<f32>(or + o, y);
    }
  }
}

/**
 * The gradient of `layerNormRows` (rows of f floats; gamma 0 for none):
 *
 *   xhat = (x - mean) inv,  g = dy gamma
 *   dx = inv (g - mean(g) - xhat mean(g xhat)),  dgamma += dy xhat,  dbeta += dy
 *
 * with the row's mean and inv computed as the forward pass computes them.
 * dgamma and dbeta (f floats each) are added to (the caller zeroes them).
 * What a zero cotangent multiplies is not computed: a row whose dy is all 0
 * gets dx = 0 and adds nothing, and within a row a dy of 0 adds nothing to
 * dgamma or to mean(g xhat), also where x is NaN or Inf.
 */
export function layerNormRowsBackward(x: usize, dy: usize, gamma: usize, dx: usize, dgamma: usize, dbeta: usize, rows: i32, f: i32, eps: f32): void {
  const f4 = f & ~3;
  const n: f32 = <f32>f;
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * f) << 2);
    const dr = dy + (<usize>(r * f) << 2);
    const or = dx + (<usize>(r * f) << 2);
    let any = zero;
    let d = 0;
    for (; d < f4; d += 4) any = v128.or(any, f32x4.ne(v128.load(dr + (<usize>d << 2)), zero));
    let nonzero = v128.any_true(any);
    for (; d < f; d++) if (load<f32>(dr + (<usize>d << 2)) != 0) nonzero = true;
    if (!nonzero) {
      memory.fill(or, 0, <usize>f << 2);
      continue;
    }
    // The forward pass's statistics.
    const c = load<f32>(xr);
    const cv = f32x4.splat(c);
    const st = rowStats(xr, c, f, eps);
    const m = f32x4.extract_lane(st, 0);
    const inv = f32x4.extract_lane(st, 1);
    const mv = f32x4.splat(m);
    const iv = f32x4.splat(inv);
    // mean(g) and mean(g xhat); dgamma and dbeta.
    let sg = zero;
    let sgx = zero;
    for (d = 0; d < f4; d += 4) {
      const o = <usize>d << 2;
      const dyv = v128.load(dr + o);
      const live = f32x4.ne(dyv, zero);
      const xh = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), cv), mv), iv);
      const g = v128.and(gamma != 0 ? f32x4.mul(dyv, v128.load(gamma + o)) : dyv, live);
      sg = f32x4.add(sg, g);
      sgx = f32x4.add(sgx, v128.and(f32x4.mul(g, xh), live));
      v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), v128.and(f32x4.mul(dyv, xh), live)));
      v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), dyv));
    }
    let mg = hsum(sg);
    let mgx = hsum(sgx);
    for (; d < f; d++) {
      const o = <usize>d << 2;
      const dyi = load<f32>(dr + o);
      store<f32>(dbeta + o, load<f32>(dbeta + o) + dyi);
      if (dyi == 0) continue;
      const xh: f32 = (load<f32>(xr + o) - c - m) * inv;
      const g: f32 = gamma != 0 ? dyi * load<f32>(gamma + o) : dyi;
      mg += g;
      mgx += g * xh;
      store<f32>(dgamma + o, load<f32>(dgamma + o) + dyi * xh);
    }
    mg /= n;
    mgx /= n;
    const mgv = f32x4.splat(mg);
    const mgxv = f32x4.splat(mgx);
    for (d = 0; d < f4; d += 4) {
      const o = <usize>d << 2;
      const dyv = v128.load(dr + o);
      const xh = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), cv), mv), iv);
      const g = v128.and(gamma != 0 ? f32x4.mul(dyv, v128.load(gamma + o)) : dyv, f32x4.ne(dyv, zero));
      v128.store(or + o, f32x4.mul(iv, f32x4.sub(f32x4.sub(g, mgv), f32x4.mul(xh, mgxv))));
    }
    for (; d < f; d++) {
      const o = <usize>d << 2;
      const dyi = load<f32>(dr + o);
      const xh: f32 = (load<f32>(xr + o) - c - m) * inv;
      const g: f32 = dyi == 0 ? 0 : gamma != 0 ? dyi * load<f32>(gamma + o) : dyi;
      store<f32>(or + o, inv * (g - mg - xh * mgx));
    }
  }
}

/**
 * Whether a value of a masked step is NaN or infinite: x is [steps, f]
 * floats, mask u8 [steps] (0 = masked). Reads the masked steps only.
 * Returns 1 if one is, else 0.
 */
export function maskedNonFinite(x: usize, mask: usize, steps: i32, f: i32): i32 {
  const zero = f32x4.splat(0);
  const f4 = f & ~3;
  for (let p = 0; p < steps; p++) {
    if (load<u8>(mask + <usize>p) != 0) continue;
    const row = x + (<usize>(p * f) << 2);
    // v - v is 0 for finite v, NaN for NaN and Inf.
    let bad = v128.splat<i32>(0);
    let d = 0;
    for (; d < f4; d += 4) {
      const v = v128.load(row + (<usize>d << 2));
      bad = v128.or(bad, f32x4.ne(f32x4.sub(v, v), zero));
    }
    if (v128.any_true(bad)) return 1;
    for (; d < f; d++) {
      const v = load<f32>(row + (<usize>d << 2));
      if (v - v != 0) return 1;
    }
  }
  return 0;
}

/**
 * The mean over axis 1 of [b, s, f] rows into out [b, f]: each (row,
 * feature) summed in step order in float32, then divided by s once (the
 * same float32 operations as tfjs's mean on the wasm backend). Step j of
 * batch row r is the f floats at x + 4 f (r s + j), or, when ids is not 0,
 * at x + 4 f ids[r s + j] (x a table of rows, ids i32 [b s]: the mean of an
 * embedding lookup read from its table, the same values). Sixteen features
 * at a time are summed over all steps in registers.
 */
export function meanOverSteps(x: usize, ids: usize, b: i32, s: i32, f: i32, out: usize): void {
  const sv = f32x4.splat(<f32>s);
  const fb = <usize>f << 2;
  for (let r = 0; r < b; r++) {
    const o = out + (<usize>(r * f) << 2);
    const first = r * s;
    let d = 0;
    for (; d + 16 <= f; d += 16) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      for (let j = 0; j < s; j++) {
        const p = stepRow(x, ids, first + j, fb) + (<usize>d << 2);
        a0 = f32x4.add(a0, v128.load(p));
        a1 = f32x4.add(a1, v128.load(p, 16));
        a2 = f32x4.add(a2, v128.load(p, 32));
        a3 = f32x4.add(a3, v128.load(p, 48));
      }
      const q = o + (<usize>d << 2);
      v128.store(q, f32x4.div(a0, sv));
      v128.store(q, f32x4.div(a1, sv), 16);
      v128.store(q, f32x4.div(a2, sv), 32);
      v128.store(q, f32x4.div(a3, sv), 48);
    }
    for (; d + 4 <= f; d += 4) {
      let acc = f32x4.splat(0);
      for (let j = 0; j < s; j++) acc = f32x4.add(acc, v128.load(stepRow(x, ids, first + j, fb) + (<usize>d << 2)));
      v128.store(o + (<usize>d << 2), f32x4.div(acc, sv));
    }
    for (; d < f; d++) {
      let acc: f32 = 0;
      for (let j = 0; j < s; j++) acc += load<f32>(stepRow(x, ids, first + j, fb) + (<usize>d << 2));
      store<f32>(o + (<usize>d << 2), acc / <f32>s);
    }
  }
}

/** The address of step n's row for meanOverSteps: row n of x, or row ids[n] of x when ids is not 0. */
@inline
function stepRow(x: usize, ids: usize, n: i32, fb: usize): usize {
  return x + (ids == 0 ? <usize>n : <usize>load<i32>(ids + (<usize>n << 2))) * fb;
}
