import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { avgPool1d, conv1d } from './conv_ops.js';

/** y[b, o, c] = sum over taps j and channels i of x[b, o*s - left + j*d, i] * w[j, i, c] (outside x: 0), in float64. */
function reference(x: number[][][], w: number[][][], s: number, d: number, pad: 'valid' | 'same') {
  const t = x[0]!.length;
  const k = w.length;
  const span = d * (k - 1) + 1;
  const outT = pad === 'valid' ? Math.floor((t - span) / s) + 1 : Math.ceil(t / s);
  const left = pad === 'valid' ? 0 : Math.floor(Math.max((outT - 1) * s + span - t, 0) / 2);
  const taps = (o: number, j: number) => o * s - left + j * d;
  return { outT, taps };
}

test('conv1d: gradients of the input and the kernel equal a float64 computation, for strides, dilations and both paddings (tfjs has none for dilation > 1, and wasm none for the kernel)', () => {
  const b = 2;
  const t = 7;
  const ci = 3;
  const co = 2;
  for (const [k, s, d, pad] of [[3, 1, 1, 'valid'], [3, 2, 1, 'same'], [2, 1, 2, 'valid'], [3, 1, 2, 'same'], [1, 3, 1, 'same'], [4, 1, 2, 'same']] as const) {
    const xv = Array.from({ length: b }, (_, i) => Array.from({ length: t }, (_, p) => Array.from({ length: ci }, (_, c) => Math.sin(1 + i * 7 + p * 3 + c))));
    const wv = Array.from({ length: k }, (_, j) => Array.from({ length: ci }, (_, c) => Array.from({ length: co }, (_, o) => Math.cos(j * 5 + c * 2 + o) / 2)));
    const { outT, taps } = reference(xv, wv, s, d, pad);
    const r = Array.from({ length: b }, (_, i) => Array.from({ length: outT }, (_, o) => Array.from({ length: co }, (_, c) => 1 + i + o * 0.5 - c)));
    // d/dx and d/dw of sum(r * y), in float64.
    const gx = xv.map((row) => row.map((v) => v.map(() => 0)));
    const gw = wv.map((row) => row.map((v) => v.map(() => 0)));
    for (let i = 0; i < b; i++) {
      for (let o = 0; o < outT; o++) {
        for (let j = 0; j < k; j++) {
          const p = taps(o, j);
          if (p < 0 || p >= t) continue;
          for (let c = 0; c < ci; c++) {
            for (let m = 0; m < co; m++) {
              gx[i]![p]![c]! += r[i]![o]![m]! * wv[j]![c]![m]!;
              gw[j]![c]![m]! += r[i]![o]![m]! * xv[i]![p]![c]!;
            }
          }
        }
      }
    }
    tf.tidy(() => {
      const x = tf.tensor3d(xv);
      const w = tf.tensor3d(wv);
      const y = conv1d(x, w, s, pad, d);
      assert.deepEqual(y.shape, [b, outT, co], `k ${k} s ${s} d ${d} ${pad}`);
      const [dx, dw] = tf.grads((a: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(conv1d(a as tf.Tensor3D, q as tf.Tensor3D, s, pad, d), tf.tensor3d(r))))([x, w]);
      const close = (got: tf.Tensor, want: number[][][], what: string) => {
        const g = got.dataSync();
        want.flat(2).forEach((v, n) => assert.ok(Math.abs(g[n]! - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${what} [${n}]: ${g[n]} vs ${v} (k ${k} s ${s} d ${d} ${pad})`));
      };
      close(dx!, gx, 'dx');
      close(dw!, gw, 'dkernel');
      // The value under the tape is tfjs's conv1d, bit for bit.
      let taped: tf.Tensor | null = null;
      tf.grad((a: tf.Tensor) => tf.sum((taped = tf.keep(conv1d(a as tf.Tensor3D, w, s, pad, d)))))(x);
      assert.deepEqual(Array.from(taped!.dataSync()), Array.from(tf.conv1d(x, w, s, pad, 'NWC', d).dataSync()));
      taped!.dispose();
    });
  }
});

test("avgPool1d: the value is tfjs's avgPool, the gradient divides each window's dy by the steps it averaged ('same' edges included)", () => {
  tf.tidy(() => {
    const t = 5;
    const x = tf.tensor4d(Array.from({ length: t * 2 }, (_, i) => Math.sin(i)), [1, t, 1, 2]);
    for (const [size, stride, pad] of [[3, 1, 'same'], [2, 2, 'same'], [2, 1, 'valid'], [4, 3, 'same']] as const) {
      const y = tf.avgPool(x, [size, 1], [stride, 1], pad);
      const outT = y.shape[1];
      const r = tf.tensor4d(Array.from({ length: outT * 2 }, (_, i) => 1 + i), [1, outT, 1, 2]);
      let taped: tf.Tensor | null = null;
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul((taped = tf.keep(avgPool1d(a as tf.Tensor4D, size, stride, pad))), r)))(x).dataSync();
      assert.deepEqual(Array.from(taped!.dataSync()), Array.from(y.dataSync()), `value, size ${size} stride ${stride} ${pad}`);
      const total = pad === 'same' ? Math.max((outT - 1) * stride + size - t, 0) : 0;
      const left = Math.floor(total / 2);
      const want = new Array<number>(t * 2).fill(0);
      const rv = r.dataSync();
      for (let o = 0; o < outT; o++) {
        const steps = Array.from({ length: size }, (_, j) => o * stride - left + j).filter((p) => p >= 0 && p < t);
        for (const p of steps) for (let c = 0; c < 2; c++) want[p * 2 + c]! += rv[o * 2 + c]! / steps.length;
      }
      want.forEach((v, i) => assert.ok(Math.abs(g[i]! - v) <= 1e-6 * Math.max(1, Math.abs(v)), `dx[${i}] ${g[i]} vs ${v}, size ${size} stride ${stride} ${pad}`));
      taped!.dispose();
    }
  });
});
