/**
 * The 1-D convolutions (plain, depthwise, transposed) and average pool,
 * with gradients tfjs lacks or gets wrong.
 *
 * A 1-D convolution that can be trained on every backend. tfjs's conv1d
 * (a conv2d) has no gradient when the dilation is above 1 ("dilation rates
 * greater than 1 are not yet supported in gradients"), and the wasm backend
 * has no Conv2DBackpropFilter kernel at all, so a Conv1D could not be
 * trained on Node's default backend. Under a gradient tape the value is
 * still tfjs's conv1d (the same bits as at inference); the gradient is
 * taken through the patches of the input (im2col): for the patch matrix P
 * [B*To, K*Ci] and the kernel W [K*Ci, Co], dW = P^T dy and dx is dy W^T
 * added back to the positions each patch read.
 */
import { tf } from '../runtime/tfjs.js';
import { isTapeOn } from '../runtime/internals.js';

/**
 * For each output step o and kernel tap k of each batch row, the row of the
 * input (flattened [B*(T+1), Ci], one zero row appended per batch row) that
 * the tap reads: padding reads the zero row.
 */
export function conv1dPatchRows(b: number, t: number, outT: number, k: number, stride: number, dilation: number, padLeft: number): Int32Array {
  const idx = new Int32Array(b * outT * k);
  let p = 0;
  for (let i = 0; i < b; i++) {
    for (let o = 0; o < outT; o++) {
      for (let j = 0; j < k; j++) {
        const s = o * stride - padLeft + j * dilation;
        idx[p++] = i * (t + 1) + (s >= 0 && s < t ? s : t);
      }
    }
  }
  return idx;
}

/**
 * The rows of `values` ([N, C], one per patch row of conv1dPatchRows) added
 * into the steps they came from: [B, T, C] (what reached the zero rows is
 * dropped).
 */
function addToSteps(values: tf.Tensor, rows: tf.Tensor1D, b: number, t: number): tf.Tensor3D {
  const c = values.shape[1]!;
  return tf.slice(tf.reshape(tf.unsortedSegmentSum(values, rows, b * (t + 1)), [b, t + 1, c]), [0, 0, 0], [b, t, c]) as tf.Tensor3D;
}

/** The rows of x ([B, T, C]) that the patch rows read: [rows.length, C], zeros where a tap falls in the padding. */
function gatherPatches(x: tf.Tensor3D, rows: tf.Tensor1D): tf.Tensor2D {
  const [b, t, c] = x.shape;
  const flat = tf.reshape(tf.concat([x, tf.zeros([b, 1, c])], 1), [b * (t + 1), c]);
  return tf.gather(flat, rows) as tf.Tensor2D;
}

/** TF's 'same' padding of a window spanning `span` steps with `stride` over `t` steps: [before, after], the odd step after. */
export function samePadding(t: number, span: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(t / stride) - 1) * stride + span - t, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** tfjs's conv1d ('NWC') with a gradient for any stride, dilation and padding on every backend. */
export function conv1d(x: tf.Tensor3D, kernel: tf.Tensor3D, stride: number, pad: 'valid' | 'same', dilation: number): tf.Tensor3D {
  if (pad === 'same') {
    // Padded here, then 'valid': tfjs's wasm conv2d gives zeros for some 'same' windows whose stride exceeds
    // the kernel's span (kernel 2, stride 3 over 6 steps gave [0, 0] for [21, 54]).
    const padding = samePadding(x.shape[1], dilation * (kernel.shape[0] - 1) + 1, stride);
    return conv1d(tf.pad(x, [[0, 0], padding, [0, 0]]), kernel, stride, 'valid', dilation);
  }
  // From here the padding is 'valid': no tap reads outside the input.
  if (!isTapeOn()) return tf.conv1d(x, kernel, stride, 'valid', 'NWC', dilation);
  const [b, t, ci] = x.shape;
  const [k, , co] = kernel.shape;
  const outT = Math.floor((t - dilation * (k - 1) - 1) / stride) + 1;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, kk, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([xx, kk]);
    return {
      value: tf.conv1d(xx, kk, stride, 'valid', 'NWC', dilation),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks] = saved as [tf.Tensor3D, tf.Tensor3D];
        const rows = tf.tensor1d(conv1dPatchRows(b, t, outT, k, stride, dilation, 0), 'int32');
        const patches = tf.reshape(gatherPatches(xs, rows), [b * outT, k * ci]);
        const dyFlat = tf.reshape(dy, [b * outT, co]);
        const dKernel = tf.reshape(tf.matMul(patches, dyFlat, true, false), [k, ci, co]);
        const dPatches = tf.reshape(tf.matMul(dyFlat, tf.reshape(ks, [k * ci, co]), false, true), [b * outT * k, ci]);
        return [addToSteps(dPatches, rows, b, t), dKernel];
      },
    };
  })(x, kernel) as tf.Tensor3D;
}

/**
 * tfjs's avgPool over [B, T, 1, C] windows of `size` steps, with the
 * gradient of what it computes. With 'same' padding tfjs's forward averages
 * each window over its steps inside the input (as TensorFlow and Keras do),
 * but its gradient (AvgPoolGrad, on every backend) divides by the full window
 * size, so the steps next to the padding got too small a gradient. Here dy of
 * each window is divided by the number of steps it averaged and added back to
 * those steps (the patch rows of conv1dPatchRows).
 */
export function avgPool1d(x: tf.Tensor4D, size: number, stride: number, pad: 'valid' | 'same'): tf.Tensor4D {
  if (!isTapeOn()) return tf.avgPool(x, [size, 1], [stride, 1], pad);
  const [b, t, , c] = x.shape;
  const info = tf.backend_util.computePool2DInfo([b, t, 1, c], [size, 1], [stride, 1], 1, pad);
  const outT = info.outHeight;
  const rows = conv1dPatchRows(b, t, outT, size, stride, 1, info.padInfo.top);
  // 1 / (steps of each window inside the input), per output step.
  const share = new Float32Array(b * outT * size);
  for (let w = 0; w < b * outT; w++) {
    let n = 0;
    for (let j = 0; j < size; j++) n += rows[w * size + j]! % (t + 1) === t ? 0 : 1;
    share.fill(1 / n, w * size, (w + 1) * size);
  }
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xx = args[0] as tf.Tensor4D;
    return {
      value: tf.avgPool(xx, [size, 1], [stride, 1], pad),
      gradFunc: (dy: tf.Tensor) => {
        // Each window's dy, once per tap, scaled by its share, added to the step the tap read.
        const taps = tf.mul(tf.reshape(tf.tile(tf.reshape(dy, [b * outT, 1, c]), [1, size, 1]), [b * outT * size, c]), tf.tensor2d(share, [b * outT * size, 1]));
        return tf.reshape(addToSteps(taps, tf.tensor1d(rows, 'int32'), b, t), [b, t, 1, c]);
      },
    };
  })(x) as tf.Tensor4D;
}

/**
 * Keras's 1-D depthwise convolution (channels last): output channel c*dm + m
 * of step o is the sum over taps j of x[o*stride + j*dilation - padLeft, c]
 * times kernel[j, c, m] ([k, C, dm]); taps in the padding read 0. Strides
 * and dilation may both exceed 1 (Keras allows it; tfjs's depthwiseConv2d
 * does not). Built from a gather and a product summed over the taps, so its
 * gradient is tfjs's on every backend, and training and inference compute
 * the same bits.
 */
export function depthwiseConv1d(x: tf.Tensor3D, kernel: tf.Tensor3D, stride: number, dilation: number, padLeft: number, outT: number): tf.Tensor3D {
  const [b, t, c] = x.shape;
  const [k, , dm] = kernel.shape;
  const patches = tf.reshape(gatherPatches(x, tf.tensor1d(conv1dPatchRows(b, t, outT, k, stride, dilation, padLeft), 'int32')), [b * outT, k, c, 1]);
  return tf.reshape(tf.sum(tf.mul(patches, kernel), 1), [b, outT, c * dm]) as tf.Tensor3D;
}

/**
 * Keras's 1-D transposed convolution (channels last), as a scatter: input
 * step i adds x[i] times tap j of the kernel ([k, filters, C_in]) to step
 * i*stride + j*dilation of the full result; the output is that result from
 * step `cropLeft` on, `outT` steps long, with zeros past its end. One
 * product and one segment sum, both differentiable on every backend.
 */
export function conv1dTranspose(x: tf.Tensor3D, kernel: tf.Tensor3D, stride: number, dilation: number, cropLeft: number, outT: number): tf.Tensor3D {
  const [b, t, ci] = x.shape;
  const [k, f] = kernel.shape;
  // [Ci, k*F]: column j*F + q is kernel[j, q, :].
  const w = tf.reshape(tf.transpose(kernel, [2, 0, 1]), [ci, k * f]);
  const taps = tf.reshape(tf.matMul(tf.reshape(x, [b * t, ci]), w), [b * t * k, f]);
  // Where each (row, step, tap) lands: its output step, or the row's spare segment outT when it is cut.
  const seg = new Int32Array(b * t * k);
  let p = 0;
  for (let r = 0; r < b; r++) {
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < k; j++) {
        const o = i * stride + j * dilation - cropLeft;
        seg[p++] = r * (outT + 1) + (o >= 0 && o < outT ? o : outT);
      }
    }
  }
  const summed = tf.reshape(tf.unsortedSegmentSum(taps, tf.tensor1d(seg, 'int32'), b * (outT + 1)), [b, outT + 1, f]);
  return tf.slice(summed, [0, 0, 0], [b, outT, f]) as tf.Tensor3D;
}
