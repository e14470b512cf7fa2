/**
 * Marshals one forward or backward call of the recurrent kernel: lays out
 * kernel memory and fills the call header (asm/kernel_abi.json documents
 * every entry; the indices come from the code generated from it), copies typed arrays
 * in and out, and pads the unit axis to a multiple of 4 when needed (padded
 * rows and columns of R are zero, so padded lanes never reach the real ones).
 */
import { KernelArena, residentTable, type RnnKernel } from './kernel.js';
import type { StepPlan } from './plan.js';
import { packedPool, savedPool } from './buffer_pool.js';
import { H, HEADER_SIZE, KIND, P } from '../../generated/rnn_kernel_abi.js';

/** What the kernel needs to know about one call, besides the tensor data. */
export interface KernelSpec {
  kind: (typeof KIND)[keyof typeof KIND];
  resetAfter: boolean;
  act: number;
  ract: number;
  units: number;
  /** Input features (columns of XC, rows of W). */
  features: number;
  gates: number;
  returnSequences: boolean;
  zeroOutputForMask: boolean;
  plan: StepPlan;
  /** Unpadded [B, U] recurrent dropout mask, or null. */
  rdm: Float32Array | null;
  hasRecurrentBias: boolean;
  hasInputBias: boolean;
}

/** Saved by the forward pass for the backward pass (HS, GA, X1, X2 in one block; padded units). */
export type SavedActivations = Float32Array;

/** Rows per batch row of the packed result: the outputs (T with returnSequences, else 1), then the final states (LSTM 2, else 1). */
export function packedSlots(s: Pick<KernelSpec, 'kind' | 'returnSequences' | 'plan'>): number {
  return (s.returnSequences ? s.plan.time : 1) + (s.kind === KIND.lstm ? 2 : 1);
}

const dims = (s: KernelSpec) => {
  const up = (s.units + 3) & ~3;
  const nState = s.kind === KIND.lstm ? 2 : 1;
  const tOut = s.returnSequences ? s.plan.time : 1;
  return { up, gup: s.gates * up, nState, tOut, slots: packedSlots(s), fp: (s.features + 3) & ~3 };
};

/** Copies [rows, groups * u] into [rows, groups * up] (zero-filled lanes), or returns src when u === up. */
export function padUnits(src: Float32Array, rows: number, groups: number, u: number, up: number): Float32Array {
  if (u === up) return src;
  const out = new Float32Array(rows * groups * up);
  for (let r = 0; r < rows; r++) for (let g = 0; g < groups; g++) out.set(src.subarray((r * groups + g) * u, (r * groups + g + 1) * u), (r * groups + g) * up);
  return out;
}

/** Inverse of padUnits for the first `rows` rows of src. */
export function unpadUnits(src: Float32Array, rows: number, groups: number, u: number, up: number): Float32Array {
  if (u === up) return src.length === rows * groups * u ? src : src.slice(0, rows * groups * u);
  const out = new Float32Array(rows * groups * u);
  for (let r = 0; r < rows; r++) for (let g = 0; g < groups; g++) out.set(src.subarray((r * groups + g) * up, (r * groups + g) * up + u), (r * groups + g) * u);
  return out;
}

function regions(k: RnnKernel, s: KernelSpec, backward: boolean, save = true, fromTable = false, tableAt: number | null = null) {
  const { up, gup, nState, slots, fp } = dims(s);
  const f = s.features;
  const { batch: b, time: t, n } = s.plan;
  const a = new KernelArena(k);
  const F = 4;
  const r = {
    hdr: a.take(HEADER_SIZE * 4),
    // A resident projection table is XP itself; the tokens' rows of it go in XI.
    xp: backward ? 0 : tableAt ?? a.take(n * gup * F),
    xi: tableAt !== null ? a.take(n * 4) : 0,
    xc: fromTable ? 0 : a.take(n * f * F),
    w: a.take(f * gup * F),
    // The forward pass adds b at the gates: zeros when the layer has no bias.
    b: a.take(gup * F),
    r: a.take(up * gup * F),
    rb: s.hasRecurrentBias ? a.take(gup * F) : 0,
    h: a.take(b * up * F),
    c: nState > 1 ? a.take(b * up * F) : 0,
    rdm: s.rdm !== null ? a.take(b * up * F) : 0,
    counts: a.take(t * 4),
    rows: a.take(n * 4),
    mask: s.plan.mask !== null ? a.take(b * t) : 0,
    out: backward ? 0 : a.take(b * slots * up * F),
    saved: a.take(n * up * (3 + s.gates) * F),
    scr: a.take(b * gup * F),
    scr2: a.take(b * up * F),
    rt: backward ? a.take(gup * up * F) : 0,
    dout: backward ? a.take(b * slots * up * F) : 0,
    dh: backward ? a.take(b * up * F) : 0,
    dc: backward ? a.take(b * up * F) : 0,
    dxp: backward ? a.take(n * gup * F) : 0,
    dgr: backward && s.kind === KIND.gru && s.resetAfter ? a.take(n * gup * F) : 0,
    dr: backward ? a.take(up * gup * F) : 0,
    drb: backward && s.hasRecurrentBias ? a.take(gup * F) : 0,
    wt: backward ? a.take(gup * fp * F) : 0,
    dxc: backward ? a.take(n * fp * F) : 0,
    dw: backward ? a.take(f * gup * F) : 0,
    db: backward && s.hasInputBias ? a.take(gup * F) : 0,
  };
  const v = a.commit();
  const hs = r.saved;
  const ga = hs + n * up * F;
  const x1 = ga + n * gup * F;
  const x2 = x1 + n * up * F;
  const hdr = r.hdr >> 2;
  // Every entry of the header, by name (the types make both lists complete).
  const scalars: Record<keyof typeof H, number> = {
    KIND: s.kind, RESET_AFTER: s.resetAfter ? 1 : 0, ACT: s.act, RACT: s.ract, B: b, T: t, U: up, G: s.gates,
    RETSEQ: s.returnSequences ? 1 : 0, ZERO: s.zeroOutputForMask ? 1 : 0, N: n, NSTATE: nState, TOUT: dims(s).tOut, F: f, FP: fp, SAVE: save ? 1 : 0,
  };
  const pointers: Record<keyof typeof P, number> = {
    XP: r.xp, R: r.r, RB: r.rb, H: r.h, C: r.c, RDM: r.rdm, COUNTS: r.counts, ROWS: r.rows, MASK: r.mask,
    OUT: r.out, HS: hs, GA: ga, X1: x1, X2: x2, SCR: r.scr, SCR2: r.scr2, RT: r.rt, DOUT: r.dout,
    DH: r.dh, DC: r.dc, DXP: r.dxp, DGR: r.dgr || r.dxp, DR: r.dr, DRB: r.drb,
    XC: r.xc, W: r.w, B: r.b, WT: r.wt, DXC: r.dxc, DW: r.dw, DB: r.db, XI: r.xi,
  };
  v.i32.fill(0, hdr, hdr + HEADER_SIZE);
  for (const [name, x] of Object.entries(scalars)) v.i32[hdr + H[name as keyof typeof H]] = x;
  for (const [name, x] of Object.entries(pointers)) v.i32[hdr + P[name as keyof typeof P]] = x;
  v.i32.set(s.plan.counts, r.counts >> 2);
  v.i32.set(s.plan.rows, r.rows >> 2);
  if (s.plan.mask !== null) v.u8.set(s.plan.mask, r.mask);
  if (s.rdm !== null) v.f32.set(padUnits(s.rdm, b, 1, s.units, up), r.rdm >> 2);
  return { r, v, up, gup, nState, slots, fp };
}

/**
 * The recurrence's inputs: XC [N, F] (valid tokens' inputs), W [F, G*U],
 * input bias [G*U] or null, R [U, G*U], GRU recurrent bias or null, h0 and
 * c0 [B, U]. Inference may give the projections instead of XC: `xi` [N]
 * (each valid token's row of the table) and `p` (a projection table
 * [V, G*up], units padded as in kernel memory: `projectRows`); then XC is
 * not read. With `pid` (the table's id, never reused), the kernel keeps the
 * table in its memory across calls (kernel.ts `residentTable`) and reads
 * the rows there; without, they are copied in for each call.
 */
export interface KernelInputs {
  xc: Float32Array;
  w: Float32Array;
  b: Float32Array | null;
  r: Float32Array;
  rb: Float32Array | null;
  h0: Float32Array;
  c0: Float32Array | null;
  xi?: Int32Array | null;
  p?: Float32Array | null;
  pid?: number;
}

/** The inputs that are tensors of the layer (and have gradients). */
export type TensorInputName = 'xc' | 'w' | 'b' | 'r' | 'rb' | 'h0' | 'c0';

/** Copies the inputs both passes read (XC, W, b, R) into kernel memory. */
function setShared(v: { f32: Float32Array }, at: { xc: number; w: number; b: number; r: number }, s: KernelSpec, x: KernelInputs, up: number): void {
  const u = s.units;
  if (at.xc !== 0) v.f32.set(x.xc, at.xc >> 2);
  v.f32.set(padUnits(x.w, s.features, s.gates, u, up), at.w >> 2);
  if (x.b !== null) v.f32.set(padUnits(x.b, 1, s.gates, u, up), at.b >> 2);
  else v.f32.fill(0, at.b >> 2, (at.b >> 2) + s.gates * up);
  // R is read as [up, G*up]: its padded rows are zeroed too. Padded lanes of
  // h are act(0), which is not 0 for sigmoid; over rows left from an earlier
  // call they would reach the real lanes.
  v.f32.set(padUnits(x.r, u, s.gates, u, up), at.r >> 2);
  if (up !== u) v.f32.fill(0, (at.r >> 2) + u * s.gates * up, (at.r >> 2) + up * s.gates * up);
}

/**
 * Runs the forward pass: projects the tokens' inputs (XP = XC W + b) and
 * runs the recurrence. Returns the packed [B, TOUT + states, U] result
 * (outputs, then final h and c) and, with `save`, the activations the
 * backward pass needs.
 */
export function kernelForward(k: RnnKernel, s: KernelSpec, x: KernelInputs, save: boolean, view = false): { packed: Float32Array; saved: SavedActivations | null } {
  const fromTable = x.xi != null && x.p != null && !save;
  // Placed before the call's layout, which starts above the resident tables.
  const tableAt = fromTable && x.pid !== undefined ? residentTable(k, x.pid, x.p!) : null;
  const { r: at, v, up, gup, nState, slots } = regions(k, s, false, save, fromTable, tableAt);
  const { batch: b, n } = s.plan;
  const u = s.units;
  setShared(v, at, s, x, up);
  // XP given (the kernel skips its product when XC is 0): the resident table, each token reading row xi[i]; or row xi[i] copied in for token i.
  if (tableAt !== null) v.i32.set(x.xi!, at.xi >> 2);
  else if (fromTable) for (let i = 0, o = at.xp >> 2; i < n; i++, o += gup) v.f32.set(x.p!.subarray(x.xi![i]! * gup, (x.xi![i]! + 1) * gup), o);
  if (at.rb !== 0) v.f32.set(padUnits(x.rb!, 1, s.gates, u, up), at.rb >> 2);
  v.f32.set(padUnits(x.h0, b, 1, u, up), at.h >> 2);
  if (nState > 1) v.f32.set(padUnits(x.c0!, b, 1, u, up), at.c >> 2);
  k.forward(at.hdr);
  const out = new Float32Array(k.memory.buffer, at.out, b * slots * up);
  // From this thread's pool (inference gives it back once copied out), or with `view` kernel memory itself where no unpadding is needed.
  const packed = u !== up ? unpadUnits(out, b * slots, 1, u, up) : view ? out : packedPool.copyOf(out);
  // Kept until the backward pass, which returns it to the pool.
  const saved = save ? savedPool.copyOf(new Float32Array(k.memory.buffer, at.saved, n * up * (3 + s.gates))) : null;
  return { packed, saved };
}

/** Table rows projected per product in `projectRows` (kernel memory for the rows and their projections: 1.3 MB for 64 features and 256 columns). */
const PROJECT_CHUNK = 1024;

/**
 * The input projections x W of `rows` [M, F] (for example an embedding
 * table) with the forward pass's own product and padding, written into
 * `out` [M, gates * up] (units padded to a multiple of 4, padded lanes 0):
 * row m is bit for bit what the forward pass computes for a token whose
 * input is row m. In chunks, so kernel memory stays small.
 */
export function projectRows(k: RnnKernel, rows: Float32Array, w: Float32Array, features: number, gates: number, units: number, out: Float32Array): void {
  const up = (units + 3) & ~3;
  const gup = gates * up;
  const m = rows.length / features;
  const a = new KernelArena(k);
  const F = 4;
  const at = { w: a.take(features * gup * F), x: a.take(PROJECT_CHUNK * features * F), y: a.take(PROJECT_CHUNK * gup * F) };
  const v = a.commit();
  v.f32.set(padUnits(w, features, gates, units, up), at.w >> 2);
  for (let r0 = 0; r0 < m; r0 += PROJECT_CHUNK) {
    const c = Math.min(PROJECT_CHUNK, m - r0);
    v.f32.set(rows.subarray(r0 * features, (r0 + c) * features), at.x >> 2);
    k.gemm(at.x, features, 1, at.w, gup, at.y, gup, c, features, gup, 0);
    out.set(v.f32.subarray(at.y >> 2, (at.y >> 2) + c * gup), r0 * gup);
  }
}

/** Gradients of the recurrence inputs, unpadded. */
export interface KernelGrads {
  dxc: Float32Array;
  dw: Float32Array;
  db: Float32Array | null;
  dr: Float32Array;
  drb: Float32Array | null;
  dh0: Float32Array;
  dc0: Float32Array | null;
}

/**
 * Runs the backward pass from the forward's inputs and saved activations and
 * the gradient of the packed result. Consumes `saved` (its buffer goes back
 * to this thread's pool for the next forward pass). The gradients are views
 * of kernel memory where no unpadding is needed: valid until the kernel's
 * next call (callers copy them at once).
 */
export function kernelBackward(k: RnnKernel, s: KernelSpec, x: KernelInputs, saved: SavedActivations, dPacked: Float32Array): KernelGrads {
  const { r: at, v, up, gup, nState, slots, fp } = regions(k, s, true);
  const { batch: b, n } = s.plan;
  const u = s.units;
  setShared(v, at, s, x, up);
  v.f32.set(saved, at.saved >> 2);
  savedPool.give(saved);
  v.f32.set(padUnits(dPacked, b * slots, 1, u, up), at.dout >> 2);
  k.backward(at.hdr);
  const mem = k.memory.buffer;
  const view = (ptr: number, len: number) => new Float32Array(mem, ptr, len);
  return {
    dxc: unpadUnits(view(at.dxc, n * fp), n, 1, s.features, fp),
    dw: unpadUnits(view(at.dw, s.features * gup), s.features, s.gates, u, up),
    db: at.db !== 0 ? unpadUnits(view(at.db, gup), 1, s.gates, u, up) : null,
    dr: unpadUnits(view(at.dr, up * gup), u, s.gates, u, up),
    drb: at.drb !== 0 ? unpadUnits(view(at.drb, gup), 1, s.gates, u, up) : null,
    dh0: unpadUnits(view(at.dh, b * up), b, 1, u, up),
    dc0: nState > 1 ? unpadUnits(view(at.dc, b * up), b, 1, u, up) : null,
  };
}
