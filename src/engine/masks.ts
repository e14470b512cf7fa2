/**
 * Masks ride on the tensors they describe. A mask is a bool tensor, usually
 * [batch, time], `true` = valid. It is stored in tfjs's `kerasMask` slot, so
 * disposing a tensor disposes its mask. The layer machinery marks attached
 * masks with `tf.keep`, so `tidy` never frees a mask whose tensor survives.
 *
 * Each mask also remembers which layer made it (for error messages).
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape } from '../errors.js';

/** Where a mask came from, for error messages: "'embedding' (Embedding, maskZero)". */
export interface MaskOrigin {
  layerName: string;
  className: string;
  detail?: string;
}

const origins = new WeakMap<tf.Tensor, MaskOrigin>();

/** The mask attached to `t`, or null. */
export function getMask(t: tf.Tensor): tf.Tensor | null {
  const m = (t as { kerasMask?: tf.Tensor }).kerasMask;
  return m !== undefined && m !== null && !m.isDisposed ? m : null;
}

/** The layer that made `mask`, when known. */
export function maskOrigin(mask: tf.Tensor): MaskOrigin | undefined {
  return origins.get(mask);
}

export function describeOrigin(o: MaskOrigin | undefined): string {
  if (o === undefined) return 'an explicitly passed mask';
  return `the mask made by '${o.layerName}' (${o.className}${o.detail ? `, ${o.detail}` : ''})`;
}

/**
 * Attaches `mask` to `t` (replacing any previous one), keeping the mask alive
 * across `tidy`. The tensor takes ownership: it disposes the mask with itself.
 * Pass a mask that no other tensor owns (clone it first if needed).
 */
export function attachMask(t: tf.Tensor, mask: tf.Tensor | null, origin?: MaskOrigin): void {
  const holder = t as { kerasMask?: tf.Tensor };
  if (holder.kerasMask !== undefined && holder.kerasMask !== mask) holder.kerasMask.dispose();
  if (mask === null) {
    delete holder.kerasMask;
    return;
  }
  tf.keep(mask);
  holder.kerasMask = mask;
  if (origin !== undefined) origins.set(mask, origin);
}

/** A copy of `mask` (sharing data) with the same origin, for a second owner. */
export function cloneMask(mask: tf.Tensor): tf.Tensor {
  const c = tf.clone(mask);
  const o = origins.get(mask);
  if (o !== undefined) origins.set(c, o);
  return c;
}

/** Records the origin of a mask made by a layer. */
export function setMaskOrigin(mask: tf.Tensor, origin: MaskOrigin): void {
  if (!origins.has(mask)) origins.set(mask, origin);
}

/**
 * Returns `t` with `mask` attached: a new handle on the same data (so the
 * caller's tensor keeps its own mask, if any).
 */
export function withMask(t: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
  const out = tf.clone(t);
  attachMask(out, mask === null ? null : cloneMask(mask));
  return out;
}

/**
 * Checks that `mask` can describe `input`: bool, rank at most the input's,
 * each dim equal to the input's or 1 (it broadcasts there).
 */
export function validateMask(mask: tf.Tensor, input: tf.Tensor, where: string, from?: string): void {
  if (mask.dtype !== 'bool') {
    throw new MasqueError(
      'MASK_INVALID',
      `${where}: a mask must be a bool tensor (true = valid step), but received a ${mask.dtype} tensor of shape ${formatShape(mask.shape)}. Convert it with tf.notEqual(mask, 0) (tfjs's wasm cast to bool is wrong for values other than 0 and 1).`,
    );
  }
  checkMaskShape(mask.shape, input.shape, where, from);
}

/**
 * The shape check of `validateMask` on shapes that may hold null (unknown)
 * dims, as a model sees them before any data: `from` describes the mask's
 * maker for the message.
 */
/** Whether a mask of this shape can describe a tensor of that shape (its dims lead the tensor's; size 1 broadcasts; null is unknown). */
export function maskFits(mask: (number | null)[], input: (number | null)[]): boolean {
  // A mask may broadcast over axes of size 1 (an attention-scores mask is [1, 1, T, S] when only causal).
  return mask.length >= 1 && mask.length <= input.length && mask.every((d, i) => d === null || input[i] === null || d === input[i] || d === 1);
}

export function checkMaskShape(mask: (number | null)[], input: (number | null)[], where: string, from?: string): void {
  if (!maskFits(mask, input)) {
    throw new MasqueError(
      'MASK_SHAPE_MISMATCH',
      `${where}: the mask of shape ${formatShape(mask)}${from ? ` (${from})` : ''} does not match the input of shape ${formatShape(input)}; expected a mask whose dims match the leading dims of the input (for a sequence: [batch, time] = ${formatShape(input.slice(0, 2))}).`,
    );
  }
}
