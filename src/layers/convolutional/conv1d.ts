/**
 * Conv1D: temporal convolution with 'valid', 'same' or 'causal' padding,
 * strides, dilation and groups. Like Keras, it does not support masks: under
 * the default mask policy a masked input raises MASK_NOT_SUPPORTED
 * (departure 1); under 'warn' padded steps are convolved as data (rule 21).
 * A kernel longer than a 'valid' input, and an input with no steps, raise
 * INPUT_SHAPE_MISMATCH before tfjs sees them.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { conv1d } from '../../ops/conv_ops.js';
import { MasqueError, formatShape } from '../../errors.js';
import { dataFormatOption, type DataFormat } from '../pooling/base_global_pooling1d.js';
import { oneIntOption, windowOutputLength } from '../pooling/base_pooling1d.js';

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

export class Conv1D extends Layer<CallArgs> {
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
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(args: Conv1DArgs) {
    super(args);
    const where = `Conv1D '${this.name}'`;
    const a = this.args;
    if (a.filters % a.groups !== 0) throw new MasqueError('INVALID_ARGUMENT', `${where}: groups must divide filters (${a.filters}); received ${a.groups}.`);
    if (a.strides > 1 && a.dilationRate > 1) throw new MasqueError('INVALID_ARGUMENT', `${where}: strides and dilationRate cannot both be greater than 1.`);
    this.act = getActivation(a.activation, where);
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
    const { kernelSize: k, dilationRate: d, strides: s, groups: g } = this.args;
    const first = this.args.dataFormat === 'channels_first';
    let x = input as tf.Tensor3D;
    if (first) x = tf.transpose(x, [0, 2, 1]);
    const t = this.outLength(x.shape[1]);
    if (x.shape[0] === 0) {
      // tfjs's wasm convolution fails on an empty batch: its output is empty anyway.
      const y = tf.zeros([0, t!, this.args.filters]);
      return first ? tf.transpose(y, [0, 2, 1]) : y;
    }
    const pad = this.args.padding === 'same' ? 'same' : 'valid';
    if (this.args.padding === 'causal') x = tf.pad(x, [[0, 0], [d * (k - 1), 0], [0, 0]]);
    const conv = (xi: tf.Tensor3D, ki: tf.Tensor3D) => conv1d(xi, ki, s, pad, d);
    let y: tf.Tensor =
      g === 1 ? conv(x, this.kernel as tf.Tensor3D) : tf.concat(tf.split(x, g, 2).map((xi, i) => conv(xi as tf.Tensor3D, tf.split(this.kernel, g, 2)[i] as tf.Tensor3D)), 2);
    if (this.bias) y = tf.add(y, this.bias);
    y = this.act(y);
    return first ? tf.transpose(y, [0, 2, 1]) : y;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `Conv1D '${this.name}'`);
    const first = this.args.dataFormat === 'channels_first';
    const t = this.outLength(x.shape[first ? 2 : 1] ?? null);
    return { shape: first ? [x.shape[0] ?? null, this.args.filters, t] : [x.shape[0] ?? null, t, this.args.filters], dtype: 'float32', mask: null };
  }
}
