import { tf, ready } from '../src/index.js';
import { rnnSequence } from '../src/ops/rnn/index.js';
import { makeLengths, makeRows, mulberry32, padRows } from './rnn_data.js';
import { buildMasque } from './rnn_models.js';
await ready();
const rng = mulberry32(1 + 32 * 7919 + 200);
const rows = makeRows(rng, makeLengths(rng, 32, 200, 40, 0.8), 64, 2000);
const model = buildMasque('masking', { t: 200, f: 64, u: 64, vocab: 2000 }, null);
const time = (name: string, f: () => void, n = 10) => { f(); const t0 = performance.now(); for (let i = 0; i < n; i++) f(); console.log(name, ((performance.now() - t0) / n).toFixed(1), 'ms'); };
for (const t of [200, 800]) {
  const { x } = padRows(rows, t, 'post');
  const xt = tf.tensor3d(x, [32, t, 64]);
  time(`predict T=${t}`, () => { const y = model.predict(xt) as tf.Tensor; y.dataSync(); y.dispose(); });
  const mask = tf.tidy(() => tf.any(tf.notEqual(xt, 0), 2));
  const lstm = model.sequentialLayers[1] as any;
  const w = lstm.cell.opWeights();
  const h0 = [tf.zeros([32, 64]), tf.zeros([32, 64])] as tf.Tensor2D[];
  time(`rnnSequence T=${t}`, () => { const r = rnnSequence({ ...w, inputs: xt, mask, initialStates: h0, goBackwards: false, zeroOutputForMask: false, returnSequences: false }); r.output.dataSync(); tf.dispose([r.output, ...r.states]); });
  time(`mask T=${t}`, () => { const m = tf.any(tf.notEqual(xt, 0), 2); m.dataSync(); m.dispose(); });
  time(`mask dataSync only T=${t}`, () => { mask.dataSync(); });
}
