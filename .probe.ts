import { launchChromium, serveStatic, readJson } from './test/browser/harness.js';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import * as masque from './src/index.js';
await masque.ready();
const cases = join(process.cwd(), 'test/fixtures/keras-3.15.1');
const server = await serveStatic({ '/lib/': join(process.cwd(), 'dist', 'browser'), '/cases/': cases, '/': join(process.cwd(), 'test', 'browser', 'fixtures') });
const b = await launchChromium();
const p = await b.newPage();
await p.goto(`${server.url}/bundle.html?backend=webgl`);
await p.waitForFunction(() => 'masqueInfo' in window || 'masqueError' in window);
const names = readdirSync(cases).filter((f) => f.endsWith('.json') && !f.startsWith('pad_sequences') && f !== 'index.json').map((f) => f.slice(0, -5));
const t0 = Date.now();
for (const name of names) {
  const c: any = readJson(join(cases, name + '.json'));
  if (!c.config || !c.inputs) continue;
  let want;
  try {
    const model = masque.modelFromKerasConfig(c.config, c.weights);
    const inputs = c.inputs.map((a: any) => masque.tf.tensor(a.data, a.shape, a.dtype.startsWith('int') ? 'int32' : a.dtype === 'bool' ? 'bool' : 'float32'));
    const out = model.predict(inputs.length === 1 ? inputs[0] : inputs);
    want = (Array.isArray(out) ? out : [out]).map((t: any) => Array.from(t.dataSync() as Float32Array));
  } catch (e) { console.log(name, 'node:', String(e).slice(0, 80)); continue; }
  const t1 = Date.now();
  try {
    const got: any = await p.evaluate(([n]) => (window as any).runCase(n), [name]);
    let d = 0;
    got.outputs.forEach((o: any, i: number) => o.data.forEach((v: number, k: number) => { const w = want[i][k]; const dd = Number.isNaN(v) !== Number.isNaN(w) ? Infinity : Number.isNaN(v) ? 0 : Math.abs(v - w) / Math.max(1, Math.abs(w)); d = Math.max(d, dd); }));
    console.log(d > 1e-5 ? 'FAIL' : 'ok  ', name, d, `${Date.now() - t1}ms`);
  } catch (e) { console.log('ERR ', name, String(e).slice(0, 200)); }
}
console.log('total', Date.now() - t0);
await b.close(); await server.close();
