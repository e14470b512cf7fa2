/**
 * Shared pieces of the attention layers: the inputs and masks of a call,
 * the call of the multi-head layers (runAttention),
 * and checks of their mask arguments on specs (shapes with
 * unknown dims), for `computeOutputSpec`: the same rules and messages as
 * `validateMask` (engine/masks.ts) and `checkAttentionMask`
 * (ops/attention_ops.ts) give on tensors.
 */
import { tf } from '../../runtime/tfjs.js';
import { callArgsObject, withMasks, type MaskedOutputs, type SaveTree } from '../../engine/layer.js';
import type { MaskSpec, Shape, TensorSpec } from '../../engine/types.js';
import { broadcastFast, checkAttentionMask, combineAttentionMask, finiteAtMaskedChecked } from '../../ops/attention_ops.js';
import { allValid } from '../../ops/packed_attention_ops.js';
import { validateMask } from '../../engine/masks.js';
import { MasqueError, formatShape } from '../../errors.js';

/** `validateMask` for a mask spec: an explicit mask must be bool; its dims must match the input's leading dims (or be 1). */
export function checkMaskSpec(m: MaskSpec, tensor: TensorSpec | null | undefined, x: Shape, where: string): void {
  if (tensor && tensor.dtype !== 'bool') {
    throw new MasqueError('MASK_INVALID', `${where}: a mask must be a bool tensor (true = valid step), but received a ${tensor.dtype} tensor of shape ${formatShape(m.shape)}. Convert it with tf.notEqual(mask, 0) (tfjs's wasm cast to bool is wrong for values other than 0 and 1).`);
  }
  const ok = m.shape.length >= 1 && m.shape.length <= x.length && m.shape.every((d, i) => d === null || x[i] === null || d === x[i] || d === 1);
  if (!ok) {
    throw new MasqueError(
      'MASK_SHAPE_MISMATCH',
      `${where}: the mask of shape ${formatShape(m.shape)} does not match the input of shape ${formatShape(x)}; expected a mask whose dims match the leading dims of the input (for a sequence: [batch, time] = ${formatShape(x.slice(0, 2))}).`,
    );
  }
}

/** `checkAttentionMask` on shapes with unknown dims. */
export function checkAttentionMaskSpec(m: Shape, b: number | null, t: number | null, s: number | null, where: string): void {
  const eq = (d: number | null | undefined, want: number | null) => d === null || want === null || d === want;
  const ok = (m.length === 3 && (eq(m[0], b) || m[0] === 1) && eq(m[1], t) && eq(m[2], s)) || (m.length === 2 && eq(m[0], t) && eq(m[1], s));
  if (!ok) {
    throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}: attentionMask must have shape [batch, T, S] = ${formatShape([b, t, s])} (or [T, S]); received shape ${formatShape(m)}.`);
  }
}

/**
 * The inputs of a layer called on `[query, value]`, `[query, value, key]`,
 * or `query` with `{ value, key }` call arguments (MultiHeadAttention's and
 * GroupQueryAttention's forms): the list, and the other call arguments.
 */
export function attentionInputs(inputs: unknown, args: unknown, where: string): { list: unknown[]; rest: Record<string, unknown> } {
  const { value, key, ...rest } = callArgsObject(args, where);
  const list = Array.isArray(inputs) ? [...(inputs as unknown[])] : [inputs];
  if (value !== undefined) {
    if (list.length !== 1) throw new MasqueError('INVALID_INPUT', `${where}: value was given both in the inputs list and as an argument.`);
    list.push(value);
  }
  if (key !== undefined) {
    if (list.length !== 2) throw new MasqueError('INVALID_INPUT', `${where}: key was given both in the inputs list and as an argument, or without a value.`);
    list.push(key);
  }
  if (list.length < 2 || list.length > 3) throw new MasqueError('INVALID_INPUT', `${where} expects [query, value] or [query, value, key]; received ${list.length} input(s).`);
  return { list, rest };
}

interface NamedMasks<M> {
  mask?: M | null | (M | null | undefined)[];
  queryMask?: M | null;
  valueMask?: M | null;
  keyMask?: M | null;
}

/** One [batch, time] mask: the explicit one if given (even null), else the input's own; `check` validates it. */
function maskFor<M extends { shape: Shape }>(named: M | null | undefined, auto: M | null, x: Shape, what: string, where: string, check: (m: M) => void): M | null {
  const m = named !== undefined ? named : auto;
  if (m !== null) {
    check(m);
    if (m.shape.length !== 2) throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}, ${what}: expected a [batch, time] mask ${formatShape(x.slice(0, 2))}; received ${formatShape(m.shape)}.`);
  }
  return m;
}

/** The query, value and key masks of a call on tensors: explicit `queryMask` / `valueMask` / `keyMask`, else the inputs' own masks. */
export function pickMasks(args: NamedMasks<tf.Tensor>, inputs: [tf.Tensor, tf.Tensor, tf.Tensor], where: string): { qm: tf.Tensor | null; vm: tf.Tensor | null; km: tf.Tensor | null } {
  const auto = Array.isArray(args.mask) ? args.mask : [args.mask ?? null];
  const one = (named: tf.Tensor | null | undefined, i: number, what: string) =>
    maskFor(named, auto[i] ?? null, inputs[i]!.shape, what, where, (m) => validateMask(m, inputs[i]!, `${where}, ${what}`));
  return { qm: one(args.queryMask, 0, 'queryMask'), vm: one(args.valueMask, 1, 'valueMask'), km: one(args.keyMask, 2, 'keyMask') };
}

/**
 * The output spec [batch, T, ...] (masked by the query mask) and, with
 * returnAttentionScores, the scores spec [batch, heads, T, S], whose mask
 * has the combined mask's own shape as Keras gives it: each axis is 1
 * unless a mask part spans it.
 */
export function outputAndScoresSpecs(
  list: TensorSpec[],
  args: NamedMasks<MaskSpec> & { attentionMask?: TensorSpec | null; returnAttentionScores?: boolean; useCausalMask?: boolean; queryMask?: unknown; valueMask?: unknown; keyMask?: unknown },
  outShape: Shape,
  heads: number,
  slidingWindow: boolean,
  where: string,
): TensorSpec | TensorSpec[] {
  const shapes = list.map((x) => x.shape);
  const [q, v] = shapes as [Shape, Shape];
  const k = shapes[2] ?? v;
  const auto = Array.isArray(args.mask) ? args.mask : [args.mask ?? null];
  // An explicit mask tensor is a mask this layer passes on as its own; an input's mask passes with its origin.
  const pick = (named: unknown, i: number, x: Shape, what: string): MaskSpec | null => {
    const t = named as TensorSpec | null | undefined;
    return maskFor<MaskSpec>(t === undefined || t === null ? t : { shape: t.shape }, auto[i] ?? null, x, what, where, (m) => checkMaskSpec(m, t, x, `${where}, ${what}`));
  };
  const qm = pick(args.queryMask, 0, q, 'queryMask');
  const vm = pick(args.valueMask, 1, v, 'valueMask');
  const km = pick(args.keyMask, 2, k, 'keyMask');
  const [b, t] = q;
  const s = v[1] ?? k[1]!;
  if (args.attentionMask) checkAttentionMaskSpec(args.attentionMask.shape, b!, t!, s, where);
  const out: TensorSpec = { shape: outShape, dtype: 'float32', mask: qm };
  if (!args.returnAttentionScores) return out;
  const am = args.attentionMask?.shape ?? null;
  const banded = args.useCausalMask === true || slidingWindow;
  const masked = qm !== null || vm !== null || km !== null || am !== null || banded;
  const batch = qm !== null || vm !== null || km !== null || (am !== null && am.length === 3 && am[0] !== 1) ? b! : 1;
  const rows = qm !== null || am !== null || banded ? t! : 1;
  const cols = vm !== null || km !== null || am !== null || banded ? s : 1;
  return [out, { shape: [b!, heads, t!, s], dtype: 'float32', mask: masked ? { shape: [batch, 1, rows, cols] } : null }];
}

/** The two ways a multi-head attention layer computes (MultiHeadAttention, GroupQueryAttention). */
export interface AttentionPaths {
  /** Whether the packed path may run (no gate, no dropout inside). */
  readonly packable: boolean;
  readonly dropout: number;
  readonly slidingWindow: number | null;
  /** Valid rows only, packed (null when the plan does not pay). */
  packed(q: tf.Tensor, v: tf.Tensor, k: tf.Tensor, qm: tf.Tensor | null, kv: tf.Tensor | null, causal: boolean, window: number | null): tf.Tensor | null;
  /** Keras's computation on whole tensors; `zeroPath` selects the Softmax-layer path. */
  dense(q: tf.Tensor, v: tf.Tensor, k: tf.Tensor, mask4: tf.Tensor | null, zeroPath: boolean, training: boolean): { output: tf.Tensor; scores: tf.Tensor };
}

/** What `runAttention` reads of a call's arguments. */
export type AttentionCallArgs = NamedMasks<tf.Tensor> & { attentionMask?: tf.Tensor | null; useCausalMask?: boolean; returnAttentionScores?: boolean; training?: boolean };

/**
 * A call of a multi-head attention layer on `[query, value, key?]`: picks
 * the masks, reads non-finite values at masked positions as 0, takes the
 * packed path when it applies and else Keras's dense one, and returns the
 * output with the query mask (and the scores with the combined mask, in
 * its own shape as Keras gives it: [B, 1, T, 1] for a query mask alone,
 * [B, 1, 1, S] for a value mask, [1, 1, T, S] for causal).
 */
export function runAttention(paths: AttentionPaths, inputs: tf.Tensor[], args: AttentionCallArgs, where: string): MaskedOutputs {
  const [query, value] = inputs as [tf.Tensor, tf.Tensor];
  const key = inputs[2] ?? value;
  const { qm, vm, km } = pickMasks(args, [query, value, key], where);
  const [b, t] = query.shape as [number, number];
  const s = value.shape[1]!;
  if (args.attentionMask) checkAttentionMask(args.attentionMask, b, t, s, where);
  const kv = vm && km ? tf.logicalAnd(vm, km) : (vm ?? km);
  const q = finiteAtMaskedChecked(query, qm);
  const v = value === query && kv === qm ? q : finiteAtMaskedChecked(value, kv);
  const k = key === value ? v : finiteAtMaskedChecked(key, kv);
  const causal = args.useCausalMask === true;
  const window = paths.slidingWindow;
  const zeroPath = args.returnAttentionScores === true || paths.dropout > 0;
  const parts = { queryMask: qm, valueMask: vm, keyMask: km, attentionMask: args.attentionMask ?? null, causal, slidingWindow: window, t, s };
  let output: tf.Tensor | null = null;
  if (!zeroPath && paths.packable && !args.attentionMask && (qm !== null || kv !== null)) output = paths.packed(q, v, k, qm, kv, causal, window);
  let scores: tf.Tensor | null = null;
  let scoresMask: tf.Tensor | null = null;
  if (output === null) {
    // On the default path an all-true padding mask changes nothing: drop it (and its [B, T, S] mask work).
    if (!zeroPath && allValid(qm) && allValid(vm) && allValid(km)) Object.assign(parts, { queryMask: null, valueMask: null, keyMask: null });
    const combined = combineAttentionMask(parts);
    const mask4 = combined === null ? null : broadcastFast(tf.expandDims(combined, 1), [b, 1, t, s]);
    ({ output, scores } = paths.dense(q, v, k, mask4, zeroPath, args.training === true));
    scoresMask = combined === null ? null : tf.expandDims(combined, 1);
  }
  if (args.returnAttentionScores) return withMasks([output, scores!], [qm, scoresMask]);
  return withMasks(output, qm);
}

/**
 * A multi-head attention layer's save tree as Keras writes it: its own
 * tree with the weightless Dropout and Softmax sub-layers as empty groups.
 */
export function withAttentionSubLayers(tree: SaveTree): SaveTree {
  const empty = (name: string): SaveTree => ({ name, vars: [], groups: {} });
  return { ...tree, groups: { ...tree.groups, _dropout_layer: empty('dropout'), _softmax: empty('softmax') } };
}
