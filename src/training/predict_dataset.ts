/**
 * `model.predict({ sequences })`: inference on variable-length sequences,
 * padded per batch as fit pads them (each batch only to its own longest
 * sequence; with bucketing, the default, batches hold sequences of similar
 * length), and returned in the input order.
 *
 * The result, per model output, is one tensor as Keras users expect from
 * predict on a padded array: rows in input order, and an output with a time
 * axis (axis 1) padded to the longest of all batches (on the dataset's
 * `padding` side). The output's mask, when the model gives one, rides on the
 * result as always (`getMask`), padded with false, so it marks each
 * sequence's valid steps, and the steps it marks invalid hold 0: the result
 * does not depend on batchSize or bucketing. Without a model mask, steps past
 * a sequence's end hold what the model computed at padding within its batch,
 * or 0 beyond it.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape } from '../errors.js';
import { attachMask, getMask } from '../engine/masks.js';
import { planOrder, padInputs, type SequenceDataset } from './data_adapter.js';
import { checkDataset } from './dataset_check.js';

/** What predict takes: a SequenceDataset whose labels may be left out (they are ignored). */
export type PredictDataset = Omit<SequenceDataset, 'labels' | 'labelsPerStep'> & Partial<Pick<SequenceDataset, 'labels' | 'labelsPerStep'>>;

/** `t` padded with zeros (false for masks) on axis 1 to `steps`, before or after. */
function padTime(t: tf.Tensor, steps: number, side: 'pre' | 'post'): tf.Tensor {
  const extra = steps - t.shape[1]!;
  if (extra === 0) return t;
  const zeros = tf.zeros([t.shape[0]!, extra, ...t.shape.slice(2)], t.dtype);
  return tf.concat(side === 'post' ? [t, zeros] : [zeros, t], 1);
}

/**
 * Runs `run` (one padded batch -> one tensor per output, masks attached) on
 * the batches of `ds` and puts the results together in input order.
 */
export function predictDataset(ds: PredictDataset, batchSize: number, run: (x: tf.Tensor) => tf.Tensor[], where: string): tf.Tensor[] {
  const { lengths } = checkDataset(ds as SequenceDataset, where, false);
  if (lengths.length === 0) throw new MasqueError('INVALID_INPUT', `${where}: the dataset is empty (0 sequences).`);
  const plan = planOrder(lengths, batchSize, false, ds.bucketing ?? true, Math.random).map((rows) => Array.from(rows));
  const side = ds.padding ?? 'post';
  const parts: tf.Tensor[][] = [];
  try {
    for (const idx of plan) {
      const [x] = padInputs(ds, idx);
      try {
        parts.push(run(x));
      } finally {
        x.dispose();
      }
    }
    // Row r of the concatenation is sample order[r]; position[i] is where sample i is.
    const order = plan.flat();
    const position = new Array<number>(order.length);
    order.forEach((sample, r) => (position[sample] = r));
    return parts[0]!.map((_, k) => assemble(parts.map((p) => p[k]!), position, side, where, k));
  } finally {
    parts.flat().forEach((t) => t.dispose());
  }
}

/** One output's batches as one tensor in input order, its time axis padded to the longest batch; the masks likewise. */
function assemble(batches: tf.Tensor[], position: number[], side: 'pre' | 'post', where: string, k: number): tf.Tensor {
  const rank = batches[0]!.rank;
  const rest = (t: tf.Tensor) => t.shape.slice(rank >= 2 ? 2 : 1).join();
  if (batches.some((t) => t.rank !== rank || rest(t) !== rest(batches[0]!))) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: output ${k} has shapes ${batches.map((t) => formatShape(t.shape)).join(', ')} in different batches; only the time axis (axis 1) may differ.`);
  }
  const steps = rank >= 2 ? Math.max(...batches.map((t) => t.shape[1]!)) : 0;
  const masks = batches.map(getMask);
  const withMask = masks.some((m) => m !== null);
  const idx = tf.tensor1d(position, 'int32');
  try {
    const values = tf.tidy(() => tf.gather(tf.concat(batches.map((t) => (rank >= 2 ? padTime(t, steps, side) : t)), 0), idx));
    if (!withMask) return values;
    const mask = tf.tidy(() => {
      const full = batches.map((t, i) => {
        const m = masks[i] ?? tf.ones(t.shape.slice(0, Math.min(2, t.rank)), 'bool');
        return m.rank >= 2 ? padTime(m, steps, side) : m;
      });
      return tf.gather(tf.concat(full, 0), idx);
    });
    // Steps the mask marks invalid hold 0, whatever the model computed at the padding of their batch.
    const out = tf.tidy(() => {
      if (mask.rank > values.rank || !mask.shape.every((d, i) => d === values.shape[i])) return tf.clone(values);
      let m = mask;
      while (m.rank < values.rank) m = tf.expandDims(m, -1);
      return tf.where(tf.broadcastTo(m, values.shape), values, tf.zerosLike(values));
    });
    values.dispose();
    attachMask(out, mask);
    return out;
  } finally {
    idx.dispose();
  }
}
