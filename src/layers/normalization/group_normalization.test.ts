import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, getMask, GroupNormalization, MasqueError } from '../../index.js';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
};

/** GroupNormalization of one [T, C] sample in float64 over the listed valid steps. */
function reference(rows: number[][], valid: boolean[], groups: number, eps: number): number[] {
  const c = rows[0]!.length;
  const per = c / groups;
  const out = rows.map((r) => r.slice());
  for (let g = 0; g < groups; g++) {
    const vals = rows.flatMap((r, t) => (valid[t] ? r.slice(g * per, (g + 1) * per) : []));
    const mean = vals.length ? vals.reduce((p, q) => p + q, 0) / vals.length : 0;
    const variance = vals.length ? vals.reduce((p, q) => p + (q - mean) ** 2, 0) / vals.length : 0;
    rows.forEach((r, t) => r.forEach((v, k) => Math.floor(k / per) === g && (out[t]![k] = (v - mean) / Math.sqrt(variance + eps))));
  }
  return out.flat();
}

test('without a mask: Keras\'s group statistics over time and the channels of each group', () => {
  const rows = [[1, 2, 3, 4], [5, -6, 7, 8], [0.5, 1, -1, 2]];
  const gn = new GroupNormalization({ groups: 2 });
  const y = gn.apply(tf.tensor3d([rows])) as tf.Tensor;
  close(y.dataSync(), reference(rows, [true, true, true], 2, 1e-3), 1e-5, 'groups 2');
  assert.deepEqual(gn.weights.map((w) => w.name), ['gamma', 'beta']);
  gn.dispose();
});

test('departure: with a mask the statistics span valid steps only, so the padding (pre, post, any values) changes nothing valid', () => {
  const rows = [[1, 2, 3, 4], [5, -6, 7, 8], [0.5, 1, -1, 2]];
  const gn = new GroupNormalization({ groups: -1 });
  const x = tf.tensor3d([[...rows, [100, 200, -300, 400]], [[NaN, NaN, NaN, NaN], ...rows]]);
  const mask = tf.tensor2d([[true, true, true, false], [false, true, true, true]], undefined, 'bool');
  const y = gn.apply(x, { mask }) as tf.Tensor;
  const want = reference(rows, [true, true, true], 4, 1e-3);
  const out = y.arraySync() as number[][][];
  close(out[0]!.slice(0, 3).flat(), want, 1e-5, 'post-padded row');
  close(out[1]!.slice(1).flat(), want, 1e-5, 'pre-padded row with NaN padding');
  assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 1, 1, 0, 0, 1, 1, 1]);
  assert.equal(gn.getConfig()['groups'], -1);
  // A row without a valid step: mean 0, variance 0, finite outputs.
  const empty = gn.apply(tf.tensor3d([rows]), { mask: tf.zeros([1, 3], 'bool') }) as tf.Tensor;
  close(empty.dataSync(), rows.flat().map((v) => v / Math.sqrt(1e-3)), 1e-5, 'fully masked row');
  gn.dispose();
});

test('groups must divide the channels; the axis must be a known non-batch dim', () => {
  assert.throws(() => new GroupNormalization({ groups: 3 }).apply(tf.zeros([1, 2, 4])), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH' && /3 groups/.test(e.message));
  assert.throws(() => new GroupNormalization({ groups: 0 }), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => new GroupNormalization({ groups: 1, axis: 0 }).apply(tf.zeros([1, 2, 4])), (e: unknown) => e instanceof MasqueError && e.code === 'INPUT_SHAPE_MISMATCH');
  // Groups over another axis (axis 1 here): Keras's reshape into [B, G, T/G, F].
  const gn = new GroupNormalization({ groups: 2, axis: 1, center: false, scale: false });
  const rows = [[1, 2], [3, 5], [-1, 0], [4, 4]];
  const y = gn.apply(tf.tensor3d([rows])) as tf.Tensor;
  const g0 = [1, 2, 3, 5];
  const g1 = [-1, 0, 4, 4];
  const norm = (v: number[]) => {
    const m = v.reduce((p, q) => p + q, 0) / v.length;
    const s = Math.sqrt(v.reduce((p, q) => p + (q - m) ** 2, 0) / v.length + 1e-3);
    return v.map((q) => (q - m) / s);
  };
  close(y.dataSync(), [...norm(g0), ...norm(g1)], 1e-5, 'axis 1');
});
