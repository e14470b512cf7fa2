import { tf, ready } from '../src/index.js';
import { buildPlan } from '../src/ops/rnn/plan.js';
import { rnnKernel } from '../src/ops/rnn/kernel.js';
import { kernelForward } from '../src/ops/rnn/kernel_call.js';
import { makeLengths, makeRows, mulberry32, padRows } from './rnn_data.js';
await ready();
const rng = mulberry32(1 + 32 * 7919 + 200);
const rows = makeRows(rng, makeLengths(rng, 32, 200, 40, 0.8), 64, 2000);
const time = (name: string, f: () => void, n = 10) => { f(); const t0 = performance.now(); for (let i = 0; i < n; i++) f(); console.log(name, ((performance.now() - t0) / n).toFixed(2), 'ms'); };
const W = tf.randomNormal([64, 256], 0, 0.1) as tf.Tensor2D;
const R = tf.randomNormal([64, 256], 0, 0.1);
for (const t of [200, 800]) {
  const { x } = padRows(rows, t, 'post');
  const xt = tf.tensor3d(x, [32, t, 64]);
  const mask = tf.tidy(() => tf.any(tf.notEqual(xt, 0), 2));
  let plan = buildPlan(mask.dataSync(), 32, t, false);
  time(`plan T=${t}`, () => { plan = buildPlan(mask.dataSync(), 32, t, false); });
  time(`gather T=${t}`, () => tf.tidy(() => { tf.gather(tf.reshape(xt, [32 * t, 64]), tf.tensor1d(plan.tokens, 'int32')).dataSync(); }));
  const xc = tf.gather(tf.reshape(xt, [32 * t, 64]), tf.tensor1d(plan.tokens, 'int32'));
  time(`matmul n=${plan.n}`, () => tf.tidy(() => { tf.matMul(xc, W).dataSync(); }));
  const xp = tf.matMul(xc, W).dataSync() as Float32Array;
  const spec = { kind: 0 as const, resetAfter: false, act: 3, ract: 2, units: 64, gates: 4, returnSequences: false, zeroOutputForMask: false, plan, rdm: null, hasRecurrentBias: false };
  const r = R.dataSync() as Float32Array; const h0 = new Float32Array(32 * 64);
  time(`kernelForward T=${t}`, () => { kernelForward(rnnKernel()!, spec, xp, r, null, h0, h0, false); });
  time(`kernelForward save T=${t}`, () => { kernelForward(rnnKernel()!, spec, xp, r, null, h0, h0, true); });
}
