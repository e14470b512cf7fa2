// Kernels that run directly on the tfjs wasm backend's heap: the module
// imports that backend's memory (src/ops/heap_ops.ts instantiates it with
// it), so tensors are read and written in place, without copies. It must
// never write memory it was not given: no static data, no allocation
// (scripts/build.mjs checks that the module has no data segments and no
// start function).

/**
 * The maskValue-0 step mask: out[s] = 1 when one of the f floats of step s
 * (at x + 4 f s) has a nonzero magnitude (its bits without the sign; NaN
 * and Inf count as nonzero), else 0. A step stops at its first nonzero
 * block of 16 floats, so valid steps cost one block and padding is read
 * whole, 16 floats at a time.
 */
export function nonzeroSteps(x: usize, steps: i32, f: i32, out: usize): void {
  const magnitude = i32x4.splat(0x7fffffff);
  const fb = <usize>f << 2;
  for (let s = 0; s < steps; s++) {
    const p = x + <usize>s * fb;
    let any = false;
    let j = 0;
    for (; j + 16 <= f; j += 16) {
      const q = p + (<usize>j << 2);
      const v = v128.or(v128.or(v128.load(q), v128.load(q, 16)), v128.or(v128.load(q, 32), v128.load(q, 48)));
      if (v128.any_true(v128.and(v, magnitude))) {
        any = true;
        break;
      }
    }
    if (!any) {
      for (; j + 4 <= f; j += 4) {
        if (v128.any_true(v128.and(v128.load(p + (<usize>j << 2)), magnitude))) {
          any = true;
          break;
        }
      }
    }
    if (!any) {
      for (; j < f; j++) {
        if ((load<u32>(p + (<usize>j << 2)) & 0x7fffffff) != 0) {
          any = true;
          break;
        }
      }
    }
    store<u8>(out + <usize>s, any ? 1 : 0);
  }
}

/**
 * One Adam step over n floats, written to new buffers (Keras's update; each
 * operation rounded to float32 in the order the tfjs ops of the reference
 * take, so the results are the same bits):
 *   m' = m + (g - m) c1;  v' = v + (g g - v) c2;  vh' = max(vh, v') (amsgrad, vh != 0)
 *   w' = w - (m' alpha) / (sqrt(v' or vh') + eps)
 */
export function adam(w: usize, m: usize, v: usize, g: usize, vh: usize, wo: usize, mo: usize, vo: usize, vho: usize, n: i32, c1: f32, c2: f32, alpha: f32, eps: f32): void {
  adamSpan(w, m, v, g, vh, wo, mo, vo, vho, 0, n, true, c1, c2, alpha, eps);
}

/**
 * `adam` over floats [from, to), with g read from memory (useG) or taken as
 * +0 without reading it (the same bits: the rule sees a +0 either way).
 * Inlined, so each call site keeps its own loop for its constant useG.
 */
@inline
function adamSpan(w: usize, m: usize, v: usize, g: usize, vh: usize, wo: usize, mo: usize, vo: usize, vho: usize, from: i32, to: i32, useG: bool, c1: f32, c2: f32, alpha: f32, eps: f32): void {
  const c1v = f32x4.splat(c1), c2v = f32x4.splat(c2), av = f32x4.splat(alpha), ev = f32x4.splat(eps);
  const zero = f32x4.splat(0);
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const o = <usize>i << 2;
    const gv = useG ? v128.load(g + o) : zero;
    const mv = v128.load(m + o);
    const vv = v128.load(v + o);
    const mn = f32x4.add(mv, f32x4.mul(f32x4.sub(gv, mv), c1v));
    let vn = f32x4.add(vv, f32x4.mul(f32x4.sub(f32x4.mul(gv, gv), vv), c2v));
    v128.store(mo + o, mn);
    v128.store(vo + o, vn);
    if (vh != 0) {
      vn = f32x4.max(v128.load(vh + o), vn);
      v128.store(vho + o, vn);
    }
    const step = f32x4.div(f32x4.mul(mn, av), f32x4.add(f32x4.sqrt(vn), ev));
    v128.store(wo + o, f32x4.sub(v128.load(w + o), step));
  }
  for (; i < to; i++) {
    const o = <usize>i << 2;
    const gs: f32 = useG ? load<f32>(g + o) : 0;
    const ms = load<f32>(m + o);
    const vs = load<f32>(v + o);
    const mn: f32 = ms + (gs - ms) * c1;
    let vn: f32 = vs + (gs * gs - vs) * c2;
    store<f32>(mo + o, mn);
    store<f32>(vo + o, vn);
    if (vh != 0) {
      vn = max(load<f32>(vh + o), vn);
      store<f32>(vho + o, vn);
    }
    store<f32>(wo + o, load<f32>(w + o) - (mn * alpha) / (sqrt<f32>(vn) + eps));
  }
}

/**
 * Rows of f floats along the time axis (src/ops/sequence_ops.ts's
 * copySteps, on byte offsets): for i < b and s < n,
 *   dst[i, dOff + s, dCol .. dCol + f) = src[i, sOff + (reverse ? n - 1 - s : s), sCol .. sCol + f)
 * with src [b, sT, sW] and dst [b, dT, dW] (sizes in floats). The regions
 * must not overlap.
 */
export function copySteps(src: usize, sT: i32, sW: i32, sCol: i32, sOff: i32, dst: usize, dT: i32, dW: i32, dCol: i32, dOff: i32, b: i32, n: i32, f: i32, reverse: i32): void {
  const bytes = <usize>f << 2;
  for (let i = 0; i < b; i++) {
    for (let s = 0; s < n; s++) {
      const from = <usize>((i * sT + sOff + (reverse != 0 ? n - 1 - s : s)) * sW + sCol) << 2;
      const to = <usize>((i * dT + dOff + s) * dW + dCol) << 2;
      memory.copy(dst + to, src + from, bytes);
    }
  }
}

/**
 * `adam` in place over n floats seen as rows of f, where g is known to be
 * zero outside the rows listed at `rows` (nRows int32s, ascending, no
 * repeats, each in [0, n / f)): those rows read g, the others take g = +0
 * without reading it (an Embedding gradient is zero but at the batch's
 * rows). Every row is updated, with the bits `adam` gives.
 */
export function adamRowsInPlace(w: usize, m: usize, v: usize, g: usize, vh: usize, n: i32, f: i32, rows: usize, nRows: i32, c1: f32, c2: f32, alpha: f32, eps: f32): void {
  let at = 0;
  for (let j = 0; j < nRows; j++) {
    const start = load<i32>(rows + (<usize>j << 2)) * f;
    if (start > at) adamSpan(w, m, v, g, vh, w, m, v, vh, at, start, false, c1, c2, alpha, eps);
    adamSpan(w, m, v, g, vh, w, m, v, vh, start, start + f, true, c1, c2, alpha, eps);
    at = start + f;
  }
  if (n > at) adamSpan(w, m, v, g, vh, w, m, v, vh, at, n, false, c1, c2, alpha, eps);
}

/**
 * An embedding lookup (src/ops/embedding_lookup.ts): out[k] = table[ids[k]]
 * for k < n, rows of f floats (byte offsets; ids int32). An id outside
 * [0, vocab) gives a row of zeros.
 */
export function gatherRows(table: usize, ids: usize, n: i32, f: i32, vocab: i32, out: usize): void {
  const fb = <usize>f << 2;
  for (let k = 0; k < n; k++) {
    const id = load<i32>(ids + (<usize>k << 2));
    const o = out + <usize>k * fb;
    if (id >= 0 && id < vocab) memory.copy(o, table + <usize>id * fb, fb);
    else memory.fill(o, 0, fb);
  }
}

/**
 * The Embedding gradient's scatter (src/ops/embedding_lookup.ts,
 * `scatterAddInto`): first the nZero rows listed at `zero` are zeroed; then
 * for j < n, k = j (or the j-th int32 listed at `only`, when only != 0):
 * out[ids[k]] += rows[k], rows of f floats (byte offsets; nIds ids, int32).
 * Ids outside [0, vocab), listed rows outside it and listed positions
 * outside [0, nIds) touch nothing. Each float is one float32 add, in the
 * order of k, as the JavaScript loop does it: the same bits.
 */
export function scatterAddRows(out: usize, ids: usize, nIds: i32, rows: usize, n: i32, f: i32, vocab: i32, only: usize, zero: usize, nZero: i32): void {
  const fb = <usize>f << 2;
  for (let j = 0; j < nZero; j++) {
    const row = load<i32>(zero + (<usize>j << 2));
    if (row >= 0 && row < vocab) memory.fill(out + <usize>row * fb, 0, fb);
  }
  for (let j = 0; j < n; j++) {
    const k = only != 0 ? load<i32>(only + (<usize>j << 2)) : j;
    // A listed position outside the nIds ids adds nothing (it never reads past them).
    if (k < 0 || k >= nIds) continue;
    const id = load<i32>(ids + (<usize>k << 2));
    if (id < 0 || id >= vocab) continue;
    const o = out + <usize>id * fb;
    const r = rows + <usize>k * fb;
    let d = 0;
    for (; d + 4 <= f; d += 4) {
      const q = <usize>d << 2;
      v128.store(o + q, f32x4.add(v128.load(o + q), v128.load(r + q)));
    }
    for (; d < f; d++) {
      const q = <usize>d << 2;
      store<f32>(o + q, load<f32>(o + q) + load<f32>(r + q));
    }
  }
}

export { attendGroup, layerNormRows, layerNormRowsBackward, maskedNonFinite, meanOverSteps } from './attention_kernels';
