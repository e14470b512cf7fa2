/**
 * Runs the fused recurrence on several threads (Node): split, run, merge.
 *
 * - Split: the rows of a batch are independent, so they are split into
 *   groups of about equal token counts, each with its own sub-plan.
 * - Run: the calling thread runs group 0 with its own kernel while helper
 *   threads (the worker pool of src/runtime/worker_pool.ts, each helper with
 *   its own kernel instance, worker_entry.ts) run the others; the call stays
 *   synchronous like every tfjs op.
 * - Merge: the groups' rows and tokens are put back in place and the weight
 *   gradients summed.
 *
 * Every row's outputs, states and input gradients are computed exactly as on
 * one thread (a row's arithmetic never mixes with other rows'); only the
 * weight gradients, sums over all tokens, are added in a different order.
 *
 * Threads are used when Node's worker_threads are reachable (Node >= 20.16,
 * through process.getBuiltinModule; never in browsers), the machine has
 * more than one core, and the call has enough work to pay for the hand-off
 * (about 0.1 ms). `setKernelThreads(1)` turns them off.
 */
import { kernelBuildRelaxed, type RnnKernel } from './kernel.js';
import { kernelBackward, kernelForward, packedSlots, type KernelGrads, type KernelInputs, type KernelSpec, type SavedActivations } from './kernel_call.js';
import { packedPool } from './buffer_pool.js';
import { putRows, takeRows } from './rows.js';
import type { StepPlan } from './plan.js';
import { WorkerPool, type Job } from '../../runtime/worker_pool.js';
import { rnnWorkerSource } from '../../generated/rnn_worker_source.js';
import type { DenseReply, DenseRequest } from './dense_call.js';

/** What a helper thread computes (worker_entry.ts): its group's forward or backward pass, or a block of a Dense product (dense_call.ts). */
export type HelperRequest =
  /** `hold`, given exactly with `save`: the id under which the helper keeps the saved activations for the backward pass, which it runs too. */
  | { op: 'forward'; spec: KernelSpec; x: KernelInputs; save: boolean; hold?: number }
  /** `held`: the id of the activations the helper kept (`hold`). */
  | { op: 'backward'; spec: KernelSpec; x: KernelInputs; held: number; dPacked: Float32Array }
  | DenseRequest;

export type HelperReply =
  | { op: 'forward'; packed: Float32Array }
  /** grads null: the helper no longer held the activations asked for (`held`). */
  | { op: 'backward'; grads: KernelGrads | null }
  | DenseReply;

/** What a helper thread starts with: the kernel build the calling thread uses (kernel.ts, setRelaxedSimd). */
export interface HelperSettings {
  relaxedSimd: boolean;
}

const pool = new WorkerPool<HelperRequest, HelperReply>({
  name: 'recurrent kernel',
  source: rnnWorkerSource,
  setter: 'setKernelThreads',
  spinSetter: 'setKernelSpin',
  defaultThreads: 4,
  settings: (): HelperSettings => ({ relaxedSimd: kernelBuildRelaxed() }),
});

/** Floating-point work (about 2 G U (F + U) per token) below which a call stays on one thread. */
const MIN_WORK_PER_THREAD = 4e6;
let minWorkPerThread = MIN_WORK_PER_THREAD;

/**
 * Sets how many threads one recurrent layer call may use (the calling
 * thread included) and returns the number calls will use: `n` capped at
 * the machine's cores, and 1 where Node's worker_threads are unavailable
 * (browsers). Default (also `setKernelThreads()`): the machine's cores, at
 * most 4. 1 keeps every call on the calling thread. Throws INVALID_ARGUMENT
 * unless `n` is an integer >= 1.
 */
export function setKernelThreads(n?: number): number {
  return pool.setThreads(n);
}

/**
 * Sets how long a kernel thread polls for the other before it sleeps, in
 * ms, and returns it: a helper after each answer (for the next request),
 * the calling thread before it waits for an answer. Waking a sleeping
 * thread costs 50-150 us on a small VM, so polling makes a hand-off about
 * 3x cheaper, at the price of up to this much of an otherwise idle core
 * after each one. Default (also `setKernelSpin()`): 1 ms; 0 never polls.
 * Throws INVALID_ARGUMENT unless `ms` is a number from 0 to 100.
 */
export function setKernelSpin(ms?: number): number {
  return pool.setSpin(ms);
}

/**
 * Called where independent recurrences with about `work` floating-point
 * operations each are about to be prepared (a Bidirectional layer's two
 * directions): when they will run on the helper threads, wakes the running
 * helpers now, so that they poll for the request while this thread gets
 * the calls ready (about 0.2 ms) instead of waking when it comes.
 */
export function expectConcurrentCalls(count: number, work: number): void {
  if (worthConcurrent(count, [work]) && pool.running() >= count - 1) pool.nudge();
}

/** Floating-point work of a recurrence over `tokens` tokens: about 2 G U (F + U) per token. */
export function recurrenceWork(tokens: number, gateUnits: number, features: number, units: number): number {
  return 2 * tokens * gateUnits * (features + units);
}

/** Whether `count` independent calls with these amounts of work would run at once (a thread each, each worth a hand-off). */
function worthConcurrent(count: number, works: number[]): boolean {
  return count >= 2 && pool.threads() >= count && works.every((w) => w >= minWorkPerThread);
}

/** For tests: how many requests the kernel's helpers found while polling for them (the rest woke them). */
export function polledKernelRequests(): number {
  return pool.polledRequests();
}

/** The number of threads a recurrent call may use here (1 when helpers are unavailable). */
export function kernelThreads(): number {
  return pool.threads();
}

/** Why helper threads are off for good in this process, or null. */
export function kernelThreadsError(): string | null {
  return pool.error();
}

/** How many kernel calls (forward or backward) ran on more than one thread in this process. */
export function splitKernelCalls(): number {
  return pool.calls();
}

/**
 * For tests: runs `fn` with every call of two rows or more split into
 * `threads` groups (no minimum of work per thread; more threads than cores
 * allowed), then restores the settings.
 */
export function withForcedSplit<T>(threads: number, fn: () => T): T {
  const before = pool.settings();
  minWorkPerThread = 0;
  pool.setThreads(threads, { beyondCores: true });
  try {
    return fn();
  } finally {
    minWorkPerThread = MIN_WORK_PER_THREAD;
    pool.setThreads(before.threads, { beyondCores: before.beyondCores });
  }
}

/** One group of rows: the sub-plan and where its rows and tokens sit in the whole call. */
interface Group {
  rows: Int32Array;
  tokens: Int32Array;
  plan: StepPlan;
}

/** Splits the rows into `k` groups of about equal token counts (longest rows first). */
function splitRows(plan: StepPlan, k: number): Group[] {
  const { batch, time } = plan;
  const len = new Int32Array(batch);
  for (let i = 0; i < plan.n; i++) len[plan.rows[i]!]!++;
  const order = Array.from({ length: batch }, (_, b) => b).sort((a, b) => len[b]! - len[a]! || a - b);
  const load = new Array<number>(k).fill(0);
  const groupOf = new Int32Array(batch);
  for (const b of order) {
    let g = 0;
    for (let j = 1; j < k; j++) if (load[j]! < load[g]!) g = j;
    groupOf[b] = g;
    load[g]! += len[b]! + 1;
  }
  // One pass over the tokens, each to its group's lists (in step order).
  const local = new Int32Array(batch);
  const rowsOf: number[][] = Array.from({ length: k }, () => []);
  for (let b = 0; b < batch; b++) {
    const list = rowsOf[groupOf[b]!]!;
    local[b] = list.length;
    list.push(b);
  }
  const counts = Array.from({ length: k }, () => new Int32Array(time));
  const toks: number[][] = Array.from({ length: k }, () => []);
  let k0 = 0;
  for (let s = 0; s < time; s++) {
    const c = plan.counts[s]!;
    for (let i = 0; i < c; i++) {
      const tok = k0 + i;
      const g = groupOf[plan.rows[tok]!]!;
      counts[g]![s]!++;
      toks[g]!.push(tok);
    }
    k0 += c;
  }
  const groups: Group[] = [];
  for (let g = 0; g < k; g++) {
    const rows = Int32Array.from(rowsOf[g]!);
    const tokens = Int32Array.from(toks[g]!);
    const subRows = tokens.map((t) => local[plan.rows[t]!]!);
    const subTokens = tokens.map((t) => local[plan.rows[t]!]! * time + (plan.tokens[t]! % time));
    let mask: Uint8Array | null = null;
    if (plan.mask !== null) {
      mask = new Uint8Array(rows.length * time);
      rows.forEach((b, i) => mask!.set(plan.mask!.subarray(b * time, (b + 1) * time), i * time));
    }
    groups.push({ rows, tokens, plan: { batch: rows.length, time, n: tokens.length, counts: counts[g]!, rows: subRows, tokens: subTokens, mask } });
  }
  return groups.filter((g) => g.plan.n > 0 || g.rows.length > 0);
}

/**
 * Group g's spec and inputs: its rows and tokens, the call's weights, its
 * tokens' inputs `xc` when the forward pass kept them.
 */
function groupInputs(s: KernelSpec, x: KernelInputs, g: Group, xc?: Float32Array): { spec: KernelSpec; x: KernelInputs } {
  const u = s.units;
  const shared = { w: x.w, b: x.b, r: x.r, rb: x.rb };
  const rows = { h0: takeRows(x.h0, g.rows, u), c0: x.c0 === null ? null : takeRows(x.c0, g.rows, u) };
  const spec = { ...s, plan: g.plan, rdm: s.rdm === null ? null : takeRows(s.rdm, g.rows, u) };
  // Projections from a table (projection_table.ts): the group's token ids; the table itself is shared memory, posted by reference.
  if (x.xi != null) return { spec, x: { ...shared, ...rows, xc: new Float32Array(0), xi: g.tokens.map((t) => x.xi![t]!), p: x.p, ...(x.pid !== undefined ? { pid: x.pid } : {}) } };
  return { spec, x: { ...shared, ...rows, xc: xc ?? takeRows(x.xc, g.tokens, s.features) } };
}

/**
 * Saved for the backward pass: one block of activations, or, for a split
 * call, each group's tokens' inputs (so the backward pass gathers nothing
 * again), the calling thread's group's activations (`mine`), and the ids
 * under which the helpers keep the other groups' (`held[j]` for group
 * j + 1; each helper runs its group's backward pass too).
 */
export type ParallelSaved = { groups: null; saved: SavedActivations } | { groups: Group[]; mine: SavedActivations; held: number[]; xc: Float32Array[] };

/** How many groups a call is split into (1: not split), starting the helpers it needs. */
function groupCount(s: KernelSpec): number {
  const threads = pool.threads();
  if (threads < 2) return 1;
  const work = recurrenceWork(s.plan.n, s.gates * s.units, s.features, s.units);
  const count = Math.max(1, Math.min(threads, s.plan.batch, Math.floor(work / minWorkPerThread)));
  if (count < 2) return 1;
  return pool.ready(count - 1) ? count : 1;
}

/** kernelForward, split over threads when that pays. */
export function parallelForward(k: RnnKernel, s: KernelSpec, x: KernelInputs, save: boolean): { packed: Float32Array; saved: ParallelSaved | null } {
  const count = groupCount(s);
  if (count < 2) {
    const r = kernelForward(k, s, x, save);
    return { packed: r.packed, saved: r.saved === null ? null : { groups: null, saved: r.saved } };
  }
  const groups = splitRows(s.plan, count);
  let mine: ReturnType<typeof kernelForward> | null = null;
  // Each group's gathered inputs, kept for the backward pass.
  const xcs: Float32Array[] = new Array(groups.length);
  // With `save`, each helper keeps its group's activations for the backward pass, which it runs too.
  const held = save ? groups.slice(1).map(() => nextHeldId++) : [];
  const replies = pool.run(
    groups.slice(1).map((g, i) => (): Job<HelperRequest> => {
      const p = groupInputs(s, x, g);
      xcs[i + 1] = p.x.xc;
      return { request: { op: 'forward', spec: p.spec, x: p.x, save, ...(save ? { hold: held[i]! } : {}) } };
    }),
    () => {
      const p = groupInputs(s, x, groups[0]!);
      xcs[0] = p.x.xc;
      mine = kernelForward(k, p.spec, p.x, save);
    },
  ) as Extract<HelperReply, { op: 'forward' }>[];
  const results = [mine!, ...replies];
  const slotWidth = packedSlots(s) * s.units;
  const packed = new Float32Array(s.plan.batch * slotWidth);
  results.forEach((r, i) => putRows(packed, r.packed, groups[i]!.rows, slotWidth));
  if (!save) return { packed, saved: null };
  return { packed, saved: { groups, mine: mine!.saved!, held, xc: xcs } };
}

/** Rows of a call's packed result ([rows, slots, U]): the call's rows `rows` in that order, or null: all its rows in order. */
export interface PackedPart {
  rows: Int32Array | null;
  packed: Float32Array;
}

/**
 * Rows per kernel call above which an inference call is cut into chunks.
 * A call's kernel memory holds the projected inputs of all its tokens and
 * its whole padded output ([B, T + states, U]); for thousands of rows that
 * is hundreds of megabytes, streamed through the caches several times, and
 * as many fresh pages to fault in. Chunks of this many rows keep it small.
 */
const CHUNK_ROWS = 256;

/**
 * The forward pass without saving (inference), in parts: large batches are
 * cut into chunks of about CHUNK_ROWS rows, which run in rounds, one per
 * thread where that pays; the parts are not merged (the caller copies
 * each part's rows straight to where they go). Rows are computed exactly as
 * by one call. A helper's parts are views of its shared memory, valid
 * until the next call on the kernel threads (the rounds after the first
 * keep the earlier replies; with `keepEarlier` the first does too, so that
 * the parts of an earlier call stay valid).
 */
export function forwardParts(k: RnnKernel, s: KernelSpec, x: KernelInputs, keepEarlier = false): PackedPart[] {
  const threads = groupCount(s);
  const chunks = Math.min(s.plan.batch, Math.max(threads, Math.ceil(s.plan.batch / CHUNK_ROWS)));
  if (chunks < 2) return [{ rows: null, packed: kernelForward(k, s, x, false).packed }];
  const groups = splitRows(s.plan, chunks);
  const parts: PackedPart[] = [];
  for (let at = 0; at < groups.length; at += threads) {
    const round = groups.slice(at, at + threads);
    let mine: Float32Array | null = null;
    const replies = round.length < 2 ? [] : pool.run(
      round.slice(1).map((g) => (): Job<HelperRequest> => {
        const p = groupInputs(s, x, g);
        return { request: { op: 'forward', spec: p.spec, x: p.x, save: false } };
      }),
      () => {
        const p = groupInputs(s, x, round[0]!);
        mine = kernelForward(k, p.spec, p.x, false).packed;
      },
      { keepReplies: keepEarlier || at > 0 },
    );
    if (round.length < 2) {
      const p = groupInputs(s, x, round[0]!);
      mine = kernelForward(k, p.spec, p.x, false).packed;
    }
    parts.push({ rows: round[0]!.rows, packed: mine! });
    replies.forEach((r, i) => parts.push({ rows: round[i + 1]!.rows, packed: (r as Extract<HelperReply, { op: 'forward' }>).packed }));
  }
  return parts;
}

/**
 * Forward passes of independent calls without saving (inference), each in
 * parts (see forwardParts): at once, one per thread, when
 * `parallelForwardCalls` would run them so; else one after another.
 */
export function forwardCallsParts(k: RnnKernel, calls: KernelCall[]): PackedPart[][] {
  if (!concurrentCalls(calls) || calls.some((c) => c.spec.plan.batch > CHUNK_ROWS)) return calls.map((c, i) => forwardParts(k, c.spec, c.x, i > 0));
  const r = parallelForwardCalls(k, calls, false);
  return r.packed.map((packed) => [{ rows: null, packed }]);
}

/**
 * kernelBackward for a call made by parallelForward (the same groups).
 * Gradients may be views of kernel or shared memory (kernel_call.ts,
 * worker_pool.ts): valid until the next kernel call; the caller copies them
 * at once.
 */
export function parallelBackward(k: RnnKernel, s: KernelSpec, x: KernelInputs, saved: ParallelSaved, dPacked: Float32Array): KernelGrads {
  if (saved.groups === null) return kernelBackward(k, s, x, saved.saved, dPacked);
  const groups = saved.groups;
  const slotWidth = packedSlots(s) * s.units;
  const dPart = (g: Group) => takeRows(dPacked, g.rows, slotWidth);
  // Group i's backward pass here: from this thread's activations (group 0;
  // the gradients are views of kernel memory unless copied, `own`), or, for
  // a group whose helper held them, from its forward pass computed again.
  const here = (i: number, own: boolean): KernelGrads => {
    const p = groupInputs(s, x, groups[i]!, saved.xc[i]);
    if (i > 0) return backwardRecomputed(k, { spec: p.spec, x: p.x }, dPart(groups[i]!));
    const g = kernelBackward(k, p.spec, p.x, saved.mine, dPart(groups[0]!));
    return own ? ownGrads(g) : g;
  };
  let all: KernelGrads[];
  if (!pool.ready(groups.length - 1)) {
    // Threads were turned off (or broke) since the forward pass: every group here.
    all = groups.map((_, i) => here(i, true));
  } else {
    all = backwardOnThreads(k, s, x, saved, groups, dPart, here);
  }
  return combineGrads(s, groups, all);
}

function backwardOnThreads(
  k: RnnKernel,
  s: KernelSpec,
  x: KernelInputs,
  saved: { held: number[]; xc: Float32Array[] },
  groups: Group[],
  dPart: (g: Group) => Float32Array,
  here: (i: number, own: boolean) => KernelGrads,
): KernelGrads[] {
  let mine: KernelGrads | null = null;
  const replies = pool.run(
    groups.slice(1).map((g, j) => (): Job<HelperRequest> => {
      const i = j + 1;
      const p = groupInputs(s, x, g, saved.xc[i]);
      return { request: { op: 'backward', spec: p.spec, x: p.x, held: saved.held[j]!, dPacked: dPart(g) } };
    }),
    () => {
      mine = here(0, false);
    },
  ) as Extract<HelperReply, { op: 'backward' }>[];
  // The helpers' gradients are views of their shared memory, valid until they are next used.
  if (replies.every((r) => r.grads !== null)) return [mine!, ...replies.map((r) => r.grads!)];
  // A helper no longer held its group's activations and sent no gradients:
  // that group runs here, after this thread's gradients are copied out of kernel memory.
  const own = ownGrads(mine!);
  return [own, ...replies.map((r, j) => r.grads ?? here(j + 1, true))];
}

/** Copies of gradients that may be views of kernel memory (which the next kernel call overwrites). */
function ownGrads(g: KernelGrads): KernelGrads {
  const own = (a: Float32Array | null) => (a === null ? null : a.slice());
  return { dxc: g.dxc.slice(), dw: g.dw.slice(), db: own(g.db), dr: g.dr.slice(), drb: own(g.drb), dh0: g.dh0.slice(), dc0: own(g.dc0) };
}

/** The whole call's gradients from its groups': rows and tokens put back in place, weight gradients summed. */
function combineGrads(s: KernelSpec, groups: Group[], all: KernelGrads[]): KernelGrads {
  const u = s.units;
  const dxc = new Float32Array(s.plan.n * s.features);
  const dh0 = new Float32Array(s.plan.batch * u);
  const dc0 = all[0]!.dc0 === null ? null : new Float32Array(s.plan.batch * u);
  all.forEach((g, i) => {
    putRows(dxc, g.dxc, groups[i]!.tokens, s.features);
    putRows(dh0, g.dh0, groups[i]!.rows, u);
    if (dc0 !== null) putRows(dc0, g.dc0!, groups[i]!.rows, u);
  });
  const sum = (pick: (g: KernelGrads) => Float32Array | null): Float32Array | null => {
    const first = pick(all[0]!);
    if (first === null) return null;
    const out = Float32Array.from(first);
    for (const g of all.slice(1)) {
      const v = pick(g)!;
      for (let j = 0; j < out.length; j++) out[j]! += v[j]!;
    }
    return out;
  };
  return { dxc, dw: sum((g) => g.dw)!, db: sum((g) => g.db), dr: sum((g) => g.dr)!, drb: sum((g) => g.drb), dh0, dc0 };
}

/** One of several independent kernel calls (the two directions of a Bidirectional layer). */
export interface KernelCall {
  spec: KernelSpec;
  /** Owned arrays (not views of the tfjs heap): they may be posted to a helper. */
  x: KernelInputs;
}

/** What several calls' forward passes return, and what their backward pass needs. */
export interface CallsForward {
  /** Each call's packed result. */
  packed: Float32Array[];
  /** Each call's saved state: null without `save`, and for a call whose helper holds it (`held`). */
  saved: (ParallelSaved | null)[];
  /** For each call, the id under which its helper holds its saved activations, or null. */
  held: (number | null)[];
  /** Whether the calls ran at once, one per thread (their backward pass does too). */
  concurrent: boolean;
}

/** Whether independent calls run at once here: threads for all of them, and enough work in each to pay for a hand-off. */
function concurrentCalls(calls: KernelCall[]): boolean {
  const works = calls.map(({ spec: s }) => recurrenceWork(s.plan.n, s.gates * s.units, s.features, s.units));
  return worthConcurrent(calls.length, works) && pool.ready(calls.length - 1);
}

/**
 * Forward passes of independent calls. With a thread per call they run at
 * once, call 0 on this thread and call i on helper i (no call is split by
 * rows: half the hand-offs of splitting each call, and no gradients to
 * combine); else one after another through `parallelForward`. Each call's
 * inputs stay the caller's (a helper gets a copy). A helper's packed result
 * is a view of its shared memory, valid until the next call on the kernel
 * threads: the caller reads it at once.
 */
export function parallelForwardCalls(k: RnnKernel, calls: KernelCall[], save: boolean): CallsForward {
  if (!concurrentCalls(calls)) {
    const rs = calls.map((c) => parallelForward(k, c.spec, c.x, save));
    return { packed: rs.map((r) => r.packed), saved: rs.map((r) => r.saved), held: calls.map(() => null), concurrent: false };
  }
  // With `save`, each helper keeps its call's saved activations (megabytes)
  // for the backward pass, which the same helper runs: they do not cross
  // between the threads twice (worker_entry.ts).
  const held = calls.map((_, i) => (save && i > 0 ? nextHeldId++ : null));
  let mine: ReturnType<typeof kernelForward> | null = null;
  const replies = pool.run(
    calls.slice(1).map((c, j) => (): Job<HelperRequest> => ({ request: { op: 'forward', spec: c.spec, x: c.x, save, ...(held[j + 1] !== null ? { hold: held[j + 1]! } : {}) } })),
    () => {
      mine = kernelForward(k, calls[0]!.spec, calls[0]!.x, save);
    },
  ) as Extract<HelperReply, { op: 'forward' }>[];
  // The replies are views of the helpers' shared memory: the callers read the packed results at once.
  const own = mine!.saved;
  return {
    packed: [mine!.packed, ...replies.map((r) => r.packed)],
    saved: [own === null ? null : { groups: null, saved: own }, ...replies.map(() => null)],
    held,
    concurrent: true,
  };
}

/** The next id under which a helper holds saved activations (never reused in a process). */
let nextHeldId = 1;
let recomputed = 0;

/** For tests: how many backward passes found their helper without the activations it held and computed them again here. */
export function recomputedSavedCalls(): number {
  return recomputed;
}

/**
 * A call's saved activations computed again on this thread, for a backward
 * pass whose helper no longer holds them (threads turned off or restarted
 * since the forward pass, or the helper dropped them: worker_entry.ts). The
 * kernel is deterministic: the same activations, bit for bit.
 */
function recomputedSaved(k: RnnKernel, c: KernelCall): SavedActivations {
  recomputed++;
  const r = kernelForward(k, c.spec, c.x, true);
  packedPool.give(r.packed);
  return r.saved!;
}

/**
 * Call c's backward pass on this thread from its forward pass computed
 * again (its helper no longer held the activations), the gradients copied
 * out of kernel memory.
 */
function backwardRecomputed(k: RnnKernel, c: KernelCall, dPacked: Float32Array): KernelGrads {
  return ownGrads(kernelBackward(k, c.spec, c.x, recomputedSaved(k, c), dPacked));
}

/**
 * Backward passes of calls made by `parallelForwardCalls` (at once when the
 * forward passes were). The gradients are views of kernel or shared memory,
 * valid until the next kernel call: the caller copies them at once.
 */
export function parallelBackwardCalls(k: RnnKernel, calls: KernelCall[], fwd: CallsForward, dPacked: Float32Array[]): KernelGrads[] {
  // Calls that ran at once were not split: call 0 saved one block here, the others are held by their helpers.
  const savedOf = (i: number): ParallelSaved => (fwd.held[i] !== null ? { groups: null, saved: recomputedSaved(k, calls[i]!) } : fwd.saved[i]!);
  // One after another: each call's gradients copied before the next call's kernel runs.
  if (!fwd.concurrent || !pool.ready(calls.length - 1)) return calls.map((c, i) => ownGrads(parallelBackward(k, c.spec, c.x, savedOf(i), dPacked[i]!)));
  let mine: KernelGrads | null = null;
  const replies = pool.run(
    calls.slice(1).map((c, j) => (): Job<HelperRequest> => {
      // The backward pass reads its saved states, not h0 and c0.
      const x: KernelInputs = { ...c.x, h0: new Float32Array(0), c0: null };
      return { request: { op: 'backward', spec: c.spec, x, held: fwd.held[j + 1]!, dPacked: dPacked[j + 1]! } };
    }),
    () => {
      mine = kernelBackward(k, calls[0]!.spec, calls[0]!.x, (fwd.saved[0] as { saved: SavedActivations }).saved, dPacked[0]!);
    },
  ) as Extract<HelperReply, { op: 'backward' }>[];
  if (replies.every((r) => r.grads !== null)) return [mine!, ...replies.map((r) => r.grads!)];
  // A helper no longer held its call's activations: that call's backward pass
  // runs here, after this thread's gradients are copied out of kernel memory.
  const own = ownGrads(mine!);
  return [own, ...replies.map((r, j) => r.grads ?? backwardRecomputed(k, calls[j + 1]!, dPacked[j + 1]!))];
}

/**
 * Whether a Dense product with `work` floating-point operations per thread
 * is split with a helper thread (src/ops/dense_ops.ts): threads on, at
 * least `minWork` (any amount under `withForcedSplit`), and the helper
 * started.
 */
export function denseHelperReady(work: number, minWork: number): boolean {
  if (pool.threads() < 2) return false;
  if (work < (minWorkPerThread === 0 ? 0 : minWork)) return false;
  return pool.ready(1);
}

/** Runs one block of a Dense product on a helper (call `denseHelperReady` first) while `here` runs on this thread; returns the helper's reply. */
export function runDenseOnHelper<R extends DenseRequest>(job: () => Job<R>, here: () => void): Extract<DenseReply, { op: R['op'] }> {
  return pool.run([job], here)[0] as Extract<DenseReply, { op: R['op'] }>;
}
