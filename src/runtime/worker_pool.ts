/**
 * A pool of helper threads for synchronous callers (Node only). The caller
 * hands each helper a request, does its own share of the work, then blocks
 * until every helper has answered: it waits on a shared flag (Atomics.wait)
 * and takes each reply from its port synchronously (receiveMessageOnPort).
 * So an op that uses the pool stays synchronous, like every tfjs op.
 *
 * Typed arrays cross in shared memory (exchange.ts): a request's arrays are
 * copied into a SharedArrayBuffer that the pool keeps for that helper (the
 * caller's arrays stay its own), and the helper sees views of it; a reply's
 * arrays come back as views of the helper's own shared buffer, **valid
 * until the next `run` that uses the same helper**: callers copy what they
 * keep longer. Nothing is allocated per call but the messages' small
 * objects.
 *
 * Helpers are Node worker threads started from a source string (a CommonJS
 * script run with `eval: true`, so no file path is needed) that calls
 * `serveRequests` with its handler. The pool knows nothing of what they
 * compute.
 *
 * Waiting: waking a sleeping thread (Atomics.notify, a message to an idle
 * event loop) takes 50-150 us on the 2-vCPU VM this was measured on, more
 * than a small product's whole share. So a helper that has answered keeps
 * polling for its next request for `spinMs` (default 1 ms) before it goes
 * back to sleep in its event loop, and the caller polls for an answer for
 * as long before it sleeps in Atomics.wait: a hand-off between two awake
 * threads takes about 25 us instead of 90 (bench/handoff.ts). The cost is
 * up to `spinMs` of a core after each hand-off that would otherwise idle;
 * `setSpin(0)` turns it off. (The caller stores each request's number in
 * the shared flag after posting it; that is what a polling helper reads.)
 * A caller that knows a call is coming can `nudge` the helpers first: a
 * small message that they do not answer, which wakes them to poll while the
 * caller gets the call ready.
 *
 * Failures: a helper whose handler throws sends an error reply, and `run`
 * raises BACKEND_UNAVAILABLE with its message. A helper that cannot start,
 * dies, or does not answer within the timeout turns the pool's threads off
 * for the process (`threads()` is then 1 and `error()` says why); callers
 * then do all the work on their own thread.
 */
import { MasqueError, describe } from '../errors.js';
import { ExchangeBuffer, pack, packedBytes, receivedExchange, unpack } from './exchange.js';

/**
 * A request as it is posted: numbered by the pool, its arrays packed into
 * the caller's shared buffer (`arena` when that buffer is new); `keep`:
 * the helper packs its reply after its earlier ones instead of over them.
 */
interface Envelope {
  seq: number;
  request: unknown;
  arena?: SharedArrayBuffer;
  keep?: boolean;
}

/** A message that only wakes a helper, to poll for its next request (`WorkerPool.nudge`); it is not answered. */
interface Nudge {
  nudge: true;
}

const isNudge = (m: unknown): m is Nudge => (m as Nudge).nudge === true;

/** A helper's answer to the request numbered `seq` (its arrays packed into the helper's shared buffer, `arena` when that is new). */
type Answer<Rep> = { seq: number; ok: true; reply: Rep; arena?: SharedArrayBuffer } | { seq: number; ok: false; message: string };

/** A request for one helper. Its typed arrays are copied when it is posted: the caller keeps them. */
export interface Job<Req> {
  request: Req;
}

export interface WorkerPoolOptions {
  /** Names the pool's work in errors, for example 'recurrent kernel'. */
  name: string;
  /** The helper's program (a CommonJS script that calls `serveRequests`), or null: no helpers, one thread. */
  source: string | null;
  /** The public function that sets the thread count, named in errors (for example 'setKernelThreads'). */
  setter: string;
  /** The public function that sets `spinMs`, named in errors. */
  spinSetter?: string;
  /** Threads by default, the calling thread included (capped at the machine's cores). Default 4. */
  defaultThreads?: number;
  /** How long a call waits for a helper before threads are turned off, in ms. Default 120 s. */
  timeoutMs?: number;
  /** What each helper starts with (structured-cloned when it starts; its program reads it with `helperSettings()`). */
  settings?: () => unknown;
  /** The machine's cores (default: what Node reports). */
  cores?: number;
  /** How long each side polls for the other before it sleeps, in ms (see "Waiting" above). Default 1. */
  spinMs?: number;
}

interface Port {
  postMessage(m: unknown): void;
  on(event: 'message', fn: (m: unknown) => void): void;
  unref(): void;
}

interface WorkerThreads {
  Worker: new (src: string, o: object) => { terminate(): unknown; unref(): void; on(event: 'error' | 'exit', fn: (e: unknown) => void): void };
  MessageChannel: new () => { port1: Port; port2: unknown };
  receiveMessageOnPort(port: unknown): { message: unknown } | undefined;
  workerData: unknown;
}

/**
 * The flag a helper and the caller share: [ANSWERED] holds the number of
 * the last request the helper answered; [DEAD] becomes 1 when the helper's
 * thread exits; [POSTED] the number of the last request posted to it;
 * [SPIN_US] how long it polls for the next request after an answer, in us;
 * [POLLED] how many requests it found while polling (`polledRequests`).
 */
const ANSWERED = 0;
const DEAD = 1;
const POSTED = 2;
const SPIN_US = 3;
const POLLED = 4;
const FLAG_SLOTS = 5;

/** The longest `spinMs` accepted (a poll longer than this is a busy loop, not a wait). */
const MAX_SPIN_MS = 100;

/**
 * Polls `done` until it holds or `ms` have passed; whether it holds. The
 * clock is read every 1,024 polls (a few microseconds): each reading
 * allocates a number, which a poll of a millisecond every hand-off turned
 * into garbage for the young generation.
 */
function pollFor(ms: number, done: () => boolean): boolean {
  if (done()) return true;
  if (!(ms > 0)) return false;
  const until = performance.now() + ms;
  for (let i = 1; ; i++) {
    if (done()) return true;
    if ((i & 1023) === 0 && performance.now() > until) return false;
  }
}

interface Helper {
  worker: InstanceType<WorkerThreads['Worker']>;
  port: Port;
  flag: Int32Array;
  seq: number;
  /** Where this thread packs the helper's requests. */
  out: ExchangeBuffer;
  /** The helper's shared buffer that its replies are packed into (null until it sends one). */
  replies: SharedArrayBuffer | null;
  /** When it was last nudged (performance.now()). */
  nudged: number;
}

/** A Node built-in module, or null (browsers; Node < 20.16 has no process.getBuiltinModule). */
function builtin<T>(id: string): T | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (p?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

function workerThreads(): WorkerThreads | null {
  return builtin<WorkerThreads>('node:worker_threads');
}

let cores: number | null = null;

/** The machine's cores (asked once: ops ask for the thread count at every call). */
function machineCores(): number {
  cores ??= builtin<{ availableParallelism?: () => number }>('node:os')?.availableParallelism?.() ?? 1;
  return cores;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class WorkerPool<Req, Rep> {
  private readonly helpers: Helper[] = [];
  private broken: string | null = null;
  private wanted: number | null = null;
  private beyondCores = false;
  private runs = 0;
  private readonly timeoutMs: number;
  private spinMs: number;

  constructor(private readonly o: WorkerPoolOptions) {
    this.timeoutMs = o.timeoutMs ?? 120_000;
    this.spinMs = o.spinMs ?? 1;
  }

  /**
   * Sets how long each thread polls for the other before it sleeps, in ms
   * (0: never; no `ms`: the pool's default), and returns it. Throws
   * INVALID_ARGUMENT unless `ms` is a number from 0 to 100.
   */
  setSpin(ms?: number): number {
    if (ms !== undefined && (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_SPIN_MS))) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.o.spinSetter ?? 'setSpin'}: expected a number of milliseconds from 0 to ${MAX_SPIN_MS} (or nothing, for the default ${this.o.spinMs ?? 1}); received ${describe(ms)}.`);
    }
    this.spinMs = ms ?? this.o.spinMs ?? 1;
    // Each helper reads its poll time from its flag (set at its start, then here).
    for (const h of this.helpers) Atomics.store(h.flag, SPIN_US, Math.round(this.spinMs * 1000));
    return this.spinMs;
  }

  /** How long each thread polls for the other before it sleeps, in ms. */
  spin(): number {
    return this.spinMs;
  }

  /** How many requests the running helpers found while polling for them (the rest woke them). */
  polledRequests(): number {
    return this.helpers.reduce((n, h) => n + Atomics.load(h.flag, POLLED), 0);
  }

  /**
   * Wakes the running helpers ahead of a call that will need them, so that
   * each is polling when the request comes instead of waking then (the
   * caller has work of its own to do first). Posts one small message per
   * helper, which it does not answer; at most one per helper per spin time,
   * and none with spin 0. Returns how many were posted.
   */
  nudge(): number {
    if (!(this.spinMs > 0)) return 0;
    const now = performance.now();
    let sent = 0;
    for (const h of this.helpers) {
      if (now - h.nudged < this.spinMs) continue;
      h.port.postMessage({ nudge: true } satisfies Nudge);
      h.nudged = now;
      sent++;
    }
    return sent;
  }

  /**
   * Sets how many threads a call may use, the calling thread included, and
   * returns the number it will use: `n` capped at the machine's cores
   * (unless `beyondCores`, for tests), and 1 where helpers are unavailable.
   * No `n`: the default (`defaultThreads`, at most the cores). Helpers
   * beyond the new count are stopped.
   */
  setThreads(n?: number, opts: { beyondCores?: boolean } = {}): number {
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.o.setter}: expected an integer >= 1 (or nothing, for the default); received ${describe(n)}.`);
    }
    this.wanted = n ?? null;
    this.beyondCores = opts.beyondCores === true;
    const keep = this.threads() - 1;
    while (this.helpers.length > keep) void this.helpers.pop()!.worker.terminate();
    return this.threads();
  }

  /** The setting made by the last `setThreads` (undefined: the default). */
  settings(): { threads: number | undefined; beyondCores: boolean } {
    return { threads: this.wanted ?? undefined, beyondCores: this.beyondCores };
  }

  /** The number of threads a call may use here (1 when helpers are unavailable or broken). */
  threads(): number {
    if (this.broken !== null || this.o.source === null || workerThreads() === null) return 1;
    const cores = this.o.cores ?? machineCores();
    const n = this.wanted ?? Math.min(this.o.defaultThreads ?? 4, cores);
    return this.beyondCores ? n : Math.max(1, Math.min(n, cores));
  }

  /** Why helpers are off for good in this process, or null. */
  error(): string | null {
    return this.broken;
  }

  /** How many calls ran on helpers so far. */
  calls(): number {
    return this.runs;
  }

  /** How many helpers are running. */
  running(): number {
    return this.helpers.length;
  }

  /**
   * Starts `n` helpers if they are not running. False when the setting
   * allows fewer, helpers are unavailable, or one cannot start (resource
   * limits, a locked-down runtime), which turns threads off.
   */
  ready(n: number): boolean {
    const wt = workerThreads();
    if (wt === null || this.threads() - 1 < n) return false;
    try {
      while (this.helpers.length < n) this.start(wt);
      return true;
    } catch (e) {
      this.broken = `a helper thread could not start (${message(e)})`;
      this.stopAll();
      return false;
    }
  }

  private start(wt: WorkerThreads): void {
    const { port1, port2 } = new wt.MessageChannel();
    const flag = new Int32Array(new SharedArrayBuffer(4 * FLAG_SLOTS));
    Atomics.store(flag, SPIN_US, Math.round(this.spinMs * 1000));
    const worker = new wt.Worker(this.o.source!, { eval: true, workerData: { port: port2, flag, settings: this.o.settings?.() }, transferList: [port2] });
    // A helper that dies (out of memory, terminated from outside) turns
    // threads off instead of crashing the process. (A caller blocked on it
    // sees its DEAD flag, or gives up after the timeout: it cannot see these
    // events while it waits.)
    const fail = (what: string) => (e: unknown) => {
      if (!this.helpers.some((h) => h.worker === worker)) return;
      this.broken ??= `a helper thread ${what}${e instanceof Error ? `: ${e.message}` : ''}`;
    };
    worker.on('error', fail('failed'));
    worker.on('exit', fail('exited'));
    worker.unref();
    port1.unref();
    this.helpers.push({ worker, port: port1, flag, seq: 0, out: new ExchangeBuffer(), replies: null, nudged: -Infinity });
  }

  private stopAll(): void {
    while (this.helpers.length > 0) void this.helpers.pop()!.worker.terminate();
  }

  /**
   * Runs one call: job i goes to helper i (call `ready(jobs.length)`
   * first), `here` runs on this thread meanwhile, and the helpers' replies
   * come back in job order. Each job is made just before it is sent, so
   * helpers start as early as possible. A reply's typed arrays are views of
   * the helper's shared buffer, valid until the next `run` that uses that
   * helper, or with `keepReplies` until the next one without it (a run with
   * `keepReplies` leaves the replies before it in place). Replies are
   * always collected, also
   * when `here` throws, so that none is left for a later call (each carries
   * its call's number, and older ones are dropped). Throws what `here`
   * threw, else BACKEND_UNAVAILABLE when a helper failed.
   */
  run(jobs: (() => Job<Req>)[], here: () => void, opts: { keepReplies?: boolean } = {}): Rep[] {
    const wt = workerThreads();
    if (wt === null || this.helpers.length < jobs.length) {
      throw new MasqueError('BACKEND_UNAVAILABLE', `${this.o.name}: ${jobs.length} helper thread(s) are needed but ${this.helpers.length} are running (call ready() first).`);
    }
    this.runs++;
    const used = jobs.map((make, i) => {
      const h = this.helpers[i]!;
      const { request } = make();
      h.seq = (h.seq + 1) | 0 || 1;
      h.port.postMessage(packInto(h.out, { seq: h.seq, request, ...(opts.keepReplies === true ? { keep: true } : {}) }));
      // After the message is in the helper's queue: a polling helper takes it when it sees this.
      Atomics.store(h.flag, POSTED, h.seq);
      // It polls for spinMs after answering: a nudge before then would only make it poll again.
      h.nudged = performance.now();
      return h;
    });
    let failure: unknown = null;
    try {
      here();
    } catch (e) {
      failure = e;
    }
    const answers = used.map((h) => this.awaitAnswer(wt, h));
    if (failure !== null) throw failure;
    return answers.map((a) => {
      if (!a.ok) throw new MasqueError('BACKEND_UNAVAILABLE', `${this.o.name}: a helper thread failed: ${a.message}`);
      return a.reply;
    });
  }

  /** Blocks until helper `h` has answered its current request; returns the answer. */
  private awaitAnswer(wt: WorkerThreads, h: Helper): Answer<Rep> {
    pollFor(this.spinMs, () => Atomics.load(h.flag, ANSWERED) === h.seq);
    const start = Date.now();
    for (let seen = Atomics.load(h.flag, ANSWERED); seen !== h.seq; seen = Atomics.load(h.flag, ANSWERED)) {
      const waited = Date.now() - start;
      if (Atomics.load(h.flag, DEAD) !== 0) this.giveUp('a helper thread exited without answering');
      if (waited > this.timeoutMs) this.giveUp(`a helper thread did not answer within ${this.timeoutMs / 1000} s`);
      Atomics.wait(h.flag, ANSWERED, seen, Math.min(1000, this.timeoutMs - waited + 1));
    }
    // The answer was posted before the flag was set; take it (dropping any
    // answer to an older request).
    for (let tries = 0; tries < 1000; tries++) {
      const got = wt.receiveMessageOnPort(h.port);
      if (got === undefined) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      const a = got.message as Answer<Rep>;
      // A new reply buffer counts even in an answer that is dropped: the helper packs into it from then on.
      if (a.ok && a.arena !== undefined) {
        h.replies = a.arena;
        receivedExchange(a.arena);
      }
      if (a.seq !== h.seq) continue;
      return a.ok ? { ...a, reply: unpack(a.reply, h.replies) as Rep } : a;
    }
    throw new MasqueError('BACKEND_UNAVAILABLE', `${this.o.name}: a helper thread finished without a result.`);
  }

  private giveUp(why: string): never {
    this.broken ??= why;
    this.stopAll();
    throw new MasqueError('BACKEND_UNAVAILABLE', `${this.o.name}: ${why}; threads are now off (${this.o.setter}(1) avoids them).`);
  }
}

/** `m` with `m.request` packed into `out` (and `out`'s buffer when it is new). */
function packInto(out: ExchangeBuffer, m: Envelope): Envelope {
  const need = packedBytes(m.request);
  if (need === 0) return m;
  const { sab, at, fresh } = out.fit(need);
  const request = pack(m.request, sab, at);
  return fresh ? { ...m, request, arena: sab } : { ...m, request };
}

/** In a helper's program: the settings its pool started it with (`WorkerPoolOptions.settings`), or undefined. */
export function helperSettings(): unknown {
  return (workerThreads()?.workerData as { settings?: unknown } | undefined)?.settings;
}

/**
 * The body of a helper (call it once from the helper's program): answers
 * each request with `handle`'s reply, or with an error reply when it
 * throws, then sets the shared flag to the request's number and wakes the
 * caller. The request's typed arrays are views of the caller's shared
 * buffer (valid while `handle` runs); the reply's are copied into this
 * helper's shared buffer (so they may be views of the request's).
 */
export function serveRequests<Req, Rep>(handle: (request: Req) => Rep): void {
  const wt = workerThreads();
  if (wt === null) throw new Error('serveRequests: node:worker_threads is not available');
  const { port, flag } = wt.workerData as { port: Port; flag: Int32Array };
  const proc = (globalThis as { process?: { on(event: 'exit', fn: () => void): void } }).process;
  proc?.on('exit', () => {
    Atomics.store(flag, DEAD, 1);
    Atomics.notify(flag, ANSWERED);
  });
  const out = new ExchangeBuffer();
  let requests: SharedArrayBuffer | null = null;
  const serve = (m: Envelope) => {
    const { seq, request, arena, keep } = m;
    if (arena !== undefined) {
      requests = arena;
      receivedExchange(arena);
    }
    let answer: Answer<unknown>;
    try {
      const reply = handle(unpack(request, requests) as Req);
      const need = packedBytes(reply);
      if (need === 0) answer = { seq, ok: true, reply };
      else {
        const { sab, at, fresh } = out.fit(need, keep === true);
        answer = { seq, ok: true, reply: pack(reply, sab, at), ...(fresh ? { arena: sab } : {}) };
      }
    } catch (e) {
      answer = { seq, ok: false, message: message(e) };
    }
    try {
      port.postMessage(answer);
    } catch (e) {
      // A new reply buffer in the lost answer never reached the caller: the next reply starts a new one, which does.
      out.forget();
      port.postMessage({ seq, ok: false, message: `could not send the result: ${message(e)}` } satisfies Answer<Rep>);
    }
    Atomics.store(flag, ANSWERED, seq);
    Atomics.notify(flag, ANSWERED);
  };
  port.on('message', (m) => {
    if (!isNudge(m)) serve(m as Envelope);
    // Requests that come within the spin time are taken from the queue here,
    // each answer starting the time again; then back to the event loop.
    // (The caller stores POSTED just after posting: for that moment a request
    // may look pending that this thread has answered; `misses` bounds that.
    // A nudge still queued is taken and dropped on the way.)
    const spinMs = Atomics.load(flag, SPIN_US) / 1000;
    const pending = () => Atomics.load(flag, POSTED) !== Atomics.load(flag, ANSWERED);
    for (let misses = 0; spinMs > 0 && misses < 1000 && pollFor(spinMs, pending); ) {
      const got = wt.receiveMessageOnPort(port);
      if (got === undefined) misses++;
      else if (!isNudge(got.message)) {
        misses = 0;
        Atomics.add(flag, POLLED, 1);
        serve(got.message as Envelope);
      }
    }
  });
}
