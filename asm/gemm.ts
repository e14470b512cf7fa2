// Register-blocked f32x4 matrix product for the recurrent kernel.
//
//   C[i, j] (+)= sum_p A[i * ars + p * aps] * B[p * ldb + j]
//
// for i < n, j < m, p < k. Strides are in floats; m must be a multiple of 4
// and B and C rows 16-byte aligned. (ars, aps) = (lda, 1) is a plain
// product; (1, lda) multiplies by A transposed, which is how the backward
// pass accumulates dR = HS^T dG over all tokens. Tiles are 4 rows x 8
// columns (8 accumulators), then 4 x 4; the last n % 4 rows go through
// 2 x 16 and 1 x 32 tiles (8 accumulators again, so additions still
// overlap), then 4 columns at a time. (The recurrence multiplies only the active rows at
// each step; near the end of a ragged batch that is 1-3 rows, which a
// 4-row tile would compute up to four times.)

//
// Built twice (scripts/build.mjs): with plain SIMD, acc + a * b is a
// multiply and an add, each rounded; with relaxed SIMD it is relaxed_madd,
// which engines lower to one fused multiply-add where the CPU has one (x86
// FMA3, Arm) and to the same multiply and add elsewhere. src/ops/rnn/kernel.ts
// picks the build (setRelaxedSimd).
@inline
function fma(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

export function gemm(a: usize, ars: i32, aps: i32, b: usize, ldb: i32, c: usize, ldc: i32, n: i32, k: i32, m: i32, accumulate: bool): void {
  const arsB = <usize>ars << 2;
  const apsB = <usize>aps << 2;
  const ldbB = <usize>ldb << 2;
  const ldcB = <usize>ldc << 2;
  const zero = f32x4.splat(0.0);
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    const i0 = <usize>i;
    const i1 = i0 + 1;
    const i2 = i0 + 2;
    const i3 = i0 + 3;
    const a0 = a + i0 * arsB;
    const a1 = a + i1 * arsB;
    const a2 = a + i2 * arsB;
    const a3 = a + i3 * arsB;
    const c0 = c + i0 * ldcB;
    const c1 = c + i1 * ldcB;
    const c2 = c + i2 * ldcB;
    const c3 = c + i3 * ldcB;
    let j = 0;
    for (; j + 8 <= m; j += 8) {
      const jb = <usize>j << 2;
      let x00 = zero, x01 = zero, x10 = zero, x11 = zero, x20 = zero, x21 = zero, x30 = zero, x31 = zero;
      if (accumulate) {
        x00 = v128.load(c0 + jb); x01 = v128.load(c0 + jb, 16);
        x10 = v128.load(c1 + jb); x11 = v128.load(c1 + jb, 16);
        x20 = v128.load(c2 + jb); x21 = v128.load(c2 + jb, 16);
        x30 = v128.load(c3 + jb); x31 = v128.load(c3 + jb, 16);
      }
      let pa: usize = 0;
      let pb = b + jb;
      for (let p = 0; p < k; p++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let s = v128.load32_splat(a0 + pa);
        x00 = fma(x00, s, b0); x01 = fma(x01, s, b1);
        s = v128.load32_splat(a1 + pa);
        x10 = fma(x10, s, b0); x11 = fma(x11, s, b1);
        s = v128.load32_splat(a2 + pa);
        x20 = fma(x20, s, b0); x21 = fma(x21, s, b1);
        s = v128.load32_splat(a3 + pa);
        x30 = fma(x30, s, b0); x31 = fma(x31, s, b1);
        pa += apsB;
        pb += ldbB;
      }
      v128.store(c0 + jb, x00); v128.store(c0 + jb, x01, 16);
      v128.store(c1 + jb, x10); v128.store(c1 + jb, x11, 16);
      v128.store(c2 + jb, x20); v128.store(c2 + jb, x21, 16);
      v128.store(c3 + jb, x30); v128.store(c3 + jb, x31, 16);
    }
    for (; j < m; j += 4) {
      const jb = <usize>j << 2;
      let x0 = zero, x1 = zero, x2 = zero, x3 = zero;
      if (accumulate) {
        x0 = v128.load(c0 + jb); x1 = v128.load(c1 + jb); x2 = v128.load(c2 + jb); x3 = v128.load(c3 + jb);
      }
      let pa: usize = 0;
      let pb = b + jb;
      for (let p = 0; p < k; p++) {
        const b0 = v128.load(pb);
        x0 = fma(x0, v128.load32_splat(a0 + pa), b0);
        x1 = fma(x1, v128.load32_splat(a1 + pa), b0);
        x2 = fma(x2, v128.load32_splat(a2 + pa), b0);
        x3 = fma(x3, v128.load32_splat(a3 + pa), b0);
        pa += apsB;
        pb += ldbB;
      }
      v128.store(c0 + jb, x0); v128.store(c1 + jb, x1); v128.store(c2 + jb, x2); v128.store(c3 + jb, x3);
    }
  }
  let i = full;
  if (i + 2 <= n) {
    gemmTwoRows(a + <usize>i * arsB, arsB, apsB, b, ldbB, c + <usize>i * ldcB, ldcB, k, m, accumulate);
    i += 2;
  }
  if (i < n) gemmRow(a + <usize>i * arsB, apsB, b, ldbB, c + <usize>i * ldcB, k, m, accumulate);
}

/** Two rows of C (A rows a and a + arsB), 16 columns at a time, then 4. */
@inline
function gemmTwoRows(a: usize, arsB: usize, apsB: usize, b: usize, ldbB: usize, c: usize, ldcB: usize, k: i32, m: i32, accumulate: bool): void {
  const zero = f32x4.splat(0.0);
  const a1 = a + arsB;
  const c1 = c + ldcB;
  let j = 0;
  for (; j + 16 <= m; j += 16) {
    const jb = <usize>j << 2;
    let x0 = zero, x1 = zero, x2 = zero, x3 = zero, y0 = zero, y1 = zero, y2 = zero, y3 = zero;
    if (accumulate) {
      x0 = v128.load(c + jb); x1 = v128.load(c + jb, 16); x2 = v128.load(c + jb, 32); x3 = v128.load(c + jb, 48);
      y0 = v128.load(c1 + jb); y1 = v128.load(c1 + jb, 16); y2 = v128.load(c1 + jb, 32); y3 = v128.load(c1 + jb, 48);
    }
    let pa: usize = 0;
    let pb = b + jb;
    for (let p = 0; p < k; p++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
      const s = v128.load32_splat(a + pa);
      const t = v128.load32_splat(a1 + pa);
      x0 = fma(x0, s, b0); x1 = fma(x1, s, b1); x2 = fma(x2, s, b2); x3 = fma(x3, s, b3);
      y0 = fma(y0, t, b0); y1 = fma(y1, t, b1); y2 = fma(y2, t, b2); y3 = fma(y3, t, b3);
      pa += apsB;
      pb += ldbB;
    }
    v128.store(c + jb, x0); v128.store(c + jb, x1, 16); v128.store(c + jb, x2, 32); v128.store(c + jb, x3, 48);
    v128.store(c1 + jb, y0); v128.store(c1 + jb, y1, 16); v128.store(c1 + jb, y2, 32); v128.store(c1 + jb, y3, 48);
  }
  rowTail(a, apsB, b, ldbB, c, k, j, m, accumulate);
  rowTail(a1, apsB, b, ldbB, c1, k, j, m, accumulate);
}

/** One row of C: c[j] (+)= sum_p a[p * aps] * B[p, j], 32 columns at a time, then 4. */
@inline
function gemmRow(a: usize, apsB: usize, b: usize, ldbB: usize, c: usize, k: i32, m: i32, accumulate: bool): void {
  const zero = f32x4.splat(0.0);
  let j = 0;
  for (; j + 32 <= m; j += 32) {
    const jb = <usize>j << 2;
    let x0 = zero, x1 = zero, x2 = zero, x3 = zero, x4 = zero, x5 = zero, x6 = zero, x7 = zero;
    if (accumulate) {
      x0 = v128.load(c + jb); x1 = v128.load(c + jb, 16); x2 = v128.load(c + jb, 32); x3 = v128.load(c + jb, 48);
      x4 = v128.load(c + jb, 64); x5 = v128.load(c + jb, 80); x6 = v128.load(c + jb, 96); x7 = v128.load(c + jb, 112);
    }
    let pa: usize = 0;
    let pb = b + jb;
    for (let p = 0; p < k; p++) {
      const s = v128.load32_splat(a + pa);
      x0 = fma(x0, s, v128.load(pb)); x1 = fma(x1, s, v128.load(pb, 16));
      x2 = fma(x2, s, v128.load(pb, 32)); x3 = fma(x3, s, v128.load(pb, 48));
      x4 = fma(x4, s, v128.load(pb, 64)); x5 = fma(x5, s, v128.load(pb, 80));
      x6 = fma(x6, s, v128.load(pb, 96)); x7 = fma(x7, s, v128.load(pb, 112));
      pa += apsB;
      pb += ldbB;
    }
    v128.store(c + jb, x0); v128.store(c + jb, x1, 16); v128.store(c + jb, x2, 32); v128.store(c + jb, x3, 48);
    v128.store(c + jb, x4, 64); v128.store(c + jb, x5, 80); v128.store(c + jb, x6, 96); v128.store(c + jb, x7, 112);
  }
  rowTail(a, apsB, b, ldbB, c, k, j, m, accumulate);
}

/** Columns [j0, m) of one row of C, 4 at a time. */
@inline
function rowTail(a: usize, apsB: usize, b: usize, ldbB: usize, c: usize, k: i32, j0: i32, m: i32, accumulate: bool): void {
  for (let j = j0; j < m; j += 4) {
    const jb = <usize>j << 2;
    let x = accumulate ? v128.load(c + jb) : f32x4.splat(0.0);
    let pa: usize = 0;
    let pb = b + jb;
    for (let p = 0; p < k; p++) {
      x = fma(x, v128.load32_splat(a + pa), v128.load(pb));
      pa += apsB;
      pb += ldbB;
    }
    v128.store(c + jb, x);
  }
}
