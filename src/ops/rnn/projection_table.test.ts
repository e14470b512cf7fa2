// Input projections read from a precomputed table (projection_table.ts)
// against the same calls projecting every token: the same bits, for every
// cell kind, mask layout, direction and thread split; the build threshold
// and the size cap as documented; invalidation when either weight changes.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { embeddingLookup } from '../embedding_lookup.js';
import { dataWrittenInPlace, f32, wasmHeapOffset } from '../heap_view.js';
import { rnnSequence, rnnSequences, rnnSequencesConcatReversed, type RnnCellKind, type RnnSequenceArgs } from './index.js';
import { projectionTableStats, releaseProjectionTables, setProjectionTables } from './projection_table.js';
import { setKernelThreads, withForcedSplit } from './parallel.js';
import { releaseResidentTables, residentTableStats, rnnKernel, setResidentTableBytes } from './kernel.js';
import { prng, randn, randomMask, type MaskLayout } from '../../../test/rnn_args.js';
import { expectCode } from '../../../test/helpers.js';

const V = 40;

/** Tables for every eligible call (built at once), or none. */
const tablesOn = () => setProjectionTables({ buildAfter: 0, maxBytes: 2 ** 30 });
const tablesOff = () => setProjectionTables({ maxBytes: 0 });
afterEach(() => setProjectionTables());

interface Setup {
  kind: RnnCellKind;
  resetAfter?: boolean;
  units: number;
}

/** An embedding table, ids with padding by `layout`, and the weights of a recurrent layer reading F = 5 features. */
function make(s: Setup, b: number, t: number, layout: MaskLayout, seed: number) {
  const r = prng(seed);
  const f = 5;
  const g = s.kind === 'lstm' ? 4 : s.kind === 'gru' ? 3 : 1;
  const u = s.units;
  const mask = randomMask(r, b, t, layout);
  const ids = tf.tensor2d(mask.map((row) => row.map((m) => (m ? 1 + Math.floor(r() * (V - 1)) : 0))), [b, t], 'int32');
  const resetAfter = s.resetAfter !== false;
  const biasShape = s.kind === 'gru' && resetAfter ? [2, 3 * u] : [g * u];
  return {
    embeddings: tf.tidy(() => tf.variable(tf.tensor2d(randn(r, V * f), [V, f]))),
    ids,
    mask: tf.tensor2d(mask, [b, t], 'bool'),
    kernel: tf.tidy(() => tf.variable(tf.tensor2d(randn(r, f * g * u, 0.5), [f, g * u]))),
    recurrentKernel: tf.tensor2d(randn(r, u * g * u, 0.5), [u, g * u]),
    bias: tf.tensor(randn(r, biasShape.reduce((x, y) => x * y, 1), 0.5), biasShape),
    h0: Array.from({ length: s.kind === 'lstm' ? 2 : 1 }, () => tf.tensor2d(randn(r, b * u, 0.5), [b, u])),
    resetAfter,
  };
}
type Made = ReturnType<typeof make>;

function dispose(m: Made): void {
  tf.dispose([m.embeddings, m.ids, m.mask, m.kernel, m.recurrentKernel, m.bias, ...m.h0]);
  releaseProjectionTables();
}

function args(s: Setup, m: Made, inputs: tf.Tensor, kernel: tf.Tensor, o: { goBackwards: boolean; returnSequences: boolean }): RnnSequenceArgs {
  return {
    kind: s.kind, inputs, kernel, recurrentKernel: m.recurrentKernel, bias: m.bias, resetAfter: m.resetAfter, mask: m.mask,
    initialStates: m.h0, goBackwards: o.goBackwards, zeroOutputForMask: o.returnSequences, returnSequences: o.returnSequences,
  };
}

const values = (r: { output: tf.Tensor; states: tf.Tensor[] }) => [r.output, ...r.states].map((t) => Float32Array.from(t.dataSync() as Float32Array));

/** The call's outputs and states with tables off, then with a table built at once; asserts that the second call read the table. */
function both<T>(run: () => T, read: (r: T) => Float32Array[]): { plain: Float32Array[]; table: Float32Array[] } {
  tablesOff();
  const before = projectionTableStats().served;
  const plain = tf.tidy(() => read(run()));
  assert.equal(projectionTableStats().served, before, 'tables off: no call reads one');
  tablesOn();
  const table = tf.tidy(() => read(run()));
  assert.ok(projectionTableStats().served > before, 'the call read its projections from a table');
  setProjectionTables();
  return { plain, table };
}

const kinds: Setup[] = [{ kind: 'lstm', units: 6 }, { kind: 'gru', units: 4 }, { kind: 'gru', resetAfter: false, units: 5 }, { kind: 'simple_rnn', units: 8 }];

test('outputs and states from a table are bit for bit those of the per-token projection: every kind, layout, direction, on 1-3 threads', () => {
  const tensors = tf.memory().numTensors;
  let seed = 1;
  for (const s of kinds) {
    for (const layout of ['post', 'pre', 'holes', 'none'] as MaskLayout[]) {
      for (const o of [{ goBackwards: false, returnSequences: true }, { goBackwards: true, returnSequences: false }]) {
        const m = make(s, 9, 7, layout, seed++);
        for (const threads of [1, 2, 3]) {
          const r = both(() => withForcedSplit(threads, () => rnnSequence(args(s, m, embeddingLookup(m.embeddings, m.ids), m.kernel, o))), values);
          r.plain.forEach((want, i) => assert.deepEqual(r.table[i], want, `${s.kind} ${layout} ${JSON.stringify(o)} on ${threads} threads: value ${i}`));
        }
        dispose(m);
      }
    }
  }
  assert.equal(tf.memory().numTensors, tensors);
});

test('both directions of a Bidirectional layer (at once on two threads, or one after the other), and batches cut into chunks, read their own tables exactly', () => {
  let seed = 100;
  for (const s of kinds) {
    for (const [b, layout] of [[9, 'post'], [9, 'pre'], [300, 'post']] as [number, MaskLayout][]) {
      const m = make(s, b, 6, layout, seed++);
      const back = make(s, b, 6, layout, seed++);
      const pair = (x: tf.Tensor): [RnnSequenceArgs, RnnSequenceArgs] => [
        args(s, m, x, m.kernel, { goBackwards: false, returnSequences: true }),
        { ...args(s, m, x, back.kernel, { goBackwards: true, returnSequences: true }), recurrentKernel: back.recurrentKernel },
      ];
      for (const threads of [1, 2]) {
        const many = both(() => withForcedSplit(threads, () => rnnSequences(pair(embeddingLookup(m.embeddings, m.ids)))), (rs) => rs.flatMap(values));
        many.plain.forEach((want, i) => assert.deepEqual(many.table[i], want, `${s.kind} rnnSequences b=${b} ${layout} on ${threads} threads: value ${i}`));
        const merged = both(
          () => withForcedSplit(threads, () => rnnSequencesConcatReversed(pair(embeddingLookup(m.embeddings, m.ids)))),
          (r) => [r.output, ...r.states.flat()].map((t) => Float32Array.from(t.dataSync() as Float32Array)),
        );
        merged.plain.forEach((want, i) => assert.deepEqual(merged.table[i], want, `${s.kind} concatReversed b=${b} ${layout} on ${threads} threads: value ${i}`));
      }
      dispose(m);
      dispose(back);
    }
  }
});

test('the kernel keeps each table in its memory across calls (copied in once, rows read in place) and empties the store when a table does not fit: the same bits throughout', () => {
  const s: Setup = { kind: 'lstm', units: 6 };
  const o = { goBackwards: false, returnSequences: true };
  const k = rnnKernel()!;
  setKernelThreads(1);
  try {
    const ms = [0, 1, 2].map((i) => make(s, 9, 7, 'holes', 300 + i));
    const run = (m: Made) => rnnSequence(args(s, m, embeddingLookup(m.embeddings, m.ids), m.kernel, o));
    tablesOff();
    const plain = ms.map((m) => tf.tidy(() => values(run(m))));
    tablesOn();
    const tableBytes = V * 4 * 8 * 4;
    // Room for two of the three tables, in a store emptied of the tables of the tests before.
    setResidentTableBytes(2 * tableBytes + 16);
    releaseResidentTables(k);
    const at0 = residentTableStats(k);
    const check = (i: number, what: string) => tf.tidy(() => values(run(ms[i]!))).forEach((v, j) => assert.deepEqual(v, plain[i]![j], `${what}: value ${j}`));
    check(0, 'first call, table 0');
    assert.equal(residentTableStats(k).copies, at0.copies + 1, 'table 0 copied into kernel memory');
    check(0, 'second call, table 0');
    check(0, 'third call, table 0');
    assert.equal(residentTableStats(k).copies, at0.copies + 1, 'calls read the table kept in kernel memory');
    assert.equal(residentTableStats(k).held, 1);
    check(1, 'table 1');
    assert.equal(residentTableStats(k).held, 2, 'two tables fit');
    check(2, 'table 2, which empties the store');
    assert.deepEqual([residentTableStats(k).held, residentTableStats(k).copies], [1, at0.copies + 3]);
    check(0, 'table 0 again, copied in again');
    assert.equal(residentTableStats(k).copies, at0.copies + 4);
    // A table larger than the store is copied row by row into each call instead.
    setResidentTableBytes(tableBytes - 16);
    check(1, 'table 1, too large to keep');
    check(1, 'table 1 again');
    assert.equal(residentTableStats(k).copies, at0.copies + 4, 'nothing kept');
    ms.forEach(dispose);
  } finally {
    setResidentTableBytes();
    setKernelThreads();
  }
});

/** Changes every value of `v` in place (in the wasm heap) and says so, as Adam does on wasm. */
function inPlace(v: tf.Tensor): void {
  const data = f32(v);
  assert.ok(wasmHeapOffset(v) !== null, 'the test runs on wasm, where f32 is a view of the tensor');
  for (let i = 0; i < data.length; i++) data[i] = data[i]! * 0.75 + 0.125;
  dataWrittenInPlace(v);
}

test('the table is rebuilt when the embedding table or the kernel is assigned or written in place: results follow the new weights', () => {
  const s: Setup = { kind: 'lstm', units: 4 };
  const m = make(s, 6, 5, 'post', 7);
  const o = { goBackwards: false, returnSequences: true };
  const call = () => tf.tidy(() => values(rnnSequence(args(s, m, embeddingLookup(m.embeddings, m.ids), m.kernel, o))));
  const changes: [string, () => void][] = [
    ['embeddings assigned', () => m.embeddings.assign(tf.tidy(() => tf.mul(m.embeddings, -1.5)))],
    ['kernel assigned', () => m.kernel.assign(tf.tidy(() => tf.mul(m.kernel, -1.5)))],
    // Written in place (as Adam does on wasm): the same data id, counted by dataWrittenInPlace.
    ['embeddings written in place', () => inPlace(m.embeddings)],
    ['kernel written in place', () => inPlace(m.kernel)],
  ];
  for (const [what, change] of changes) {
    tablesOn();
    const before = call(); // builds the table of the current weights and reads it
    const built = projectionTableStats().builds;
    change();
    const withTable = call();
    const builds = projectionTableStats().builds;
    tablesOff();
    const plain = call();
    assert.notDeepEqual(plain, before, `${what}: the new weights change the result`);
    withTable.forEach((want, i) => assert.deepEqual(want, plain[i], `${what}: value ${i} follows the new weights`));
    assert.equal(builds, built + 1, `${what}: a new table`);
  }
  // A lookup made before an assignment is not taken for one of the new table.
  tablesOn();
  const early = embeddingLookup(m.embeddings, m.ids);
  m.embeddings.assign(tf.tidy(() => tf.add(m.embeddings, 1)));
  const served = projectionTableStats().served;
  const stale = tf.tidy(() => values(rnnSequence(args(s, m, early, m.kernel, o))));
  assert.equal(projectionTableStats().served, served, 'the old lookup is projected, not read from the new table');
  tablesOff();
  assert.deepEqual(stale, tf.tidy(() => values(rnnSequence(args(s, m, early, m.kernel, o)))));
  setProjectionTables();
  early.dispose();
  dispose(m);
});

test('buildAfter: the table is built once the tokens projected since the weights changed reach buildAfter x V; maxBytes caps V x gates x units (rounded up to 4) x 4 bytes', () => {
  const s: Setup = { kind: 'gru', units: 6 }; // 3 gates x 8 padded units x 4 bytes = 96 bytes per row
  const m = make(s, 4, 5, 'none', 3); // 20 tokens per call
  const o = { goBackwards: false, returnSequences: false };
  const call = () => tf.tidy(() => values(rnnSequence(args(s, m, embeddingLookup(m.embeddings, m.ids), m.kernel, o))));
  const st = () => projectionTableStats();
  setProjectionTables({ buildAfter: 1 }); // 40 tokens
  const b0 = st().builds;
  const want = call();
  assert.equal(st().builds, b0, '20 tokens: not yet');
  assert.deepEqual(call(), want);
  assert.equal(st().builds, b0 + 1, '40 tokens: built');
  assert.equal(st().bytes, V * 96);
  assert.deepEqual(call(), want);
  assert.equal(st().builds, b0 + 1, 'reused');
  setProjectionTables({ buildAfter: 0, maxBytes: V * 96 - 1 });
  const served = st().served;
  assert.deepEqual(call(), want);
  assert.equal(st().served, served, 'one byte over the cap: no table');
  setProjectionTables({ buildAfter: 0, maxBytes: V * 96 });
  assert.deepEqual(call(), want);
  assert.equal(st().served, served + 1, 'at the cap: a table');
  assert.deepEqual(setProjectionTables(), { maxBytes: 64 * 2 ** 20, buildAfter: 0.5 }, 'no argument: the defaults');
  assert.equal(st().held, 0, 'changing the settings drops the tables');
  dispose(m);
});

test('no table under a gradient tape, with dropout masks, or for inputs that are not a lookup\'s own output', () => {
  const s: Setup = { kind: 'lstm', units: 4 };
  const m = make(s, 3, 4, 'post', 5);
  const o = { goBackwards: false, returnSequences: true };
  tablesOn();
  const served = projectionTableStats().served;
  tf.tidy(() => {
    const x = embeddingLookup(m.embeddings, m.ids);
    tf.grad((k: tf.Tensor) => tf.sum(rnnSequence(args(s, m, x, k, o)).output))(m.kernel);
    rnnSequence({ ...args(s, m, x, m.kernel, o), inputDropoutMask: tf.ones([3, 5]) });
    rnnSequence({ ...args(s, m, x, m.kernel, o), recurrentDropoutMask: tf.ones([3, 4]) });
    rnnSequence(args(s, m, tf.mul(x, 1), m.kernel, o));
    rnnSequence(args(s, m, embeddingLookup(m.embeddings, m.ids, { checkIds: false }), m.kernel, o));
  });
  assert.equal(projectionTableStats().served, served);
  tf.tidy(() => rnnSequence(args(s, m, embeddingLookup(m.embeddings, m.ids), m.kernel, o)));
  assert.equal(projectionTableStats().served, served + 1, 'the plain lookup does read one');
  setProjectionTables();
  dispose(m);
});

test('a disposed weight drops its table at the next recurrent call', () => {
  const s: Setup = { kind: 'simple_rnn', units: 4 };
  const m = make(s, 3, 4, 'post', 9);
  const other = make(s, 3, 4, 'post', 10);
  const o = { goBackwards: false, returnSequences: true };
  tablesOn();
  tf.tidy(() => rnnSequence(args(s, m, embeddingLookup(m.embeddings, m.ids), m.kernel, o)));
  assert.equal(projectionTableStats().held, 1);
  m.kernel.dispose();
  tf.tidy(() => rnnSequence(args(s, other, embeddingLookup(other.embeddings, other.ids), other.kernel, o)));
  assert.equal(projectionTableStats().held, 1, 'the disposed kernel\'s table is gone, the new one is held');
  setProjectionTables();
  dispose(m);
  dispose(other);
});

test('setProjectionTables rejects bad settings with INVALID_ARGUMENT', () => {
  expectCode(() => setProjectionTables({ maxBytes: -1 }), 'INVALID_ARGUMENT', 'maxBytes', 'finite number >= 0');
  expectCode(() => setProjectionTables({ buildAfter: Number.NaN }), 'INVALID_ARGUMENT', 'buildAfter');
  expectCode(() => setProjectionTables({ maxbytes: 1 } as never), 'INVALID_ARGUMENT', 'unknown option', 'maxbytes');
  expectCode(() => setProjectionTables(5 as never), 'INVALID_ARGUMENT', 'expected an object');
  assert.deepEqual(setProjectionTables({ buildAfter: 3 }), { maxBytes: 64 * 2 ** 20, buildAfter: 3 });
  assert.deepEqual(setProjectionTables({ maxBytes: 1024 }), { maxBytes: 1024, buildAfter: 0.5 }, 'fields left out take their defaults');
  setProjectionTables();
});
