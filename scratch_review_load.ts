import { readFileSync } from 'node:fs';
import { tf, ready, loadModelFromBytes } from './src/index.js';
await ready();
const [file, iofile] = [process.argv[2]!, process.argv[3]!];
const io = JSON.parse(readFileSync(iofile, 'utf8'));
const dec = (v: any) => v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : typeof v === 'boolean' ? Number(v) : v;
const dt = (d: string) => d.startsWith('int') ? 'int32' : d === 'bool' ? 'bool' : 'float32';
const m = await loadModelFromBytes(new Uint8Array(readFileSync(file)));
const ins = io.inputs.map((e: any) => tf.tensor(e.data.map(dec), e.shape, dt(e.dtype) as any));
let res: any;
try { res = m.apply(ins) as any; } catch (e: any) { console.log('ERR', e.code, e.message); process.exit(0); }
if (!Array.isArray(res)) res = [res];
const outs = (m as any).outputs;
let bad = 0;
io.names.forEach((n: string, k: number) => {
  const w = io.outputs[k]; const g = res[k] as tf.Tensor; const msg: string[] = [];
  if (dt(w.dtype) !== g.dtype) msg.push(`dtype keras ${w.dtype} masque ${g.dtype}`);
  if (JSON.stringify(w.shape) !== JSON.stringify(g.shape)) msg.push(`shape keras ${JSON.stringify(w.shape)} masque ${JSON.stringify(g.shape)}`);
  else { const gv = Array.from(g.dataSync()) as number[]; const wv = w.data.map(dec);
    const d = wv.map((a: number, j: number) => [j, a, Number(gv[j])]).filter(([, a, b]: any) => !((Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a))));
    if (d.length) msg.push(`${d.length} values differ e.g. ${JSON.stringify(d.slice(0, 3))}`); }
  if (io.symbolic) { const s = outs[k]; const ks = io.symbolic[k]; if (s && (JSON.stringify(s.shape) !== JSON.stringify(ks[1]) || s.dtype !== dt(ks[0]))) msg.push(`symbolic keras ${JSON.stringify(ks)} masque ${s.dtype} ${JSON.stringify(s.shape)}`); }
  if (msg.length) { bad++; console.log(n, msg.join(' | ')); }
});
console.log(`${io.names.length - bad}/${io.names.length} agree`);
