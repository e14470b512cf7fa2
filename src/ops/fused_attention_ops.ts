/**
 * Attention over packed groups in one WebAssembly call per group
 * (asm/attention_kernels.ts `attendGroup`), for inference on the wasm
 * backend: the logits, the mask, Keras's masked softmax and the weighted sum
 * of the values of every head, read from the projected rows in place and
 * written once. The tfjs path it replaces costs about 15 ops per group (two
 * transposes, two batched products, which tfjs-wasm runs outside XNNPACK,
 * the mask bias, the softmax, reshapes). No gradient: callers take it only
 * when no gradient is being recorded ({@link fusedAttentionAvailable}).
 */
import { tf } from '../runtime/tfjs.js';
import { isTapeOn } from '../runtime/internals.js';
import { heapOps } from './heap_ops.js';
import { wasmHeapOffset, writeTensor } from './heap_view.js';

let fusedOn = true;

/**
 * Turns the fused inference kernels (attention here, layer normalization in
 * normalization_ops.ts) on or off; returns the previous setting. On by
 * default; tests turn them off to compare with the tfjs ops they replace.
 */
export function setFusedInference(on: boolean): boolean {
  const prev = fusedOn;
  fusedOn = on;
  return prev;
}

/** Whether the fused heap kernels can run: switched on (setFusedInference) and the wasm backend with its heap kernels. */
export function fusedKernelsAvailable(): boolean {
  return fusedOn && tf.getBackend() === 'wasm' && heapOps() !== null;
}

/** Whether the fused inference kernels can run now: `fusedKernelsAvailable` and no gradient tape recording. */
export function fusedInferenceAvailable(): boolean {
  return fusedKernelsAvailable() && !isTapeOn();
}

/** Projected rows of one operand: the float32 [N, C] tensor `rows`, the operand's heads starting at column `col`. */
export interface RowsAt {
  rows: tf.Tensor;
  col: number;
}

/** One packed group: `count` batch rows of `wq` queries and `wk` keys, from row `qRow` of the queries and `kRow` of the keys; mask [count, wq, wk], 1 = may attend. */
export interface GroupRows {
  count: number;
  wq: number;
  wk: number;
  qRow: number;
  kRow: number;
  mask: Uint8Array;
}

export interface HeadSizes {
  heads: number;
  keyDim: number;
  valueDim: number;
  /** Multiplies the logits (1 / sqrt(keyDim) in MultiHeadAttention). */
  scale: number;
}

/**
 * The attention output [Nq, heads * valueDim] of every group: query row
 * qRow + r wq + i of group g attends the key and value rows kRow + r wk + j
 * (head h of a query at columns col + h keyDim of its operand, of a value
 * at col + h valueDim) where the group's mask allows; softmax as Keras's
 * `dot_product_attention` (masked logits replaced by a huge negative
 * number). The groups must cover the query rows [0, Nq) in order.
 */
export function attendPackedGroups(q: RowsAt, k: RowsAt, v: RowsAt, groups: GroupRows[], h: HeadSizes): tf.Tensor {
  const ops = heapOps();
  if (ops === null) throw new Error('attendPackedGroups: the wasm heap kernels are not available');
  for (const [x, d] of [[q, h.keyDim], [k, h.keyDim], [v, h.valueDim]] as const) {
    if (x.rows.dtype !== 'float32' || x.rows.rank !== 2 || x.col < 0 || x.col + h.heads * d > x.rows.shape[1]! || wasmHeapOffset(x.rows) === null) {
      throw new Error(`attendPackedGroups: expected float32 [N, C] rows in the wasm heap with ${h.heads} heads of ${d} from column ${x.col}; received ${x.rows.dtype} [${x.rows.shape}]`);
    }
  }
  const nq = q.rows.shape[0]!;
  let covered = 0;
  let maskBytes = 0;
  let scratchFloats = 0;
  for (const g of groups) {
    if (g.qRow !== covered || g.mask.length !== g.count * g.wq * g.wk || g.kRow + g.count * g.wk > k.rows.shape[0]! || g.kRow + g.count * g.wk > v.rows.shape[0]!) {
      throw new Error('attendPackedGroups: the groups do not cover the query rows in order, or reach past the keys');
    }
    covered += g.count * g.wq;
    maskBytes += g.mask.length;
    scratchFloats = Math.max(scratchFloats, (h.keyDim + 1) * (Math.ceil(g.wk / 4) * 4));
  }
  if (covered !== nq) throw new Error(`attendPackedGroups: the groups cover ${covered} of ${nq} query rows`);
  const width = h.heads * h.valueDim;
  // The kernel's scratch (one row's keys transposed, one row of weights), then the groups' masks (bytes).
  const scratch = writeTensor([scratchFloats + Math.ceil(maskBytes / 4)], 'float32', (buf) => {
    buf.fill(0);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset + 4 * scratchFloats, maskBytes);
    let o = 0;
    for (const g of groups) {
      bytes.set(g.mask, o);
      o += g.mask.length;
    }
  });
  try {
    return writeTensor([nq, width], 'float32', (out) => {
      // Offsets are taken here: allocating the output may have moved the heap's buffer, never the data in it.
      const base = (x: RowsAt) => wasmHeapOffset(x.rows)! + 4 * x.col;
      const [qb, kb, vb, sb] = [base(q), base(k), base(v), wasmHeapOffset(scratch)!];
      const [qs, ks, vs] = [q.rows.shape[1]!, k.rows.shape[1]!, v.rows.shape[1]!];
      let m = sb + 4 * scratchFloats;
      for (const g of groups) {
        ops.attendGroup(qb + 4 * g.qRow * qs, qs, kb + 4 * g.kRow * ks, ks, vb + 4 * g.kRow * vs, vs, m, out.byteOffset + 4 * g.qRow * width, width, g.count, g.wq, g.wk, h.heads, h.keyDim, h.valueDim, h.scale, sb);
        m += g.mask.length;
      }
    });
  } finally {
    scratch.dispose();
  }
}
