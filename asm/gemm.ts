// Register-blocked f32x4 matrix product for the recurrent kernel.
//
//   C[i, j] (+)= sum_p A[i * ars + p * aps] * B[p * ldb + j]
//
// for i < n, j < m, p < k. Strides are in floats; m must be a multiple of 4
// and B and C rows 16-byte aligned. (ars, aps) = (lda, 1) is a plain
// product; (1, lda) multiplies by A transposed, which is how the backward
// pass accumulates dR = HS^T dG over all tokens. Tiles are 4 rows x 8
// columns (8 accumulators), then 4 x 4; a last partial tile of rows repeats
// its last row.

@inline
function fma(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

export function gemm(a: usize, ars: i32, aps: i32, b: usize, ldb: i32, c: usize, ldc: i32, n: i32, k: i32, m: i32, accumulate: bool): void {
  const arsB = <usize>ars << 2;
  const apsB = <usize>aps << 2;
  const ldbB = <usize>ldb << 2;
  const ldcB = <usize>ldc << 2;
  const zero = f32x4.splat(0.0);
  for (let i = 0; i < n; i += 4) {
    // A last tile of fewer than 4 rows repeats its last row: the repeated
    // rows compute and store the same values (also when accumulating), so
    // every row goes through the 4-row tiles.
    const last = <usize>(n - 1);
    const i0 = <usize>i;
    const i1 = min(i0 + 1, last);
    const i2 = min(i0 + 2, last);
    const i3 = min(i0 + 3, last);
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
}
