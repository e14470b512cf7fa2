/**
 * Where Masque's time goes on the Brown tagger job (issue 17): the job of
 * bench/tagger_masque.ts (first 8,000 training sentences, batch 32; held-out
 * inference at batch 256), run with timers around the pieces. Read-only use
 * of src/: the timers are installed by wrapping methods at run time.
 *
 *   npx tsx bench/tagger_profile.ts [--train-limit 8000] [--threads N] [--clock wall|cpu] [--json out.json]
 *
 * Attribution:
 * - layer forward: wall time of each layer's call (Embedding, the forward
 *   and backward LSTM inside Bidirectional, Bidirectional's own reverse and
 *   concat, Dense);
 * - backward: every tape node's gradient function is timed and charged to
 *   the layer (or loss) that recorded it, by kernel name; what remains of
 *   the backward pass is tfjs's bookkeeping (accumulating and disposing
 *   gradients);
 * - tfjs kernels run in each context are timed and counted (Engine.runKernel),
 *   so "JS" below is a context's time outside tfjs kernels;
 * - loss, metrics, optimizer (per variable), batching (the dataset
 *   generator: padding), tensor disposal;
 * - garbage collection: Node's 'gc' performance entries.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { ready, tf, Embedding, Bidirectional, Dense, RNNLayer, Optimizer, Adam, setKernelThreads, kernelThreads } from '../src/index.js';
import { Trainer } from '../src/training/trainer.js';
import { loadTagger } from '../demo/tagger/brown.js';
import { BATCH, INFER_BATCH, buildTagger, inferPass, sortedBatches } from './tagger_masque.js';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const trainLimit = Number(opt('--train-limit') ?? 8000);
const threads = opt('--threads');
const jsonOut = opt('--json');
// --clock cpu: time pieces by the process's CPU time (all threads) instead of
// the wall clock; with --threads 1 that is the work done, whatever the load.
const cpuClock = opt('--clock') === 'cpu';
const now = cpuClock
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();

// ---------------------------------------------------------------- timers
type Acc = { ms: number; n: number; self: number };
const acc = new Map<string, Acc>();
const add = (k: string, ms: number, self: number) => {
  const a = acc.get(k) ?? { ms: 0, n: 0, self: 0 };
  a.ms += ms;
  a.self += self;
  a.n++;
  acc.set(k, a);
};
/** The context stack ('fit:fwd/embedding', 'fit:bwd/dense', ...) with the time spent in timed children. */
const ctx: { label: string; child: number }[] = [];
const here = () => ctx[ctx.length - 1]?.label ?? 'other';

/** Times fn under `label`: inclusive ms, and self ms (without nested timed calls). */
function timed<T>(label: string, fn: () => T): T {
  const frame = { label, child: 0 };
  ctx.push(frame);
  const t0 = now();
  try {
    return fn();
  } finally {
    const ms = now() - t0;
    ctx.pop();
    add(label, ms, ms - frame.child);
    const parent = ctx[ctx.length - 1];
    if (parent) parent.child += ms;
  }
}

function wrap(proto: object, method: string, label: (self: never, args: never[]) => string): void {
  const p = proto as Record<string, (...a: unknown[]) => unknown>;
  const orig = p[method]!;
  p[method] = function (this: unknown, ...args: unknown[]) {
    return timed(label(this as never, args as never[]), () => orig.apply(this, args));
  };
}

let phase = 'setup';
let inBackward = false;

// Layers (forward). Inside Bidirectional, its LSTMs are charged separately.
wrap(Embedding.prototype, 'call', () => `${phase}:fwd/embedding`);
wrap(Bidirectional.prototype, 'call', () => `${phase}:fwd/bidi(reverse+concat)`);
wrap(RNNLayer.prototype, 'call', (self: { name: string }) => `${phase}:fwd/${self.name.startsWith('backward') ? 'lstm backward dir' : 'lstm forward dir'}`);
wrap(Dense.prototype, 'call', () => `${phase}:fwd/dense(matmul+bias+softmax)`);
// Trainer pieces.
const T = Trainer.prototype as unknown as Record<string, unknown>;
wrap(T, 'totalLoss', () => `${phase}:loss fwd`);
wrap(T, 'updateMetrics', () => `${phase}:metrics (+loss readback)`);
wrap(T, 'step', () => 'fit:step total');
wrap(T, 'evalBatch', () => 'evaluate:batch total');
wrap(Optimizer.prototype, 'applyGradients', () => 'fit:optimizer');
wrap(Adam.prototype, 'updateStep', (_s, args: tf.Tensor[]) => `fit:optimizer/${args[1]!.shape.length === 2 && args[1]!.shape[0]! > 1000 ? 'embedding table' : 'other weights'}`);
wrap(Trainer as unknown as object, 'disposeBatch', () => `${phase}:dispose batch`);

// The dataset generator (padding each batch): time each next().
const origSource = T['source'] as (...a: unknown[]) => { batches: (...b: unknown[]) => Generator<unknown> };
T['source'] = function (this: unknown, ...args: unknown[]) {
  const src = origSource.apply(this, args);
  const batches = src.batches;
  src.batches = (...b: unknown[]) => {
    const g = batches.apply(src, b);
    return {
      [Symbol.iterator]() {
        return this;
      },
      next: () => timed(`${phase}:batching (pad x and y)`, () => g.next()),
      return: (v: unknown) => g.return(v),
      throw: (e: unknown) => g.throw(e),
    } as unknown as Generator<unknown>;
  };
  return src;
};

// tfjs kernels, by context; tape nodes' gradients, charged to the recording context.
const engine = tf.engine() as unknown as {
  runKernel: (...a: unknown[]) => unknown;
  addTapeNode: (kernelName: string, ...a: unknown[]) => void;
  state: { activeTape: { gradient?: (dys: unknown) => unknown; kernelName: string }[] };
  gradients: (...a: unknown[]) => unknown;
};
type KAcc = { ms: number; n: number };
const kernels = new Map<string, Map<string, KAcc>>();
const origRunKernel = engine.runKernel;
engine.runKernel = function (this: unknown, name: unknown, ...rest: unknown[]) {
  const c = here();
  const t0 = now();
  try {
    return origRunKernel.call(this, name, ...rest);
  } finally {
    const m = kernels.get(c) ?? new Map<string, KAcc>();
    kernels.set(c, m);
    const a = m.get(name as string) ?? { ms: 0, n: 0 };
    a.ms += now() - t0;
    a.n++;
    m.set(name as string, a);
  }
};
const origAddTapeNode = engine.addTapeNode;
engine.addTapeNode = function (this: typeof engine, kernelName: string, ...rest: unknown[]) {
  origAddTapeNode.call(this, kernelName, ...rest);
  const node = this.state.activeTape[this.state.activeTape.length - 1]!;
  const g = node.gradient;
  if (g === undefined) return;
  // The context of the forward op: 'fit:fwd/dense(...)' -> 'fit:bwd/dense(...)'.
  const c = here().replace(':fwd/', ':bwd/').replace(':loss fwd', ':loss bwd');
  const label = c.includes(':bwd/') || c.includes(':loss bwd') ? c : `${c} (bwd)`;
  // A gradient returns thunks ({ a: () => dA, ... }) that tfjs evaluates
  // afterwards (for its own kernels the work happens there); time both.
  node.gradient = (dys: unknown) =>
    timed(label, () => {
      const thunks = g(dys) as Record<string, () => unknown>;
      const out: Record<string, () => unknown> = {};
      for (const [k, f] of Object.entries(thunks)) out[k] = () => timed(label, f);
      return out;
    });
};
const origGradients = engine.gradients;
engine.gradients = function (this: unknown, ...args: unknown[]) {
  inBackward = true;
  try {
    return timed('fit:variableGrads total (fwd+loss+bwd)', () => origGradients.apply(this, args));
  } finally {
    inBackward = false;
  }
};
void inBackward;

// Garbage collection: Node's 'gc' entries, charged to the phase whose time window holds them.
const gcEntries: { start: number; ms: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEntries.push({ start: e.startTime, ms: e.duration });
}).observe({ entryTypes: ['gc'] });
const windows: { phase: string; start: number; end: number }[] = [];
async function inPhase<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  phase = name;
  const start = performance.now();
  try {
    return await fn();
  } finally {
    windows.push({ phase: name, start, end: performance.now() });
  }
}

// ---------------------------------------------------------------- the job
await ready();
if (threads !== undefined) setKernelThreads(Number(threads));
const data = loadTagger({ trainLimit });
const model = buildTagger(data.words.length, data.tags.length, 1234, false);
const train = { sequences: data.train.ids, labels: data.train.labels, labelsPerStep: true, padding: 'post' as const };

// Warm-up outside the books (build, first compile of kernels): 20 batches.
await inPhase('warmup', () =>
  model.fit({ ...train, sequences: train.sequences.slice(0, 640), labels: train.labels.slice(0, 640) }, undefined, { epochs: 1, batchSize: BATCH, seed: 1, verbose: 0 }),
);
acc.clear();
kernels.clear();

let t0 = performance.now();
const c0 = process.cpuUsage();
await inPhase('fit', () => model.fit(train, undefined, { epochs: 1, batchSize: BATCH, seed: 1234, verbose: 0 }));
const fitMs = performance.now() - t0;
const fitCpu = process.cpuUsage(c0);

const testBatches = sortedBatches(data.test.ids, INFER_BATCH);
t0 = performance.now();
const inf = await inPhase('infer', () => timed('infer:total', () => inferPass(model, data, testBatches)));
const inferMs = performance.now() - t0;

const order = testBatches.flat();
t0 = performance.now();
await inPhase('evaluate', () =>
  model.evaluate({ sequences: order.map((i) => data.test.ids[i]!), labels: order.map((i) => data.test.labels[i]!), labelsPerStep: true, padding: 'post' }, { batchSize: INFER_BATCH, verbose: 0 }),
);
const evalMs = performance.now() - t0;
// Let the GC observer deliver its entries.
await new Promise((r) => setTimeout(r, 200));
const gcByPhase = new Map<string, { ms: number; n: number }>();
for (const e of gcEntries) {
  const w = windows.find((x) => e.start >= x.start && e.start < x.end);
  const k = w?.phase ?? 'other';
  const g = gcByPhase.get(k) ?? { ms: 0, n: 0 };
  g.ms += e.ms;
  g.n++;
  gcByPhase.set(k, g);
}

// ---------------------------------------------------------------- report
const tokens = data.counts.trainTokens;
const steps = Math.ceil(data.train.ids.length / BATCH);
const kernelTotal = (c: string) => [...(kernels.get(c)?.values() ?? [])].reduce((a, k) => a + k.ms, 0);
const kernelCount = (c: string) => [...(kernels.get(c)?.values() ?? [])].reduce((a, k) => a + k.n, 0);
const rows = [...acc].sort((a, b) => b[1].self - a[1].self);
const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};
out(`threads ${kernelThreads()}; fit: ${steps} steps, ${tokens} real tokens, ${(fitMs / 1000).toFixed(1)} s wall (${(tokens / (fitMs / 1000)).toFixed(0)} tokens/s), CPU ${((fitCpu.user + fitCpu.system) / 1e6).toFixed(1)} s`);
out(`infer: ${(inferMs / 1000).toFixed(2)} s (${(data.counts.testTokens / (inferMs / 1000)).toFixed(0)} tokens/s, acc ${(inf.correct / inf.total).toFixed(4)}); evaluate(): ${(evalMs / 1000).toFixed(2)} s`);
out(`GC pauses by phase: ${[...gcByPhase].map(([p, g]) => `${p} ${g.ms.toFixed(0)} ms (${g.n})`).join(', ')}`);
out('');
out('Self = without nested timed contexts (the LSTMs inside Bidirectional, the layers inside the step, ...).');
out('| context | inclusive ms | self ms | calls | self share of fit wall | tfjs kernels ms (count) | self outside kernels ms |');
out('| --- | --- | --- | --- | --- | --- | --- |');
for (const [k, a] of rows) {
  const kt = kernelTotal(k);
  out(`| ${k} | ${a.ms.toFixed(0)} | ${a.self.toFixed(0)} | ${a.n} | ${k.startsWith('fit') ? ((100 * a.self) / fitMs).toFixed(1) + '%' : ''} | ${kt.toFixed(0)} (${kernelCount(k)}) | ${(a.self - kt).toFixed(0)} |`);
}
out('');
out('Top kernels per context (ms, count):');
for (const [c, m] of [...kernels].sort((a, b) => kernelTotal(b[0]) - kernelTotal(a[0]))) {
  const top = [...m].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
  out(`- ${c}: ${top.map(([k, a]) => `${k} ${a.ms.toFixed(0)} (${a.n})`).join(', ')}`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ fitMs, fitCpuMs: (fitCpu.user + fitCpu.system) / 1000, inferMs, evalMs, gc: Object.fromEntries(gcByPhase), acc: Object.fromEntries(acc), kernels: Object.fromEntries([...kernels].map(([c, m]) => [c, Object.fromEntries(m)])) }, null, 1));
