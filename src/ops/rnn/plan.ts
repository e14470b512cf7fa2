/**
 * The execution plan of a masked recurrence: which rows are valid at each
 * processing step. Tokens (valid (row, step) pairs) are numbered step by
 * step, so the rows active at step s are one contiguous run of tokens. The
 * kernel computes exactly these tokens; the input projection is computed
 * for exactly these tokens too. This per-step compaction covers padding
 * (prefix or suffix masks, where the active set shrinks or grows like a
 * packed sequence batch) and masks with holes alike.
 */

export interface StepPlan {
  batch: number;
  time: number;
  /** Number of tokens (valid steps over the batch). */
  n: number;
  /** Active rows per processing step, [T]. */
  counts: Int32Array;
  /** Row of each token, [N]; tokens grouped by step, rows ascending within a step. */
  rows: Int32Array;
  /** Flat index b * T + t of each token into the [B, T] input grid, [N]. */
  tokens: Int32Array;
  /** The mask in processing order, [B, T] (1 = valid), or null when every step is valid. */
  mask: Uint8Array | null;
}

/** Builds the plan from a [B, T] mask (C order, nonzero = valid) or null (all valid). */
export function buildPlan(mask: ArrayLike<number | boolean> | null, batch: number, time: number, goBackwards: boolean): StepPlan {
  const counts = new Int32Array(time);
  let proc: Uint8Array | null = null;
  let n = batch * time;
  if (mask !== null) {
    proc = new Uint8Array(batch * time);
    n = 0;
    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < time; s++) {
        const t = goBackwards ? time - 1 - s : s;
        if (mask[b * time + t]) {
          proc[b * time + s] = 1;
          counts[s]!++;
          n++;
        }
      }
    }
  } else {
    counts.fill(batch);
  }
  const rows = new Int32Array(n);
  const tokens = new Int32Array(n);
  let k = 0;
  for (let s = 0; s < time; s++) {
    if (counts[s] === 0) continue;
    const t = goBackwards ? time - 1 - s : s;
    for (let b = 0; b < batch; b++) {
      if (proc !== null && proc[b * time + s] === 0) continue;
      rows[k] = b;
      tokens[k] = b * time + t;
      k++;
    }
  }
  return { batch, time, n, counts, rows, tokens, mask: proc };
}
