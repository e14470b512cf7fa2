import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { getMask } from '../../engine/masks.js';
import { Input } from '../../engine/input_layer.js';
import { Model } from '../../models/functional.js';
import { SimpleRNN } from './simple_rnn.js';
import { LSTM, type LSTMArgs } from './lstm.js';
import { GRU } from './gru.js';

const sig = (v: number) => 1 / (1 + Math.exp(-v));
const close = (got: number[], want: number[], what: string) =>
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-5, `${what}[${i}]: ${g} vs ${want[i]}`));

test('weights nest under the cell with Keras names, shapes and initial values', () => {
  const lstm = new LSTM({ units: 2, name: 'lstm' });
  const gru = new GRU({ units: 2, name: 'gru' });
  const gru0 = new GRU({ units: 2, name: 'gru_b', resetAfter: false });
  const rnn = new SimpleRNN({ units: 2, name: 'simple_rnn' });
  const noBias = new LSTM({ units: 2, useBias: false, unitForgetBias: false });
  for (const l of [lstm, gru, gru0, rnn, noBias]) tf.dispose(l.apply(tf.zeros([1, 1, 3])) as tf.Tensor);
  const paths = (l: { weights: { path: string; shape: number[] }[] }) => l.weights.map((w) => `${w.path} ${JSON.stringify(w.shape)}`);
  assert.deepEqual(paths(lstm), ['lstm/lstm_cell/kernel [3,8]', 'lstm/lstm_cell/recurrent_kernel [2,8]', 'lstm/lstm_cell/bias [8]']);
  assert.deepEqual(paths(gru), ['gru/gru_cell/kernel [3,6]', 'gru/gru_cell/recurrent_kernel [2,6]', 'gru/gru_cell/bias [2,6]']);
  assert.deepEqual(paths(gru0), ['gru_b/gru_cell/kernel [3,6]', 'gru_b/gru_cell/recurrent_kernel [2,6]', 'gru_b/gru_cell/bias [6]']);
  assert.deepEqual(paths(rnn), ['simple_rnn/simple_rnn_cell/kernel [3,2]', 'simple_rnn/simple_rnn_cell/recurrent_kernel [2,2]', 'simple_rnn/simple_rnn_cell/bias [2]']);
  assert.equal(noBias.weights.length, 2);
  // unitForgetBias: ones on the forget gate (i, f, c, o order), zeros elsewhere.
  assert.deepEqual(Array.from(lstm.cell.bias!.dataSync()), [0, 0, 1, 1, 0, 0, 0, 0]);
  // recurrentInitializer orthogonal: the rows of the [2, 8] recurrent kernel are orthonormal.
  const rk = lstm.cell.recurrentKernel;
  close(Array.from(tf.matMul(rk, rk, false, true).dataSync()), [1, 0, 0, 1], 'R R^T');
  for (const l of [lstm, gru, gru0, rnn, noBias]) l.dispose();
});

test('one step matches the Keras cell formulas (gate order i, f, c, o and z, r, h)', () => {
  const x = [0.5, -1];
  const h = [0.3, -0.2];
  const c = [0.1, 0.4];
  const mk = (n: number, off: number) => Array.from({ length: n }, (_, k) => Math.sin(k * 1.7 + off) * 0.6);
  // LSTM, units 2: kernel [2, 8], recurrent [2, 8], bias [8].
  const lstm = new LSTM({ units: 2 });
  tf.dispose(lstm.apply(tf.zeros([1, 1, 2])) as tf.Tensor);
  const [k, r, b] = [mk(16, 0), mk(16, 1), mk(8, 2)];
  lstm.setWeights([k, r, b]);
  const z = Array.from({ length: 8 }, (_, j) => x[0]! * k[j]! + x[1]! * k[8 + j]! + h[0]! * r[j]! + h[1]! * r[8 + j]! + b[j]!);
  const i = [sig(z[0]!), sig(z[1]!)];
  const f = [sig(z[2]!), sig(z[3]!)];
  const cc = [0, 1].map((u) => f[u]! * c[u]! + i[u]! * Math.tanh(z[4 + u]!));
  const hh = [0, 1].map((u) => sig(z[6 + u]!) * Math.tanh(cc[u]!));
  const [out, [hNew, cNew]] = lstm.cell.call(tf.tensor2d([x]), [tf.tensor2d([h]), tf.tensor2d([c])]) as [tf.Tensor, tf.Tensor[]];
  close(Array.from(out.dataSync()), hh, 'lstm h');
  close(Array.from(hNew!.dataSync()), hh, 'lstm state h');
  close(Array.from(cNew!.dataSync()), cc, 'lstm c');
  // GRU, both conventions.
  for (const resetAfter of [true, false]) {
    const gru = new GRU({ units: 2, resetAfter });
    tf.dispose(gru.apply(tf.zeros([1, 1, 2])) as tf.Tensor);
    const [gk, gr, gb] = [mk(12, 3), mk(12, 4), mk(resetAfter ? 12 : 6, 5)];
    gru.setWeights([gk, gr, gb]);
    const bi = gb.slice(0, 6);
    const br = resetAfter ? gb.slice(6) : [0, 0, 0, 0, 0, 0];
    const xk = Array.from({ length: 6 }, (_, j) => x[0]! * gk[j]! + x[1]! * gk[6 + j]! + bi[j]!);
    const hr = Array.from({ length: 6 }, (_, j) => h[0]! * gr[j]! + h[1]! * gr[6 + j]! + br[j]!);
    const zg = [0, 1].map((u) => sig(xk[u]! + hr[u]!));
    const rg = [0, 1].map((u) => sig(xk[2 + u]! + hr[2 + u]!));
    const cand = [0, 1].map((u) => {
      if (resetAfter) return Math.tanh(xk[4 + u]! + rg[u]! * hr[4 + u]!);
      const rh = [rg[0]! * h[0]!, rg[1]! * h[1]!];
      return Math.tanh(xk[4 + u]! + rh[0]! * gr[4 + u]! + rh[1]! * gr[6 + 4 + u]!);
    });
    const want = [0, 1].map((u) => zg[u]! * h[u]! + (1 - zg[u]!) * cand[u]!);
    const got = gru.cell.call(tf.tensor2d([x]), [tf.tensor2d([h])]);
    close(Array.from(got[0]!.dataSync()), want, `gru resetAfter=${resetAfter}`);
    gru.dispose();
  }
  const rnn = new SimpleRNN({ units: 2, activation: 'relu' });
  tf.dispose(rnn.apply(tf.zeros([1, 1, 2])) as tf.Tensor);
  const [sk, sr, sb] = [mk(4, 6), mk(4, 7), mk(2, 8)];
  rnn.setWeights([sk, sr, sb]);
  const want = [0, 1].map((u) => Math.max(0, x[0]! * sk[u]! + x[1]! * sk[2 + u]! + h[0]! * sr[u]! + h[1]! * sr[2 + u]! + sb[u]!));
  close(Array.from(rnn.cell.call(tf.tensor2d([x]), [tf.tensor2d([h])])[0].dataSync()), want, 'simple rnn');
  lstm.dispose();
  rnn.dispose();
});

test('output masks: the input mask with returnSequences, else null; state outputs carry none', () => {
  const x = tf.ones([2, 3, 1]);
  const mask = tf.tensor2d([[true, true, false], [true, false, false]], undefined, 'bool');
  const seq = new GRU({ units: 2, returnSequences: true, returnState: true }).apply(x, { mask }) as tf.Tensor[];
  assert.equal(seq.length, 2);
  assert.deepEqual(Array.from(getMask(seq[0]!)!.dataSync()), [1, 1, 0, 1, 0, 0]);
  assert.equal(getMask(seq[1]!), null);
  const last = new LSTM({ units: 2, returnState: true }).apply(x, { mask }) as tf.Tensor[];
  assert.deepEqual(last.map((t) => getMask(t)), [null, null, null]);
  assert.equal(getMask(new SimpleRNN({ units: 2 }).apply(x, { mask }) as tf.Tensor), null);
});

test('getConfig returns the options with Keras defaults, and rebuilds an equal layer', () => {
  const l = new LSTM({ units: 3, returnSequences: true, name: 'cfg_lstm' });
  const cfg = l.getConfig();
  assert.equal(cfg.units, 3);
  assert.equal(cfg.recurrentActivation, 'sigmoid');
  assert.equal(cfg.unitForgetBias, true);
  assert.equal(cfg.zeroOutputForMask, false);
  assert.equal(cfg.kernelInitializer, 'glorotUniform');
  assert.equal(cfg.recurrentInitializer, 'orthogonal');
  assert.deepEqual(new LSTM(cfg as unknown as LSTMArgs).getConfig(), cfg);
  assert.equal(new GRU({ units: 1 }).getConfig().resetAfter, true);
});

test('departure 5: with initialState the input mask is still used', () => {
  const lstm = new LSTM({ units: 2, returnState: true });
  const valid = [[[0.5], [-1]]];
  const padded = tf.tensor3d([[[0.5], [-1], [9], [9]]]);
  const mask = tf.tensor2d([[true, true, false, false]], undefined, 'bool');
  const init = [tf.tensor2d([[0.2, -0.4]]), tf.tensor2d([[0.1, 0.3]])];
  const a = lstm.apply(padded, { mask, initialState: init }) as tf.Tensor[];
  const b = lstm.apply(tf.tensor3d(valid), { initialState: init }) as tf.Tensor[];
  a.forEach((t, k) => close(Array.from(t.dataSync()), Array.from(b[k]!.dataSync()), `output ${k}`));
  const ignored = lstm.apply(padded, { initialState: init }) as tf.Tensor[];
  assert.ok(Math.abs(ignored[0]!.dataSync()[0]! - a[0]!.dataSync()[0]!) > 1e-4, 'without the mask the padding would change the result');
});

test('symbolic: an encoder state feeds a decoder through initialState; the decoder keeps its mask', () => {
  const enc = Input({ shape: [null, 2] });
  const dec = Input({ shape: [null, 2] });
  const [, h, c] = new LSTM({ units: 3, returnState: true }).apply(enc) as unknown as [unknown, never, never];
  const decLayer = new LSTM({ units: 3, returnSequences: true });
  const y = decLayer.apply(dec, { initialState: [h, c] });
  const model = new Model({ inputs: [enc, dec], outputs: y as never });
  const out = model.apply([tf.ones([2, 4, 2]), tf.ones([2, 5, 2])], { mask: [null, tf.tensor2d([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], undefined, 'bool')] }) as tf.Tensor;
  assert.deepEqual(out.shape, [2, 5, 3]);
  assert.deepEqual(Array.from(getMask(out)!.dataSync()), [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
  const rows = out.arraySync() as number[][][];
  assert.deepEqual(rows[0]![4], rows[0]![2], 'a masked step repeats the previous output');
  model.dispose();
});

test('dropout and recurrentDropout act only in training, with one mask per sequence', () => {
  const l = new SimpleRNN({ units: 4, dropout: 0.5, recurrentDropout: 0.5, returnSequences: true, seed: 3 });
  const x = tf.ones([2, 3, 4]);
  const inf1 = (l.apply(x) as tf.Tensor).arraySync();
  const inf2 = (l.apply(x, { training: false }) as tf.Tensor).arraySync();
  assert.deepEqual(inf1, inf2);
  const train = (l.apply(x, { training: true }) as tf.Tensor).arraySync();
  assert.notDeepEqual(train, inf1);
  l.dispose();
});
