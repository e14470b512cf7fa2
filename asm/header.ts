// The call header: one i32 array in kernel memory that JS fills before each
// call (src/ops/rnn/kernel_call.ts mirrors these indices). Sizes are in
// elements; pointers are byte offsets into memory, 16-byte aligned; U is the
// number of units rounded up to a multiple of 4.

export const KIND_LSTM: i32 = 0;
export const KIND_GRU: i32 = 1;
export const KIND_SIMPLE: i32 = 2;

// Scalars.
export const H_KIND = 0;
export const H_RESET_AFTER = 1;
export const H_ACT = 2;
export const H_RACT = 3;
export const H_B = 4;
export const H_T = 5;
export const H_U = 6;
export const H_G = 7;
export const H_RETSEQ = 8;
export const H_ZERO = 9;
export const H_N = 10;
export const H_NSTATE = 11;
export const H_TOUT = 12;
export const H_F = 13; // input features
export const H_FP = 14; // input features rounded up to a multiple of 4
export const H_SAVE = 15; // 1: save HS, GA, X1, X2 for the backward pass; 0 (inference): GA, X2 and the LSTM's X1 are not written
// Pointers (0 = absent where optional).
export const P_XP = 16; // [N, G*U] input projection of the valid tokens, in token order
export const P_R = 17; // [U, G*U] recurrent kernel
export const P_RB = 18; // [G*U] GRU recurrent bias (resetAfter) or 0
export const P_H = 19; // [B, U] h state (initial on entry, final on exit)
export const P_C = 20; // [B, U] c state (LSTM)
export const P_RDM = 21; // [B, U] recurrent dropout mask or 0
export const P_COUNTS = 22; // i32 [T] active rows per processing step
export const P_ROWS = 23; // i32 [N] row of each token; tokens grouped by step
export const P_MASK = 24; // u8 [B, T] mask in processing order, or 0 (all valid)
export const P_OUT = 25; // [B, TOUT + NSTATE, U] outputs then final states
export const P_HS = 26; // [N, U] saved: h_{t-1} * rdm (the matmul input)
export const P_GA = 27; // [N, G*U] saved: activated gates
export const P_X1 = 28; // [N, U] saved: LSTM c_{t-1}; GRU h_{t-1}
export const P_X2 = 29; // [N, U] saved: LSTM act(c_t); GRU h @ R_h + b (resetAfter) or r * hs
export const P_SCR = 30; // [B, G*U] scratch
export const P_SCR2 = 31; // [B, U] scratch
export const P_RT = 32; // [G*U, U] R transposed (backward)
export const P_DOUT = 33; // [B, TOUT + NSTATE, U] gradient of OUT (backward)
export const P_DH = 34; // [B, U] running dL/dh; dh0 on exit
export const P_DC = 35; // [B, U] running dL/dc; dc0 on exit
export const P_DXP = 36; // [N, G*U] gradient of XP
export const P_DGR = 37; // [N, G*U] gradient of h @ R (+ b) per token (GRU resetAfter; else = DXP)
export const P_DR = 38; // [U, G*U] gradient of R
export const P_DRB = 39; // [G*U] gradient of the recurrent bias
export const P_XC = 40; // [N, F] inputs of the valid tokens (0: XP is given instead of computed)
export const P_W = 41; // [F, G*U] input kernel
export const P_B = 42; // [G*U] input bias (zeros when the layer has none), added at the gates
export const P_WT = 43; // [G*U, FP] W transposed, zero-padded columns (backward)
export const P_DXC = 44; // [N, FP] gradient of XC (backward)
export const P_DW = 45; // [F, G*U] gradient of W (backward)
export const P_DB = 46; // [G*U] gradient of the input bias (backward; 0 = none)

let HDR: usize = 0;

export function setHeader(hdr: usize): void {
  HDR = hdr;
}

@inline
export function hi(i: i32): i32 {
  return load<i32>(HDR + (<usize>i << 2));
}

@inline
export function hp(i: i32): usize {
  return <usize>load<u32>(HDR + (<usize>i << 2));
}

/** dst[0..u) = src[0..u) * m[0..u) (u a multiple of 4). */
@inline
export function mulRow(dst: usize, src: usize, m: usize, u: i32): void {
  for (let q = 0; q < u; q += 4) {
    const o = <usize>q << 2;
    v128.store(dst + o, f32x4.mul(v128.load(src + o), v128.load(m + o)));
  }
}

/** dst[0..u) += src[0..u) (u a multiple of 4). */
@inline
export function addRow(dst: usize, src: usize, u: i32): void {
  for (let q = 0; q < u; q += 4) {
    const o = <usize>q << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
}
