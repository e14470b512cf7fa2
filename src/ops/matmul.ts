/**
 * Matrix products that avoid tfjs-wasm's transposed BatchMatMul.
 *
 * On the wasm backend, `tf.matMul` with `transposeA` or `transposeB` runs
 * 15-50x slower than the plain product (it leaves XNNPACK's fast path), and
 * tfjs's gradient of MatMul is made of exactly those two transposed
 * products: a Dense layer's backward pass cost 30x its forward pass. Here a
 * transposed operand is transposed explicitly (a cheap copy) and the
 * gradient is a `customGrad` whose two products are plain too:
 *
 *   C = A B:   dA = dC (B^T),   dB = (A^T) dC
 *
 * with the transposes materialised. Where helper threads are on, 2-D
 * products that are not tiny run in the recurrent kernel's gemm instead,
 * split over two threads when large (`fusedDenseProduct`,
 * src/ops/dense_ops.ts), and batched ones in its gemm one matrix at a time
 * (`kernelBatchProduct`, src/ops/batch_product.ts). Same numbers as `tf.matMul` up to float rounding
 * (the sums run in another order). On other backends, and for batched
 * products whose batch axes broadcast, it is `tf.matMul` itself.
 */
import { tf } from '../runtime/tfjs.js';
import { fusedDenseProduct } from './dense_ops.js';
import { kernelBatchProduct } from './batch_product.js';

/** Swaps the last two axes. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

const sameBatch = (a: tf.Tensor, b: tf.Tensor) => a.rank === b.rank && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);

/** A B without transposes: batched products in the kernel where that applies (batch_product.ts), else tfjs's plain product. */
const plain = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => (a.rank >= 3 ? kernelBatchProduct(a, b) : null) ?? tf.matMul(a, b);

/** A B with plain products forward and backward (a and b of rank >= 2 with equal batch axes). */
const plainProduct = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const a = args[0] as tf.Tensor;
  const b = args[1] as tf.Tensor;
  const save = args[2] as tf.GradSaveFunc;
  save([a, b]);
  return {
    value: plain(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      return [plain(dy, swapLast(sb)), plain(swapLast(sa), dy)];
    },
  };
});

/**
 * `tf.matMul(a, b, transposeA, transposeB)` (rank >= 2, float32), fast on
 * the wasm backend forward and backward. Other backends and broadcasting
 * batch axes take `tf.matMul`.
 */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || a.rank < 2 || !sameBatch(a, b) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return tf.matMul(a, b, transposeA, transposeB);
  }
  return tf.tidy(() => {
    const a2 = transposeA ? swapLast(a) : a;
    const b2 = transposeB ? swapLast(b) : b;
    return (a.rank === 2 ? fusedDenseProduct(a2, b2, null, false) : null) ?? plainProduct(a2, b2);
  });
}

/** The plain tfjs product, the reference the tests compare `matMul` with. */
export function matMulReference(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return tf.matMul(a, b, transposeA, transposeB);
}
