import { readFileSync } from 'node:fs';
import { tf, ready, ops } from './src/index.js';
await ready();
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
function kw(k: any) { const o: any = {}; for (const [a, b] of Object.entries(k)) o[camel(a)] = b; return o; }
const cases = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
let bad = 0;
for (const c of cases) {
  const dec = (v: any) => v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v; const x = tf.tensor(c.x.data.map(dec), c.x.shape, 'float32'); c.grad = c.grad.map(dec); const w = tf.tensor(c.w.data, c.w.shape, 'float32');
  const f = (v: tf.Tensor) => {
    const o = ops as any; const n = camel(c.op); const k = kw(c.kwargs);
    let y: tf.Tensor;
    if (c.op === 'clip') y = o.clip(v, c.extra[0], c.extra[1]);
    else if (c.op === 'floor_divide' || c.op === 'mod') y = o[n](v, c.extra[0]);
    else if (c.op === 'round') y = o.round(v, c.extra[0]);
    else if (['tile', 'repeat', 'take'].includes(c.op)) y = o[n](v, c.extra[0], k);
    else y = Object.keys(k).length ? o[n](v, k) : o[n](v);
    return tf.sum(tf.mul(y, w));
  };
  let g: number[];
  try { g = Array.from(tf.grad(f)(x).dataSync()); } catch (e: any) { bad++; console.log(c.name, 'ERR', e.constructor.name, e.code, String(e.message).slice(0, 140)); continue; }
  const d = c.grad.map((a: any, j: number) => [j, c.x.data[j], a, g[j]]).filter(([, , a, b]: any) => !((Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 2e-3 * Math.max(1, Math.abs(a))));
  if (d.length) { bad++; console.log(c.name, `${d.length}/${g.length} differ: [j, x, fd, masque]`, JSON.stringify(d.slice(0, 4))); }
}
console.log(`${cases.length - bad}/${cases.length} agree`);
