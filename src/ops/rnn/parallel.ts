/**
 * Runs the fused recurrence on several threads (Node): the rows of a batch
 * are independent, so they are split into groups of about equal token
 * counts, the calling thread runs one group with its own kernel and helper
 * threads (worker_threads, each with its own kernel instance) run the
 * others, all at once. The calling thread then waits for the helpers
 * (Atomics.wait) and takes their results synchronously
 * (receiveMessageOnPort), so the op stays synchronous like every tfjs op.
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
import { MasqueError, describe } from '../../errors.js';
import type { RnnKernel } from './kernel.js';
import { kernelBackward, kernelForward, packedSlots, type KernelGrads, type KernelInputs, type KernelSpec, type SavedActivations } from './kernel_call.js';
import { ownBuffers } from './buffer_pool.js';
import { putRows, takeRows } from './rows.js';
import type { StepPlan } from './plan.js';
import { rnnWorkerSource } from '../../generated/rnn_worker_source.js';

export type HelperRequest =
  | { op: 'forward'; seq: number; spec: KernelSpec; x: KernelInputs; save: boolean }
  | { op: 'fail'; seq: number; message: string }
  | { op: 'backward'; seq: number; spec: KernelSpec; x: KernelInputs; saved: SavedActivations; dPacked: Float32Array };

export type HelperReply = { seq: number } & (
  | { op: 'forward'; packed: Float32Array; saved: SavedActivations | null; xc: Float32Array | null }
  | { op: 'backward'; grads: KernelGrads }
  | { op: 'error'; message: string }
);

interface Helper {
  worker: { terminate(): unknown; unref(): void; on(event: 'error' | 'exit', fn: (e: unknown) => void): void };
  port: { postMessage(m: HelperRequest, transfer: ArrayBuffer[]): void; unref(): void };
  flag: Int32Array;
  seq: number;
}

interface WorkerThreads {
  Worker: new (src: string, o: object) => Helper['worker'];
  MessageChannel: new () => { port1: Helper['port']; port2: unknown };
  receiveMessageOnPort(port: unknown): { message: HelperReply } | undefined;
}

/** Floating-point work (about 2 G U (F + U) per token) below which a call stays on one thread. */
let minWorkPerThread = 4e6;

/** For tests: the work per thread below which calls stay on one thread (returns the previous value). */
export function setMinWorkPerThread(flops: number): number {
  const before = minWorkPerThread;
  minWorkPerThread = flops;
  return before;
}
/** How long to wait for a helper before giving up on threads. */
const HELPER_TIMEOUT_MS = 120_000;

/** A Node built-in module, or null (browsers; Node < 20.16 has no process.getBuiltinModule). */
function builtin<T>(id: string): T | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (p?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

function nodeWorkerThreads(): WorkerThreads | null {
  return builtin<WorkerThreads>('node:worker_threads');
}

function machineCores(): number {
  return builtin<{ availableParallelism?: () => number }>('node:os')?.availableParallelism?.() ?? 1;
}

let wantedThreads: number | null = null;
/** Calls split over threads so far (read by tests). */
let splitCalls = 0;

/** How many kernel calls (forward or backward) ran on more than one thread in this process. */
export function splitKernelCalls(): number {
  return splitCalls;
}
const helpers: Helper[] = [];
let helpersBroken: string | null = null;
const source: string | null = rnnWorkerSource;

/**
 * Sets how many threads one recurrent layer call may use (the calling
 * thread included). Default (also `setKernelThreads()`): the machine's
 * cores, at most 4, where Node's worker_threads are available; 1 elsewhere.
 * 1 keeps every call on the calling thread.
 */
export function setKernelThreads(n?: number): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new MasqueError('INVALID_ARGUMENT', `setKernelThreads: expected an integer >= 1 (or nothing, for the default); received ${describe(n)}.`);
  wantedThreads = n ?? null;
  const keep = kernelThreads() - 1;
  while (helpers.length > keep) void helpers.pop()!.worker.terminate();
}

/** The number of threads a recurrent call may use here (1 when helpers are unavailable). */
export function kernelThreads(): number {
  if (helpersBroken !== null || nodeWorkerThreads() === null) return 1;
  return wantedThreads ?? Math.min(4, machineCores());
}


function helper(i: number, wt: WorkerThreads): Helper {
  while (helpers.length <= i) {
    const { port1, port2 } = new wt.MessageChannel();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new wt.Worker(source!, { eval: true, workerData: { port: port2, flag }, transferList: [port2] });
    // A helper that dies (out of memory, terminated from outside) turns
    // threads off instead of crashing the process; a call waiting for it
    // gives up after HELPER_TIMEOUT_MS (the waiting thread cannot see the
    // event sooner).
    const fail = (what: string) => (e: unknown) => {
      if (!helpers.some((h) => h.worker === worker)) return;
      helpersBroken ??= `a helper thread ${what}${e instanceof Error ? `: ${e.message}` : ''}`;
    };
    worker.on('error', fail('failed'));
    worker.on('exit', fail('exited'));
    worker.unref();
    port1.unref();
    helpers.push({ worker, port: port1, flag, seq: 0 });
  }
  return helpers[i]!;
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
  const groups: Group[] = [];
  for (let g = 0; g < k; g++) {
    const rows = Int32Array.from({ length: batch }, (_, b) => b).filter((b) => groupOf[b] === g);
    const local = new Int32Array(batch).fill(-1);
    rows.forEach((b, i) => (local[b] = i));
    const counts = new Int32Array(time);
    const toks: number[] = [];
    let k0 = 0;
    for (let s = 0; s < time; s++) {
      for (let i = 0; i < plan.counts[s]!; i++) {
        const tok = k0 + i;
        if (groupOf[plan.rows[tok]!] === g) {
          counts[s]!++;
          toks.push(tok);
        }
      }
      k0 += plan.counts[s]!;
    }
    const tokens = Int32Array.from(toks);
    const subRows = Int32Array.from(toks, (t) => local[plan.rows[t]!]!);
    const subTokens = Int32Array.from(toks, (t) => local[plan.rows[t]!]! * time + (plan.tokens[t]! % time));
    let mask: Uint8Array | null = null;
    if (plan.mask !== null) {
      mask = new Uint8Array(rows.length * time);
      rows.forEach((b, i) => mask!.set(plan.mask!.subarray(b * time, (b + 1) * time), i * time));
    }
    groups.push({ rows, tokens, plan: { batch: rows.length, time, n: tokens.length, counts, rows: subRows, tokens: subTokens, mask } });
  }
  return groups.filter((g) => g.plan.n > 0 || g.rows.length > 0);
}

/**
 * An array that owns its whole buffer. Inputs may be views of the tfjs wasm
 * heap, and posting a view to a thread copies its whole buffer (the heap).
 */
function compact<T extends Float32Array | null>(a: T): T {
  return a === null || (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) ? a : (a.slice() as T);
}

/**
 * Group g's spec and inputs: its rows and tokens; the weights shared
 * (compacted once, in `shared`); its tokens' inputs `xc` when the forward
 * pass kept them.
 */
function groupInputs(s: KernelSpec, x: KernelInputs, shared: Pick<KernelInputs, 'w' | 'b' | 'r' | 'rb'>, g: Group, xc?: Float32Array): { spec: KernelSpec; x: KernelInputs } {
  const u = s.units;
  return {
    spec: { ...s, plan: g.plan, rdm: s.rdm === null ? null : takeRows(s.rdm, g.rows, u) },
    x: { ...shared, xc: xc ?? takeRows(x.xc, g.tokens, s.features), h0: takeRows(x.h0, g.rows, u), c0: x.c0 === null ? null : takeRows(x.c0, g.rows, u) },
  };
}

function sharedWeights(x: KernelInputs): Pick<KernelInputs, 'w' | 'b' | 'r' | 'rb'> {
  return { w: compact(x.w), b: compact(x.b), r: compact(x.r), rb: compact(x.rb) };
}

/**
 * Saved for the backward pass: one block of activations, or, for a split
 * call, each group's activations and its tokens' inputs (the helpers send
 * theirs back with their results, so the backward pass copies nothing
 * again).
 */
export type ParallelSaved = { groups: null; saved: SavedActivations } | { groups: Group[]; saved: SavedActivations[]; xc: Float32Array[] };

/** How many groups a call is split into (1: not split), starting the helpers it needs. */
function groupCount(s: KernelSpec): number {
  const threads = kernelThreads();
  if (threads < 2 || source === null) return 1;
  const work = 2 * s.plan.n * s.gates * s.units * (s.features + s.units);
  const count = Math.max(1, Math.min(threads, s.plan.batch, Math.floor(work / minWorkPerThread)));
  if (count < 2) return 1;
  return helpersReady(count - 1) ? count : 1;
}

/**
 * Starts `n` helpers if they are not running; false when threads are off or
 * one cannot start (resource limits, a locked-down runtime), which turns
 * threads off: the work then runs on the calling thread.
 */
function helpersReady(n: number): boolean {
  const wt = nodeWorkerThreads();
  if (wt === null || source === null || helpersBroken !== null || kernelThreads() - 1 < n) return false;
  try {
    helper(n - 1, wt);
    return true;
  } catch (e) {
    helpersBroken = `a helper thread could not start (${e instanceof Error ? e.message : String(e)})`;
    return false;
  }
}

/** Why helper threads are off for good in this process, or null. */
export function kernelThreadsError(): string | null {
  return helpersBroken;
}

/**
 * Sends the helpers their groups, runs group 0 here, and collects the
 * helpers' replies in group order. Replies are always collected, also when
 * the work here throws, so that no reply is left for a later call (each
 * carries its call's number, and older ones are dropped).
 */
function runGroups(requests: (() => { request: HelperRequest; transfer: ArrayBuffer[] })[], here: () => void): HelperReply[] {
  const wt = nodeWorkerThreads()!;
  splitCalls++;
  // Each helper's share is prepared and sent before the next one's (and
  // before this thread's), so helpers start as early as possible.
  const used = requests.map((make, i) => {
    const h = helper(i, wt);
    const { request, transfer } = make();
    h.seq = (h.seq + 1) | 0 || 1;
    request.seq = h.seq;
    h.port.postMessage(request, transfer);
    return h;
  });
  let failure: unknown = null;
  try {
    here();
  } catch (e) {
    failure = e;
  }
  const replies = used.map((h) => awaitReply(wt, h));
  if (failure !== null) throw failure;
  const bad = replies.find((r) => r.op === 'error');
  if (bad !== undefined) throw new MasqueError('BACKEND_UNAVAILABLE', `recurrent kernel: a helper thread failed: ${(bad as { message: string }).message}`);
  return replies;
}

/** Blocks until helper `h` has answered its current call; returns the reply. */
function awaitReply(wt: WorkerThreads, h: Helper): HelperReply {
  const start = Date.now();
  for (let seen = Atomics.load(h.flag, 0); seen !== h.seq; seen = Atomics.load(h.flag, 0)) {
    if (Date.now() - start > HELPER_TIMEOUT_MS) {
      helpersBroken = `a helper thread did not answer within ${HELPER_TIMEOUT_MS / 1000} s`;
      while (helpers.length > 0) void helpers.pop()!.worker.terminate();
      throw new MasqueError('BACKEND_UNAVAILABLE', `recurrent kernel: ${helpersBroken}; threads are now off (setKernelThreads(1) avoids them).`);
    }
    Atomics.wait(h.flag, 0, seen, 1000);
  }
  // The reply was posted before the flag was set; take it (dropping any
  // reply of an older call).
  for (let tries = 0; tries < 1000; tries++) {
    const got = wt.receiveMessageOnPort(h.port);
    if (got === undefined) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    else if (got.message.seq === h.seq) return got.message;
  }
  throw new MasqueError('BACKEND_UNAVAILABLE', 'recurrent kernel: a helper thread finished without a result.');
}

/**
 * For tests of the failure paths: one helper call that fails in the helper
 * (with `helperMessage`) or succeeds, while the calling thread's share
 * throws `hereError` or not. Throws what a real call would throw.
 */
export function probeHelpers(helperMessage: string | null, hereError: Error | null): void {
  if (nodeWorkerThreads() === null || source === null) throw new MasqueError('BACKEND_UNAVAILABLE', 'probeHelpers: helper threads are not available here.');
  const request: HelperRequest = helperMessage === null ? { op: 'fail', seq: 0, message: '' } : { op: 'fail', seq: 0, message: helperMessage };
  runGroups([() => ({ request, transfer: [] })], () => {
    if (hereError !== null) throw hereError;
  });
}

/** kernelForward, split over threads when that pays. */
export function parallelForward(k: RnnKernel, s: KernelSpec, x: KernelInputs, save: boolean): { packed: Float32Array; saved: ParallelSaved | null } {
  const count = groupCount(s);
  if (count < 2) {
    const r = kernelForward(k, s, x, save);
    return { packed: r.packed, saved: r.saved === null ? null : { groups: null, saved: r.saved } };
  }
  const groups = splitRows(s.plan, count);
  const shared = sharedWeights(x);
  let mine: ReturnType<typeof kernelForward> | null = null;
  let mineXc: Float32Array | null = null;
  const replies = runGroups(
    groups.slice(1).map((g) => () => {
      const p = groupInputs(s, x, shared, g);
      return { request: { op: 'forward', seq: 0, spec: p.spec, x: p.x, save }, transfer: ownBuffers(p.x.xc, p.x.h0, p.x.c0, p.spec.rdm) };
    }),
    () => {
      const p = groupInputs(s, x, shared, groups[0]!);
      mineXc = p.x.xc;
      mine = kernelForward(k, p.spec, p.x, save);
    },
  );
  const results = [mine!, ...replies.map((r) => r as Extract<HelperReply, { op: 'forward' }>)];
  const slotWidth = packedSlots(s) * s.units;
  const packed = new Float32Array(s.plan.batch * slotWidth);
  results.forEach((r, i) => putRows(packed, r.packed, groups[i]!.rows, slotWidth));
  return { packed, saved: save ? { groups, saved: results.map((r) => r.saved!), xc: [mineXc!, ...replies.map((r) => (r as Extract<HelperReply, { op: 'forward' }>).xc!)] } : null };
}

/** kernelBackward for a call made by parallelForward (the same groups). */
export function parallelBackward(k: RnnKernel, s: KernelSpec, x: KernelInputs, saved: ParallelSaved, dPacked: Float32Array): KernelGrads {
  if (saved.groups === null) return kernelBackward(k, s, x, saved.saved, dPacked);
  const groups = saved.groups;
  const slotWidth = packedSlots(s) * s.units;
  const shared = sharedWeights(x);
  const dPart = (g: Group) => takeRows(dPacked, g.rows, slotWidth);
  let all: KernelGrads[];
  if (!helpersReady(groups.length - 1)) {
    // Threads were turned off (or broke) since the forward pass: every group here.
    all = groups.map((g, i) => {
      const p = groupInputs(s, x, shared, g, saved.xc[i]);
      return kernelBackward(k, p.spec, p.x, saved.saved[i]!, dPart(g));
    });
  } else {
    all = backwardOnThreads(k, s, x, shared, saved, groups, dPart);
  }
  return combineGrads(s, groups, all);
}

function backwardOnThreads(
  k: RnnKernel,
  s: KernelSpec,
  x: KernelInputs,
  shared: Pick<KernelInputs, 'w' | 'b' | 'r' | 'rb'>,
  saved: { saved: SavedActivations[]; xc: Float32Array[] },
  groups: Group[],
  dPart: (g: Group) => Float32Array,
): KernelGrads[] {
  let mine: KernelGrads | null = null;
  const replies = runGroups(
    groups.slice(1).map((g, i) => () => {
      const p = groupInputs(s, x, shared, g, saved.xc[i + 1]);
      const d = dPart(g);
      const sv = saved.saved[i + 1]!;
      return { request: { op: 'backward', seq: 0, spec: p.spec, x: p.x, saved: sv, dPacked: d }, transfer: ownBuffers(p.x.xc, p.x.h0, p.x.c0, p.spec.rdm, d, sv) };
    }),
    () => {
      const p = groupInputs(s, x, shared, groups[0]!, saved.xc[0]);
      mine = kernelBackward(k, p.spec, p.x, saved.saved[0]!, dPart(groups[0]!));
    },
  );
  return [mine!, ...replies.map((r) => (r as Extract<HelperReply, { op: 'backward' }>).grads)];
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
