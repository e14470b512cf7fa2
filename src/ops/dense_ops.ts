/**
 * A Dense layer's product in the kernel, on one or two cores: `act(x W + b)`
 * for 2-D x, with act linear or softmax, forward and backward.
 *
 * The product runs in the recurrent kernel's register-blocked gemm
 * (src/ops/rnn/dense_call.ts) with the bias added and the softmax taken in
 * the same pass. Rows of x are independent, so a large product is split:
 * the calling thread computes the first rows and a helper thread of the
 * recurrent kernel's worker pool (src/ops/rnn/parallel.ts) the rest. The
 * backward pass splits the same way: each thread turns its rows of dY into
 * G (the softmax gradient, or dY), then computes its rows of dX = G W^T and
 * its share of dW = X^T G and db = colsum(G); the two shares are added.
 *
 * Same numbers as `tf.matMul` + `tf.add` + `tf.softmax` up to float
 * rounding (the sums run in another order; exp is the kernel's, within
 * 1.3 ulp). Used on the wasm backend in Node when helper threads are on
 * (`setKernelThreads`): products of at least MIN_KERNEL_WORK run in the
 * kernel, split from MIN_SPLIT_WORK per thread on. Elsewhere (other
 * backends, browsers, `setKernelThreads(1)`, small products)
 * `fusedDenseProduct` returns null and callers take their tfjs ops.
 *
 * `fusedDenseClasses` gives the class of each row instead (the argmax of
 * x W + b, for `predictClasses`): the logits stay in kernel memory and each
 * thread returns one int32 per row. It also runs with one thread (there is
 * no gradient, and the softmax and the [n, m] output are saved either way).
 */
import { tf } from '../runtime/tfjs.js';
import { saveSharingData } from '../runtime/internals.js';
import { f32, writeTensor } from './heap_view.js';
import { rnnKernel, type RnnKernel } from './rnn/kernel.js';
import { denseBackwardRows, denseClassesRows, denseForwardRows, type DenseBackwardRequest, type DenseClassesRequest, type DenseForwardRequest } from './rnn/dense_call.js';
import { denseHelperReady, kernelThreads, runDenseOnHelper } from './rnn/parallel.js';

/** Rows of the calling thread when split: it also copies the helper's rows out and its results in. */
const HERE_SHARE = 0.5;

const isF32Matrix = (t: tf.Tensor) => t.rank === 2 && t.dtype === 'float32';

/**
 * Floating-point work (2 n k m) from which a product that is not split
 * runs on the kernel alone rather than through tfjs's ops (where it pays:
 * the bias and softmax in the same pass, no transposes in the gradient).
 */
const MIN_KERNEL_WORK = 2e5;

/**
 * Work (n k m for a forward product, twice that for its backward pass)
 * below which a product stays on the calling thread. A hand-off costs
 * about 25 us plus the copies of the helper's rows while the threads poll
 * for each other (`setKernelSpin`), 90-130 us when the helper must be woken.
 * At 3e7 (set when every hand-off woke the helper) the tagger's training
 * products ([32 T, 128] x [128, 132]) stayed on one thread while the
 * helper idled; at 8e6 they split (forward from about 470 rows at that
 * shape, backward from about 240), and a BiLSTM tagger's training step
 * took 8% less time (median of 8 paired epochs in one process, together
 * with polling; a transformer block's step, whose products have k = 64,
 * did not change). 1e6, which splits the transformer's products too,
 * gained no more on either (scratch A/B runs, 6 pairs each).
 */
const MIN_SPLIT_WORK = 8e6;

const thresholds = { kernel: MIN_KERNEL_WORK, split: MIN_SPLIT_WORK };

/** For the benchmarks (bench/dense_split.ts, bench/dense_ab.ts): sets the two thresholds above (omitted: the default). */
export function setDenseThresholds(t: { kernel?: number; split?: number } = {}): void {
  thresholds.kernel = t.kernel ?? MIN_KERNEL_WORK;
  thresholds.split = t.split ?? MIN_SPLIT_WORK;
}

/**
 * Rows computed on this thread (all of them when the helper is not used)
 * for a pass of `passes` products of [n, k] x [k, m] (the backward pass
 * has two).
 */
function rowsHere(n: number, k: number, m: number, passes: number): number {
  if (n < 2 || !denseHelperReady(passes * n * k * m, thresholds.split)) return n;
  return Math.min(n - 1, Math.max(1, Math.round(n * HERE_SHARE)));
}

function forward(kern: RnnKernel, x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null, softmax: boolean): tf.Tensor {
  const [n, k] = x.shape as [number, number];
  const m = w.shape[1]!;
  const r0 = rowsHere(n, k, m, 1);
  return writeTensor([n, m], 'float32', (out) => {
    const xv = f32(x);
    const wv = f32(w);
    const bv = bias === null ? null : f32(bias);
    const here = () => denseForwardRows(kern, { rows: r0, k, m, x: xv.subarray(0, r0 * k), w: wv, bias: bv, softmax }, out.subarray(0, r0 * m));
    if (r0 === n) {
      here();
      return;
    }
    // The request's views of tfjs memory are copied as it is posted; the reply is a view of the helper's shared memory.
    const reply = runDenseOnHelper(() => {
      const request: DenseForwardRequest = { op: 'denseForward', rows: n - r0, k, m, x: xv.subarray(r0 * k, n * k), w: wv, bias: bv, softmax };
      return { request };
    }, here);
    out.set(reply.y, r0 * m);
  });
}

function backward(kern: RnnKernel, x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor, y: tf.Tensor | null): { dx: tf.Tensor; dw: tf.Tensor; db: Float32Array } {
  const [n, k] = x.shape as [number, number];
  const m = w.shape[1]!;
  const r0 = rowsHere(n, k, m, 2);
  let dw: Float32Array | null = null;
  let db: Float32Array | null = null;
  const dx = writeTensor([n, k], 'float32', (out) => {
    const xv = f32(x);
    const wv = f32(w);
    const dyv = f32(dy);
    const yv = y === null ? null : f32(y);
    const here = () => {
      dw = new Float32Array(k * m);
      db = new Float32Array(m);
      denseBackwardRows(kern, { rows: r0, k, m, x: xv.subarray(0, r0 * k), w: wv, dy: dyv.subarray(0, r0 * m), y: yv === null ? null : yv.subarray(0, r0 * m) }, { dx: out.subarray(0, r0 * k), dw, db });
    };
    if (r0 === n) {
      here();
      return;
    }
    const reply = runDenseOnHelper(() => {
      const request: DenseBackwardRequest = { op: 'denseBackward', rows: n - r0, k, m, x: xv.subarray(r0 * k, n * k), w: wv, dy: dyv.subarray(r0 * m, n * m), y: yv === null ? null : yv.subarray(r0 * m, n * m) };
      return { request };
    }, here);
    out.set(reply.dx, r0 * k);
    addInto(dw!, reply.dw);
    addInto(db!, reply.db);
  });
  return { dx, dw: tf.tensor2d(dw!, [k, m]), db: db! };
}

function addInto(a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
}

type Product = (...inputs: tf.Tensor[]) => tf.Tensor;
const products = new Map<string, Product>();

/** The op for one combination of bias and softmax (a customGrad takes tensors only). */
function product(kern: RnnKernel, hasBias: boolean, softmax: boolean): Product {
  const key = `${hasBias}/${softmax}`;
  let f = products.get(key);
  if (f === undefined) {
    f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      const w = args[1] as tf.Tensor;
      const bias = hasBias ? (args[2] as tf.Tensor) : null;
      const save = args[hasBias ? 3 : 2] as tf.GradSaveFunc;
      const y = forward(kern, x, w, bias, softmax);
      // Kept for the gradient without the three copies tfjs's save makes on wasm.
      saveSharingData(save, softmax ? [x, w, y] : [x, w]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const g = backward(kern, saved[0]!, saved[1]!, dy, softmax ? saved[2]! : null);
          return hasBias ? [g.dx, g.dw, tf.tensor1d(g.db)] : [g.dx, g.dw];
        },
      };
    }) as Product;
    products.set(key, f);
  }
  return f;
}

/**
 * [n, k, m] for a product the kernel takes here: the wasm backend, x
 * [n, k] and W [k, m] float32 and none of them empty, the bias null or
 * float32 [m]; else null.
 */
function productDims(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null): [number, number, number] | null {
  if (tf.getBackend() !== 'wasm' || !isF32Matrix(x) || !isF32Matrix(w)) return null;
  const [n, k] = x.shape as [number, number];
  const m = w.shape[1]!;
  if (w.shape[0] !== k || n * k * m === 0) return null;
  if (bias !== null && (bias.rank !== 1 || bias.size !== m || bias.dtype !== 'float32')) return null;
  return [n, k, m];
}

/**
 * `x W (+ bias)`, with a softmax over the last axis when `softmax`, for x
 * [n, k] and W [k, m] (float32), in the kernel (split over two threads when
 * large enough); null when that does not apply here (not the wasm backend
 * in Node, threads off, a small product, other shapes or dtypes): the
 * caller then computes it with tfjs ops.
 */
export function fusedDenseProduct(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null, softmax: boolean): tf.Tensor | null {
  const dims = productDims(x, w, bias);
  if (dims === null) return null;
  const [n, k, m] = dims;
  if (kernelThreads() < 2) return null;
  // Small products take tfjs's ops, unless they are split anyway (withForcedSplit).
  if (2 * n * k * m < thresholds.kernel && rowsHere(n, k, m, 1) === n) return null;
  const kern = rnnKernel();
  if (kern === null) return null;
  const f = product(kern, bias !== null, softmax);
  return bias === null ? f(x, w) : f(x, w, bias);
}

/**
 * The class of each row of `x W (+ bias)`, x [n, k] and W [k, m] (float32):
 * the index of the row's largest logit (tf.argMax's rule), as an int32
 * tensor [n], without the [n, m] logits ever leaving the kernel (split over
 * two threads when large enough, each thread answering with its rows'
 * classes). Also with one thread, where the kernel loads (Node); null where
 * it does not apply (not the wasm backend, no kernel, other shapes or
 * dtypes, a product too small to pay): the caller then takes tfjs's ops.
 */
export function fusedDenseClasses(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null): tf.Tensor | null {
  const dims = productDims(x, w, bias);
  if (dims === null) return null;
  const [n, k, m] = dims;
  const r0 = rowsHere(n, k, m, 1);
  if (2 * n * k * m < thresholds.kernel && r0 === n) return null;
  const kern = rnnKernel();
  if (kern === null) return null;
  return writeTensor([n], 'int32', (out) => {
    const q = { rows: r0, k, m, x: f32(x).subarray(0, r0 * k), w: f32(w), bias: bias === null ? null : f32(bias) };
    const here = () => out.set(denseClassesRows(kern, q));
    if (r0 === n) {
      here();
      return;
    }
    const reply = runDenseOnHelper(() => {
      const request: DenseClassesRequest = { op: 'denseClasses', rows: n - r0, k, m, x: f32(x).subarray(r0 * k, n * k), w: q.w, bias: q.bias };
      return { request };
    }, here);
    out.set(reply.classes, r0);
  });
}
