// Softmax over the rows of a matrix, in place (the fused Dense product of
// src/ops/dense_ops.ts applies it to its output rows):
//
//   y[i, j] = exp(x[i, j] - max_j x[i, :]) / sum_j exp(x[i, j] - max_j x[i, :])
//
// for i < n, j < m; rows are ldc floats apart (16-byte aligned, ldc >= m
// rounded up to 4). Lanes m..ldc of a row are set to 0. exp is vexp
// (within 1.3 ulp; its argument here is <= 0, clamped at -87, so a lane far
// below the row's maximum gives about 1.6e-38 instead of a smaller number).

import { vexp } from './simd_math';

@inline
function hmax(v: v128): f32 {
  return Mathf.max(Mathf.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), Mathf.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

@inline
function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * The largest of the m = full + rest floats of a row, four lanes at a time
 * (`keep`: the lanes of the last, partial vector that belong to the row).
 * With `nan`, f32x4.max: a NaN anywhere gives NaN. Without, pmax from
 * -Infinity: a NaN never replaces a number (and alone gives -Infinity).
 */
@inline
function rowMax(row: usize, full: i32, rest: i32, keep: v128, nan: bool): f32 {
  const low = f32x4.splat(-Infinity);
  let mx = low;
  if (nan) {
    for (let j = 0; j < full; j += 4) mx = f32x4.max(mx, v128.load(row + (<usize>j << 2)));
    if (rest > 0) mx = f32x4.max(mx, v128.bitselect(v128.load(row + (<usize>full << 2)), low, keep));
  } else {
    for (let j = 0; j < full; j += 4) mx = f32x4.pmax(mx, v128.load(row + (<usize>j << 2)));
    if (rest > 0) mx = f32x4.pmax(mx, v128.bitselect(v128.load(row + (<usize>full << 2)), low, keep));
  }
  return hmax(mx);
}

export function softmaxRows(c: usize, ldc: i32, n: i32, m: i32): void {
  const full = m & ~3;
  const rest = m - full;
  // Lanes of the last, partial vector that belong to the row.
  const keep = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(rest));
  const tail = <usize>full << 2;
  for (let i = 0; i < n; i++) {
    const row = c + ((<usize>i * <usize>ldc) << 2);
    const top = f32x4.splat(rowMax(row, full, rest, keep, true));
    let s = f32x4.splat(0.0);
    for (let j = 0; j < full; j += 4) {
      const p = row + (<usize>j << 2);
      const e = vexp(f32x4.sub(v128.load(p), top));
      v128.store(p, e);
      s = f32x4.add(s, e);
    }
    if (rest > 0) {
      const e = v128.and(vexp(f32x4.sub(v128.load(row + tail), top)), keep);
      v128.store(row + tail, e);
      s = f32x4.add(s, e);
    }
    const total = f32x4.splat(hsum(s));
    const width = (m + 3) & ~3;
    for (let j = 0; j < width; j += 4) {
      const p = row + (<usize>j << 2);
      v128.store(p, f32x4.div(v128.load(p), total));
    }
    for (let j = width; j < ldc; j += 4) v128.store(row + (<usize>j << 2), f32x4.splat(0.0));
  }
}

// The gradient G at the product of a Dense layer from the gradient at its
// output, in place in g, with the column sums of G added to db[0..ld):
//
//   softmax (y != 0):  g[i, :] = y[i, :] * (g[i, :] - sum_j g[i, j] y[i, j])
//   linear (y == 0):   g unchanged
//
// for n rows of ld floats (ld a multiple of 4, rows 16-byte aligned; lanes
// beyond the row's width are 0 in g and y, and stay 0).
export function denseGradRows(g: usize, y: usize, ld: i32, n: i32, db: usize): void {
  const ldB = <usize>ld << 2;
  for (let i = 0; i < n; i++) {
    const gr = g + <usize>i * ldB;
    if (y != 0) {
      const yr = y + <usize>i * ldB;
      let s = f32x4.splat(0.0);
      for (let j: usize = 0; j < ldB; j += 16) s = f32x4.add(s, f32x4.mul(v128.load(gr + j), v128.load(yr + j)));
      const dot = f32x4.splat(hsum(s));
      for (let j: usize = 0; j < ldB; j += 16) v128.store(gr + j, f32x4.mul(v128.load(yr + j), f32x4.sub(v128.load(gr + j), dot)));
    }
    for (let j: usize = 0; j < ldB; j += 16) v128.store(db + j, f32x4.add(v128.load(db + j), v128.load(gr + j)));
  }
}

// The class of each row: out[i] = the index of the largest of its m floats
// (rows ldc floats apart, 16-byte aligned), the first one where several are
// equal; NaN is never larger than anything, but a NaN in the first column
// gives 0. This is tf.argMax's rule (the first element, replaced by each
// later element strictly larger), found four lanes at a time: the largest
// value M (rowMax without NaN), then the first column equal to M.
export function argmaxRows(c: usize, ldc: i32, n: i32, m: i32, out: usize): void {
  const full = m & ~3;
  const rest = m - full;
  const keep = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(rest));
  for (let i = 0; i < n; i++) {
    const row = c + ((<usize>i * <usize>ldc) << 2);
    const top = rowMax(row, full, rest, keep, false);
    let at = 0;
    const first = load<f32>(row);
    if (first == first) {
      const t = f32x4.splat(top);
      for (let j = 0; j < m; j += 4) {
        const hits = i32x4.bitmask(f32x4.eq(v128.load(row + (<usize>j << 2)), t));
        if (hits != 0) {
          at = j + <i32>ctz<i32>(hits);
          break;
        }
      }
      // Only the padding lanes past m could match (a row of -Infinity and a zero lane does not: top is -Infinity there).
      if (at >= m) at = 0;
    }
    store<i32>(out + (<usize>i << 2), at);
  }
}
