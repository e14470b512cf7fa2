/**
 * Masking: marks a timestep as padding when every feature equals `maskValue`,
 * and zeroes masked steps (with 0, whatever `maskValue` is, as Keras does).
 * Departure: `maskValue: NaN` matches NaN features (in Keras NaN never
 * equals itself, so NaN steps can never be masked).
 */
import type { tf } from '../../runtime/tfjs.js';
import { Layer, withMasks, type MaskedOutputs } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec, specLike } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, MaskArg, TensorSpec } from '../../engine/types.js';
import { maskSteps, stepMask } from '../../ops/mask_ops.js';

export interface MaskingArgs extends BaseLayerArgs {
  /** The padding value (default 0). */
  maskValue?: number;
}

export class Masking extends Layer<CallArgs> {
  static override readonly className = 'Masking';
  static override readonly options = {
    maskValue: opt.anyNumber({ default: 0 }),
  } satisfies OptionsOf<Omit<MaskingArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<MaskingArgs, keyof BaseLayerArgs>>;

  static maskDetail(layer: Masking): string {
    return `maskValue ${layer.args.maskValue}`;
  }

  constructor(args: MaskingArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  get maskValue(): number {
    return this.args.maskValue;
  }

  /** One step-mask computation serves both the output and its mask. */
  call(x: tf.Tensor): MaskedOutputs {
    const { output, mask } = maskSteps(x, this.args.maskValue);
    return withMasks(output, mask);
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], _mask?: MaskArg): tf.Tensor {
    return stepMask(inputs as tf.Tensor, this.args.maskValue);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, `Masking '${this.name}'`);
    return specLike(x, { shape: x.shape.slice(0, -1) });
  }
}
