import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../runtime/tfjs.js';
import { getMask } from '../../engine/masks.js';
import { LSTM } from './lstm.js';
import { GRU } from './gru.js';
import { Bidirectional } from './bidirectional.js';
import { Input } from '../../engine/input_layer.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import { MasqueError } from '../../errors.js';
import { splitKernelCalls, withForcedSplit } from '../../ops/rnn/parallel.js';

const x = () => tf.tensor3d([[[1, 0], [0.5, -1], [2, 2]], [[-1, 1], [0.3, 0.3], [0, 0]]]);
const mask = () => tf.tensor2d([[true, true, true], [true, true, false]], undefined, 'bool');

test('sub-layers are forward_<name> and backward_<name>; weights are forward first, with Keras paths', () => {
  const bi = new Bidirectional({ layer: new LSTM({ units: 2, name: 'lstm', returnSequences: true }), name: 'bidirectional' });
  tf.dispose(bi.apply(x()) as tf.Tensor);
  assert.equal(bi.forwardLayer.name, 'forward_lstm');
  assert.equal(bi.backwardLayer.name, 'backward_lstm');
  assert.equal(bi.backwardLayer.goBackwards, true);
  assert.deepEqual(
    bi.weights.map((w) => w.path),
    ['forward_lstm', 'backward_lstm'].flatMap((d) => ['kernel', 'recurrent_kernel', 'bias'].map((n) => `bidirectional/${d}/lstm_cell/${n}`)),
  );
  // Rule 9: zeroOutputForMask = returnSequences on both directions.
  assert.equal(bi.forwardLayer.args.zeroOutputForMask, true);
  assert.equal(bi.backwardLayer.args.zeroOutputForMask, true);
  const last = new Bidirectional({ layer: new GRU({ units: 2, zeroOutputForMask: true }) });
  assert.equal(last.forwardLayer.args.zeroOutputForMask, false);
  bi.dispose();
});

test('concat = [forward, backward flipped back]; masked steps are zeros; states are forward then backward', () => {
  const bi = new Bidirectional({ layer: new LSTM({ units: 2, returnSequences: true, returnState: true }) });
  const out = bi.apply(x(), { mask: mask() }) as tf.Tensor[];
  assert.equal(out.length, 5);
  assert.deepEqual(out[0]!.shape, [2, 3, 4]);
  const fwd = bi.forwardLayer.call(x(), { mask: mask() }) as tf.Tensor[];
  const bwd = bi.backwardLayer.call(x(), { mask: mask() }) as tf.Tensor[];
  const want = tf.concat([fwd[0]!, tf.reverse(bwd[0]!, 1)], -1);
  assert.deepEqual(out[0]!.arraySync(), want.arraySync());
  assert.deepEqual((out[0]!.arraySync() as number[][][])[1]![2], [0, 0, 0, 0]);
  [fwd[1], fwd[2], bwd[1], bwd[2]].forEach((s, k) => assert.deepEqual(out[k + 1]!.arraySync(), s!.arraySync()));
  assert.deepEqual(Array.from(getMask(out[0]!)!.dataSync()), [1, 1, 1, 1, 1, 0]);
  assert.deepEqual(out.slice(1).map((t) => getMask(t)), [null, null, null, null]);
  bi.dispose();
});

test('merge modes sum, ave, mul and null; null returns two outputs, both masked with returnSequences', () => {
  const base = new Bidirectional({ layer: new GRU({ units: 2, returnSequences: true }), mergeMode: null });
  const [f, b] = base.apply(x(), { mask: mask() }) as tf.Tensor[];
  assert.deepEqual(Array.from(getMask(f!)!.dataSync()), [1, 1, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(getMask(b!)!.dataSync()), [1, 1, 1, 1, 1, 0]);
  const weights = base.getWeights();
  const cases: [string, (a: tf.Tensor, c: tf.Tensor) => tf.Tensor][] = [
    ['sum', tf.add],
    ['ave', (a, c) => tf.div(tf.add(a, c), 2)],
    ['mul', tf.mul],
  ];
  for (const [mode, op] of cases) {
    const bi = new Bidirectional({ layer: new GRU({ units: 2, returnSequences: true }), mergeMode: mode as 'sum' });
    tf.dispose(bi.apply(x()) as tf.Tensor);
    bi.setWeights(weights);
    const y = bi.apply(x(), { mask: mask() }) as tf.Tensor;
    const want = op(f!, b!).arraySync() as number[][][];
    (y.arraySync() as number[][][]).flat(2).forEach((v, i) => assert.ok(Math.abs(v - want.flat(2)[i]!) < 1e-6, `${mode}`));
    bi.dispose();
  }
  const lastNone = new Bidirectional({ layer: new GRU({ units: 2 }), mergeMode: null });
  const outs = lastNone.apply(x(), { mask: mask() }) as tf.Tensor[];
  assert.deepEqual(outs.map((t) => [t.shape, getMask(t)]), [[[2, 2], null], [[2, 2], null]]);
  base.dispose();
});

test('a given backwardLayer is used (with its own settings) and initialState splits in half', () => {
  const bi = new Bidirectional({ layer: new LSTM({ units: 2 }), backwardLayer: new LSTM({ units: 3, goBackwards: true, name: 'back' }) });
  assert.equal(bi.backwardLayer.name, 'back');
  const s = [tf.ones([2, 2]), tf.ones([2, 2]), tf.zeros([2, 3]), tf.zeros([2, 3])];
  const y = bi.apply(x(), { initialState: s }) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 5]);
  const fwdAlone = bi.forwardLayer.call(x(), { initialState: s.slice(0, 2) }) as tf.Tensor;
  assert.deepEqual((y.arraySync() as number[][]).map((r) => r.slice(0, 2)), fwdAlone.arraySync());
  bi.dispose();
});

test('a given backwardLayer keeps its own options; it runs with zeroOutputForMask = returnSequences, as in Keras', () => {
  const back = new GRU({ units: 2, goBackwards: true, returnSequences: true, name: 'back_gru' });
  const bi = new Bidirectional({ layer: new GRU({ units: 2, returnSequences: true }), backwardLayer: back, mergeMode: null });
  assert.equal(back.args.zeroOutputForMask, false, 'not changed by Bidirectional');
  assert.equal(bi.args.layer, bi.forwardLayer);
  assert.equal(bi.args.backwardLayer, back);
  // Row 1's first step is masked, and the backward direction reaches it last: zeros, not the carried output.
  const hole = tf.tensor2d([[true, true, true], [false, true, true]], undefined, 'bool');
  const [, b] = bi.apply(x(), { mask: hole }) as tf.Tensor[];
  assert.deepEqual((b!.arraySync() as number[][][])[1]![0], [0, 0]);
  const alone = back.call(x(), { mask: hole }) as tf.Tensor;
  assert.notDeepEqual((tf.reverse(alone, 1).arraySync() as number[][][])[1]![0], [0, 0]);
  bi.dispose();
});

test('concat with sequences in inference (both directions written straight into the merged output) equals the forward pass under a tape and tf.concat of the directions, exactly', () => {
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  for (const [b, layer] of [[5, new LSTM({ units: 3, returnSequences: true, returnState: true })], [300, new GRU({ units: 4, returnSequences: true })]] as const) {
    const t = 7;
    const bi = new Bidirectional({ layer });
    const xs = tf.tensor3d(Array.from({ length: b * t * 2 }, rnd), [b, t, 2]);
    const m = tf.tensor2d(Array.from({ length: b * t }, (_, i) => i % t < 1 + ((Math.floor(i / t) * 3) % t)), [b, t], 'bool');
    const read = (o: tf.Tensor | tf.Tensor[]) => (Array.isArray(o) ? o : [o]).map((v) => Array.from(v.dataSync()));
    const inference = tf.tidy(() => read(bi.apply(xs, { mask: m }) as tf.Tensor | tf.Tensor[]));
    let taped: number[][] = [];
    tf.tidy(() => tf.valueAndGrads((...p: tf.Tensor[]) => {
      const o = bi.apply(p[0]!, { mask: m }) as tf.Tensor | tf.Tensor[];
      taped = read(o);
      return tf.sum(Array.isArray(o) ? o[0]! : o) as tf.Scalar;
    })([xs]));
    assert.deepEqual(inference, taped, `batch ${b}`);
    // On two threads (the directions at once at batch 5, the helper's direction a view of its shared memory; rows in chunks at 300).
    const before = splitKernelCalls();
    const threaded = withForcedSplit(2, () => tf.tidy(() => read(bi.apply(xs, { mask: m }) as tf.Tensor | tf.Tensor[])));
    assert.deepEqual(threaded, inference, `batch ${b}, two threads`);
    if (splitKernelCalls() === before) assert.fail(`batch ${b}: the call was not split over two threads`);
    const dirs = tf.tidy(() => {
      const f = bi.forwardLayer.apply(xs, { mask: m, zeroOutputForMask: true } as never) as tf.Tensor | tf.Tensor[];
      const r = bi.backwardLayer.apply(xs, { mask: m, zeroOutputForMask: true } as never) as tf.Tensor | tf.Tensor[];
      const y = (o: tf.Tensor | tf.Tensor[]) => (Array.isArray(o) ? o[0]! : o);
      return Array.from(tf.concat([y(f), tf.reverse(y(r), 1)], -1).dataSync());
    });
    assert.deepEqual(inference[0], dirs, `batch ${b}: tf.concat of the directions`);
    tf.dispose([xs, m]);
    bi.dispose();
  }
});

test("'sum', 'ave' and 'mul' of directions of different widths broadcast a 1-unit direction, as Keras does; other widths raise", () => {
  // Keras adds [B, T, 4] and [B, T, 1] with numpy broadcasting (its output shape says the forward width, 1, where
  // the tensor has 4); Masque's spec says what call returns.
  for (const [fu, bu] of [[1, 3], [3, 1]] as const) {
    for (const mergeMode of ['sum', 'ave', 'mul'] as const) {
      const bi = new Bidirectional({
        layer: new GRU({ units: fu, returnSequences: true }),
        backwardLayer: new GRU({ units: bu, returnSequences: true, goBackwards: true }),
        mergeMode,
      });
      const spec = bi.apply(Input({ shape: [3, 2] })) as SymbolicTensor;
      assert.deepEqual(spec.shape, [null, 3, 3], `${fu}/${bu} ${mergeMode}`);
      tf.tidy(() => {
        const out = bi.apply(x(), { mask: mask() }) as tf.Tensor;
        const f = bi.forwardLayer.apply(x(), { mask: mask(), zeroOutputForMask: true } as never) as tf.Tensor;
        const b = tf.reverse(bi.backwardLayer.apply(x(), { mask: mask(), zeroOutputForMask: true } as never) as tf.Tensor, 1);
        const want = { sum: tf.add(f, b), ave: tf.div(tf.add(f, b), 2), mul: tf.mul(f, b) }[mergeMode];
        assert.deepEqual(out.shape, [2, 3, 3]);
        assert.ok(tf.max(tf.abs(tf.sub(out, want))).dataSync()[0]! < 1e-6, `${fu}/${bu} ${mergeMode}`);
      });
      bi.dispose();
    }
  }
  const bad = new Bidirectional({
    layer: new GRU({ units: 2, returnSequences: true }),
    backwardLayer: new GRU({ units: 4, returnSequences: true, goBackwards: true }),
    mergeMode: 'sum',
  });
  assert.throws(() => bad.apply(Input({ shape: [3, 2] })), (e: MasqueError) => e.code === 'INVALID_ARGUMENT' && /forward layer gives 2 units and the backward layer 4/.test(e.message));
  assert.throws(() => bad.apply(x()), (e: MasqueError) => e.code === 'INVALID_ARGUMENT');
  bad.dispose();
});
