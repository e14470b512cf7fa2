/**
 * Conv1D: temporal convolution with 'valid', 'same' or 'causal' padding,
 * strides, dilation and groups. Like Keras, it does not support masks: under
 * the default mask policy a masked input raises MASK_NOT_SUPPORTED
 * (departure 1); under 'warn' padded steps are convolved as data (rule 21).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { checkDataFormat, type DataFormat } from '../pooling/base_global_pooling1d.js';
import { oneInt } from '../pooling/base_pooling1d.js';

export interface Conv1DArgs extends BaseLayerArgs {
  filters: number;
  kernelSize: number | [number];
  strides?: number | [number];
  padding?: 'valid' | 'same' | 'causal';
  dataFormat?: DataFormat;
  dilationRate?: number | [number];
  groups?: number;
  activation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

export class Conv1D extends Layer<CallArgs> {
  readonly args: Conv1DArgs;
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;
  private readonly k: number;
  private readonly stride: number;
  private readonly dilation: number;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(args: Conv1DArgs) {
    super(args, 'Conv1D');
    const where = `Conv1D '${this.name}'`;
    const groups = args.groups ?? 1;
    if (!Number.isInteger(args.filters) || args.filters < 1) throw new MasqueError('INVALID_ARGUMENT', `${where}: filters must be a positive integer; received ${describe(args.filters)}.`);
    if (!Number.isInteger(groups) || groups < 1 || args.filters % groups !== 0) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: groups must be a positive integer dividing filters (${args.filters}); received ${describe(args.groups)}.`);
    }
    this.k = oneInt(args.kernelSize, 'kernelSize', where);
    this.stride = oneInt(args.strides ?? 1, 'strides', where);
    this.dilation = oneInt(args.dilationRate ?? 1, 'dilationRate', where);
    if (this.stride > 1 && this.dilation > 1) throw new MasqueError('INVALID_ARGUMENT', `${where}: strides and dilationRate cannot both be greater than 1.`);
    const padding = args.padding ?? 'valid';
    if (!['valid', 'same', 'causal'].includes(padding)) throw new MasqueError('INVALID_ARGUMENT', `${where}: padding must be 'valid', 'same' or 'causal'; received ${describe(args.padding)}.`);
    this.args = {
      activation: null, useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros', ...args,
      kernelSize: this.k, strides: this.stride, dilationRate: this.dilation, padding, groups, dataFormat: checkDataFormat(args.dataFormat, where),
    };
    this.act = getActivation(this.args.activation, where);
  }

  override build(inputShape: Shape): void {
    const c = this.args.dataFormat === 'channels_first' ? inputShape[1] : inputShape[2];
    if (inputShape.length !== 3 || typeof c !== 'number' || c % this.args.groups! !== 0) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Conv1D '${this.name}' expects a 3-D input with known channels divisible by groups (${this.args.groups}); received ${formatShape(inputShape)}.`);
    }
    this.kernel = this.addWeight('kernel', [this.k, c / this.args.groups!, this.args.filters], { initializer: this.args.kernelInitializer });
    if (this.args.useBias) this.bias = this.addWeight('bias', [this.args.filters], { initializer: this.args.biasInitializer });
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const first = this.args.dataFormat === 'channels_first';
    let x = inputs as tf.Tensor3D;
    if (first) x = tf.transpose(x, [0, 2, 1]);
    const pad = this.args.padding === 'same' ? 'same' : 'valid';
    if (this.args.padding === 'causal') x = tf.pad(x, [[0, 0], [this.dilation * (this.k - 1), 0], [0, 0]]);
    const g = this.args.groups!;
    const conv = (xi: tf.Tensor3D, ki: tf.Tensor3D) => tf.conv1d(xi, ki, this.stride, pad, 'NWC', this.dilation);
    let y: tf.Tensor =
      g === 1
        ? conv(x, this.kernel as tf.Tensor3D)
        : tf.concat(tf.split(x, g, 2).map((xi, i) => conv(xi as tf.Tensor3D, tf.split(this.kernel, g, 2)[i] as tf.Tensor3D)), 2);
    if (this.bias) y = tf.add(y, this.bias);
    y = this.act(y);
    return first ? tf.transpose(y, [0, 2, 1]) : y;
  }

  override getConfig(): Conv1DArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
