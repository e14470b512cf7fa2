/**
 * Which tensors are embedding lookups: a side table from a lookup's output
 * tensor to the table it read and the ids it read it with (the way masks
 * ride on tensors, without changing tensor types). A recurrent layer fed
 * such a tensor directly can read its input projection x W for token id v
 * as row v of a precomputed E W (rnn/projection_table.ts) instead of
 * multiplying.
 *
 * Exact by construction: the entry is keyed by the very tensor object that
 * `embeddingLookup` returned (a layer in between makes a new tensor, which
 * has no entry), and it records the table's data id and in-place write
 * count at lookup time, so a table assigned since (tfjs `Variable.assign`
 * replaces the data id) or updated in place (Adam on wasm,
 * `dataWrittenInPlace`) no longer matches.
 */
import type { tf } from '../runtime/tfjs.js';
import { inPlaceWriteCount } from './heap_view.js';

/** What a lookup output was made from. */
export interface LookupSource {
  /** The [V, D] table (an Embedding's variable). */
  table: tf.Tensor;
  /** The table's data id when the lookup read it. */
  dataId: object;
  /** How often the table's data had been overwritten in place then (`inPlaceWriteCount`). */
  writes: number;
  /** The ids, one per output row (C order over the ids' shape); all in [0, V). */
  ids: Int32Array;
}

const sources = new WeakMap<tf.Tensor, LookupSource>();

/** Records that `out` holds rows `ids` of `table` (as it is now). */
export function setLookupSource(out: tf.Tensor, table: tf.Tensor, ids: Int32Array): void {
  sources.set(out, { table, dataId: table.dataId, writes: inPlaceWriteCount(table), ids });
}

/** The lookup that made `t`, when `t` is a lookup's own output and its table still holds the values it read; else null. */
export function lookupSource(t: tf.Tensor): LookupSource | null {
  const s = sources.get(t);
  if (s === undefined || s.table.isDisposed || s.table.dataId !== s.dataId || inPlaceWriteCount(s.table) !== s.writes || t.isDisposed) return null;
  return s;
}

/**
 * The lookup that made `t` when its output rows are rows of a float32
 * [V, f] table, `n` of them (t read as [n, f]): row k of `t` is then row
 * ids[k] of the table, bit for bit, and a consumer may read the table
 * instead (a padded batch repeats one row). Null otherwise.
 */
export function tableRowsOf(t: tf.Tensor, n: number, f: number): LookupSource | null {
  const s = lookupSource(t);
  if (s === null || s.table.dtype !== 'float32' || s.table.rank !== 2 || s.table.shape[1] !== f || s.ids.length !== n || t.size !== n * f) return null;
  return s;
}
