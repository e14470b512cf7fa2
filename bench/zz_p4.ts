import { tf, ready, LSTM } from '../src/index.js';
import { makeLengths, makeRows, mulberry32, padRows, padMask } from './rnn_data.js';
import { buildMasque } from './rnn_models.js';
await ready();
const time = (name: string, f: () => unknown, n = 15) => { tf.dispose(f() as tf.Tensor); const ts: number[] = []; for (let i = 0; i < n; i++) { const c0 = process.cpuUsage(); const y = f(); if (y instanceof tf.Tensor) { y.dataSync(); y.dispose(); } const c = process.cpuUsage(c0); ts.push((c.user + c.system) / 1000); } ts.sort((a, b) => a - b); console.log(name, 'min', ts[0]!.toFixed(2), 'med', ts[n >> 1]!.toFixed(2)); };
for (const [B, T, F, U] of [[32, 200, 64, 64], [64, 100, 128, 128]]) {
  const rng = mulberry32(1 + B * 7919 + T);
  const lengths = makeLengths(rng, B, T, 40, 0.8);
  const rows = makeRows(rng, lengths, F, 2000);
  const { x } = padRows(rows, T, 'post');
  const xt = tf.tensor3d(x, [B, T, F]);
  const y = tf.ones([B, 1]);
  const model = buildMasque('masking', { t: T, f: F, u: U, vocab: 2000 }, null);
  time(`${B}x${T} predict`, () => model.predict(xt));
  time(`${B}x${T} train`, () => { model.trainOnBatch(xt, y); });
  const lstm = new LSTM({ units: U });
  const mask = tf.tensor2d(padMask(lengths, T, 'post'), [B, T], 'bool');
  time(`${B}x${T} lstm layer`, () => lstm.apply(xt, { mask }));
  const vars = lstm.weights.map((w) => w.variable);
  time(`${B}x${T} lstm grads`, () => { const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(lstm.apply(xt, { mask }) as tf.Tensor) as tf.Scalar), vars); tf.dispose([value, ...Object.values(grads)]); });
}
