// The worker pool with a helper program of its own (bundled here from a few
// lines that call serveRequests): replies in order, arrays crossing in shared memory,
// helper errors, errors on the calling thread, helpers that exit, hang or
// cannot start, and the thread-count setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { WorkerPool, type Job } from './worker_pool.js';
import { expectCode } from '../../test/helpers.js';

type Req = { op: 'double'; data: Float32Array } | { op: 'unsendable'; data: Float32Array } | { op: 'throw'; message: string } | { op: 'exit' } | { op: 'hang' };
type Rep = { data: Float32Array; thread: number; shared: boolean };

/** The helper: doubles its array (a view of the caller's shared memory) in place and sends it back, or throws, exits or hangs. */
const HELPER = `
import { serveRequests } from './worker_pool.ts';
serveRequests((m) => {
  if (m.op === 'throw') throw new Error(m.message);
  if (m.op === 'exit') process.exit(3);
  if (m.op === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  if (m.op === 'unsendable') return { data: m.data, thread: 0, shared: true, fn: () => 1 };
  for (let i = 0; i < m.data.length; i++) m.data[i] *= 2;
  return { data: m.data, thread: process.getBuiltinModule('node:worker_threads').threadId, shared: m.data.buffer instanceof SharedArrayBuffer };
});
`;

const source = buildSync({
  stdin: { contents: HELPER, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  write: false,
  logLevel: 'silent',
}).outputFiles[0]!.text;

function pool(o: { timeoutMs?: number; cores?: number; source?: string | null } = {}): WorkerPool<Req, Rep> {
  const p = new WorkerPool<Req, Rep>({ name: 'test pool', source: o.source === undefined ? source : o.source, setter: 'setTestThreads', spinSetter: 'setTestSpin', timeoutMs: o.timeoutMs, cores: o.cores ?? 8 });
  p.setThreads(4);
  return p;
}

function doubleJob(values: number[]): () => Job<Req> {
  return () => {
    const data = Float32Array.from(values);
    return { request: { op: 'double', data } };
  };
}

test('requests reach the helpers as views of shared memory and the callers keep their arrays; replies come back in order, from different threads, as views of each helper\'s one shared buffer; calls repeat', () => {
  const p = pool();
  assert.equal(p.threads(), 4);
  assert.ok(p.ready(3));
  assert.equal(p.running(), 3);
  const replyBuffers: ArrayBufferLike[][] = [];
  for (let call = 0; call < 3; call++) {
    const sent: Float32Array[] = [];
    let here = false;
    const replies = p.run(
      [1, 2, 3].map((v) => () => {
        const job = doubleJob([v, 10 * v])();
        sent.push((job.request as { data: Float32Array }).data);
        return job;
      }),
      () => (here = true),
    );
    assert.ok(here);
    assert.deepEqual(replies.map((r) => Array.from(r.data)), [[2, 20], [4, 40], [6, 60]]);
    assert.equal(new Set(replies.map((r) => r.thread)).size, 3);
    assert.ok(replies.every((r) => r.shared), 'a helper reads its request in shared memory');
    // The helpers doubled their copies: the callers' arrays are theirs, unchanged and not detached.
    assert.deepEqual(sent.map((a) => Array.from(a)), [[1, 10], [2, 20], [3, 30]]);
    assert.ok(replies.every((r) => r.data.buffer instanceof SharedArrayBuffer));
    replyBuffers.push(replies.map((r) => r.data.buffer));
  }
  // No new buffer per call: each helper packs every reply into the same shared buffer.
  assert.ok(replyBuffers.every((bufs) => bufs.every((b, i) => b === replyBuffers[0]![i])));
  assert.equal(p.calls(), 3);
  assert.equal(p.error(), null);
  p.setThreads(1);
  assert.equal(p.running(), 0);
});

test('a reply is a view valid until the next run on its helper; a run with keepReplies leaves the replies before it in place', () => {
  const p = pool();
  assert.ok(p.ready(1));
  const a = p.run([doubleJob([1, 2])], () => {})[0]!;
  const b = p.run([doubleJob([3, 4])], () => {}, { keepReplies: true })[0]!;
  assert.deepEqual(Array.from(a.data), [2, 4]);
  assert.deepEqual(Array.from(b.data), [6, 8]);
  const c = p.run([doubleJob([5, 6])], () => {})[0]!;
  assert.deepEqual(Array.from(c.data), [10, 12]);
  // Without keepReplies the helper packs at the start again: the first reply's view now shows the third's.
  assert.equal(a.data.buffer, c.data.buffer);
  assert.deepEqual(Array.from(a.data), [10, 12]);
  p.setThreads(1);
});

test('a reply that cannot be posted gives BACKEND_UNAVAILABLE; the helper\'s next reply still arrives whole (its new shared buffer was in the lost answer)', () => {
  const p = pool();
  assert.ok(p.ready(1));
  expectCode(() => p.run([() => ({ request: { op: 'unsendable', data: Float32Array.from([1, 2]) } })], () => {}), 'BACKEND_UNAVAILABLE', 'could not send the result');
  const [r] = p.run([doubleJob([3, 4])], () => {});
  assert.deepEqual(Array.from(r!.data), [6, 8]);
  p.setThreads(1);
});

test('a helper that throws gives BACKEND_UNAVAILABLE with its message; an error on the calling thread is raised as is; later calls are not confused by either', () => {
  const p = pool();
  assert.ok(p.ready(2));
  expectCode(() => p.run([doubleJob([1]), () => ({ request: { op: 'throw', message: 'boom in the helper' } })], () => {}), 'BACKEND_UNAVAILABLE', 'test pool', 'helper thread failed', 'boom in the helper');
  assert.throws(
    () => p.run([doubleJob([1]), doubleJob([2])], () => {
      throw new RangeError('boom here');
    }),
    (e: unknown) => e instanceof RangeError && e.message === 'boom here',
  );
  assert.throws(
    () => p.run([() => ({ request: { op: 'throw', message: 'both' } })], () => {
      throw new RangeError('here first');
    }),
    (e: unknown) => e instanceof RangeError,
  );
  // Every reply of those calls was collected: the next call gets its own.
  assert.deepEqual(p.run([doubleJob([5]), doubleJob([7])], () => {}).map((r) => Array.from(r.data)), [[10], [14]]);
  assert.equal(p.error(), null);
  assert.equal(p.threads(), 4);
  p.setThreads(1);
});

test('a helper that exits while working turns threads off at once, with BACKEND_UNAVAILABLE', () => {
  const p = pool();
  assert.ok(p.ready(2));
  const start = Date.now();
  expectCode(() => p.run([doubleJob([1]), () => ({ request: { op: 'exit' } })], () => {}), 'BACKEND_UNAVAILABLE', 'test pool', 'exited', 'threads are now off', 'setTestThreads(1)');
  assert.ok(Date.now() - start < 10_000, 'the caller did not wait for the timeout');
  assert.match(String(p.error()), /exited/);
  assert.equal(p.threads(), 1);
  assert.equal(p.running(), 0);
  assert.equal(p.ready(1), false);
  assert.equal(p.setThreads(3), 1, 'threads stay off');
});

test('a helper that does not answer within the timeout turns threads off', () => {
  const p = pool({ timeoutMs: 300 });
  assert.ok(p.ready(1));
  expectCode(() => p.run([() => ({ request: { op: 'hang' } })], () => {}), 'BACKEND_UNAVAILABLE', 'did not answer within 0.3 s', 'threads are now off');
  assert.match(String(p.error()), /did not answer/);
  assert.equal(p.threads(), 1);
});

test('a helper that cannot start turns threads off; a program that fails at start is caught by the timeout', () => {
  const bad = pool({ source: 42 as unknown as string });
  assert.equal(bad.ready(1), false);
  assert.match(String(bad.error()), /could not start/);
  assert.equal(bad.threads(), 1);
  const broken = pool({ source: 'this is not javascript', timeoutMs: 300 });
  assert.ok(broken.ready(1));
  expectCode(() => broken.run([doubleJob([1])], () => {}), 'BACKEND_UNAVAILABLE', 'test pool');
  assert.equal(broken.threads(), 1);
});

test('the thread count: capped at the cores unless asked, 1 without a helper program, checked', () => {
  const p = pool({ cores: 2 });
  assert.equal(p.setThreads(8), 2);
  assert.equal(p.setThreads(8, { beyondCores: true }), 8);
  assert.deepEqual(p.settings(), { threads: 8, beyondCores: true });
  assert.equal(p.setThreads(), 2, 'the default: min(4, cores)');
  assert.deepEqual(p.settings(), { threads: undefined, beyondCores: false });
  assert.equal(pool({ cores: 16 }).setThreads(), 4);
  assert.equal(pool({ source: null }).threads(), 1);
  assert.equal(pool({ source: null }).ready(1), false);
  expectCode(() => p.setThreads(0), 'INVALID_ARGUMENT', 'setTestThreads', 'integer >= 1', '0');
  expectCode(() => p.setThreads(2.5), 'INVALID_ARGUMENT', '2.5');
  expectCode(() => p.run([doubleJob([1])], () => {}), 'BACKEND_UNAVAILABLE', 'ready()');
});

/** Blocks this thread for `ms` (the helper's poll runs out meanwhile). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('polling: a helper that answered takes the requests that follow within the spin time while it polls; after a pause, and with spin 0, each comes through its event loop', () => {
  // (Counted by the helper's poll loop itself: whether two requests ran in
  // one task of its event loop does not tell, since Node may deliver
  // several queued messages in one task.)
  const p = pool();
  assert.ok(p.ready(1));
  assert.equal(p.spin(), 1, 'the default: 1 ms');
  const polledIn = (n: number) => {
    const before = p.polledRequests();
    for (let i = 0; i < n; i++) {
      const [r] = p.run([doubleJob([i, -i])], () => {});
      assert.deepEqual(Array.from(r!.data), [2 * i, -2 * i]);
    }
    return p.polledRequests() - before;
  };
  // A long poll, so that a slow machine cannot outlast it between two calls.
  assert.equal(p.setSpin(100), 100);
  polledIn(1);
  const polled = polledIn(20);
  assert.ok(polled >= 18, `requests taken while the helper polled: ${polled} of 20`);
  // The poll runs out: the helper goes back to its event loop, and the next request wakes it there.
  sleep(250);
  assert.equal(polledIn(1), 0);
  assert.equal(p.setSpin(0), 0);
  sleep(250);
  assert.equal(polledIn(20), 0, 'spin 0: the helper never polls');
  assert.equal(p.setSpin(), 1, 'no argument: the default again');
  p.setThreads(1);
});

test('nudge: a sleeping helper woken ahead of a request is polling when it comes; at most one nudge per helper per spin time, none with spin 0', () => {
  const p = pool();
  assert.ok(p.ready(2));
  assert.equal(p.setSpin(100), 100);
  const call = () => {
    const r = p.run([doubleJob([1, 2]), doubleJob([3, 4])], () => {});
    assert.deepEqual(r.map((x) => Array.from(x.data)), [[2, 4], [6, 8]]);
  };
  call();
  sleep(250); // the helpers' polls run out: they sleep in their event loops
  let before = p.polledRequests();
  call();
  assert.equal(p.polledRequests() - before, 0, 'without a nudge the requests wake the helpers');
  sleep(250);
  assert.equal(p.nudge(), 2, 'each sleeping helper is nudged');
  assert.equal(p.nudge(), 0, 'not again within the spin time');
  before = p.polledRequests();
  call();
  assert.equal(p.polledRequests() - before, 2, 'the nudged helpers took the requests while polling');
  sleep(250);
  // A nudge that finds no request leaves nothing behind: the next request is answered as usual.
  assert.equal(p.nudge(), 2);
  sleep(250);
  call();
  assert.equal(p.setSpin(0), 0);
  sleep(250);
  assert.equal(p.nudge(), 0, 'spin 0: nothing to wake the helpers for');
  call();
  p.setSpin();
  p.setThreads(1);
});

test('the spin time is checked: a number of milliseconds from 0 to 100', () => {
  const p = pool();
  for (const bad of [-1, 101, Number.NaN, Infinity, '1' as unknown as number, null as unknown as number]) {
    expectCode(() => p.setSpin(bad), 'INVALID_ARGUMENT', 'setTestSpin', 'from 0 to 100');
  }
  assert.equal(p.spin(), 1, 'a refused setting changes nothing');
  assert.equal(p.setSpin(0.25), 0.25);
});
