/**
 * EinsumDense (Keras's general form): `activation(einsum(equation, x,
 * kernel) + bias)`, with the kernel's shape and the output shape found from
 * `equation` and `outputShape` as Keras finds them (`'btf,fu->btu'`, or
 * with `...` for the elided axes), and a bias over `biasAxes`. As in Keras
 * it does not support masks: a masked input raises MASK_NOT_SUPPORTED under
 * the default policy (departure 1). MultiHeadAttention and
 * GroupQueryAttention use their own restricted projection
 * (layers/attention/einsum_dense.ts).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getConstraint, getRegularizer, type ConstraintSpec, type RegularizerSpec } from '../../engine/regularizers.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { einsumDense, einsumDenseShapes, parseEinsum, type EinsumParts } from '../../ops/einsum_ops.js';
import { activityPenalty } from '../../ops/noise_ops.js';

export interface EinsumDenseArgs extends BaseLayerArgs {
  /** The output's shape without the batch axis (an integer for one axis); null for an axis whose size comes from the input. */
  outputShape: number | (number | null)[];
  /** E.g. 'btf,fu->btu', 'abc,cde->abde', '...b,bc->...c'. */
  equation: string;
  activation?: ActivationSpec;
  /** Output labels that get a bias (e.g. 'u'), or null for none. */
  biasAxes?: string | null;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerSpec | null;
  biasRegularizer?: RegularizerSpec | null;
  /** A penalty on the output (Keras's activity regularizer), added to the training loss divided by the batch size. */
  activityRegularizer?: RegularizerSpec | null;
  kernelConstraint?: ConstraintSpec | null;
  biasConstraint?: ConstraintSpec | null;
}

type Own = Omit<EinsumDenseArgs, keyof BaseLayerArgs>;

export class EinsumDense extends Layer<CallArgs> {
  static override readonly className = 'EinsumDense';
  static override readonly options = {
    outputShape: opt.custom<number | (number | null)[]>((v, w, n) => {
      // Keras stores the partial output shape as a tuple: an integer becomes [n].
      if (Number.isInteger(v) && (v as number) >= 1) return [v as number];
      if (Array.isArray(v) && v.every((d) => d === null || (Number.isInteger(d) && d >= 1))) return [...(v as (number | null)[])];
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a positive integer or a list of positive integers or null; received ${describe(v)}.`);
    }),
    equation: opt.string(),
    activation: opt.activation<ActivationSpec>(null),
    biasAxes: opt.custom<string | null>((v, w, n) => (v === null || (typeof v === 'string' && /^[a-zA-Z]+$/.test(v)) ? (v as string | null) : fail(w, n, v)), { default: null }),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
    kernelRegularizer: opt.regularizer<RegularizerSpec | null>(),
    biasRegularizer: opt.regularizer<RegularizerSpec | null>(),
    activityRegularizer: opt.regularizer<RegularizerSpec | null>(),
    kernelConstraint: opt.constraint<ConstraintSpec | null>(),
    biasConstraint: opt.constraint<ConstraintSpec | null>(),
  } satisfies OptionsOf<Own>;
  /** Keys Keras's config holds that Masque fixes (null), written on export so the config has Keras's keys. */
  static readonly kerasExtras = { quantization_config: null };
  declare readonly args: Filled<Own>;
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;
  private readonly parts: EinsumParts;
  private readonly act: (x: tf.Tensor) => tf.Tensor;
  private readonly activity: ((x: tf.Tensor) => tf.Scalar) | null;

  constructor(args: EinsumDenseArgs) {
    super(args);
    this.parts = parseEinsum(this.args.equation, this.where);
    this.act = getActivation(this.args.activation, this.where);
    for (const k of ['kernelRegularizer', 'biasRegularizer'] as const) getRegularizer(this.args[k], `${this.where}, ${k}`);
    for (const k of ['kernelConstraint', 'biasConstraint'] as const) getConstraint(this.args[k], `${this.where}, ${k}`);
    this.activity = getRegularizer(this.args.activityRegularizer, `${this.where}, activityRegularizer`);
  }

  private get where(): string {
    return `EinsumDense '${this.name}'`;
  }

  private shapes(inputShape: Shape) {
    return einsumDenseShapes(this.parts, this.args.biasAxes, inputShape, this.args.outputShape as (number | null)[], this.where);
  }

  override build(inputShape: Shape | Shape[]): void {
    if (Array.isArray(inputShape[0])) throw new MasqueError('INVALID_INPUT', `${this.where} expects one input tensor; received a list of ${inputShape.length}.`);
    const { kernel, bias } = this.shapes(inputShape as Shape);
    const a = this.args;
    this.kernel = this.addWeight('kernel', kernel, { initializer: a.kernelInitializer, regularizer: a.kernelRegularizer, constraint: a.kernelConstraint });
    if (bias !== null) this.bias = this.addWeight('bias', bias, { initializer: a.biasInitializer, regularizer: a.biasRegularizer, constraint: a.biasConstraint });
  }

  call(x: tf.Tensor): tf.Tensor {
    let y = einsumDense(this.parts, x, this.kernel);
    if (this.bias) y = tf.add(y, this.bias);
    const out = this.act(y);
    if (this.activity !== null) this.addLoss(() => activityPenalty(out, null, this.activity!));
    return out;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], _args: SpecArgs<CallArgs>): TensorSpec {
    const x = oneSpec(inputs, this.where);
    const { kernel, output } = this.shapes(x.shape);
    if (this.built && (kernel.length !== this.kernel.shape.length || kernel.some((d, i) => d !== this.kernel.shape[i]))) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: the input ${formatShape(x.shape)} needs a kernel of shape ${formatShape(kernel)}; the layer was built with ${formatShape(this.kernel.shape)}.`);
    }
    return { shape: output, dtype: 'float32', mask: null };
  }
}

function fail(w: string, n: string, v: unknown): never {
  throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be null or a string of output labels (e.g. 'u'); received ${describe(v)}.`);
}
