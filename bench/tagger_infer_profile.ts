/**
 * Where the transformer tagger's inference goes (issue 17): the predict +
 * argmax passes of bench/tagger_infer.ts, with every layer's call and every
 * tfjs kernel timed (kernels charged to the innermost layer that runs them;
 * "self" is a layer's time without its nested layers). Wraps methods at run
 * time; src/ is not changed.
 *
 *   npx tsx bench/tagger_infer_profile.ts [--model transformer|bilstm] [--passes 3] [--threads N]
 */
import { ready, tf, setKernelThreads, Layer } from '../src/index.js';
import { loadTagger } from '../demo/tagger/brown.js';
import { buildTagger, buildTransformerTagger, inferPass, sortedBatches, INFER_BATCH } from './tagger_masque.js';

const argv = process.argv.slice(2);
const opt = (n: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};
await ready();
if (opt('--threads') !== undefined) setKernelThreads(Number(opt('--threads')));
const kind = opt('--model') ?? 'transformer';
const passes = Number(opt('--passes') ?? 3);
const data = loadTagger({ trainLimit: 2000 });
const model = kind === 'transformer' ? buildTransformerTagger(data.words.length, data.tags.length, 1234) : buildTagger(data.words.length, data.tags.length, 1234, false);
const batches = sortedBatches(data.test.ids, INFER_BATCH);
inferPass(model, data, batches);

type Acc = { ms: number; self: number; n: number };
const layers = new Map<string, Acc>();
const kernels = new Map<string, Map<string, { ms: number; n: number }>>();
const stack: { label: string; child: number }[] = [];
const here = () => stack[stack.length - 1]?.label ?? '(outside layers)';
const protoApply = Layer.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const origApply = protoApply['apply']!;
protoApply['apply'] = function (this: { name: string; className: string }, ...args: unknown[]) {
  const label = `${this.className} ${this.name}`;
  const frame = { label, child: 0 };
  stack.push(frame);
  const t0 = performance.now();
  try {
    return origApply.apply(this, args);
  } finally {
    const ms = performance.now() - t0;
    stack.pop();
    const a = layers.get(label) ?? { ms: 0, self: 0, n: 0 };
    a.ms += ms;
    a.self += ms - frame.child;
    a.n++;
    layers.set(label, a);
    const p = stack[stack.length - 1];
    if (p) p.child += ms;
  }
};
const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
const origRun = engine.runKernel;
engine.runKernel = function (this: unknown, name: unknown, ...rest: unknown[]) {
  const c = here();
  const t0 = performance.now();
  try {
    return origRun.call(this, name, ...rest);
  } finally {
    const m = kernels.get(c) ?? new Map();
    kernels.set(c, m);
    const a = m.get(name as string) ?? { ms: 0, n: 0 };
    a.ms += performance.now() - t0;
    a.n++;
    m.set(name as string, a);
  }
};
let total = 0;
for (let p = 0; p < passes; p++) total += inferPass(model, data, batches).seconds * 1000;
console.log(`${kind}: ${passes} passes, ${(total / passes).toFixed(0)} ms per pass (timers on)`);
console.log('| layer | incl ms/pass | self ms/pass | kernels ms/pass (count) | self outside kernels |');
for (const [k, a] of [...layers].sort((x, y) => y[1].self - x[1].self)) {
  const m = kernels.get(k);
  const km = m ? [...m.values()].reduce((s, v) => s + v.ms, 0) : 0;
  const kn = m ? [...m.values()].reduce((s, v) => s + v.n, 0) : 0;
  console.log(`| ${k} | ${(a.ms / passes).toFixed(1)} | ${(a.self / passes).toFixed(1)} | ${(km / passes).toFixed(1)} (${kn / passes}) | ${((a.self - km) / passes).toFixed(1)} |`);
}
for (const [c, m] of kernels) {
  const top = [...m].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10);
  console.log(`- ${c}: ${top.map(([k, a]) => `${k} ${(a.ms / passes).toFixed(1)} (${a.n / passes})`).join(', ')}`);
}
model.dispose();
