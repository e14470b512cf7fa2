import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { concatMask, maskedPairwise, maskedProduct, onCommonShape, orMasksIfAll } from './merge_ops.js';

const b = (rows: boolean[][]) => tf.tensor2d(rows, undefined, 'bool');
const bools = (t: tf.Tensor | null) => (t === null ? null : Array.from(t.dataSync(), (v) => v === 1));

test('orMasksIfAll: OR when every input is masked, else null', () => {
  tf.tidy(() => {
    assert.deepEqual(bools(orMasksIfAll([b([[true, false, false]]), b([[false, false, true]])])), [true, false, true]);
    assert.equal(orMasksIfAll([b([[true]]), null]), null);
  });
});

test('maskedProduct: masked entries count as 1, then outside the OR mask become 0', () => {
  tf.tidy(() => {
    const x = tf.tensor3d([[[2], [3], [4]]]);
    const y = tf.tensor3d([[[5], [6], [7]]]);
    assert.deepEqual(maskedProduct([x, y], [b([[true, false, false]]), b([[true, true, false]])]).arraySync(), [[[10], [6], [0]]]);
    assert.deepEqual(maskedProduct([x, y], [b([[true, false, false]]), null]).arraySync(), [[[10], [6], [7]]]);
  });
});

test('maskedPairwise (Maximum): where one side is masked, the other side wins', () => {
  tf.tidy(() => {
    const x = tf.tensor3d([[[9], [1], [4]]]);
    const y = tf.tensor3d([[[5], [6], [2]]]);
    const out = maskedPairwise([x, y], [b([[false, true, true]]), b([[true, false, true]])], tf.maximum);
    assert.deepEqual(out.arraySync(), [[[5], [1], [4]]]);
  });
});

test('concatMask: features axis ORs (unmasked counts as true); time axis concatenates', () => {
  tf.tidy(() => {
    const x = tf.zeros([1, 2, 3]);
    assert.deepEqual(bools(concatMask([x, x], [b([[true, false]]), b([[false, false]])], 2)), [true, false]);
    assert.deepEqual(bools(concatMask([x, x], [b([[true, false]]), null], 2)), [true, true]);
    assert.deepEqual(bools(concatMask([x, x], [b([[true, false]]), null], 1)), [true, false, true, true]);
    assert.equal(concatMask([x, x], [null, null], 1), null);
  });
});

test('onCommonShape: Maximum and Minimum of broadcast shapes have gradients of their inputs\' shapes (the broadcast axes summed)', () => {
  tf.tidy(() => {
    const a = tf.tensor3d([[[1, 5], [4, 2], [0, 7]]]); // [1, 3, 2]
    const c = tf.tensor3d([[[3, 3]]]); // [1, 1, 2]
    const r = tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]);
    for (const [op, aWins] of [[tf.minimum, [[1, 0], [0, 1], [1, 0]]], [tf.maximum, [[0, 1], [1, 0], [0, 1]]]] as const) {
      const [ga, gc] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(onCommonShape((u, v) => op(u, v))(p, q), r)))([a, c]);
      const wantA = aWins.map((row, t) => row.map((w, f) => w * (t * 2 + f + 1)));
      assert.deepEqual(ga!.arraySync(), [wantA]);
      // c gets the rest of r, summed over the three steps.
      const rest = [0, 1].map((f) => [0, 1, 2].reduce((s, t) => s + (1 - aWins[t]![f]!) * (t * 2 + f + 1), 0));
      assert.deepEqual(gc!.arraySync(), [[rest]]);
    }
  });
});
