/**
 * Benchmark data: seeded log-normal sequence lengths and one padded batch
 * (float features for Masking, token ids for Embedding, binary targets),
 * the same workload as ../shared/bench/tfjs_layers_bench.js. A batch can be
 * re-padded to another length with the same tokens.
 */

export { mulberry32 } from '../src/data/bucketing.js';

/** `b` lengths drawn log-normal(median, sigma), rounded and clamped to [1, t]. */
export function makeLengths(rng: () => number, b: number, t: number, median: number, sigma: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < b; i++) {
    const u1 = Math.max(rng(), 1e-12);
    const u2 = rng();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    out.push(Math.min(t, Math.max(1, Math.round(Math.exp(Math.log(median) + sigma * z)))));
  }
  return out;
}

export type Padding = 'post' | 'pre';

/** One batch: each row's tokens (features and ids), unpadded, plus targets. */
export interface Rows {
  lengths: number[];
  features: number;
  /** Row i: lengths[i] * features values, every one >= 0.1 (never the mask value 0). */
  feats: Float32Array[];
  /** Row i: lengths[i] ids in [1, vocab). */
  ids: Int32Array[];
  /** [B] targets in {0, 1}. */
  y: Float32Array;
}

export function makeRows(rng: () => number, lengths: number[], features: number, vocab: number): Rows {
  const feats = lengths.map((l) => Float32Array.from({ length: l * features }, () => 0.1 + rng()));
  const ids = lengths.map((l) => Int32Array.from({ length: l }, () => 1 + Math.floor(rng() * (vocab - 1))));
  const y = Float32Array.from(lengths, () => (rng() < 0.5 ? 0 : 1));
  return { lengths, features, feats, ids, y };
}

/** The rows padded to length `t` (zeros): x [B, t, F] and ids [B, t] as flat arrays. */
export function padRows(rows: Rows, t: number, padding: Padding): { x: Float32Array; ids: Int32Array } {
  const b = rows.lengths.length;
  const f = rows.features;
  const x = new Float32Array(b * t * f);
  const ids = new Int32Array(b * t);
  rows.lengths.forEach((l, i) => {
    if (l > t) throw new Error(`bench: row ${i} has length ${l} > padded length ${t}`);
    const start = padding === 'post' ? 0 : t - l;
    x.set(rows.feats[i]!, (i * t + start) * f);
    ids.set(rows.ids[i]!, i * t + start);
  });
  return { x, ids };
}

/** Length statistics (real and padded token counts). */
export function lengthStats(lengths: number[], t: number) {
  const s = [...lengths].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const real = s.reduce((a, b) => a + b, 0);
  return { min: s[0]!, median: q(0.5), p90: q(0.9), max: s[s.length - 1]!, real, padded: s.length * t, fill: real / (s.length * t) };
}

/** The [B, t] mask of rows of these lengths padded to t, as nested booleans. */
export function padMask(lengths: number[], t: number, padding: Padding): boolean[][] {
  return lengths.map((l) => Array.from({ length: t }, (_, k) => (padding === 'post' ? k < l : k >= t - l)));
}
