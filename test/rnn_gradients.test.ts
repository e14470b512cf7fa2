// Gradients of the recurrent layers against central finite differences
// (float32, step 1e-2) on a tiny case with a hole, leading and trailing
// masked steps and non-zero initial states: inputs, initial states and
// every weight (kernel, recurrent_kernel, bias).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Bidirectional, type Layer, type RNNCallArgs } from '../src/index.js';
import { fusedUnsupportedReason } from '../src/ops/rnn/index.js';
import { KINDS, makeRnn, normals, randomizeWeights, rng } from './rnn_helpers.js';

const EPS = 1e-2;
const TOL = 1e-3;
const B = 2;
const T = 4;
const F = 2;
const U = 2;
const MASK = [
  [true, false, true, true],
  [false, true, true, false],
];

/** Checks d(loss)/d(everything) of `layer` against central differences. */
function gradCheck(layer: Layer<RNNCallArgs, boolean>, nStates: number, seed: number, what: string): void {
  const r = rng(seed);
  tf.tidy(() => void layer.apply(tf.zeros([1, 1, F])));
  randomizeWeights(layer, seed);
  const x = tf.tensor3d(normals(r, B * T * F), [B, T, F]);
  const h0 = Array.from({ length: nStates }, () => tf.tensor2d(normals(r, B * U, 0.5), [B, U]));
  const mask = tf.tensor2d(MASK, [B, T], 'bool');
  const probe = layer.apply(x, { mask, initialState: h0 });
  const outs = Array.isArray(probe) ? probe : [probe];
  const ws = outs.map((o) => tf.tensor(normals(r, o.size), o.shape));
  tf.dispose(outs);
  const loss = (xx: tf.Tensor, hh: tf.Tensor[]): tf.Scalar =>
    tf.tidy(() => {
      const y = layer.apply(xx, { mask, initialState: hh });
      const list = Array.isArray(y) ? y : [y];
      return list.reduce((acc: tf.Tensor, o, k) => tf.add(acc, tf.sum(tf.mul(o, ws[k]!))), tf.scalar(0)) as tf.Scalar;
    });
  const value = (xx: tf.Tensor, hh: tf.Tensor[]): number => {
    const l = loss(xx, hh);
    const v = l.dataSync()[0]!;
    l.dispose();
    return v;
  };
  const analytic = tf.grads((xx: tf.Tensor, ...hh: tf.Tensor[]) => loss(xx, hh))([x, ...h0]);
  const vars = layer.weights.map((w) => w.variable);
  const wGrads = tf.variableGrads(() => loss(x, h0), vars).grads;

  const check = (name: string, got: Float32Array | Int32Array | Uint8Array, perturb: (k: number, d: number) => number): void => {
    for (let k = 0; k < got.length; k++) {
      const num = (perturb(k, EPS) - perturb(k, -EPS)) / (2 * EPS);
      const diff = Math.abs(got[k]! - num);
      assert.ok(diff <= TOL * Math.max(1, Math.abs(num)), `${what}: d/d${name}[${k}] analytic ${got[k]} vs numeric ${num}`);
    }
  };
  const shifted = (t: tf.Tensor, k: number, d: number): tf.Tensor => {
    const v = t.dataSync().slice();
    v[k] = v[k]! + d;
    return tf.tensor(v, t.shape);
  };
  check('x', analytic[0]!.dataSync(), (k, d) => {
    const xs = shifted(x, k, d);
    const v = value(xs, h0);
    xs.dispose();
    return v;
  });
  h0.forEach((h, s) =>
    check(`initialState[${s}]`, analytic[s + 1]!.dataSync(), (k, d) => {
      const hs = shifted(h, k, d);
      const v = value(x, h0.map((o) => (o === h ? hs : o)));
      hs.dispose();
      return v;
    }),
  );
  // Masked steps get exactly zero gradient.
  const gx = analytic[0]!.arraySync() as number[][][];
  MASK.forEach((row, i) => row.forEach((valid, t) => valid || assert.deepEqual(gx[i]![t], [0, 0], `${what}: masked step ${i},${t}`)));
  for (const w of layer.weights) {
    const g = wGrads[w.variable.name];
    assert.ok(g !== undefined, `${what}: no gradient for ${w.path}`);
    check(w.path, g.dataSync(), (k, d) => {
      const orig = tf.clone(w.variable);
      const moved = shifted(orig, k, d);
      w.variable.assign(moved);
      const v = value(x, h0);
      w.variable.assign(orig);
      tf.dispose([orig, moved]);
      return v;
    });
  }
  tf.dispose([x, mask, ...h0, ...ws, ...analytic, ...Object.values(wGrads)]);
  layer.dispose();
}

for (const kind of KINDS) {
  for (const opts of [{ returnSequences: true, returnState: true }, { goBackwards: true, zeroOutputForMask: true, returnState: true }, {}]) {
    test(`${kind} ${JSON.stringify(opts)}: gradients match central differences (masked steps, carried states)`, () => {
      const layer = makeRnn(kind, { units: U, ...opts });
      gradCheck(layer, layer.stateCount, 7, `${kind} ${JSON.stringify(opts)}`);
    });
  }
}

for (const kind of ['lstm', 'gru'] as const) {
  test(`Bidirectional(${kind}) sequences + states: gradients match central differences`, () => {
    const inner = makeRnn(kind, { units: U, returnSequences: true, returnState: true });
    const layer = new Bidirectional({ layer: inner, mergeMode: 'concat' });
    gradCheck(layer, 2 * inner.stateCount, 9, `Bidirectional(${kind})`);
  });
}

test('optimizer training through every recurrent layer (fused kernel, wasm) lowers the loss, for T = 1 and for padded batches with an empty row', () => {
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(fusedUnsupportedReason({ kind: 'lstm', activation: 'tanh', recurrentActivation: 'sigmoid' }), null);
  const makers: [string, () => Layer<RNNCallArgs, boolean>][] = [
    ...KINDS.map((k) => [k, () => makeRnn(k, { units: 3 })] as [string, () => Layer<RNNCallArgs, boolean>]),
    ['bidirectional lstm', () => new Bidirectional({ layer: makeRnn('lstm', { units: 3, returnSequences: true }) })],
    ['bidirectional gru', () => new Bidirectional({ layer: makeRnn('gru', { units: 3 }), mergeMode: 'sum' })],
  ];
  for (const [name, make] of makers) {
    for (const t of [1, 5]) {
      const layer = make();
      const r = rng(t * 13 + name.length);
      const x = tf.tensor3d(normals(r, 3 * t * 2), [3, t, 2]);
      // Row 1 is empty (length 0) inside the batch; the others are post-padded.
      const lengths = [t, 0, Math.max(1, t - 2)];
      const mask = tf.tensor2d(lengths.map((l) => Array.from({ length: t }, (_, k) => k < l)), [3, t], 'bool');
      const target = tf.tensor(normals(r, 3 * (name === 'bidirectional lstm' ? t * 6 : 3)), name === 'bidirectional lstm' ? [3, t, 6] : [3, 3]);
      tf.tidy(() => void layer.apply(x, { mask }));
      const opt = tf.train.adam(0.05);
      const vars = layer.weights.map((w) => w.variable);
      const loss = () => tf.tidy(() => tf.mean(tf.square(tf.sub(layer.apply(x, { mask }) as tf.Tensor, target))) as tf.Scalar);
      const lossValue = () => tf.tidy(() => loss().dataSync()[0]!);
      const first = lossValue();
      tf.dispose(opt.minimize(loss, true, vars) ?? []); // creates Adam's slots
      const before = tf.memory().numTensors;
      for (let i = 0; i < 15; i++) tf.dispose(opt.minimize(loss, true, vars) ?? []);
      const last = lossValue();
      assert.ok(last < first, `${name} T=${t}: loss ${first} -> ${last} did not go down`);
      assert.equal(tf.memory().numTensors, before, `${name} T=${t}: tensors leak during training`);
      tf.dispose([x, mask, target]);
      opt.dispose();
      layer.dispose();
    }
  }
});
