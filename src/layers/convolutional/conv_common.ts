/**
 * What Keras's 1-D convolutions share: the window options of the depthwise,
 * separable and transposed ones, the kernel, bias and activation of Conv1D
 * and Conv1DTranspose (KernelConv1D), and every call's frame (channels_first
 * transposed in and out, an empty batch, the bias and the activation).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import { MasqueError, formatShape } from '../../errors.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { dataFormatOption, type DataFormat } from '../pooling/base_global_pooling1d.js';
import { oneIntOption } from '../pooling/base_pooling1d.js';

/** The options of a 1-D window that Keras's depthwise, separable and transposed convolutions share ('causal' is Conv1D's alone). */
export const windowOptions = () => ({
  kernelSize: oneIntOption(),
  strides: oneIntOption(1),
  padding: opt.oneOf(['valid', 'same'] as const, 'valid'),
  dataFormat: dataFormatOption(),
  dilationRate: oneIntOption(1),
  activation: opt.activation<ActivationSpec>(null),
  useBias: opt.bool(true),
});

export interface WindowArgs {
  kernelSize: number;
  strides: number;
  padding: 'valid' | 'same';
  dataFormat: DataFormat;
  dilationRate: number;
  activation: ActivationSpec;
  useBias: boolean;
}

/** The number of channels of a 3-D input shape, checked known. */
export function inputChannels(inputShape: Shape, dataFormat: DataFormat, where: string): number {
  const c = dataFormat === 'channels_first' ? inputShape[1] : inputShape[2];
  if (inputShape.length !== 3 || typeof c !== 'number') {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where} expects a 3-D input with a known number of channels; received ${formatShape(inputShape)}.`);
  }
  return c;
}

/**
 * Runs `body` on the input as [batch, time, channels] (transposed when the
 * data format is channels_first), then adds the bias and applies the
 * activation, and transposes back. An empty batch gives an empty output of
 * `outT` steps and `filters` channels without running `body`.
 */
export function convFrame(
  input: tf.Tensor,
  first: boolean,
  outT: number,
  filters: number,
  body: (x: tf.Tensor3D) => tf.Tensor3D,
  bias: tf.Variable | null,
  act: (x: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const x = (first ? tf.transpose(input, [0, 2, 1]) : input) as tf.Tensor3D;
  let y: tf.Tensor = x.shape[0] === 0 ? tf.zeros([0, outT, filters]) : body(x);
  if (bias) y = tf.add(y, bias);
  y = act(y);
  return first ? tf.transpose(y, [0, 2, 1]) : y;
}

/**
 * Conv1D and Conv1DTranspose: a kernel, an optional bias, an activation, and
 * Keras's rule that strides and dilation cannot both exceed 1.
 */
export abstract class KernelConv1D extends Layer<CallArgs> {
  declare readonly args: { strides: number; dilationRate: number; activation: ActivationSpec };
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;
  protected readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(args: BaseLayerArgs) {
    super(args);
    const where = `${this.className} '${this.name}'`;
    const { strides, dilationRate, activation } = this.args;
    if (strides > 1 && dilationRate > 1) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: strides and dilationRate cannot both be greater than 1; received strides ${strides} and dilationRate ${dilationRate}.`);
    }
    this.act = getActivation(activation, where);
  }
}
