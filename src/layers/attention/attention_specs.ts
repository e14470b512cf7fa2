/**
 * Checks of the attention layers' mask arguments on specs (shapes with
 * unknown dims), for `computeOutputSpec`: the same rules and messages as
 * `validateMask` (engine/masks.ts) and `checkAttentionMask`
 * (ops/attention_ops.ts) give on tensors.
 */
import type { MaskSpec, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';

/** `validateMask` for a mask spec: an explicit mask must be bool; its dims must match the input's leading dims (or be 1). */
export function checkMaskSpec(m: MaskSpec, tensor: TensorSpec | null | undefined, x: Shape, where: string): void {
  if (tensor && tensor.dtype !== 'bool') {
    throw new MasqueError('MASK_INVALID', `${where}: a mask must be a bool tensor (true = valid step), but received a ${tensor.dtype} tensor of shape ${formatShape(m.shape)}. Convert it with tf.cast(mask, 'bool') or tf.notEqual(x, 0).`);
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
