// The Dense product split over two threads (dense_ops.ts) against the plain
// tfjs ops (matMul, add, softmax and their tfjs gradients): values and
// gradients within 1e-5 relative, split and not split, for odd sizes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { fusedDenseClasses, fusedDenseProduct } from './dense_ops.js';
import { kernelThreads, setKernelThreads, splitKernelCalls, withForcedSplit } from './rnn/parallel.js';
import { matMul } from './matmul.js';
import { Dense, Embedding, getMask } from '../index.js';

function close(a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void {
  assert.deepEqual(a.shape, b.shape, what);
  const x = a.dataSync(), y = b.dataSync();
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= tol * (1 + Math.abs(y[i]!)), `${what}[${i}]: ${x[i]} vs ${y[i]}`);
}

/** act(x W + b) with tfjs ops only. */
function plain(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null, softmax: boolean): tf.Tensor {
  let y = tf.matMul(x, w);
  if (b !== null) y = tf.add(y, b);
  return softmax ? tf.softmax(y) : y;
}

/** The value and the gradients (w.r.t. x, W, b) of sum(product * r) for a fixed random r. */
function valueAndGrads(f: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null) => tf.Tensor, x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null, r: tf.Tensor): tf.Tensor[] {
  const inputs = b === null ? [x, w] : [x, w, b];
  const { grads } = tf.valueAndGrads((...p: tf.Tensor[]) => tf.sum(tf.mul(f(p[0]!, p[1]!, b === null ? null : p[2]!), r)) as tf.Scalar)(inputs);
  return [f(x, w, b), ...grads];
}

const shapes: [number, number, number][] = [
  [2, 1, 1],
  [7, 5, 6],
  [33, 13, 3],
  [64, 128, 132],
  [301, 37, 21],
];

describe('fusedDenseProduct', () => {
  for (const [n, k, m] of shapes) {
    for (const softmax of [false, true]) {
      for (const withBias of [false, true]) {
        test(`[${n}, ${k}] x [${k}, ${m}]${withBias ? ' + bias' : ''}${softmax ? ', softmax' : ''}: split and unsplit equal the tfjs ops`, () => {
          const before = tf.memory().numTensors;
          tf.tidy(() => {
            const x = tf.randomNormal([n, k], 0, 1, 'float32', n);
            const w = tf.randomNormal([k, m], 0, 1, 'float32', k + 1);
            const b = withBias ? tf.randomNormal([m], 0, 1, 'float32', m + 2) : null;
            const r = tf.randomNormal([n, m], 0, 1, 'float32', 7);
            const want = valueAndGrads((a, c, d) => plain(a, c, d, softmax), x, w, b, r);
            const splitsBefore = splitKernelCalls();
            const got = withForcedSplit(2, () => valueAndGrads((a, c, d) => fusedDenseProduct(a, c, d, softmax)!, x, w, b, r));
            assert.equal(splitKernelCalls() - splitsBefore, 3, 'forward, forward under the tape, backward: each split');
            ['value', 'dx', 'dW', 'db'].slice(0, want.length).forEach((what, i) => close(got[i]!, want[i]!, 1e-5, `split ${what}`));
            // Not split: threads off, the op declines and the caller takes the tfjs path.
            setKernelThreads(1);
            try {
              assert.equal(fusedDenseProduct(x, w, b, softmax), null);
            } finally {
              setKernelThreads();
            }
          });
          assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
        });
      }
    }
  }

  test('a product too small to split runs on the calling thread alone (no hand-off), same values and gradients', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([300, 37], 0, 1, 'float32', 12);
      const w = tf.randomNormal([37, 21], 0, 1, 'float32', 13);
      const b = tf.randomNormal([21], 0, 1, 'float32', 14);
      const r = tf.randomNormal([300, 21], 0, 1, 'float32', 15);
      const want = valueAndGrads((a, c, d) => plain(a, c, d, true), x, w, b, r);
      const splitsBefore = splitKernelCalls();
      const got = valueAndGrads((a, c, d) => {
        const y = fusedDenseProduct(a, c, d, true);
        assert.ok(y !== null, 'the kernel path is taken');
        return y;
      }, x, w, b, r);
      assert.equal(splitKernelCalls(), splitsBefore, 'nothing was handed to a helper');
      ['value', 'dx', 'dW', 'db'].forEach((what, i) => close(got[i]!, want[i]!, 1e-5, `alone ${what}`));
    });
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });

  test('declines what it does not compute: other ranks and dtypes, mismatched bias, products too small to pay', () => {
    tf.tidy(() => {
      const x = tf.ones([4, 3]);
      const w = tf.ones([3, 5]);
      withForcedSplit(2, () => {
        assert.equal(fusedDenseProduct(tf.ones([2, 4, 3]), w, null, false), null);
        assert.equal(fusedDenseProduct(x, tf.ones([3, 5], 'int32'), null, false), null);
        assert.equal(fusedDenseProduct(x, w, tf.ones([4]), false), null);
        assert.equal(fusedDenseProduct(tf.ones([1, 3]), w, null, false), null);
      });
      // Without forcing, a tiny product stays on the calling thread.
      assert.equal(fusedDenseProduct(x, w, null, false), null);
    });
  });

  test('a split that runs forward and a backward pass that finds threads off computes every row on this thread', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([9, 6], 0, 1, 'float32', 3);
      const w = tf.randomNormal([6, 5], 0, 1, 'float32', 4);
      const b = tf.randomNormal([5], 0, 1, 'float32', 5);
      const f = (p: tf.Tensor[]) => tf.sum(tf.square(withForcedSplit(2, () => fusedDenseProduct(p[0]!, p[1]!, p[2]!, true)!))) as tf.Scalar;
      const ref = tf.grads((...p: tf.Tensor[]) => tf.sum(tf.square(plain(p[0]!, p[1]!, p[2]!, true))) as tf.Scalar)([x, w, b]);
      setKernelThreads(1);
      try {
        const got = tf.grads((...p: tf.Tensor[]) => f(p))([x, w, b]);
        got.forEach((g, i) => close(g, ref[i]!, 1e-5, `grad ${i}`));
      } finally {
        setKernelThreads();
      }
    });
  });

  test('matMul of 2-D operands (transposed too) splits and matches tf.matMul', () => {
    tf.tidy(() => {
      const a = tf.randomNormal([19, 10], 0, 1, 'float32', 8);
      const b = tf.randomNormal([7, 10], 0, 1, 'float32', 9);
      const splitsBefore = splitKernelCalls();
      const got = withForcedSplit(2, () => tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.sin(matMul(p, q, false, true))))([a, b]));
      assert.ok(splitKernelCalls() > splitsBefore || kernelThreads() === 1);
      const want = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.sin(tf.matMul(p, q, false, true))))([a, b]);
      got.forEach((g, i) => close(g, want[i]!, 1e-5, `grad ${i}`));
    });
  });

  test('Dense in a masked model (3-D input, softmax, relu without bias): split equals unsplit, the mask passes through, no leaks', () => {
    const e = new Embedding({ inputDim: 20, outputDim: 7, maskZero: true });
    const soft = new Dense({ units: 11, activation: 'softmax' });
    const relu = new Dense({ units: 6, activation: 'relu', useBias: false });
    const ids = tf.tensor2d([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5], [9, 0, 0, 0, 0]], [3, 5], 'int32');
    const weights = tf.tensor3d(Array.from({ length: 3 * 5 * 11 }, (_, i) => Math.sin(i)), [3, 5, 11]);
    const run = () =>
      tf.tidy(() => {
        const vars = [...e.trainableWeights, ...soft.trainableWeights, ...relu.trainableWeights].map((w) => w.variable);
        const loss = () => {
          const h = e.apply(ids) as tf.Tensor;
          return tf.add(tf.sum(tf.mul(soft.apply(h) as tf.Tensor, weights)), tf.sum(tf.square(relu.apply(h) as tf.Tensor))) as tf.Scalar;
        };
        const { value, grads } = tf.variableGrads(loss, vars);
        const h = e.apply(ids) as tf.Tensor;
        const y = soft.apply(h) as tf.Tensor;
        const z = relu.apply(h) as tf.Tensor;
        for (const out of [y, z]) assert.deepEqual(getMask(out)!.arraySync(), tf.notEqual(ids, 0).arraySync(), 'the mask passes through');
        return [y, z, value, ...vars.map((v) => grads[v.name]!)];
      });
    tf.tidy(() => {
      const h = e.apply(ids) as tf.Tensor;
      soft.apply(h);
      relu.apply(h);
    }); // builds the layers
    const before = tf.memory().numTensors;
    setKernelThreads(1);
    const one = run();
    setKernelThreads();
    const splitsBefore = splitKernelCalls();
    const two = withForcedSplit(2, run);
    assert.ok(splitKernelCalls() - splitsBefore >= 6, 'the products ran split');
    assert.equal(one.length, 7);
    one.forEach((t, i) => close(two[i]!, t, 1e-5, `output/grad ${i}`));
    tf.dispose([...one, ...two]);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    tf.dispose([ids, weights]);
  });

  test('Dense on 2-D input (linear, with bias): split equals unsplit, values and gradients', () => {
    const layer = new Dense({ units: 7 });
    const x = tf.randomNormal([9, 5], 0, 1, 'float32', 21);
    tf.tidy(() => layer.apply(x)); // builds the layer
    const run = () =>
      tf.tidy(() => {
        const vars = layer.trainableWeights.map((w) => w.variable);
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.sin(layer.apply(x) as tf.Tensor)) as tf.Scalar, vars);
        return [layer.apply(x) as tf.Tensor, value, ...vars.map((v) => grads[v.name]!)];
      });
    setKernelThreads(1);
    const one = run();
    setKernelThreads();
    const splitsBefore = splitKernelCalls();
    const two = withForcedSplit(2, run);
    assert.equal(splitKernelCalls() - splitsBefore, 3, 'forward twice and backward once, split');
    one.forEach((t, i) => close(two[i]!, t, 1e-5, `output/grad ${i}`));
    tf.dispose([...one, ...two, x]);
  });
});

describe('fusedDenseClasses', () => {
  /** tf.argMax of the logits x W + b, with tfjs ops only. */
  const plainClasses = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null) => tf.argMax(plain(x, w, b, false), -1);

  for (const [n, k, m] of [...shapes, [700, 64, 1], [513, 9, 132]] as [number, number, number][]) {
    for (const withBias of [false, true]) {
      test(`[${n}, ${k}] x [${k}, ${m}]${withBias ? ' + bias' : ''}: split, on one thread and unsplit, the argmax of the tfjs logits`, () => {
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const x = tf.randomNormal([n, k], 0, 1, 'float32', n + 3);
          const w = tf.randomNormal([k, m], 0, 1, 'float32', k + 4);
          const b = withBias ? tf.randomNormal([m], 0, 1, 'float32', m + 5) : null;
          const want = Array.from(plainClasses(x, w, b).dataSync());
          const splitsBefore = splitKernelCalls();
          const split = withForcedSplit(2, () => fusedDenseClasses(x, w, b));
          assert.ok(split !== null, 'the kernel path is taken');
          if (n >= 2) assert.equal(splitKernelCalls() - splitsBefore, 1, 'the rows were split with a helper');
          assert.equal(split.dtype, 'int32');
          assert.deepEqual(split.shape, [n]);
          assert.deepEqual(Array.from(split.dataSync()), want, 'split');
          // One thread: the kernel alone where the product is large enough, else null (tfjs's ops).
          setKernelThreads(1);
          try {
            const alone = fusedDenseClasses(x, w, b);
            if (2 * n * k * m >= 2e5) assert.ok(alone !== null, 'one thread still takes the kernel');
            if (alone !== null) assert.deepEqual(Array.from(alone.dataSync()), want, 'one thread');
          } finally {
            setKernelThreads();
          }
        });
        assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
      });
    }
  }

  test("ties, NaN and infinities follow tf.argMax's rule: the first of equal logits, NaN never larger, a NaN first column gives 0", () => {
    tf.tidy(() => {
      // 9 classes: two full vectors of four and a tail of one.
      const n = 9;
      const logits = [
        [1, 5, 5, 2, 0, 5, -1, 3, 4], // tie: the first 5
        [0, 0, 0, 0, 0, 0, 0, 0, 7], // the largest in the tail
        [NaN, 1, 2, 3, 4, 5, 6, 7, 8], // NaN first: 0
        [1, NaN, 9, NaN, 2, 3, 4, 5, 6], // NaN elsewhere is skipped
        [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
        [-Infinity, -3, Infinity, Infinity, 0, 0, 0, 0, 0],
        [-0, 0, -0, 0, -0, 0, -0, 0, -0], // +0 is not larger than -0
        [-5, -4, -3, -2, -1, -1, -2, -3, -4],
        [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN],
      ];
      const want = Array.from(tf.argMax(tf.tensor2d(logits.flat(), [n, n]), -1).dataSync());
      assert.deepEqual(want, [1, 8, 0, 2, 0, 2, 0, 4, 0], "tf.argMax's own rule, as this test reads it");
      // The bias carries each row's logits (x W is 0: a product would spread NaN and infinities over the row).
      const zeros = tf.zeros([n, n]);
      for (const row of [...logits.keys()]) {
        const b = tf.tensor1d(logits[row]!);
        const got = withForcedSplit(2, () => fusedDenseClasses(tf.zeros([4, n]), zeros, b));
        assert.ok(got !== null);
        assert.deepEqual(Array.from(got.dataSync()), [want[row], want[row], want[row], want[row]], `logits ${logits[row]}`);
      }
    });
  });

  test('declines other ranks and dtypes, a mismatched bias, and small products on one thread', () => {
    tf.tidy(() => {
      const w = tf.ones([3, 5]);
      assert.equal(fusedDenseClasses(tf.ones([2, 4, 3]), w, null), null);
      assert.equal(fusedDenseClasses(tf.ones([4, 3]), tf.ones([3, 5], 'int32'), null), null);
      assert.equal(fusedDenseClasses(tf.ones([4, 3]), w, tf.ones([4])), null);
      assert.equal(fusedDenseClasses(tf.ones([4, 3]), w, null), null);
    });
  });
});
