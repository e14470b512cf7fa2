/**
 * Keras habits (issue "Keras code ports as written"), each written as a Keras
 * user would write the code: Sequential's layers, summary, errors from a
 * custom layer's call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, Layer, MasqueError, Sequential, Model, Input, Embedding, LSTM, Dense, Add, Masking, GlobalAveragePooling1D, type CallArgs, type MaskArg,
} from '../src/index.js';

test("a Sequential's layers leave out its InputLayer, as in Keras", () => {
  const m = new Sequential([Input({ shape: [null], dtype: 'int32' }), new Embedding({ inputDim: 10, outputDim: 4, maskZero: true }), new LSTM({ units: 3 })]);
  assert.deepEqual(m.layers.map((l) => l.className), ['Embedding', 'LSTM']);
  m.dispose();
});

test('summary() of a model that is not built raises NOT_BUILT, as Keras does', () => {
  const m = new Sequential([new Dense({ units: 2 })]);
  assert.throws(() => m.summary(() => {}), (e: unknown) => e instanceof MasqueError && e.code === 'NOT_BUILT' && /not built/.test(e.message));
  m.dispose();
});

/** A custom layer that passes the mask on unchanged (the default computeMask with supportsMasking). */
class Scale extends Layer {
  constructor() {
    super({}, 'Scale');
    this.supportsMasking = true;
  }
  call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(x as tf.Tensor, 2);
  }
}

/** A custom layer that makes a new mask (keeps the first half of each row's valid steps). */
class FirstHalf extends Layer {
  constructor() {
    super({}, 'FirstHalf');
    this.supportsMasking = true;
  }
  call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.clone(x as tf.Tensor);
  }
  override computeMask(_x: tf.Tensor | tf.Tensor[], mask?: MaskArg): MaskArg {
    const m = mask as tf.Tensor | null;
    if (!m) return null;
    const t = m.shape[1]!;
    return tf.logicalAnd(m, tf.less(tf.range(0, t), Math.ceil(t / 2)));
  }
}

test("summary's Mask column: makes, passes (also for merges, custom layers and explicit masks), consumes; a shared layer is listed once", () => {
  const tokens = Input({ shape: [null], dtype: 'int32' });
  const e = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'emb' }).apply(tokens);
  const shared = new Dense({ units: 4, name: 'shared' });
  const a = shared.apply(e);
  const b = shared.apply(new Scale().apply(e));
  const sum = new Add({ name: 'sum' }).apply([a, b]);
  const half = new FirstHalf().apply(sum);
  const mask = Input({ shape: [null], dtype: 'bool', name: 'mask_in' });
  const seq = new LSTM({ units: 3, returnSequences: true, name: 'lstm' }).apply(half, { mask });
  const pooled = new GlobalAveragePooling1D({ name: 'pool' }).apply(seq);
  const m = new Model({ inputs: [tokens, mask], outputs: pooled });
  const text = m.summary(() => {});
  const row = (name: string) => text.split('\n').find((l) => l.startsWith(`${name} (`)) ?? '';
  assert.match(row('emb'), /makes$/);
  assert.match(row('shared'), /passes$/);
  assert.equal(text.split('\n').filter((l) => l.startsWith('shared (')).length, 1, 'a shared layer is listed once');
  assert.match(row('shared'), /<- emb \| scale/);
  assert.match(row('scale'), /passes$/);
  assert.match(row('sum'), /passes$/);
  assert.match(row('first_half'), /makes$/);
  assert.match(row('lstm'), /passes$/, 'an LSTM given an explicit mask passes that mask on');
  assert.match(row('pool'), /consumes$/);
  m.dispose();
});

/** A custom layer whose call has a bug (a tfjs error). */
class Broken extends Layer {
  constructor(args: { name?: string } = {}) {
    super(args, 'Broken');
  }
  call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.matMul(x as tf.Tensor, tf.ones([7, 7]));
  }
}

test("an error inside a custom layer's call is rethrown with the layer's name, class and input shapes, the original as cause", () => {
  const x = tf.ones([2, 3]);
  const before = tf.memory().numTensors;
  assert.throws(
    () => new Broken().apply(x),
    (e: unknown) => e instanceof MasqueError && e.code === 'LAYER_CALL_FAILED' && /Layer 'broken' \(Broken\) failed in call\(\) on inputs of shape \[2, 3\]/.test(e.message) && e.cause instanceof Error,
  );
  assert.equal(tf.memory().numTensors, before);
  // Building a model traces a custom layer (it declares no output spec): the same error, at build time, as in Keras.
  const i = Input({ shape: [3] });
  assert.throws(() => new Broken({ name: 'inner_broken' } as never).apply(i), (e: unknown) => e instanceof MasqueError && e.code === 'LAYER_CALL_FAILED' && /'inner_broken' \(Broken\)/.test(e.message));
  x.dispose();
});

test('a model of Masking -> LSTM built in Keras style prints its summary with the mask roles', () => {
  const m = new Sequential([new Masking({ inputShape: [null, 2], name: 'mask_steps' }), new LSTM({ units: 2, name: 'encoder' })]);
  const text = m.summary(() => {});
  assert.match(text, /mask_steps \(Masking\)\s+\(None, None, 2\)\s+0\s+makes/);
  assert.match(text, /encoder \(LSTM\)\s+\(None, 2\)\s+40\s+consumes/);
  m.dispose();
  void ({} as CallArgs);
});

test('Keras spellings of the wrappers: new Bidirectional(layer, options) and new TimeDistributed(layer)', async () => {
  const { Bidirectional, TimeDistributed, Sequential: Seq } = await import('../src/index.js');
  const m = new Seq([
    Input({ shape: [null], dtype: 'int32' }),
    new Embedding({ inputDim: 10, outputDim: 4, maskZero: true }),
    new Bidirectional(new LSTM({ units: 3, returnSequences: true }), { mergeMode: 'sum' }),
    new TimeDistributed(new Dense({ units: 2 })),
  ]);
  const y = m.predict([[1, 2, 0]]) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 3, 2]);
  assert.equal((m.layers[1] as InstanceType<typeof Bidirectional>).mergeMode, 'sum');
  assert.throws(() => new Bidirectional(new Dense({ units: 2 }) as never), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT');
  y.dispose();
  m.dispose();
});
