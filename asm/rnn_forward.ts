// Forward pass of the masked recurrence (LSTM, GRU, SimpleRNN) over all
// processing steps in one call. First the valid tokens' inputs are projected
// in one product, XP = XC W (the bias b is added where the gates read XP). Only the valid tokens of each step are
// computed: the step's active rows are listed in ROWS, their h rows are
// gathered into HS (times the recurrent dropout mask), multiplied by R in
// one register-blocked product, and the gate math updates the row states in
// place. Masked rows keep their states. With returnSequences every row's
// output slot is written at every step (the carried h, or zeros with
// zeroOutputForMask at masked steps). Without H_SAVE (inference) nothing is
// kept for a backward pass: gates are not stored and the LSTM reads c from
// its state directly. In inference XP may instead be a projection table
// kept in kernel memory, each token reading its row XI[tok].
import { gemm } from './gemm';
import { vact } from './simd_math';
import {
  KIND_LSTM, KIND_GRU, H_KIND, H_RESET_AFTER, H_ACT, H_RACT, H_B, H_T, H_U, H_G, H_RETSEQ, H_ZERO, H_NSTATE, H_TOUT,
  P_XP, P_R, P_RB, P_H, P_C, P_RDM, P_COUNTS, P_ROWS, P_MASK, P_OUT, P_HS, P_GA, P_X1, P_X2, P_SCR, P_SCR2,
  H_N, H_F, P_XC, P_W, P_B, H_SAVE, P_XI,
  setHeader, hi, hp, mulRow,
} from './header';

@inline
function ld(p: usize, q: usize): v128 {
  return v128.load(p + q);
}

/** Token tok's row of XP: row XI[tok] of a projection table, or row tok. */
@inline
function xpRow(xp: usize, xi: usize, tok: usize, guB: usize): usize {
  return xi != 0 ? xp + <usize>load<i32>(xi + (tok << 2)) * guB : xp + tok * guB;
}

/** XP + b at gate offset q (both rows are [G*U]). */
@inline
function xpb(xp: usize, bv: usize, q: usize): v128 {
  return f32x4.add(v128.load(xp + q), v128.load(bv + q));
}

export function forward(hdr: usize): void {
  setHeader(hdr);
  const kind = hi(H_KIND), resetAfter = hi(H_RESET_AFTER) != 0, act = hi(H_ACT), ract = hi(H_RACT);
  const B = hi(H_B), T = hi(H_T), U = hi(H_U), G = hi(H_G);
  const retSeq = hi(H_RETSEQ) != 0, zero = hi(H_ZERO) != 0, nState = hi(H_NSTATE), tOut = hi(H_TOUT);
  const XP = hp(P_XP), R = hp(P_R), RB = hp(P_RB), H = hp(P_H), C = hp(P_C), RDM = hp(P_RDM);
  const COUNTS = hp(P_COUNTS), ROWS = hp(P_ROWS), MASK = hp(P_MASK), OUT = hp(P_OUT);
  const HS = hp(P_HS), GA = hp(P_GA), X1 = hp(P_X1), X2 = hp(P_X2), SCR = hp(P_SCR), SCR2 = hp(P_SCR2);
  const GU = G * U;
  const uB = <usize>U << 2, guB = <usize>GU << 2;
  const slots = tOut + nState;
  const XC = hp(P_XC), N = hi(H_N), Bv = hp(P_B), save = hi(H_SAVE) != 0, XI = hp(P_XI);
  // XP = XC W for all valid tokens at once.
  if (XC != 0) gemm(XC, hi(H_F), 1, hp(P_W), GU, XP, GU, N, hi(H_F), GU, false);
  let tok0 = 0;
  for (let s = 0; s < T; s++) {
    const n = load<i32>(COUNTS + (<usize>s << 2));
    if (n > 0) {
      // Gather the active rows' previous h (and c or undropped h) in token order.
      for (let i = 0; i < n; i++) {
        const tok = <usize>(tok0 + i);
        const b = <usize>load<i32>(ROWS + (tok << 2));
        if (RDM != 0) mulRow(HS + tok * uB, H + b * uB, RDM + b * uB, U);
        else memory.copy(HS + tok * uB, H + b * uB, uB);
        if (kind == KIND_LSTM) {
          if (save) memory.copy(X1 + tok * uB, C + b * uB, uB);
        } else if (kind == KIND_GRU) memory.copy(X1 + tok * uB, H + b * uB, uB);
      }
      const hs0 = HS + <usize>tok0 * uB;
      const gruBefore = kind == KIND_GRU && !resetAfter;
      gemm(hs0, U, 1, R, GU, SCR, GU, n, U, gruBefore ? 2 * U : GU, false);
      if (gruBefore) {
        // z, r first; then (r * hs) @ R_h in a second product.
        for (let i = 0; i < n; i++) {
          const tok = <usize>(tok0 + i);
          const xp = xpRow(XP, XI, tok, guB), sc = SCR + <usize>i * guB, ga = GA + tok * guB;
          for (let q = 0; q < U; q += 4) {
            const o = <usize>q << 2;
            const z = vact(ract, f32x4.add(xpb(xp, Bv, o), ld(sc, o)));
            const r = vact(ract, f32x4.add(xpb(xp + uB, Bv + uB, o), ld(sc + uB, o)));
            v128.store(ga + o, z);
            v128.store(ga + uB + o, r);
            v128.store(X2 + tok * uB + o, f32x4.mul(r, ld(HS + tok * uB, o)));
          }
        }
        gemm(X2 + <usize>tok0 * uB, U, 1, R + 2 * uB, GU, SCR2, U, n, U, U, false);
      }
      for (let i = 0; i < n; i++) {
        const tok = <usize>(tok0 + i);
        const b = <usize>load<i32>(ROWS + (tok << 2));
        const xp = xpRow(XP, XI, tok, guB), sc = SCR + <usize>i * guB, ga = GA + tok * guB;
        const h = H + b * uB, x1 = X1 + tok * uB, x2 = X2 + tok * uB;
        for (let q = 0; q < U; q += 4) {
          const o = <usize>q << 2;
          if (kind == KIND_LSTM) {
            const cb = C + b * uB;
            const ig = vact(ract, f32x4.add(xpb(xp, Bv, o), ld(sc, o)));
            const fg = vact(ract, f32x4.add(xpb(xp + uB, Bv + uB, o), ld(sc + uB, o)));
            const gg = vact(act, f32x4.add(xpb(xp + 2 * uB, Bv + 2 * uB, o), ld(sc + 2 * uB, o)));
            const og = vact(ract, f32x4.add(xpb(xp + 3 * uB, Bv + 3 * uB, o), ld(sc + 3 * uB, o)));
            const cn = f32x4.add(f32x4.mul(fg, ld(cb, o)), f32x4.mul(ig, gg));
            const tc = vact(act, cn);
            if (save) {
              v128.store(ga + o, ig);
              v128.store(ga + uB + o, fg);
              v128.store(ga + 2 * uB + o, gg);
              v128.store(ga + 3 * uB + o, og);
              v128.store(x2 + o, tc);
            }
            v128.store(cb + o, cn);
            v128.store(h + o, f32x4.mul(og, tc));
          } else if (kind == KIND_GRU) {
            let z: v128, hh: v128;
            if (resetAfter) {
              let iz = ld(sc, o), ir = ld(sc + uB, o), ih = ld(sc + 2 * uB, o);
              if (RB != 0) {
                iz = f32x4.add(iz, ld(RB, o));
                ir = f32x4.add(ir, ld(RB + uB, o));
                ih = f32x4.add(ih, ld(RB + 2 * uB, o));
              }
              z = vact(ract, f32x4.add(xpb(xp, Bv, o), iz));
              const r = vact(ract, f32x4.add(xpb(xp + uB, Bv + uB, o), ir));
              v128.store(x2 + o, ih);
              hh = vact(act, f32x4.add(xpb(xp + 2 * uB, Bv + 2 * uB, o), f32x4.mul(r, ih)));
              v128.store(ga + o, z);
              v128.store(ga + uB + o, r);
            } else {
              z = ld(ga, o);
              hh = vact(act, f32x4.add(xpb(xp + 2 * uB, Bv + 2 * uB, o), ld(SCR2 + <usize>i * uB, o)));
            }
            v128.store(ga + 2 * uB + o, hh);
            const one = f32x4.splat(1.0);
            v128.store(h + o, f32x4.add(f32x4.mul(z, ld(x1, o)), f32x4.mul(f32x4.sub(one, z), hh)));
          } else {
            const hn = vact(act, f32x4.add(xpb(xp, Bv, o), ld(sc, o)));
            v128.store(ga + o, hn);
            v128.store(h + o, hn);
          }
        }
      }
      tok0 += n;
    }
    if (retSeq) {
      for (let b = 0; b < B; b++) {
        const dst = OUT + (<usize>b * <usize>slots + <usize>s) * uB;
        if (zero && MASK != 0 && load<u8>(MASK + <usize>b * <usize>T + <usize>s) == 0) memory.fill(dst, 0, uB);
        else memory.copy(dst, H + <usize>b * uB, uB);
      }
    }
  }
  for (let b = 0; b < B; b++) {
    const row = OUT + <usize>b * <usize>slots * uB;
    if (!retSeq) {
      if (zero && MASK != 0 && load<u8>(MASK + <usize>b * <usize>T + <usize>(T - 1)) == 0) memory.fill(row, 0, uB);
      else memory.copy(row, H + <usize>b * uB, uB);
    }
    memory.copy(row + <usize>tOut * uB, H + <usize>b * uB, uB);
    if (nState > 1) memory.copy(row + <usize>(tOut + 1) * uB, C + <usize>b * uB, uB);
  }
}
