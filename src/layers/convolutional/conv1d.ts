/**
 * Conv1D: temporal convolution with 'valid', 'same' or 'causal' padding,
 * strides, dilation and groups. Like Keras, it does not support masks: under
 * the default mask policy a masked input raises MASK_NOT_SUPPORTED
 * (departure 1); under 'warn' padded steps are convolved as data (rule 21).
 * A kernel longer than a 'valid' input, and an input with no steps, raise
 * INPUT_SHAPE_MISMATCH before tfjs sees them.
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, Shape, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import type { ActivationSpec } from '../../ops/activations.js';
import { conv1d } from '../../ops/conv_ops.js';
import { MasqueError, formatShape } from '../../errors.js';
import { dataFormatOption, type DataFormat } from '../pooling/base_global_pooling1d.js';
import { oneIntOption, windowOutputLength } from '../pooling/base_pooling1d.js';
import { KernelConv1D, convFrame } from './conv_common.js';

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

interface Filled1D {
  filters: number;
  kernelSize: number;
  strides: number;
  padding: 'valid' | 'same' | 'causal';
  dataFormat: DataFormat;
  dilationRate: number;
  groups: number;
  activation: ActivationSpec;
  useBias: boolean;
  kernelInitializer: InitializerSpec;
  biasInitializer: InitializerSpec;
}

export class Conv1D extends KernelConv1D {
  static override readonly className = 'Conv1D';
  static override readonly options = {
    filters: opt.int({ min: 1 }),
    kernelSize: oneIntOption(),
    strides: oneIntOption(1),
    padding: opt.oneOf(['valid', 'same', 'causal'] as const, 'valid'),
    dataFormat: dataFormatOption(),
    dilationRate: oneIntOption(1),
    groups: opt.int({ min: 1, default: 1 }),
    activation: opt.activation<ActivationSpec>(null),
    useBias: opt.bool(true),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
  } satisfies OptionsOf<Omit<Conv1DArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled1D;

  constructor(args: Conv1DArgs) {
    super(args);
    const { filters, groups } = this.args;
    if (filters % groups !== 0) throw new MasqueError('INVALID_ARGUMENT', `Conv1D '${this.name}': groups must divide filters (${filters}); received ${groups}.`);
  }

  override build(inputShape: Shape): void {
    const c = this.args.dataFormat === 'channels_first' ? inputShape[1] : inputShape[2];
    if (inputShape.length !== 3 || typeof c !== 'number' || c % this.args.groups !== 0) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Conv1D '${this.name}' expects a 3-D input with known channels divisible by groups (${this.args.groups}); received ${formatShape(inputShape)}.`);
    }
    this.kernel = this.addWeight('kernel', [this.args.kernelSize, c / this.args.groups, this.args.filters], { initializer: this.args.kernelInitializer });
    if (this.args.useBias) this.bias = this.addWeight('bias', [this.args.filters], { initializer: this.args.biasInitializer });
  }

  /** Output steps for `t` input steps; checks the kernel fits a 'valid' input. */
  private outLength(t: number | null): number | null {
    const { kernelSize: k, dilationRate: d, strides: s, padding } = this.args;
    return windowOutputLength(t, d * (k - 1) + 1, s, padding, `Conv1D '${this.name}'`);
  }

  call(input: tf.Tensor): tf.Tensor {
    const { kernelSize: k, dilationRate: d, strides: s, groups: g, padding } = this.args;
    const first = this.args.dataFormat === 'channels_first';
    const t = this.outLength(input.shape[first ? 2 : 1]!)!;
    // tfjs's wasm convolution fails on an empty batch: convFrame gives the empty output without it.
    return convFrame(input, first, t, this.args.filters, (x) => {
      if (padding === 'causal') x = tf.pad(x, [[0, 0], [d * (k - 1), 0], [0, 0]]);
      const pad = padding === 'same' ? 'same' : 'valid';
      if (g === 1) return conv1d(x, this.kernel as tf.Tensor as tf.Tensor3D, s, pad, d);
      const kernels = tf.split(this.kernel, g, 2);
      return tf.concat(tf.split(x, g, 2).map((xi, i) => conv1d(xi as tf.Tensor3D, kernels[i] as tf.Tensor3D, s, pad, d)), 2) as tf.Tensor3D;
    }, this.bias, this.act);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `Conv1D '${this.name}'`);
    const first = this.args.dataFormat === 'channels_first';
    const t = this.outLength(x.shape[first ? 2 : 1] ?? null);
    return { shape: first ? [x.shape[0] ?? null, this.args.filters, t] : [x.shape[0] ?? null, t, this.args.filters], dtype: 'float32', mask: null };
  }
}
