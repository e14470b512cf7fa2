import { readFileSync } from 'node:fs';
import { tf, ready, ops } from './src/index.js';
await ready();
const dec = (v: any) => v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === '-0' ? -0 : v;
const dtmap = (d: string) => d.startsWith('int') || d.startsWith('uint') ? 'int32' : d === 'bool' ? 'bool' : 'float32';
const toT = (e: any) => tf.tensor(e.data.map(dec), e.shape, dtmap(e.dtype) as any);
const arg = (a: any) => a.data ? toT(a) : a.list ? a.list.map(toT) : (a.py && typeof a.py === 'object' && 'f' in a.py) ? dec(typeof a.py.f === 'string' ? (a.py.f === 'nan' ? 'nan' : a.py.f === 'inf' ? 'inf' : '-inf') : a.py.f) : a.py;
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
function kw(k: any) { const o: any = {}; for (const [a, b] of Object.entries(k)) o[camel(a)] = b; return o; }
const call: Record<string, (args: any[], k: any) => any> = {
  floor_divide: (a) => ops.floorDivide(a[0], a[1]), mod: (a) => ops.mod(a[0], a[1]),
  clip: (a) => ops.clip(a[0], a[1], a[2]), round: (a, k) => ops.round(a[0], a[1] ?? k.decimals ?? 0),
  take: (a, k) => ops.take(a[0], a[1], kw(k)), tile: (a) => ops.tile(a[0], a[1]), repeat: (a, k) => ops.repeat(a[0], a[1], kw(k)),
  one_hot: (a, k) => ops.oneHot(a[0], a[1], kw(k)), stack: (a, k) => ops.stack(a[0], kw(k)),
  gelu: (a, k) => ops.gelu(a[0], kw(k)), elu: (a, k) => ops.elu(a[0], kw(k)), leaky_relu: (a, k) => ops.leakyRelu(a[0], kw(k)),
};
const file = process.argv[2]!;
const cases = JSON.parse(readFileSync(file, 'utf8'));
let bad = 0;
const tol = Number(process.argv[3] ?? 1e-5);
for (const c of cases) {
  let got: any; let err: any = null;
  try {
    const args = c.args.map(arg);
    const f = call[c.op] ?? ((a: any[], k: any) => (ops as any)[camel(c.op)](...a, ...(Object.keys(k).length ? [kw(k)] : [])));
    got = f(args, c.kwargs);
  } catch (e: any) { err = `${e.constructor.name} ${e.code ?? ''} ${String(e.message).slice(0, 120)}`; }
  const o = c.out;
  if (o.error || err) {
    if (!(o.error && err && err.startsWith('MasqueError'))) { bad++; console.log(`[${c.name}] keras: ${o.error ?? 'ok ' + o.dtype + JSON.stringify(o.shape)} | masque: ${err ?? 'ok ' + got.dtype + JSON.stringify(got.shape)}`); }
    continue;
  }
  const want = o.data.map(dec); const gv = Array.from(got.dataSync()) as number[];
  const wd = dtmap(o.dtype);
  const msgs: string[] = [];
  if (wd !== got.dtype) msgs.push(`dtype keras ${o.dtype} masque ${got.dtype}`);
  if (JSON.stringify(o.shape) !== JSON.stringify(got.shape)) msgs.push(`shape keras ${JSON.stringify(o.shape)} masque ${JSON.stringify(got.shape)}`);
  else {
    const diffs: string[] = [];
    want.forEach((w: any, j: number) => {
      const g = Number(gv[j]); const wn = typeof w === 'boolean' ? Number(w) : w;
      const rel = process.argv[4] === 'rel'; const ok = (Number.isNaN(wn) && Number.isNaN(g)) || wn === g || Math.abs(wn - g) <= tol * (rel ? Math.abs(wn) : Math.max(1, Math.abs(wn)));
      if (!ok) diffs.push(`#${j} in=${c.args.filter((a: any) => a.data).map((a: any) => a.data[j]).join(',')} keras=${w} masque=${g}`);
    });
    if (diffs.length) msgs.push(`${diffs.length} values differ: ${diffs.slice(0, Number(process.env.NDIFF ?? 6)).join('; ')}`);
  }
  if (msgs.length) { bad++; console.log(`[${c.name}] ${msgs.join(' | ')}`); }
}
console.log(`${cases.length - bad}/${cases.length} agree`);
