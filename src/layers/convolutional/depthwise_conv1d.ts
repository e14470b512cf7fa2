/**
 * DepthwiseConv1D and SeparableConv1D: each input channel convolved with its
 * own `depthMultiplier` filters (output channel c * depthMultiplier + m), and
 * for SeparableConv1D a pointwise product across channels after it. As in
 * Keras: 'valid' or 'same' padding, strides and dilation (both may exceed
 * 1), channels_last or channels_first, no mask support (under the default
 * mask policy a masked input raises MASK_NOT_SUPPORTED).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { depthwiseConv1d, samePadding } from '../../ops/conv_ops.js';
import type { DataFormat } from '../pooling/base_global_pooling1d.js';
import { windowOutputLength } from '../pooling/base_pooling1d.js';
import { convFrame, inputChannels, windowOptions, type WindowArgs } from './conv_common.js';

interface DepthwiseOwnArgs {
  kernelSize: number | [number];
  strides?: number | [number];
  padding?: 'valid' | 'same';
  dataFormat?: DataFormat;
  dilationRate?: number | [number];
  /** Filters per input channel (default 1). */
  depthMultiplier?: number;
  activation?: ActivationSpec;
  useBias?: boolean;
  depthwiseInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

export interface DepthwiseConv1DArgs extends BaseLayerArgs, DepthwiseOwnArgs {}

export interface SeparableConv1DArgs extends BaseLayerArgs, DepthwiseOwnArgs {
  filters: number;
  pointwiseInitializer?: InitializerSpec;
}

type DepthwiseFilled = WindowArgs & { depthMultiplier: number; depthwiseInitializer: InitializerSpec; biasInitializer: InitializerSpec };

const depthwiseOptions = () => ({
  ...windowOptions(),
  depthMultiplier: opt.int({ min: 1, default: 1 }),
  depthwiseInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
  biasInitializer: opt.initializer<InitializerSpec>('zeros'),
});

/** The depthwise step both layers run, and its output length. */
abstract class DepthwiseBase extends Layer<CallArgs> {
  declare readonly args: DepthwiseFilled;
  protected depthwise!: tf.Variable;
  bias: tf.Variable | null = null;
  protected readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(args: DepthwiseConv1DArgs | SeparableConv1DArgs) {
    super(args);
    this.act = getActivation(this.args.activation, `${this.className} '${this.name}'`);
  }

  /** Builds the depthwise kernel [k, C, depthMultiplier] under `name`; returns C * depthMultiplier. */
  protected buildDepthwise(inputShape: Shape, name: string): number {
    const a = this.args;
    const c = inputChannels(inputShape, a.dataFormat, `${this.className} '${this.name}'`);
    this.outLength(inputShape[a.dataFormat === 'channels_first' ? 2 : 1] ?? null);
    this.depthwise = this.addWeight(name, [a.kernelSize, c, a.depthMultiplier], { initializer: a.depthwiseInitializer });
    return c * a.depthMultiplier;
  }

  protected outLength(t: number | null): number | null {
    const { kernelSize: k, dilationRate: d, strides: s, padding } = this.args;
    return windowOutputLength(t, d * (k - 1) + 1, s, padding, `${this.className} '${this.name}'`);
  }

  /** The depthwise convolution of a channels-last input: [B, outT, C * depthMultiplier]. */
  protected depthwiseStep(x: tf.Tensor3D, outT: number): tf.Tensor3D {
    const { kernelSize: k, dilationRate: d, strides: s, padding } = this.args;
    const left = padding === 'same' ? samePadding(x.shape[1], d * (k - 1) + 1, s)[0] : 0;
    return depthwiseConv1d(x, this.depthwise as tf.Tensor as tf.Tensor3D, s, d, left, outT);
  }

  /** Output channels for `c` input channels. */
  protected abstract outChannels(c: number): number;

  call(input: tf.Tensor): tf.Tensor {
    const first = this.args.dataFormat === 'channels_first';
    const outT = this.outLength(input.shape[first ? 2 : 1]!)!;
    return convFrame(input, first, outT, this.outChannels(input.shape[first ? 1 : 2]!), (x) => this.body(x, outT), this.bias, this.act);
  }

  protected abstract body(x: tf.Tensor3D, outT: number): tf.Tensor3D;

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `${this.className} '${this.name}'`);
    const first = this.args.dataFormat === 'channels_first';
    const t = this.outLength(x.shape[first ? 2 : 1] ?? null);
    const c = this.outChannels(inputChannels(x.shape, this.args.dataFormat, `${this.className} '${this.name}'`));
    return { shape: first ? [x.shape[0] ?? null, c, t] : [x.shape[0] ?? null, t, c], dtype: 'float32', mask: null };
  }
}

export class DepthwiseConv1D extends DepthwiseBase {
  static override readonly className = 'DepthwiseConv1D';
  static override readonly options = depthwiseOptions() satisfies OptionsOf<Omit<DepthwiseConv1DArgs, keyof BaseLayerArgs>>;
  constructor(args: DepthwiseConv1DArgs) {
    super(args);
  }

  get kernel(): tf.Variable {
    return this.depthwise;
  }

  protected outChannels(c: number): number {
    return c * this.args.depthMultiplier;
  }

  override build(inputShape: Shape): void {
    // Keras names this layer's kernel 'kernel' ([k, C, depthMultiplier]).
    const channels = this.buildDepthwise(inputShape, 'kernel');
    if (this.args.useBias) this.bias = this.addWeight('bias', [channels], { initializer: this.args.biasInitializer });
  }

  protected body(x: tf.Tensor3D, outT: number): tf.Tensor3D {
    return this.depthwiseStep(x, outT);
  }
}

export class SeparableConv1D extends DepthwiseBase {
  static override readonly className = 'SeparableConv1D';
  static override readonly options = {
    filters: opt.int({ min: 1 }),
    ...depthwiseOptions(),
    pointwiseInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
  } satisfies OptionsOf<Omit<SeparableConv1DArgs, keyof BaseLayerArgs>>;
  declare readonly args: DepthwiseFilled & { filters: number; pointwiseInitializer: InitializerSpec };
  pointwiseKernel!: tf.Variable;

  constructor(args: SeparableConv1DArgs) {
    super(args);
  }

  get depthwiseKernel(): tf.Variable {
    return this.depthwise;
  }

  protected outChannels(): number {
    return this.args.filters;
  }

  override build(inputShape: Shape): void {
    const mid = this.buildDepthwise(inputShape, 'depthwise_kernel');
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, mid, this.args.filters], { initializer: this.args.pointwiseInitializer });
    if (this.args.useBias) this.bias = this.addWeight('bias', [this.args.filters], { initializer: this.args.biasInitializer });
  }

  protected body(x: tf.Tensor3D, outT: number): tf.Tensor3D {
    const dw = this.depthwiseStep(x, outT);
    const [b, , mid] = dw.shape;
    const y = tf.matMul(tf.reshape(dw, [b * outT, mid]), tf.reshape(this.pointwiseKernel, [mid, this.args.filters]));
    return tf.reshape(y, [b, outT, this.args.filters]) as tf.Tensor3D;
  }
}
