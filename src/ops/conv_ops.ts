/**
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

/** tfjs's conv1d ('NWC') with a gradient for any stride, dilation and padding on every backend. */
export function conv1d(x: tf.Tensor3D, kernel: tf.Tensor3D, stride: number, pad: 'valid' | 'same', dilation: number): tf.Tensor3D {
  if (!isTapeOn()) return tf.conv1d(x, kernel, stride, pad, 'NWC', dilation);
  const [b, t, ci] = x.shape;
  const [k, , co] = kernel.shape;
  const info = tf.backend_util.computeConv2DInfo([b, 1, t, ci], [1, k, ci, co], [1, stride], [1, dilation], pad);
  const outT = info.outWidth;
  const padLeft = info.padInfo.left;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, kk, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([xx, kk]);
    return {
      value: tf.conv1d(xx, kk, stride, pad, 'NWC', dilation),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks] = saved as [tf.Tensor3D, tf.Tensor3D];
        const rows = tf.tensor1d(conv1dPatchRows(b, t, outT, k, stride, dilation, padLeft), 'int32');
        const flatX = tf.reshape(tf.concat([xs, tf.zeros([b, 1, ci])], 1), [b * (t + 1), ci]);
        const patches = tf.reshape(tf.gather(flatX, rows), [b * outT, k * ci]);
        const dyFlat = tf.reshape(dy, [b * outT, co]);
        const dKernel = tf.reshape(tf.matMul(patches, dyFlat, true, false), [k, ci, co]);
        const dPatches = tf.reshape(tf.matMul(dyFlat, tf.reshape(ks, [k * ci, co]), false, true), [b * outT * k, ci]);
        const dx = tf.slice(tf.reshape(tf.unsortedSegmentSum(dPatches, rows, b * (t + 1)), [b, t + 1, ci]), [0, 0, 0], [b, t, ci]);
        return [dx, dKernel];
      },
    };
  })(x, kernel) as tf.Tensor3D;
}
