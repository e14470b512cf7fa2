// Backward pass (BPTT) of the masked recurrence, in one call, from the
// quantities the forward pass saved (HS, GA, X1, X2). Walks the processing
// steps in reverse with running gradients DH, DC per row: a masked step only
// passes them through (plus the output gradient where the output repeats the
// carried h); a valid step backpropagates its gate math, writes the token's
// input-projection gradient DXP, and adds (dG @ R^T) * rdm to DH. At the end
// dR = HS^T dG over all tokens and the recurrent-bias gradient are formed,
// and, when the forward pass projected XC itself, dW, db and dXC.
// Stored gradients have subnormals flushed to zero (ftz).
import { gemm } from './gemm';
import { vdact, ftz } from './simd_math';
import {
  KIND_LSTM, KIND_GRU, H_KIND, H_RESET_AFTER, H_ACT, H_RACT, H_B, H_T, H_U, H_G, H_RETSEQ, H_ZERO, H_N, H_NSTATE, H_TOUT,
  P_R, P_RB, P_RDM, P_COUNTS, P_ROWS, P_MASK, P_HS, P_GA, P_X1, P_X2, P_SCR, P_SCR2, P_RT, P_DOUT, P_DH, P_DC, P_DXP, P_DGR, P_DR, P_DRB,
  H_F, H_FP, P_XC, P_W, P_WT, P_DXC, P_DW, P_DB,
  setHeader, hi, hp, addRow,
} from './header';

@inline
function ld(p: usize, q: usize): v128 {
  return v128.load(p + q);
}

/** Stores four lanes with subnormals flushed to zero (see ftz). */
@inline
function stz(p: usize, v: v128): void {
  v128.store(p, ftz(v));
}

@inline
function masked(mask: usize, b: i32, T: i32, s: i32): bool {
  return mask != 0 && load<u8>(mask + <usize>b * <usize>T + <usize>s) == 0;
}

/** Tokens per block of the dR product: a block of dG rows stays in cache while every tile of dR passes over it. */
const TN_BLOCK = 128;

/**
 * C[K, m] = A^T B for A [N, K] (rows of K floats) and B [N, m] (rows of ld
 * floats, as are C's), in blocks of TN_BLOCK tokens. One pass over all N
 * tokens per tile of C would stream B from memory once per tile.
 */
function gemmTN(a: usize, K: i32, b: usize, ld: i32, c: usize, N: i32, m: i32): void {
  if (N == 0) {
    for (let i = 0; i < K; i++) memory.fill(c + ((<usize>i * <usize>ld) << 2), 0, <usize>m << 2);
    return;
  }
  for (let t0 = 0; t0 < N; t0 += TN_BLOCK) {
    const n = min(TN_BLOCK, N - t0);
    gemm(a + ((<usize>t0 * <usize>K) << 2), 1, K, b + ((<usize>t0 * <usize>ld) << 2), ld, c, ld, K, n, m, t0 > 0);
  }
}

/** dst[0..m) = sum over N rows (stride ld floats) of src. */
function columnSums(dst: usize, src: usize, ld: i32, N: i32, m: i32): void {
  memory.fill(dst, 0, <usize>m << 2);
  for (let t = 0; t < N; t++) addRow(dst, src + ((<usize>t * <usize>ld) << 2), m);
}

export function backward(hdr: usize): void {
  setHeader(hdr);
  const kind = hi(H_KIND), resetAfter = hi(H_RESET_AFTER) != 0, act = hi(H_ACT), ract = hi(H_RACT);
  const B = hi(H_B), T = hi(H_T), U = hi(H_U), G = hi(H_G), N = hi(H_N);
  const retSeq = hi(H_RETSEQ) != 0, zero = hi(H_ZERO) != 0, nState = hi(H_NSTATE), tOut = hi(H_TOUT);
  const R = hp(P_R), RB = hp(P_RB), RDM = hp(P_RDM), COUNTS = hp(P_COUNTS), ROWS = hp(P_ROWS), MASK = hp(P_MASK);
  const HS = hp(P_HS), GA = hp(P_GA), X1 = hp(P_X1), X2 = hp(P_X2), SCR = hp(P_SCR), SCR2 = hp(P_SCR2), RT = hp(P_RT);
  const DOUT = hp(P_DOUT), DH = hp(P_DH), DC = hp(P_DC), DXP = hp(P_DXP), DGR = hp(P_DGR), DR = hp(P_DR), DRB = hp(P_DRB);
  const GU = G * U;
  const uB = <usize>U << 2, guB = <usize>GU << 2;
  const slots = tOut + nState;
  const gruAfter = kind == KIND_GRU && resetAfter;
  const gruBefore = kind == KIND_GRU && !resetAfter;
  const one = f32x4.splat(1.0);

  for (let p = 0; p < U; p++) {
    for (let j = 0; j < GU; j++) store<f32>(RT + ((<usize>j * <usize>U + <usize>p) << 2), load<f32>(R + ((<usize>p * <usize>GU + <usize>j) << 2)));
  }
  // Running gradients start from the final states' gradients (and the last output's).
  for (let b = 0; b < B; b++) {
    const row = DOUT + <usize>b * <usize>slots * uB;
    memory.copy(DH + <usize>b * uB, row + <usize>tOut * uB, uB);
    if (nState > 1) memory.copy(DC + <usize>b * uB, row + <usize>(tOut + 1) * uB, uB);
    if (!retSeq && !(zero && masked(MASK, b, T, T - 1))) addRow(DH + <usize>b * uB, row, U);
  }
  let tok0 = N;
  for (let s = T - 1; s >= 0; s--) {
    if (retSeq) {
      for (let b = 0; b < B; b++) {
        if (!(zero && masked(MASK, b, T, s))) addRow(DH + <usize>b * uB, DOUT + (<usize>b * <usize>slots + <usize>s) * uB, U);
      }
    }
    const n = load<i32>(COUNTS + (<usize>s << 2));
    if (n == 0) continue;
    tok0 -= n;
    for (let i = 0; i < n; i++) {
      const tok = <usize>(tok0 + i);
      const b = <usize>load<i32>(ROWS + (tok << 2));
      const dh = DH + b * uB, ga = GA + tok * guB, dxp = DXP + tok * guB, x1 = X1 + tok * uB, x2 = X2 + tok * uB;
      for (let q = 0; q < U; q += 4) {
        const o = <usize>q << 2;
        const dhv = ld(dh, o);
        if (kind == KIND_LSTM) {
          const dc = DC + b * uB;
          const ig = ld(ga, o), fg = ld(ga + uB, o), gg = ld(ga + 2 * uB, o), og = ld(ga + 3 * uB, o), tc = ld(x2, o);
          const dct = f32x4.add(ld(dc, o), f32x4.mul(f32x4.mul(dhv, og), vdact(act, tc)));
          stz(dxp + o, f32x4.mul(f32x4.mul(dct, gg), vdact(ract, ig)));
          stz(dxp + uB + o, f32x4.mul(f32x4.mul(dct, ld(x1, o)), vdact(ract, fg)));
          stz(dxp + 2 * uB + o, f32x4.mul(f32x4.mul(dct, ig), vdact(act, gg)));
          stz(dxp + 3 * uB + o, f32x4.mul(f32x4.mul(dhv, tc), vdact(ract, og)));
          stz(dc + o, f32x4.mul(dct, fg));
        } else if (kind == KIND_GRU) {
          const z = ld(ga, o), r = ld(ga + uB, o), hh = ld(ga + 2 * uB, o);
          const dz = f32x4.mul(f32x4.mul(dhv, f32x4.sub(ld(x1, o), hh)), vdact(ract, z));
          const dph = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), vdact(act, hh));
          stz(dxp + o, dz);
          stz(dxp + 2 * uB + o, dph);
          stz(dh + o, f32x4.mul(dhv, z));
          if (resetAfter) {
            const dr = f32x4.mul(f32x4.mul(dph, ld(x2, o)), vdact(ract, r));
            stz(dxp + uB + o, dr);
            const dgr = DGR + tok * guB;
            stz(dgr + o, dz);
            stz(dgr + uB + o, dr);
            stz(dgr + 2 * uB + o, f32x4.mul(dph, r));
          }
          continue;
        } else {
          stz(dxp + o, f32x4.mul(dhv, vdact(act, ld(ga, o))));
        }
        v128.store(dh + o, f32x4.splat(0.0));
      }
    }
    const dg0 = (gruAfter ? DGR : DXP) + <usize>tok0 * guB;
    if (gruBefore) {
      // d(r * hs) = dph @ R_h^T; then dr and the direct part r * d(r * hs).
      gemm(dg0 + 2 * uB, GU, 1, RT + <usize>(2 * U) * uB, U, SCR2, U, n, U, U, false);
      for (let i = 0; i < n; i++) {
        const tok = <usize>(tok0 + i);
        const ga = GA + tok * guB, sc2 = SCR2 + <usize>i * uB;
        for (let q = 0; q < U; q += 4) {
          const o = <usize>q << 2;
          const drh = ld(sc2, o), r = ld(ga + uB, o);
          stz(DXP + tok * guB + uB + o, f32x4.mul(f32x4.mul(drh, ld(HS + tok * uB, o)), vdact(ract, r)));
          stz(sc2 + o, f32x4.mul(drh, r));
        }
      }
    }
    gemm(dg0, GU, 1, RT, U, SCR, U, n, gruBefore ? 2 * U : GU, U, false);
    for (let i = 0; i < n; i++) {
      const tok = <usize>(tok0 + i);
      const b = <usize>load<i32>(ROWS + (tok << 2));
      const sc = SCR + <usize>i * uB, dh = DH + b * uB;
      if (gruBefore) addRow(sc, SCR2 + <usize>i * uB, U);
      for (let q = 0; q < U; q += 4) {
        const o = <usize>q << 2;
        let d = ld(sc, o);
        if (RDM != 0) d = f32x4.mul(d, ld(RDM + b * uB, o));
        stz(dh + o, f32x4.add(ld(dh, o), d));
      }
    }
  }
  // dR = HS^T dG over all tokens (GRU reset-before: the h block uses r * hs).
  const dgAll = gruAfter ? DGR : DXP;
  if (gruBefore) {
    gemmTN(HS, U, dgAll, GU, DR, N, 2 * U);
    gemmTN(X2, U, dgAll + 2 * uB, GU, DR + 2 * uB, N, U);
  } else {
    gemmTN(HS, U, dgAll, GU, DR, N, GU);
  }
  if (RB != 0) columnSums(DRB, dgAll, GU, N, GU);
  // The input projection XP = XC W + b: dW = XC^T dXP, db = column sums of dXP, dXC = dXP W^T.
  const XC = hp(P_XC);
  if (XC != 0) {
    const F = hi(H_F), FP = hi(H_FP), W = hp(P_W), WT = hp(P_WT), DB = hp(P_DB);
    gemmTN(XC, F, DXP, GU, hp(P_DW), N, GU);
    if (DB != 0) columnSums(DB, DXP, GU, N, GU);
    memory.fill(WT, 0, (<usize>GU * <usize>FP) << 2);
    for (let f = 0; f < F; f++) {
      for (let j = 0; j < GU; j++) store<f32>(WT + ((<usize>j * <usize>FP + <usize>f) << 2), load<f32>(W + ((<usize>f * <usize>GU + <usize>j) << 2)));
    }
    gemm(DXP, GU, 1, WT, FP, hp(P_DXC), FP, N, GU, FP, false);
  }
}
