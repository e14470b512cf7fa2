/**
 * Naming the sample behind a non-finite loss. Targets and sample weights of
 * tensor data are not scanned up front: NaN is legitimate in target padding
 * that an output mask hides. When a batch's loss is NaN or infinite, the
 * batch is read back once and the error names the first sample (by its index
 * in the user's data) whose target, at a position its output's mask keeps,
 * or whose sample weight, is not finite.
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape } from '../errors.js';
import { getMask } from '../engine/masks.js';
import type { Batch } from './data_adapter.js';

/** Index of row-relative entry `e` in a row of shape `shape`, as " at [t, c]" (empty when the row has one entry). */
function position(e: number, shape: readonly number[]): string {
  if (shape.reduce((a, b) => a * b, 1) === 1) return '';
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(e % shape[d]!);
    e = Math.floor(e / shape[d]!);
  }
  return ` at ${formatShape(idx)}`;
}

/** The first non-finite target entry that the output's mask keeps, described; or null. */
function badTarget(y: tf.Tensor, out: tf.Tensor | undefined, rows: readonly number[], label: string): string | null {
  if (y.dtype !== 'float32') return null;
  const values = y.dataSync();
  const n = y.shape[0]!;
  const rowSize = n === 0 ? 0 : values.length / n;
  const mask = out === undefined ? null : getMask(out);
  // A [B, T] mask applies when the target has the same two leading axes.
  const steps = mask !== null && mask.rank === 2 && y.rank >= 2 && mask.shape[0] === n && mask.shape[1] === y.shape[1] ? mask.shape[1]! : 0;
  const keep = steps > 0 ? mask!.dataSync() : null;
  for (let r = 0; r < n; r++) {
    for (let e = 0; e < rowSize; e++) {
      const v = values[r * rowSize + e]!;
      if (Number.isFinite(v)) continue;
      if (keep !== null && !keep[r * steps + Math.floor(e / (rowSize / steps))]) continue;
      return `the ${label} of sample ${rows[r]} is ${v}${position(e, y.shape.slice(1))}`;
    }
  }
  return null;
}

function badWeight(w: tf.Tensor | null, rows: readonly number[]): string | null {
  if (w === null) return null;
  const values = w.dataSync();
  const per = values.length / rows.length;
  const i = values.findIndex((v) => !Number.isFinite(v));
  return i < 0 ? null : `the sample weight of sample ${rows[Math.floor(i / per)]} is ${values[i]}`;
}

/** The error for a non-finite batch loss, naming the sample when a target or sample weight explains it. */
export function nonFiniteLossError(loss: number, b: Batch, outs: readonly tf.Tensor[], where = 'fit'): MasqueError {
  const label = (k: number) => (b.y.length > 1 ? `target ${k}` : 'target');
  const found = b.y.map((y, k) => badTarget(y, outs[k], b.rows, label(k))).find((s) => s !== null) ?? badWeight(b.sampleWeight, b.rows);
  const head = `${where}: the loss became ${loss} on a batch of ${b.size} samples`;
  if (found) return new MasqueError('INVALID_INPUT', `${head}: ${found}. Fix or drop that sample (NaN is allowed only where an output mask hides it).`);
  return new MasqueError('INVALID_INPUT', `${head}; check the inputs and labels for NaN or out-of-range values, or lower the learning rate.`);
}
