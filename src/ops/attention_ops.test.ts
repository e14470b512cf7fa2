import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import {
  LARGE_NEGATIVE, causalMask, checkAttentionMask, combineAttentionMask, combineAttentionMaskOps, finiteAtMasked, finiteAtMaskedFast, slidingWindowMask,
  softmaxReplaceMasked, softmaxZeroMasked, subtractMaskedScores,
} from './attention_ops.js';
import { MasqueError } from '../errors.js';

const b = (rows: boolean[][]) => tf.tensor2d(rows, undefined, 'bool');
const bools = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v === 1);

test('causal and sliding-window masks follow Keras (i >= j; |i - j| < w)', () => {
  tf.tidy(() => {
    assert.deepEqual(bools(causalMask(3, 2)), [true, false, true, true, true, true]);
    assert.deepEqual(bools(slidingWindowMask(3, 3, 2)), [true, true, false, true, true, true, false, true, true]);
  });
});

test('combineAttentionMask ANDs query, value, key, causal and explicit masks; null when there is none', () => {
  tf.tidy(() => {
    const none = { queryMask: null, valueMask: null, keyMask: null, attentionMask: null, causal: false, slidingWindow: null, t: 2, s: 3 };
    assert.equal(combineAttentionMask(none), null);
    const m = combineAttentionMask({
      ...none,
      queryMask: b([[true, false]]),
      valueMask: b([[true, true, false]]),
      keyMask: b([[false, true, true]]),
      attentionMask: tf.tensor3d([[[1, 1, 1], [1, 1, 1]]]),
      causal: true,
    })!;
    assert.deepEqual(m.shape, [1, 2, 3]);
    // query 0: keys valid (v & k) = [f, t, f], causal allows j <= 0 -> none; query 1 masked.
    assert.deepEqual(bools(m), [false, false, false, false, false, false]);
    const m2 = combineAttentionMask({ ...none, valueMask: b([[true, true, false]]) })!;
    assert.deepEqual(m2.shape, [1, 1, 3]);
  });
});

test('combineAttentionMask (read in JavaScript on wasm and cpu) gives the shape and values of its tfjs ops, for every combination of parts', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const boolMask = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => rand() < 0.7), shape, 'bool');
  let checked = 0;
  for (let combo = 0; combo < 64; combo++) {
    tf.tidy(() => {
      const [bsz, t, s] = [3, 4, 5];
      const has = (bit: number) => (combo >> bit) & 1;
      const explicitKind = combo % 4; // none, bool [B,T,S], float [1,T,S] with NaN and -0, int [T,S]
      const attentionMask =
        !has(5) || explicitKind === 0 ? null
        : explicitKind === 1 ? boolMask([bsz, t, s])
        : explicitKind === 2 ? tf.tensor3d(Array.from({ length: t * s }, (_, i) => [0, -0, NaN, 2.5][i % 4]!), [1, t, s])
        : tf.tensor2d(Array.from({ length: t * s }, (_, i) => (i % 3 === 0 ? 0 : 7)), [t, s], 'int32');
      const p = {
        queryMask: has(0) ? boolMask([bsz, t]) : null,
        valueMask: has(1) ? boolMask([bsz, s]) : null,
        keyMask: has(2) ? boolMask([bsz, s]) : null,
        causal: has(3) === 1,
        slidingWindow: has(4) ? 2 : null,
        attentionMask,
        t,
        s,
      };
      const got = combineAttentionMask(p);
      if (got === null) {
        assert.equal(combo & 0b11111, 0);
        return;
      }
      const want = combineAttentionMaskOps(p);
      assert.deepEqual(got.shape, want.shape, `combo ${combo}`);
      assert.equal(got.dtype, 'bool');
      assert.deepEqual(bools(got), bools(want), `combo ${combo}`);
      checked++;
    });
  }
  assert.ok(checked >= 60);
});

test('checkAttentionMask names the expected [batch, T, S] shape', () => {
  tf.tidy(() => {
    assert.throws(() => checkAttentionMask(tf.ones([2, 3, 4]), 2, 3, 5, 'MHA'), (e: unknown) => e instanceof MasqueError && e.code === 'MASK_SHAPE_MISMATCH' && e.message.includes('[2, 3, 5]'));
    checkAttentionMask(tf.ones([3, 5]), 2, 3, 5, 'MHA');
  });
});

test('the two softmax paths: replace gives a uniform fully masked row, zero gives zeros', () => {
  tf.tidy(() => {
    const logits = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const mask = b([[true, false, true], [false, false, false]]);
    const r = softmaxReplaceMasked(logits, mask).arraySync() as number[][];
    const e = Math.exp(1) + Math.exp(3);
    assert.ok(Math.abs(r[0]![0]! - Math.exp(1) / e) < 1e-6 && r[0]![1] === 0);
    assert.deepEqual(r[1]!.map((v) => Math.round(v * 1e6) / 1e6), [0.333333, 0.333333, 0.333333]);
    const z = softmaxZeroMasked(logits, mask).arraySync() as number[][];
    assert.deepEqual(z[1], [0, 0, 0]);
    assert.ok(Math.abs(z[0]![2]! - Math.exp(3) / e) < 1e-6);
    assert.ok(LARGE_NEGATIVE < -2e38);
  });
});

test('softmaxZeroMasked over a non-last axis and several axes sums to 1 over those axes', () => {
  tf.tidy(() => {
    const x = tf.randomNormal([2, 3, 4]);
    const s1 = softmaxZeroMasked(x, null, [1]);
    assert.ok(tf.max(tf.abs(tf.sub(tf.sum(s1, 1), 1))).dataSync()[0]! < 1e-6);
    const s2 = softmaxZeroMasked(x, null, [1, 2]);
    assert.ok(tf.max(tf.abs(tf.sub(tf.sum(s2, [1, 2]), 1))).dataSync()[0]! < 1e-6);
  });
});

test('subtractMaskedScores rounds like float32 Keras (small scores -> exactly -1e9) and never yields NaN', () => {
  tf.tidy(() => {
    const s = tf.tensor2d([[0.25, -3, 100, NaN]]);
    const out = subtractMaskedScores(s, b([[true, false, false, false]])).dataSync();
    assert.equal(out[0], 0.25);
    assert.equal(out[1], -1e9);
    assert.equal(out[2], Math.fround(100 - 1e9));
    assert.equal(out[3], -1e9);
  });
});

test('finiteAtMasked zeroes only non-finite values at masked positions', () => {
  tf.tidy(() => {
    const x = tf.tensor3d([[[1, NaN], [Infinity, 5]], [[NaN, 2], [3, 4]]]);
    const out = Array.from(finiteAtMasked(x, b([[false, true], [true, false]])).dataSync());
    assert.deepEqual(out.slice(0, 2), [1, 0]);
    assert.deepEqual(out.slice(2, 4), [Infinity, 5]);
    assert.ok(Number.isNaN(out[4]!));
    assert.deepEqual(out.slice(5), [2, 3, 4]);
    assert.equal(finiteAtMasked(x, null), x);
  });
});

test('finiteAtMaskedFast returns x itself when its masked positions are finite, and zeroes non-finite masked values otherwise', () => {
  tf.tidy(() => {
    const m = tf.tensor2d([[true, false], [false, true]], [2, 2], 'bool');
    const clean = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    if (tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu') assert.equal(finiteAtMaskedFast(clean, m), clean);
    assert.deepEqual(Array.from(finiteAtMaskedFast(clean, m).dataSync()), [1, 2, 3, 4, 5, 6, 7, 8]);
    const dirty = tf.tensor3d([NaN, 2, 3, Infinity, 5, NaN, 7, 8], [2, 2, 2]);
    // Masked positions (0, 1) and (1, 0): their NaN and Inf become 0; the valid (0, 0) keeps its NaN.
    const out = Array.from(finiteAtMaskedFast(dirty, m).dataSync());
    assert.ok(Number.isNaN(out[0]));
    assert.deepEqual(out.slice(1), [2, 3, 0, 5, 0, 7, 8]);
    assert.equal(finiteAtMaskedFast(dirty, null), dirty);
    // Six features (four read as a vector, two after): NaN or Inf in either part of a masked step is found.
    for (const at of [1, 5]) {
      for (const bad of [NaN, -Infinity]) {
        const v = Array.from({ length: 2 * 3 * 6 }, (_, i) => i + 0.5);
        v[(1 * 3 + 2) * 6 + at] = bad; // row 1, step 2 (masked)
        const m3 = tf.tensor2d([[true, true, false], [true, true, false]], [2, 3], 'bool');
        const got = Array.from(finiteAtMaskedFast(tf.tensor3d(v, [2, 3, 6]), m3).dataSync());
        assert.equal(got[(1 * 3 + 2) * 6 + at], 0, `a ${bad} at feature ${at}`);
        assert.equal(got[0], 0.5);
      }
    }
    // A mask that does not fit [B, T] of a rank-3 tensor: the tfjs ops.
    const x2 = tf.tensor2d([[NaN, Infinity], [2, 3]]);
    assert.deepEqual(Array.from(finiteAtMaskedFast(x2, m).dataSync()), [NaN, 0, 2, 3]);
  });
});

test("softmaxReplaceMasked's gradient is Keras's (where(mask, logits, large negative)): none reaches a masked logit, also in a row with no valid key", () => {
  tf.tidy(() => {
    const logits = tf.tensor3d([[[0.5, -1, 2], [1, 3, -2]], [[0.1, 0.2, 0.3], [4, -4, 1]]]);
    // Row [0][1] and row [1][0] have no valid key (uniform weights).
    const mask = tf.tensor3d([[[true, false, true], [false, false, false]], [[false, false, false], [true, true, false]]], undefined, 'bool');
    const r = tf.tensor3d([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]);
    const ours = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(softmaxReplaceMasked(l, mask), r)))(logits);
    const keras = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(tf.softmax(tf.where(mask, l, tf.fill(l.shape, LARGE_NEGATIVE)), -1), r)))(logits);
    assert.deepEqual(Array.from(ours.dataSync()), Array.from(keras.dataSync()));
    assert.ok(Array.from(ours.dataSync()).slice(3, 9).every((v) => v === 0), 'a row with no valid key got a gradient');
  });
});
