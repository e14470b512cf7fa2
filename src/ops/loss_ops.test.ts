import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { sparseCrossentropyMasked, sparseCrossentropyMaskedReference } from './loss_ops.js';
import { computeLoss, getLoss, sparseCategoricalCrossentropy } from '../training/losses.js';

const B = 3, T = 5, C = 7;

/** Softmax probabilities with NaN and Inf written into the masked steps, labels with one out of range. */
function data(seed: number) {
  return tf.tidy(() => {
    const lengths = [5, 2, 0];
    const mask = tf.tensor2d(lengths.flatMap((l) => Array.from({ length: T }, (_, t) => t < l)), [B, T], 'bool');
    const logits = tf.randomNormal([B, T, C], 0, 2, 'float32', seed);
    const probs = tf.softmax(logits).arraySync() as number[][][];
    probs[1]![3]![2] = NaN;
    probs[1]![4]![0] = Infinity;
    probs[2]![0]![1] = NaN;
    const labels = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (b * 3 + t * 2) % C));
    labels[0]![4] = C + 2; // out of range: loss 0, as Keras's one_hot gives
    // Clipped at 1 - eps: one near-certain step.
    probs[0]![1] = probs[0]![1]!.map((_, k) => (k === labels[0]![1] ? 1 : 0));
    return { mask, p: tf.tensor3d(probs), y: tf.tensor2d(labels, [B, T], 'float32') };
  });
}

function valueAndGrad(f: (y: tf.Tensor, p: tf.Tensor, m: tf.Tensor) => tf.Tensor, y: tf.Tensor, p: tf.Tensor, m: tf.Tensor, w: tf.Tensor) {
  const { value, grads } = tf.valueAndGrads((q: tf.Tensor) => tf.sum(tf.mul(f(y, q, m), w)))([p]);
  return { per: f(y, p, m), value, grad: grads[0]! };
}

function close(a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void {
  const x = a.dataSync(), z = b.dataSync();
  assert.equal(x.length, z.length, what);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - z[i]!) <= tol * (1 + Math.abs(z[i]!)), `${what}[${i}]: ${x[i]} vs ${z[i]}`);
}

describe('sparseCrossentropyMasked', () => {
  test('equals the tfjs reference: values and gradient, NaN and Inf in padding, labels out of range, a clipped step', () => {
    tf.tidy(() => {
      const { mask, p, y } = data(1);
      const w = tf.randomUniform([B, T], 0.5, 2, 'float32', 2);
      const fast = valueAndGrad(sparseCrossentropyMasked, y, p, mask, w);
      const ref = valueAndGrad(sparseCrossentropyMaskedReference, y, p, mask, w);
      close(fast.per, ref.per, 1e-6, 'per-step');
      close(fast.value, ref.value, 1e-6, 'value');
      close(fast.grad, ref.grad, 1e-5, 'gradient');
      for (const v of [...fast.grad.dataSync(), ...fast.per.dataSync()]) assert.ok(Number.isFinite(v));
      // Masked steps and the out-of-range label give 0 and no gradient.
      const per = fast.per.arraySync() as number[][];
      assert.equal(per[1]![3], 0);
      assert.equal(per[0]![4], 0);
      assert.ok((fast.grad.arraySync() as number[][][])[2]!.flat().every((g) => g === 0));
    });
  });

  test('at valid steps it is Keras sparse categorical crossentropy; computeLoss gives what the generic (filling) path gives', () => {
    tf.tidy(() => {
      const { mask, p, y } = data(3);
      const clean = tf.where(tf.expandDims(mask, -1), p, tf.fill(p.shape, 0.5)); // no NaN: the plain loss can run on it
      const plain = sparseCategoricalCrossentropy(y, clean).arraySync() as number[][];
      const fast = sparseCrossentropyMasked(y, p, mask).arraySync() as number[][];
      const m = mask.arraySync() as unknown as boolean[][];
      plain.forEach((row, b) => row.forEach((v, t) => m[b]![t] && assert.ok(Math.abs(v - fast[b]![t]!) < 1e-6, `${b},${t}: ${v} vs ${fast[b]![t]}`)));
      const loss = getLoss('sparse_categorical_crossentropy');
      assert.ok(loss.maskedValues !== undefined);
      const generic = Object.assign((t: tf.Tensor, q: tf.Tensor) => loss(t, q), { lossName: 'generic' });
      const f = (fn: typeof loss) => (q: tf.Tensor) => computeLoss(fn, y, q, { mask }) as tf.Scalar;
      const a = tf.valueAndGrad(f(loss))(p);
      const g = tf.valueAndGrad(f(generic))(p);
      close(a.value, g.value, 1e-6, 'computeLoss value');
      close(a.grad, g.grad, 1e-5, 'computeLoss gradient');
      // Labels shaped [B, T, 1] too.
      close(sparseCrossentropyMasked(tf.expandDims(y, -1), p, mask), sparseCrossentropyMasked(y, p, mask), 0, '[B, T, 1] labels');
    });
  });

  test('the cpu backend and the wasm backend agree', async () => {
    const run = () => tf.tidy(() => {
      const { mask, p, y } = data(4);
      const r = valueAndGrad(sparseCrossentropyMasked, y, p, mask, tf.ones([B, T]));
      return [Array.from(r.per.dataSync()), Array.from(r.grad.dataSync())];
    });
    const wasm = run();
    await tf.setBackend('cpu');
    let cpu: number[][];
    try {
      cpu = run();
    } finally {
      await tf.setBackend('wasm');
    }
    wasm.forEach((xs, k) => xs.forEach((x, i) => assert.ok(Math.abs(x - cpu[k]![i]!) < 1e-6 * (1 + Math.abs(x)), `${k} ${i}: ${x} vs ${cpu[k]![i]}`)));
  });

  test('a mask that does not fit the leading axes is refused; no tensors are left behind', () => {
    const { mask, p, y } = data(5);
    assert.throws(() => sparseCrossentropyMasked(y, p, tf.slice(mask, [0, 0], [B, 2])), { code: 'MASK_SHAPE_MISMATCH' } as object);
    const before = tf.memory().numTensors;
    tf.dispose(tf.grads((q: tf.Tensor) => tf.sum(sparseCrossentropyMasked(y, q, mask)))([p]));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([mask, p, y]);
  });
});

describe('maskedMeanLoss (the masked mean reduction in one op)', () => {
  test('equals the op chain it replaces bit for bit, value and gradient, with NaN and Inf in masked entries, for both reductions and an all-masked batch', () => {
    // computeLoss takes the one-op path for a bool mask and the op chain for the same mask as float32 0/1.
    const perElement = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.mul(tf.sub(yPred, yTrue), tf.add(yPred, 0.25));
    for (const [shape, lengths] of [[[3, 5], [5, 2, 0]], [[4, 7], [7, 7, 3, 1]], [[2, 6], [0, 0]], [[1, 1], [1]]] as [number[], number[]][]) {
      for (const reduction of ['sum_over_batch_size', 'mean'] as const) {
        tf.tidy(() => {
          const [b, t] = shape as [number, number];
          const maskRows = lengths.map((l) => Array.from({ length: t }, (_, j) => j < l));
          const mask = tf.tensor2d(maskRows, [b, t], 'bool');
          const maskF = tf.cast(mask, 'float32');
          const p = Array.from({ length: b }, (_, i) => Array.from({ length: t }, (_, j) => (maskRows[i]![j] ? Math.sin(1 + i * 7 + j * 3) * 3 : [NaN, Infinity, -Infinity][(i + j) % 3]!)));
          const pred = tf.tensor2d(p, [b, t]);
          const yTrue = tf.randomNormal([b, t], 0, 1, 'float32', 5);
          const run = (m: tf.Tensor) => tf.valueAndGrads((q: tf.Tensor) => computeLoss(perElement, yTrue, q, { mask: m, reduction }))([pred]);
          const fast = run(mask);
          const chain = run(maskF);
          const what = `${shape.join('x')} lengths ${lengths.join(',')} ${reduction}`;
          assert.deepEqual(Array.from(fast.value.dataSync()), Array.from(chain.value.dataSync()), `${what}: value`);
          assert.ok(Number.isFinite(fast.value.dataSync()[0]!), `${what}: finite value`);
          const g = fast.grads[0]!.dataSync();
          assert.deepEqual(Array.from(g), Array.from(chain.grads[0]!.dataSync()), `${what}: gradient`);
          g.forEach((x, k) => assert.ok(maskRows[Math.floor(k / t)]![k % t] ? Number.isFinite(x) : Object.is(x, 0), `${what}: gradient[${k}] = ${x}`));
        });
      }
    }
  });

  test('directly: masked entries holding NaN or Inf get an exact 0 gradient and do not reach the value; valid entries get dL/N times N/count', async () => {
    const { maskedMeanLoss } = await import('./loss_ops.js');
    tf.tidy(() => {
      const v = tf.tensor2d([[1, NaN, 2], [Infinity, 3, -Infinity]]);
      const mask = tf.tensor2d([[true, false, true], [false, true, false]], [2, 3], 'bool');
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => tf.mul(maskedMeanLoss(x, mask), 3))([v]);
      // (1 + 2 + 3) * (6 / 3) / 6 = 2, times 3.
      assert.equal(value.dataSync()[0], 6);
      const s = Math.fround(6 / 3);
      const g = Math.fround(Math.fround(3 / 6) * s);
      assert.deepEqual(Array.from(grads[0]!.dataSync()), [g, 0, g, 0, g, 0]);
      const none = tf.valueAndGrads((x: tf.Tensor) => maskedMeanLoss(x, tf.zeros([2, 3], 'bool')))([v]);
      assert.equal(none.value.dataSync()[0], 0, 'nothing valid: 0');
      assert.ok(Array.from(none.grads[0]!.dataSync()).every((x) => Object.is(x, 0)));
    });
  });

  test('applies only to a bool mask of exactly the losses\' shape on a CPU-memory backend; other cases keep the op chain', async () => {
    const { maskedMeanApplies } = await import('./loss_ops.js');
    tf.tidy(() => {
      const v = tf.zeros([2, 3]);
      assert.equal(maskedMeanApplies(v, tf.ones([2, 3], 'bool')), true);
      assert.equal(maskedMeanApplies(v, tf.ones([2, 3], 'float32')), false);
      assert.equal(maskedMeanApplies(v, tf.ones([2], 'bool')), false);
      assert.equal(maskedMeanApplies(tf.scalar(1), tf.scalar(1, 'bool')), false);
    });
  });
});
