import { readFileSync } from 'node:fs';
import { buildPlan } from '../src/ops/rnn/plan.js';
import { kernelForward, kernelBackward } from '../src/ops/rnn/kernel_call.js';
import { makeLengths, mulberry32 } from './rnn_data.js';
const files = process.argv.slice(2);
const [B, T, F, U] = (process.env.CFG ?? '32,200,64,64').split(',').map(Number) as [number, number, number, number];
const rng = mulberry32(1 + B * 7919 + T);
const lengths = makeLengths(rng, B, T, 40, 0.8);
const mask = new Uint8Array(B * T); lengths.forEach((l, b) => { for (let t = 0; t < l; t++) mask[b * T + t] = 1; });
const plan = buildPlan(mask, B, T, false);
const rnd = (n: number, s = 1) => Float32Array.from({ length: n }, () => (Math.random() - 0.5) * s);
const x = { xc: rnd(plan.n * F), w: rnd(F * 4 * U, 0.2), b: rnd(4 * U), r: rnd(U * 4 * U, 0.2), rb: null, h0: new Float32Array(B * U), c0: new Float32Array(B * U) };
const dP = rnd(B * 3 * U);
const spec = { kind: 0 as const, resetAfter: false, act: 3, ract: 2, units: U, features: F, gates: 4, returnSequences: false, zeroOutputForMask: false, plan, rdm: null, hasRecurrentBias: false, hasInputBias: true };
const cpu = (f: () => void, n = 15) => { f(); const ts: number[] = []; for (let i = 0; i < n; i++) { const c0 = process.cpuUsage(); f(); const c = process.cpuUsage(c0); ts.push((c.user + c.system) / 1000); } ts.sort((a, b) => a - b); return ts[0]!.toFixed(2); };
let ref: Float32Array[] | null = null;
for (const file of files) {
  const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {}).exports as any;
  const f = kernelForward(k, spec, x, true);
  const g = kernelBackward(k, spec, x, f.saved!, dP);
  const outs = [f.packed, g.dxc, g.dw, g.dr, g.dh0];
  let d = 0; if (ref) outs.forEach((o, j) => o.forEach((v, i) => { d = Math.max(d, Math.abs(v - ref![j]![i]!)); })); else ref = outs;
  console.log(file, 'fwd', cpu(() => kernelForward(k, spec, x, false)), 'fwd+save', cpu(() => kernelForward(k, spec, x, true)), 'bwd', cpu(() => kernelBackward(k, spec, x, f.saved!, dP)), 'max diff', d);
}
