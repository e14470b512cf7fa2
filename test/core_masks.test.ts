import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectCode } from './helpers.js';
import {
  tf, Input, Masking, Embedding, Dense, Flatten, Dropout, Model, Sequential, Layer, Lambda, MasqueError,
  getMask, setMaskPolicy, setWarningHandler, type CallArgs, type SymbolicTensor,
} from '../src/index.js';

const ids = () => tf.tensor2d([[3, 4, 0, 0], [5, 0, 0, 0]], undefined, 'int32');
const toBool = (x: unknown): unknown => (Array.isArray(x) ? x.map(toBool) : x === 1 || x === true);
const rows = (t: tf.Tensor) => (t.dtype === 'bool' ? toBool(t.arraySync()) : t.arraySync());


test('Embedding(maskZero) attaches ids != 0 as the mask; Masking marks all-equal steps', () => {
  const e = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
  const x = ids();
  const y = e.apply(x);
  assert.deepEqual(rows(getMask(y)!), [[true, true, false, false], [true, false, false, false]]);
  const m = new Masking({ maskValue: -1 }).apply(tf.tensor3d([[[1, -1], [-1, -1]], [[-1, -1], [0, 0]]]));
  assert.deepEqual(rows(getMask(m)!), [[true, false], [false, true]]);
  // Masked steps become zero. Like Keras (inputs * mask), a negative value
  // becomes -0, which equals 0; compare by value.
  assert.deepEqual(Array.from(m.dataSync(), (v) => v + 0), [1, -1, 0, 0, 0, 0, 0, 0]);
  tf.dispose([x, y, m]);
  e.dispose();
});

test('masks survive tidy and are freed with their tensor: no leaks', () => {
  const e = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
  const d = new Dense({ units: 2 });
  const x = ids();
  tf.tidy(() => d.apply(e.apply(x))).dispose(); // build both layers
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    const y = tf.tidy(() => d.apply(e.apply(x)));
    assert.ok(getMask(y) !== null, 'mask kept through tidy');
    y.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(x);
  e.dispose();
  d.dispose();
});

test('an explicit mask overrides the inputs\' masks; mask: null removes it', () => {
  const d = new Dense({ units: 2 });
  const x = new Masking().apply(tf.tensor3d([[[1], [0]]]));
  const m = tf.tensor2d([[false, true]], undefined, 'bool');
  const y1 = d.apply(x, { mask: m });
  assert.deepEqual(rows(getMask(y1)!), [[false, true]]);
  const y2 = d.apply(x, { mask: null });
  assert.equal(getMask(y2), null);
  assert.deepEqual(rows(getMask(x)!), [[true, false]], 'the input keeps its own mask');
  tf.dispose([x, m, y1, y2]);
});

test('mask errors: wrong shape, wrong dtype, wrong count', () => {
  const d = new Dense({ units: 2 });
  const x = tf.zeros([2, 3, 4]);
  expectCode(() => d.apply(x, { mask: tf.ones([2, 5], 'bool') }), 'MASK_SHAPE_MISMATCH', "'dense", '[2, 5]', '[2, 3, 4]');
  expectCode(() => d.apply(x, { mask: tf.ones([2, 3]) }), 'MASK_INVALID', 'bool', 'float32');
  expectCode(() => d.apply(x, { mask: [tf.ones([2, 3], 'bool'), null] }), 'MASK_SHAPE_MISMATCH', '2 masks for 1 inputs');
  tf.dispose(x);
});

test('a layer without mask support raises, naming itself, its class, the mask maker and the fix', () => {
  const e = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true, name: 'tok_emb' });
  const f = new Flatten({ name: 'flat' });
  const x = ids();
  const y = e.apply(x);
  expectCode(() => f.apply(y), 'MASK_NOT_SUPPORTED', "'flat' (Flatten)", "'tok_emb' (Embedding, maskZero)", 'GlobalAveragePooling1D', "maskPolicy to 'warn'");
  const inp = Input({ shape: [4], dtype: 'int32' });
  const out = new Flatten().apply(new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(inp));
  expectCode(() => new Model({ inputs: inp, outputs: out }), 'MASK_NOT_SUPPORTED', 'Flatten');
  tf.dispose([x, y]);
});

test("policies: 'warn' drops the mask once with a warning, 'ignore' silently; model maskPolicy scopes it", () => {
  const warnings: string[] = [];
  const restore = setWarningHandler((m) => warnings.push(m));
  try {
    const inp = Input({ shape: [4], dtype: 'int32' });
    const out = new Flatten({ name: 'f1' }).apply(new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(inp));
    const model = new Model({ inputs: inp, outputs: out, maskPolicy: 'warn' });
    const x = ids();
    for (let i = 0; i < 3; i++) {
      const y = model.predict(x) as tf.Tensor;
      assert.deepEqual(y.shape, [2, 12]);
      assert.equal(getMask(y), null);
      y.dispose();
    }
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /'f1' \(Flatten\) does not support masking; dropping the mask made by/);
    const prev = setMaskPolicy('ignore');
    const y = new Flatten().apply(new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(x));
    assert.equal(getMask(y), null);
    assert.equal(warnings.length, 1);
    setMaskPolicy(prev);
    expectCode(() => setMaskPolicy('loud' as never), 'INVALID_ARGUMENT', "'error', 'warn', 'ignore'");
    tf.dispose([x, y]);
  } finally {
    setWarningHandler(restore);
  }
});

test('masks propagate the same way directly, in a model, and in a nested model', () => {
  const emb = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
  const dense = new Dense({ units: 2 });
  const inner = (() => {
    const i = Input({ shape: [null], dtype: 'int32' });
    return new Model({ inputs: i, outputs: dense.apply(emb.apply(i)), name: 'inner' });
  })();
  const i2 = Input({ shape: [null], dtype: 'int32' });
  const outer = new Model({ inputs: i2, outputs: new Dense({ units: 1 }).apply(inner.apply(i2)), name: 'outer' });
  const x = ids();
  const direct = dense.apply(emb.apply(x));
  const viaInner = inner.predict(x) as tf.Tensor;
  const viaOuter = outer.predict(x) as tf.Tensor;
  const want = rows(getMask(direct)!);
  assert.deepEqual(rows(getMask(viaInner)!), want);
  assert.deepEqual(rows(getMask(viaOuter)!), want);
  assert.deepEqual(rows(viaInner), rows(direct));
  // a nested model also takes a mask that arrives on its input
  const masked = new Masking().apply(tf.tensor3d([[[1, 1, 1], [0, 0, 0]]]));
  const i3 = Input({ shape: [null, 3] });
  const passthrough = new Model({ inputs: i3, outputs: new Dense({ units: 2 }).apply(i3) });
  assert.deepEqual(rows(getMask(passthrough.apply(masked) as tf.Tensor)!), [[true, false]]);
  tf.dispose([x, direct, viaInner, viaOuter, masked]);
});

test('a multi-output custom layer returns one mask per output; a multi-input layer gets a list of masks', () => {
  class Split extends Layer<CallArgs, true> {
    constructor() {
      super({}, 'Split');
      this.supportsMasking = true;
    }
    call(x: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
      return tf.split(x as tf.Tensor, 2, 1);
    }
    override computeMask(_x: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | null | (tf.Tensor | null)[]) {
      return mask ? tf.split(mask as tf.Tensor, 2, 1) : null;
    }
  }
  const seen: unknown[] = [];
  const join = new Lambda({
    fn: (xs, { mask }) => {
      seen.push(Array.isArray(mask) ? mask.map((m) => (m ? m.shape : null)) : mask);
      return tf.concat(xs as tf.Tensor[], 1);
    },
    mask: (_xs, mask) => tf.concat(mask as tf.Tensor[], 1),
  });
  const x = new Embedding({ inputDim: 10, outputDim: 2, maskZero: true }).apply(ids());
  const [a, b] = new Split().apply(x);
  assert.deepEqual(rows(getMask(b!)!), [[false, false], [false, false]]);
  const j = join.apply([a!, b!]) as tf.Tensor;
  assert.deepEqual(seen[0], [[2, 2], [2, 2]]);
  assert.deepEqual(rows(getMask(j)!), rows(getMask(x)!));
});

test('training flag: Dropout is active only when training, inherited by nested layers', () => {
  const inp = Input({ shape: [100] });
  const model = new Model({ inputs: inp, outputs: new Dropout({ rate: 0.5 }).apply(inp) });
  const x = tf.ones([4, 100]);
  const inf = model.apply(x) as tf.Tensor;
  assert.equal(tf.sum(inf).arraySync(), 400);
  const tr = model.apply(x, { training: true }) as tf.Tensor;
  const zeros = (tr.dataSync() as Float32Array).filter((v) => v === 0).length;
  assert.ok(zeros > 100 && zeros < 300, `about half dropped, got ${zeros}`);
  tf.dispose([x, inf, tr]);
});

test('NaN in padding does not leak through Masking (and maskValue NaN matches NaN)', () => {
  const x = tf.tensor3d([[[1, 2], [NaN, NaN]]]);
  const y = new Masking({ maskValue: NaN }).apply(x);
  assert.deepEqual(rows(getMask(y)!), [[true, false]]);
  assert.deepEqual(rows(y), [[[1, 2], [0, 0]]]);
  tf.dispose([x, y]);
});

test('a mask that does not fit its tensor is reported with the real sizes and the layer that made the mask, not with tracing sizes', () => {
  // A custom layer (traced: it declares no output spec) that drops the word axis but passes the [B, S, W] mask on.
  class SumWords extends Layer {
    constructor() {
      super({ name: 'sum_words' });
      this.supportsMasking = true;
    }
    call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.sum(x as tf.Tensor, 2);
    }
  }
  const input = Input({ shape: [null, null], dtype: 'int32' });
  const h = new SumWords().apply(new Embedding({ inputDim: 10, outputDim: 3, maskZero: true, name: 'embedding' }).apply(input)) as SymbolicTensor;
  const out = new Lambda({ fn: (x) => tf.mul(x as tf.Tensor, 2), mask: 'passthrough', name: 'double' }).apply(h) as SymbolicTensor;
  const model = new Model({ inputs: input, outputs: out });
  const e = expectCode(() => model.predict(tf.tensor3d([[[1, 2, 0, 0, 0]]], undefined, 'int32')), 'MASK_SHAPE_MISMATCH', "'double'", '[1, 1, 5]', '[1, 1, 3]', "'embedding' (Embedding, maskZero)");
  assert.doesNotMatch(e.message, /\[4, 4|\[6, 6/);
  model.dispose();
});
