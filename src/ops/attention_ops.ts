/**
 * Mask arithmetic for attention: combining padding, causal, sliding-window
 * and explicit attention masks (rule 14 of the conformance README), Keras's
 * two masked softmaxes (rules 14 and 15), Keras's `scores - 1e9` of the
 * Attention layer (rule 17), and the guard that keeps NaN or Inf stored in
 * padding out of every valid output.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape } from '../errors.js';
import { expandMask, forEachRun, identityWithMaskedGradient } from './mask_ops.js';
import { isTapeOn } from '../runtime/internals.js';
import { f32, heapView, onCpuMemoryBackend, wasmHeapOffset, writeTensor } from './heap_view.js';
import { heapOps } from './heap_ops.js';
import { tableRowsOf, type LookupSource } from './lookup_source.js';

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * `x` broadcast to `shape` by a broadcasting add. tfjs's broadcastTo (and
 * the broadcasting inside `where`) runs the Tile kernel, which is about ten
 * times slower than Add on wasm; on [32, 4, 128, 128] scores it dominated
 * the whole masked attention. Differentiable like `broadcastTo`.
 */
export function broadcastFast(x: tf.Tensor, shape: number[]): tf.Tensor {
  if (sameShape(x.shape, shape)) return x;
  return tf.tidy(() => {
    // Float, not int32: wasm's broadcasting Add is fast only for float32.
    // tf.fill runs in the backend; tf.zeros would build a JavaScript array of the full shape and copy it in.
    if (x.dtype === 'bool') return tf.greater(tf.add(tf.fill(shape, 0), tf.cast(x, 'float32')), tf.scalar(0));
    return tf.add(tf.fill(shape, 0, x.dtype), x);
  });
}

/** `where(cond, a, b)` with numpy broadcasting done by {@link broadcastFast}; `b` may be a number. */
export function select(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    const bShape = typeof b === 'number' ? [] : b.shape;
    const shape = tf.backend_util.assertAndGetBroadcastShape(tf.backend_util.assertAndGetBroadcastShape(cond.shape, a.shape), bShape);
    const other = typeof b === 'number' ? tf.fill(shape, b, a.dtype) : broadcastFast(b, shape);
    return tf.where(broadcastFast(cond, shape), broadcastFast(a, shape), other);
  });
}

/** float32(-0.7 * 3.38953e38): what Keras's `dot_product_attention` writes into masked logits. */
export const LARGE_NEGATIVE = Math.fround(-0.7 * 3.38953e38);

/** What the Keras Softmax layer writes into masked inputs before its softmax. */
export const SOFTMAX_MASK_VALUE = -1e9;

/** [T, S] bool, true where query i may attend key j: `i >= j` (Keras's causal mask). */
export function causalMask(t: number, s: number): tf.Tensor {
  return tf.tidy(() => tf.greaterEqual(tf.reshape(tf.range(0, t, 1, 'int32'), [t, 1]), tf.reshape(tf.range(0, s, 1, 'int32'), [1, s])));
}

/** [T, S] bool, true where `|i - j| < window` (Keras's sliding-window band). */
export function slidingWindowMask(t: number, s: number, window: number): tf.Tensor {
  return tf.tidy(() => {
    const d = tf.sub(tf.reshape(tf.range(0, t, 1, 'int32'), [t, 1]), tf.reshape(tf.range(0, s, 1, 'int32'), [1, s]));
    return tf.less(tf.abs(d), tf.scalar(window, 'int32'));
  });
}

export interface AttentionMaskParts {
  /** [B, T] bool or null. */
  queryMask: tf.Tensor | null;
  /** [B, S] bool or null. */
  valueMask: tf.Tensor | null;
  /** [B, S] bool or null. */
  keyMask: tf.Tensor | null;
  /** [B, T, S] (or [T, S]) explicit mask; any dtype, nonzero = may attend. */
  attentionMask: tf.Tensor | null;
  causal: boolean;
  slidingWindow: number | null;
  /** Query and key lengths. */
  t: number;
  s: number;
}

/**
 * Keras's combined attention mask, `attention & query[:, :, None] &
 * value[:, None, :] & key[:, None, :] & causal & window`, as [B or 1, T, S]
 * bool, or null when there is no mask at all.
 */
export function combineAttentionMask(p: AttentionMaskParts): tf.Tensor | null {
  if (!p.queryMask && !p.valueMask && !p.keyMask && !p.causal && p.slidingWindow === null && !p.attentionMask) return null;
  // Where tensors live in CPU memory the masks are small to read, and tfjs-wasm's broadcasting LogicalAnd is slow (1.8 ms for [32, 22, 22]).
  return onCpuMemoryBackend() ? combineAttentionMaskHere(p) : combineAttentionMaskOps(p);
}

/** `combineAttentionMask` with tfjs ops (other backends; also the reference of the tests). */
export function combineAttentionMaskOps(p: AttentionMaskParts): tf.Tensor {
  return tf.tidy(() => {
    let auto: tf.Tensor | null = null;
    const and = (m: tf.Tensor) => {
      auto = auto === null ? m : tf.logicalAnd(auto, m);
    };
    if (p.queryMask) and(tf.expandDims(p.queryMask, 2));
    if (p.valueMask) and(tf.expandDims(p.valueMask, 1));
    if (p.keyMask) and(tf.expandDims(p.keyMask, 1));
    if (p.causal) and(tf.expandDims(causalMask(p.t, p.s), 0));
    if (p.slidingWindow !== null) and(tf.expandDims(slidingWindowMask(p.t, p.s, p.slidingWindow), 0));
    let explicit: tf.Tensor | null = null;
    if (p.attentionMask) {
      const m = p.attentionMask;
      explicit = m.dtype === 'bool' ? m : tf.notEqual(m, tf.scalar(0, m.dtype));
      if (explicit.rank === 2) explicit = tf.expandDims(explicit, 0);
    }
    if (explicit === null) return tf.clone(auto as unknown as tf.Tensor);
    return auto === null ? tf.clone(explicit) : tf.logicalAnd(explicit, auto);
  });
}

/** One rank-3 operand of the AND in `combineAttentionMaskHere`: its values (nonzero = may attend) and its shape, where 1 broadcasts. */
interface MaskOperand {
  values: ArrayLike<number>;
  shape: [number, number, number];
}

/** A mask tensor's values, read at once. */
function maskOperand(m: tf.Tensor, shape: [number, number, number]): MaskOperand {
  return { values: m.dataSync() as ArrayLike<number>, shape };
}

/**
 * `combineAttentionMask` computed in JavaScript from the masks' values: the
 * same shape (the broadcast of the parts that are present, rank 3) and the
 * same values (an explicit mask is true where nonzero).
 */
function combineAttentionMaskHere(p: AttentionMaskParts): tf.Tensor {
  const auto: MaskOperand[] = [];
  if (p.queryMask) auto.push(maskOperand(p.queryMask, [p.queryMask.shape[0]!, p.queryMask.shape[1]!, 1]));
  for (const m of [p.valueMask, p.keyMask]) if (m) auto.push(maskOperand(m, [m.shape[0]!, 1, m.shape[1]!]));
  const square = (make: () => tf.Tensor) => {
    const m = make();
    const op = maskOperand(m, [1, m.shape[0]!, m.shape[1]!]);
    m.dispose();
    return op;
  };
  if (p.causal) auto.push(square(() => causalMask(p.t, p.s)));
  if (p.slidingWindow !== null) auto.push(square(() => slidingWindowMask(p.t, p.s, p.slidingWindow!)));
  const all = [...auto];
  if (p.attentionMask) {
    const m = p.attentionMask;
    all.push(maskOperand(m, m.rank === 2 ? [1, m.shape[0]!, m.shape[1]!] : [m.shape[0]!, m.shape[1]!, m.shape[2]!]));
  }
  // The broadcast shape, as tfjs's logicalAnd of the parts would give it.
  const shape = all.map((o) => o.shape).reduce((a, b) => tf.backend_util.assertAndGetBroadcastShape(a, b) as [number, number, number]);
  return writeTensor(shape, 'bool', (out) => {
    const [n0, n1, n2] = shape;
    out.fill(1);
    for (const { values, shape: [d0, d1, d2] } of all) {
      for (let a = 0; a < n0; a++) {
        const a0 = (d0 === 1 ? 0 : a) * d1 * d2;
        for (let i = 0; i < n1; i++) {
          const i0 = a0 + (d1 === 1 ? 0 : i) * d2;
          const o = (a * n1 + i) * n2;
          for (let j = 0; j < n2; j++) if (values[i0 + (d2 === 1 ? 0 : j)] === 0) out[o + j] = 0;
        }
      }
    }
  });
}

/** Checks an explicit `attentionMask` against the query and key lengths; returns a message naming `where`. */
export function checkAttentionMask(m: tf.Tensor, b: number, t: number, s: number, where: string): void {
  const ok = (m.rank === 3 && (m.shape[0] === b || m.shape[0] === 1) && m.shape[1] === t && m.shape[2] === s) || (m.rank === 2 && m.shape[0] === t && m.shape[1] === s);
  if (!ok) {
    throw new MasqueError(
      'MASK_SHAPE_MISMATCH',
      `${where}: attentionMask must have shape [batch, T, S] = ${formatShape([b, t, s])} (or [T, S]); received shape ${formatShape(m.shape)}.`,
    );
  }
}

/**
 * Keras's default MHA softmax (`dot_product_attention`): masked logits are
 * REPLACED by a huge negative number, so a fully masked row is uniform.
 * `mask` broadcasts against `logits` (right-aligned, e.g. [B, 1, T, S]).
 *
 * The replacement is done as one broadcasting add of a 0 / LARGE_NEGATIVE
 * bias built at the mask's (smaller) shape: in float32, `logit +
 * LARGE_NEGATIVE` rounds to exactly LARGE_NEGATIVE for any |logit| < 1e31,
 * so the softmax input is the same as Keras's, at a quarter of the
 * elementwise work of a broadcast `where` over [B, heads, T, S].
 */
export function softmaxReplaceMasked(logits: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    if (mask === null) return tf.softmax(logits, -1);
    const bias = tf.where(mask, tf.zeros(mask.shape), tf.fill(mask.shape, LARGE_NEGATIVE));
    // Keras replaces a masked logit (`where`), so no gradient reaches it. The
    // added bias gives the same values, but its gradient would reach the
    // logits of a row with no valid key (uniform weights, whose softmax
    // gradient is not zero): the gradient is masked to match.
    const kept = isTapeOn() ? identityWithMaskedGradient(logits, tf.cast(mask, logits.dtype)) : logits;
    const out = tf.softmax(tf.add(kept, bias), -1);
    // A row with no valid key is a constant row, so Keras gives it uniform
    // weights. The wasm and cpu kernels compute exactly that; tfjs-webgl's
    // Max reduction starts at -1e20, above LARGE_NEGATIVE, and returns a wrong
    // softmax for that row, so on other backends the row is set to 1/S.
    if (onCpuMemoryBackend()) return out;
    return select(tf.any(mask, -1, true), out, 1 / logits.shape[logits.rank - 1]!);
  });
}

/**
 * The Keras Softmax layer's masked softmax over `axes`: masked inputs become
 * -1e9, and masked outputs are zeroed afterwards, so a fully masked row is 0.
 */
export function softmaxZeroMasked(x: tf.Tensor, mask: tf.Tensor | null, axes: number[] = [-1]): tf.Tensor {
  return tf.tidy(() => {
    const inp = mask === null ? x : select(mask, x, SOFTMAX_MASK_VALUE);
    const out = softmaxOverAxes(inp, axes);
    return mask === null ? out : select(mask, out, 0);
  });
}

/** Softmax over one or several axes (tfjs's kernel only handles the last axis). */
export function softmaxOverAxes(x: tf.Tensor, axes: number[]): tf.Tensor {
  return tf.tidy(() => {
    const norm = axes.map((a) => (a < 0 ? a + x.rank : a));
    if (norm.length === 1 && norm[0] === x.rank - 1) return tf.softmax(x, -1);
    return tf.exp(tf.sub(x, tf.logSumExp(x, norm, true)));
  });
}

/**
 * Keras's Attention-layer masking: `scores - 1e9 * !mask`, in float32 (so a
 * fully masked row of small scores rounds to exactly -1e9 everywhere and its
 * weights are uniform). Non-finite masked scores become -1e9.
 */
export function subtractMaskedScores(scores: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    if (mask === null) return tf.clone(scores);
    const safe = keepWhere(tf.sub(scores, tf.scalar(1e9)), (s) => tf.isFinite(s), -1e9);
    return select(mask, scores, safe);
  });
}

/**
 * `x` with non-finite values at masked positions replaced by 0. Finite
 * masked values are kept (Keras uses them, e.g. in a fully masked row), so
 * results match Keras whenever Keras's own are finite, and NaN or Inf in
 * padding cannot reach a valid output through a zero weight.
 */
export function finiteAtMasked(x: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
  if (mask === null) return x;
  return tf.tidy(() => {
    const m = broadcastFast(expandMask(mask, x.rank), x.shape);
    return keepWhere(x, (v) => tf.logicalOr(m, tf.isFinite(v)), 0);
  });
}

/**
 * Whether every value of `x` at a masked position is finite, read in place
 * (only the masked positions, no copy) on the wasm and cpu backends; null
 * when that cannot be done here (another backend, or `x` not float32 of
 * shape [B, T, ...] with a [B, T] bool mask).
 */
function maskedPositionsFinite(x: tf.Tensor, mask: tf.Tensor): boolean | null {
  const [b, t] = x.shape as [number, number];
  if (!onCpuMemoryBackend() || x.dtype !== 'float32' || x.rank < 3 || mask.dtype !== 'bool' || mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== t) return null;
  const f = x.size / (b * t);
  const source = tableRowsOf(x, b * t, f);
  if (source !== null) {
    const mv = heapView(mask);
    return tableRowsFinite(source, mv instanceof Uint8Array ? mv : Uint8Array.from(mv, (v) => (v ? 1 : 0)), f);
  }
  const ops = heapOps();
  const [xo, mo] = [wasmHeapOffset(x), wasmHeapOffset(mask)];
  // On the wasm backend: one SIMD pass over the masked steps (asm/attention_kernels.ts).
  if (ops !== null && xo !== null && mo !== null) return ops.maskedNonFinite(xo, mo, b * t, f) === 0;
  const mv = heapView(mask);
  const xv = f32(x);
  for (let p = 0; p < b * t; p++) {
    if (mv[p]) continue;
    // v * 0 is 0 for finite v and NaN for NaN or Inf: z is NaN when any is.
    let z = 0;
    let k = p * f;
    const end = k + f;
    for (; k + 4 <= end; k += 4) z += xv[k]! * 0 + xv[k + 1]! * 0 + xv[k + 2]! * 0 + xv[k + 3]! * 0;
    for (; k < end; k++) z += xv[k]! * 0;
    if (z !== 0) return false;
  }
  return true;
}

/**
 * Whether the rows of an embedding lookup's output at masked positions
 * (mask byte 0) are finite, read from its table: each distinct id among
 * them once (padding is one id), not a pass over the padded batch.
 */
function tableRowsFinite(source: LookupSource, mask: Uint8Array, f: number): boolean {
  const { ids } = source;
  const table = f32(source.table);
  const seen = new Set<number>();
  let last = -1;
  let finite = true;
  // Runs of masked positions (within a run, ids change rarely).
  forEachRun(mask, 0, 0, ids.length, (start, end) => {
    for (let p = start; finite && p < end; p++) {
      const id = ids[p]!;
      if (id === last) continue;
      last = id;
      if (seen.has(id)) continue;
      seen.add(id);
      for (let k = id * f, e = k + f; k < e; k++) if (!Number.isFinite(table[k]!)) finite = false;
    }
  });
  return finite;
}

/**
 * {@link finiteAtMasked} for layers that read their masks back anyway (the
 * attention layers plan their packing on the CPU): when the sum of `x` is
 * finite, every value is (a NaN or Inf makes the sum NaN or Inf), and `x`
 * is returned as is, skipping four elementwise passes over the padded batch.
 * In CPU memory only the masked positions are read, in place.
 */
export function finiteAtMaskedChecked(x: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
  if (mask === null) return x;
  const inPlace = maskedPositionsFinite(x, mask);
  if (inPlace !== null) return inPlace ? x : finiteAtMasked(x, mask);
  const total = tf.tidy(() => tf.sum(x));
  const finite = Number.isFinite(total.dataSync()[0]!);
  total.dispose();
  return finite ? x : finiteAtMasked(x, mask);
}

/**
 * {@link finiteAtMasked} that never reads data back to the CPU: in CPU
 * memory, `x` itself when its masked positions hold finite values (checked
 * in place), else (and on other backends) {@link finiteAtMasked}. For
 * layers that do not otherwise synchronise, such as the merge layers.
 */
export function finiteAtMaskedFast(x: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
  if (mask === null) return x;
  return maskedPositionsFinite(x, mask) === true ? x : finiteAtMasked(x, mask);
}

/**
 * `where(keep(x), x, fill)`, differentiable in `x` (the gradient passes where
 * kept, 0 elsewhere). The condition is computed outside the tape, because
 * tfjs has no gradients for IsFinite or LogicalOr and would refuse to
 * differentiate through a condition that depends on `x`.
 */
export function keepWhere(x: tf.Tensor, keep: (x: tf.Tensor) => tf.Tensor, fill: number): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xv = args[0] as tf.Tensor;
    const k = keep(xv);
    (args[1] as tf.GradSaveFunc)([k]);
    return {
      value: tf.where(k, xv, tf.fill(xv.shape, fill, xv.dtype)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.where(saved[0]!, dy, tf.zerosLike(dy)),
    };
  });
  return f(x);
}
