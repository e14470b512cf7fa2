import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { concatMask, maskedPairwise, maskedProduct, orMasksIfAll } from './merge_ops.js';

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
