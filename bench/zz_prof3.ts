import { tf, ready } from '../src/index.js';
import { makeLengths, makeRows, mulberry32, padRows } from './rnn_data.js';
import { buildMasque } from './rnn_models.js';
await ready();
const rng = mulberry32(1 + 32 * 7919 + 200);
const rows = makeRows(rng, makeLengths(rng, 32, 200, 40, 0.8), 64, 2000);
const model = buildMasque('masking', { t: 200, f: 64, u: 64, vocab: 2000 }, null);
const [masking, lstm, dense] = model.sequentialLayers;
const time = (name: string, f: () => void, n = 20) => { f(); const ts: number[] = []; for (let i = 0; i < n; i++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); } ts.sort((a, b) => a - b); console.log(name, 'min', ts[0]!.toFixed(2), 'med', ts[n >> 1]!.toFixed(2)); };
for (const t of [200, 800, 200, 800]) {
  const { x } = padRows(rows, t, 'post');
  const xt = tf.tensor3d(x, [32, t, 64]);
  time(`predict T=${t}`, () => { const y = model.predict(xt) as tf.Tensor; y.dataSync(); y.dispose(); });
  time(`masking T=${t}`, () => tf.tidy(() => { (masking!.apply(xt) as tf.Tensor).dataSync(); }));
  const m = masking!.apply(xt) as tf.Tensor;
  time(`lstm T=${t}`, () => tf.tidy(() => { (lstm!.apply(m) as tf.Tensor).dataSync(); }));
  time(`train T=${t}`, () => { model.trainOnBatch(xt, tf.ones([32, 1])); }, 10);
}
