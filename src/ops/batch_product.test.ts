// Batched products in the kernel's gemm (batch_product.ts) against tfjs's
// BatchMatMul and its gradient: values and gradients within 1e-5 relative,
// for odd sizes (widths that are not multiples of 4), through `matMul`
// with and without transposes, and the fallbacks where it does not apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { kernelBatchProduct } from './batch_product.js';
import { matMul, matMulReference } from './matmul.js';
import { setKernelThreads } from './rnn/parallel.js';

function close(a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void {
  assert.deepEqual(a.shape, b.shape, what);
  const x = a.dataSync(), y = b.dataSync();
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= tol * (1 + Math.abs(y[i]!)), `${what}[${i}]: ${x[i]} vs ${y[i]}`);
}

const shapes: { batch: number[]; n: number; k: number; m: number; ta: boolean; tb: boolean }[] = [
  { batch: [3], n: 1, k: 1, m: 1, ta: false, tb: false },
  { batch: [2, 3], n: 5, k: 7, m: 6, ta: false, tb: true },
  { batch: [32, 2], n: 22, k: 32, m: 22, ta: false, tb: true },
  { batch: [32, 2], n: 22, k: 22, m: 32, ta: false, tb: false },
  { batch: [4], n: 9, k: 13, m: 3, ta: true, tb: false },
  { batch: [2, 1, 3], n: 6, k: 4, m: 10, ta: true, tb: true },
  // 388 KB of kernel memory per item: 21 items per round, so two rounds, the second of 4.
  { batch: [25], n: 256, k: 64, m: 250, ta: false, tb: false },
];

test('kernelBatchProduct gives tfjs matMul values; matMul through it gives tfjs values and gradients, with and without transposes', { skip: tf.getBackend() !== 'wasm' }, () => {
  for (const [i, s] of shapes.entries()) {
    tf.tidy(() => {
      const aShape = [...s.batch, ...(s.ta ? [s.k, s.n] : [s.n, s.k])];
      const bShape = [...s.batch, ...(s.tb ? [s.m, s.k] : [s.k, s.m])];
      const a = tf.randomNormal(aShape, 0, 1, 'float32', 10 + i);
      const b = tf.randomNormal(bShape, 0, 1, 'float32', 20 + i);
      const r = tf.randomNormal([...s.batch, s.n, s.m], 0, 1, 'float32', 30 + i);
      const what = `${JSON.stringify(s)}`;
      // float32 rounding of sums in another order grows with their length (the gradients sum over n or m).
      const tol = Math.max(1e-5, 2e-7 * Math.max(s.n, s.k, s.m));
      if (!s.ta && !s.tb) close(kernelBatchProduct(a, b)!, tf.matMul(a, b), tol, `kernel ${what}`);
      const grads = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => {
        const { value, grads: g } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), r)) as tf.Scalar)([a, b]);
        return [f(a, b), value, ...g];
      };
      const got = grads((x, y) => matMul(x, y, s.ta, s.tb));
      const want = grads((x, y) => matMulReference(x, y, s.ta, s.tb));
      ['product', 'sum', 'dA', 'dB'].forEach((name, j) => close(got[j]!, want[j]!, tol, `${name} ${what}`));
    });
  }
});

test('kernelBatchProduct applies only where it can: wasm with the kernel loaded (one thread is enough), float32, rank >= 3, equal batch axes, matching inner sizes', { skip: tf.getBackend() !== 'wasm' }, () => {
  tf.tidy(() => {
    const a = tf.ones([2, 3, 4]);
    assert.notEqual(kernelBatchProduct(a, tf.ones([2, 4, 5])), null);
    assert.equal(kernelBatchProduct(tf.ones([3, 4]), tf.ones([4, 5])), null, 'rank 2: the Dense path');
    assert.equal(kernelBatchProduct(a, tf.ones([1, 4, 5])), null, 'broadcast batch axes: tfjs');
    assert.equal(kernelBatchProduct(a, tf.ones([2, 5, 5])), null, 'inner sizes differ: tfjs reports it');
    assert.equal(kernelBatchProduct(tf.ones([2, 3, 4], 'int32'), tf.ones([2, 4, 5], 'int32')), null, 'int32');
    assert.equal(kernelBatchProduct(tf.ones([2, 0, 4]), tf.ones([2, 4, 5])), null, 'empty');
    setKernelThreads(1);
    try {
      // It runs on the calling thread: one thread is enough.
      const one = kernelBatchProduct(tf.randomNormal([2, 3, 4], 0, 1, 'float32', 5), tf.randomNormal([2, 4, 5], 0, 1, 'float32', 6))!;
      close(one, tf.matMul(tf.randomNormal([2, 3, 4], 0, 1, 'float32', 5), tf.randomNormal([2, 4, 5], 0, 1, 'float32', 6)), 1e-5, 'one thread');
    } finally {
      setKernelThreads();
    }
  });
});

test('matMul on batched operands stays flat in memory over repeated forward and backward passes', { skip: tf.getBackend() !== 'wasm' }, () => {
  const a = tf.randomNormal([8, 2, 11, 16], 0, 1, 'float32', 1);
  const b = tf.randomNormal([8, 2, 11, 16], 0, 1, 'float32', 2);
  const step = () => {
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y, false, true)) as tf.Scalar)([a, b]);
    tf.dispose([value, ...grads]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([a, b]);
});

test("MultiHeadAttention's training gradients with its projections in the kernel's product equal those with kernel threads off (tfjs's product)", { skip: tf.getBackend() !== 'wasm' }, async () => {
  const { MultiHeadAttention } = await import('../index.js');
  // Projections of 128 rows x 64 x 64: large enough for the kernel's product (fusedDenseProduct, through matMul).
  const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 32, biasInitializer: { className: 'RandomNormal', config: { seed: 9 } } });
  const x = tf.randomNormal([4, 32, 64], 0, 1, 'float32', 41);
  const r = tf.randomNormal([4, 32, 64], 0, 1, 'float32', 42);
  tf.dispose(layer.apply([x, x]) as tf.Tensor);
  const vars = layer.trainableWeights.map((w) => w.variable);
  const grads = () => {
    const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply([x, x]) as tf.Tensor, r)) as tf.Scalar, vars);
    const out = [Array.from(value.dataSync()), ...vars.map((v) => Array.from(g[v.name]!.dataSync()))];
    tf.dispose([value, ...Object.values(g)]);
    return out;
  };
  const kernelPath = grads();
  setKernelThreads(1);
  let reference: number[][];
  try {
    reference = grads();
  } finally {
    setKernelThreads();
  }
  assert.equal(vars.length, 8, 'query, key, value and output kernels and biases');
  kernelPath.forEach((g, i) => {
    const want = reference[i]!;
    assert.equal(g.length, want.length);
    for (let j = 0; j < g.length; j++) assert.ok(Math.abs(g[j]! - want[j]!) <= 1e-4 * Math.max(1, Math.abs(want[j]!)), `${i === 0 ? 'loss' : vars[i - 1]!.name}[${j}]: ${g[j]} vs ${want[j]}`);
  });
  tf.dispose([x, r]);
  layer.dispose();
});
