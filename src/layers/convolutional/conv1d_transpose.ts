/**
 * Conv1DTranspose: the transposed 1-D convolution (the adjoint of Conv1D's
 * correlation), as Keras computes it: input step i adds x[i] times kernel tap
 * j ([k, filters, C_in]) to step i*strides + j*dilationRate, the result is
 * cut on the left by Keras's padding and `outputPadding` rule and runs as
 * long as Keras's output length (zeros past the end). No mask support (under
 * the default mask policy a masked input raises MASK_NOT_SUPPORTED).
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, Shape, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import type { ActivationSpec } from '../../ops/activations.js';
import { conv1dTranspose } from '../../ops/conv_ops.js';
import { MasqueError, describe } from '../../errors.js';
import type { DataFormat } from '../pooling/base_global_pooling1d.js';
import { KernelConv1D, convFrame, inputChannels, windowOptions, type WindowArgs } from './conv_common.js';

export interface Conv1DTransposeArgs extends BaseLayerArgs {
  filters: number;
  kernelSize: number | [number];
  strides?: number | [number];
  padding?: 'valid' | 'same';
  /** Extra steps at the end of the output, below `strides` (default null: Keras's own length). */
  outputPadding?: number | [number] | null;
  dataFormat?: DataFormat;
  dilationRate?: number | [number];
  activation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

type Filled = WindowArgs & { filters: number; outputPadding: number | null; kernelInitializer: InitializerSpec; biasInitializer: InitializerSpec };

export class Conv1DTranspose extends KernelConv1D {
  static override readonly className = 'Conv1DTranspose';
  static override readonly options = {
    filters: opt.int({ min: 1 }),
    ...windowOptions(),
    outputPadding: opt.custom<number | null>(
      (v, w, n) => {
        const x = Array.isArray(v) && v.length === 1 ? v[0] : v;
        if (x === null || (Number.isInteger(x) && (x as number) >= 0)) return x as number | null;
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be null or a non-negative integer (or a one-element list); received ${describe(v)}.`);
      },
      { default: null },
    ),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
  } satisfies OptionsOf<Omit<Conv1DTransposeArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled;

  constructor(args: Conv1DTransposeArgs) {
    super(args);
    const { outputPadding: op, strides } = this.args;
    if (op !== null && op >= strides) {
      throw new MasqueError('INVALID_ARGUMENT', `Conv1DTranspose '${this.name}': outputPadding must be below strides (${strides}); received ${op}.`);
    }
  }

  override build(inputShape: Shape): void {
    const c = inputChannels(inputShape, this.args.dataFormat, `Conv1DTranspose '${this.name}'`);
    this.kernel = this.addWeight('kernel', [this.args.kernelSize, this.args.filters, c], { initializer: this.args.kernelInitializer });
    if (this.args.useBias) this.bias = this.addWeight('bias', [this.args.filters], { initializer: this.args.biasInitializer });
  }

  /** Keras's output length for `t` input steps, and how many steps of the full scatter it cuts on the left. */
  private geometry(t: number | null): { outT: number | null; cropLeft: number } {
    const { kernelSize: k, dilationRate: d, strides: s, padding, outputPadding: op } = this.args;
    const span = d * (k - 1) + 1;
    if (t === 0) throw new MasqueError('INPUT_SHAPE_MISMATCH', `Conv1DTranspose '${this.name}': the input has 0 time steps; it needs at least one.`);
    if (padding === 'valid') return { outT: t === null ? null : (t - 1) * s + (op === null ? Math.max(span, s) : span + op), cropLeft: 0 };
    const cropLeft = op === null ? Math.max(0, Math.floor((span - s) / 2)) : Math.max(0, Math.floor(span / 2) - Math.ceil(op / 2));
    return { outT: t === null ? null : op === null ? t * s : (t - 1) * s + (span % 2) + op, cropLeft };
  }

  call(input: tf.Tensor): tf.Tensor {
    const first = this.args.dataFormat === 'channels_first';
    const { outT, cropLeft } = this.geometry(input.shape[first ? 2 : 1]!);
    const { strides: s, dilationRate: d, filters } = this.args;
    return convFrame(input, first, outT!, filters, (x) => conv1dTranspose(x, this.kernel as tf.Tensor as tf.Tensor3D, s, d, cropLeft, outT!), this.bias, this.act);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `Conv1DTranspose '${this.name}'`);
    const first = this.args.dataFormat === 'channels_first';
    const { outT } = this.geometry(x.shape[first ? 2 : 1] ?? null);
    return { shape: first ? [x.shape[0] ?? null, this.args.filters, outT] : [x.shape[0] ?? null, outT, this.args.filters], dtype: 'float32', mask: null };
  }
}
