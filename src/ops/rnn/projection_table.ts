/**
 * Precomputed input projections for a recurrent layer fed by an Embedding
 * (inference only).
 *
 * The kernel's first product projects every valid token's input, x W. When
 * the input is an embedding lookup (ops/lookup_source.ts), x W for token id
 * v is always row v of P = E W (E the [V, F] embedding table), so the
 * projection can be a row copy from P instead of a product. P is computed
 * with the kernel's own product (`projectRows`): the same bits as the
 * per-token projection. The bias stays where it is (the kernel adds it
 * where it reads the projections).
 *
 * One cache entry per recurrent kernel variable (a layer direction), valid
 * for the data ids and in-place write counts of the embedding table and the
 * kernel (tfjs `Variable.assign`, which optimizers and `setWeights` use,
 * replaces the data id; Adam on wasm writes in place and counts it:
 * `inPlaceWriteCount`). P is built once the
 * tokens this entry projected since the weights last changed reach
 * `buildAfter` × V (a one-sentence predict does not pay for V rows), and
 * only when it fits in `maxBytes` (V × gates × units (rounded up to 4) × 4
 * bytes). It is dropped at the first recurrent call (of any layer, training
 * included) after either weight changed or was disposed, and at once when a
 * layer that owns either is disposed (`releaseProjectionTables`).
 *
 * P lives in a SharedArrayBuffer where there is one (Node): a helper thread
 * receives the table by reference with the token ids of its rows, never a
 * copy of P nor gathered projections.
 */
import type { tf } from '../../runtime/tfjs.js';
import { MasqueError, describe } from '../../errors.js';
import { f32, inPlaceWriteCount } from '../heap_view.js';
import { lookupSource } from '../lookup_source.js';
import { rnnKernel } from './kernel.js';
import { projectRows } from './kernel_call.js';
import type { StepPlan } from './plan.js';
import type { RnnPlanArgs } from './types.js';

/** When a projection table is built: see `setProjectionTables`. */
export interface ProjectionTableSettings {
  /** Largest table per recurrent layer direction, in bytes (0: never build one). Default 64 MiB. */
  maxBytes: number;
  /** Tokens projected since the weights changed, as a multiple of the vocabulary size V, at which the table is built. Default 0.5. */
  buildAfter: number;
}

const DEFAULTS: ProjectionTableSettings = { maxBytes: 64 * 2 ** 20, buildAfter: 0.5 };
let settings: ProjectionTableSettings = { ...DEFAULTS };

/**
 * Sets when a recurrent layer fed directly by an Embedding reads its input
 * projections from a precomputed table (inference; see docs/rnn.md) and
 * returns the settings now in force. Fields left out (and all of them
 * without an argument) take their defaults: maxBytes 64 MiB per layer
 * direction, buildAfter 0.5. `maxBytes: 0` turns tables off. Drops the
 * tables built so far. Throws INVALID_ARGUMENT for a negative or
 * non-finite value or an unknown field.
 */
export function setProjectionTables(s?: Partial<ProjectionTableSettings>): ProjectionTableSettings {
  if (s === undefined) s = DEFAULTS;
  if (typeof s !== 'object' || s === null) {
    throw new MasqueError('INVALID_ARGUMENT', `setProjectionTables: expected an object { maxBytes?, buildAfter? } or nothing; received ${describe(s)}.`);
  }
  for (const key of Object.keys(s)) {
    if (!Object.hasOwn(DEFAULTS, key)) throw new MasqueError('INVALID_ARGUMENT', `setProjectionTables: unknown option ${describe(key)}; the options are maxBytes and buildAfter.`);
    const v = (s as Record<string, unknown>)[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new MasqueError('INVALID_ARGUMENT', `setProjectionTables: ${key} must be a finite number >= 0; received ${describe(v)}.`);
    }
  }
  settings = { ...DEFAULTS, ...s };
  releaseProjectionTables();
  return { ...settings };
}

interface Entry {
  kernel: tf.Tensor;
  embeddings: tf.Tensor;
  /** The weights' versions the entry is for: data ids and in-place write counts. */
  kernelId: object;
  embeddingsId: object;
  kernelWrites: number;
  embeddingsWrites: number;
  /** Tokens projected by products since these weights were first seen. */
  tokens: number;
  table: Float32Array | null;
  /** The table's id (a kernel keeps tables in its memory by id: kernel.ts residentTable); never reused. */
  id: number;
}

const entries = new Map<tf.Tensor, Entry>();
let builds = 0;
let served = 0;

/** Counters for tests: tables built and calls served from a table in this process, and tables held now. */
export function projectionTableStats(): { builds: number; served: number; held: number; bytes: number } {
  let held = 0;
  let bytes = 0;
  for (const e of entries.values()) {
    if (e.table !== null) {
      held++;
      bytes += e.table.byteLength;
    }
  }
  return { builds, served, held, bytes };
}

/**
 * Drops the cached tables of `variable` (a recurrent kernel or an
 * embedding table), or all of them without an argument.
 */
export function releaseProjectionTables(variable?: tf.Tensor): void {
  for (const [k, e] of entries) if (variable === undefined || e.kernel === variable || e.embeddings === variable) entries.delete(k);
}

/**
 * Drops the entries whose weights were disposed or changed since (a table
 * is freed at the first recurrent call after the weights change, training
 * calls included: every fused call sweeps).
 */
export function sweepProjectionTables(): void {
  for (const [k, e] of entries) {
    if (e.kernel.isDisposed || e.embeddings.isDisposed || !current(e)) entries.delete(k);
  }
}

/** Whether both weights still hold the values the entry is for. */
function current(e: Entry): boolean {
  return e.kernel.dataId === e.kernelId && e.embeddings.dataId === e.embeddingsId && inPlaceWriteCount(e.kernel) === e.kernelWrites && inPlaceWriteCount(e.embeddings) === e.embeddingsWrites;
}

/**
 * The projections of this inference call's tokens as table rows: `xi` [N]
 * (each valid token's id) and the table `p`, or null when the call
 * projects its tokens itself (not fed by an embedding lookup, dropout,
 * the table too large, or not yet worth building).
 */
export function projectionTableFor(a: RnnPlanArgs, plan: StepPlan): { xi: Int32Array; p: Float32Array; id: number } | null {
  sweepProjectionTables();
  if (a.inputDropoutMask !== null || a.recurrentDropoutMask !== null) return null;
  const src = lookupSource(a.inputs);
  if (src === null || src.ids.length !== a.batch * a.time || src.table.rank !== 2 || src.table.shape[1] !== a.features || src.table.dtype !== 'float32') return null;
  const vocab = src.table.shape[0]!;
  const gup = a.gates * ((a.units + 3) & ~3);
  if (vocab * gup * 4 > settings.maxBytes) return null;
  let e = entries.get(a.kernel);
  if (e === undefined || e.embeddings !== src.table || !current(e)) {
    // New weights: the old table (if any) is garbage from here on. (The lookup's table holds what it read: lookupSource.)
    e = { kernel: a.kernel, embeddings: src.table, kernelId: a.kernel.dataId, embeddingsId: src.dataId, kernelWrites: inPlaceWriteCount(a.kernel), embeddingsWrites: src.writes, tokens: 0, table: null, id: 0 };
    entries.set(a.kernel, e);
  }
  if (e.table === null) {
    e.tokens += plan.n;
    if (e.tokens < settings.buildAfter * vocab) return null;
    e.table = build(src.table, a, vocab, gup);
    builds++;
    e.id = builds;
  }
  served++;
  const xi = new Int32Array(plan.n);
  for (let i = 0; i < plan.n; i++) xi[i] = src.ids[plan.tokens[i]!]!;
  return { xi, p: e.table, id: e.id };
}

/** P = E W (units padded) with the kernel's product, in shared memory where there is some. */
function build(embeddings: tf.Tensor, a: RnnPlanArgs, vocab: number, gup: number): Float32Array {
  const bytes = vocab * gup * 4;
  const p = new Float32Array(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  // Views of tfjs memory, read at once (no tfjs op runs in between).
  projectRows(rnnKernel()!, f32(embeddings), f32(a.kernel), a.features, a.gates, a.units, p);
  return p;
}
