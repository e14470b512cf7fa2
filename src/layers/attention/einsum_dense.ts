/**
 * The projection sub-layers of MultiHeadAttention and GroupQueryAttention
 * (Keras's EinsumDense in the forms they use; the general, public
 * EinsumDense is layers/core/einsum_dense.ts): the last `inputDims.length` axes of the input are
 * contracted with a kernel of shape [...inputDims, ...outputDims], and a bias
 * of shape `outputDims` is added. Weights are named like Keras's
 * (`multi_head_attention/query/kernel`).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import type { ConstraintSpec, RegularizerSpec } from '../../engine/regularizers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { matMul } from '../../ops/matmul.js';

export interface EinsumDenseArgs extends BaseLayerArgs {
  name: string;
  /** Trailing input axes that are contracted, e.g. [dim] or [heads, valueDim]. */
  inputDims: number[];
  /** Output axes that replace them, e.g. [heads, keyDim] or [dim]. */
  outputDims: number[];
  useBias: boolean;
  activation?: ActivationSpec;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerSpec | null;
  biasRegularizer?: RegularizerSpec | null;
  kernelConstraint?: ConstraintSpec | null;
  biasConstraint?: ConstraintSpec | null;
}

type Own = Omit<EinsumDenseArgs, keyof BaseLayerArgs>;

/** A non-empty list of positive integers (Masque's own form; Keras configs describe the projection by an equation). */
const dims = () =>
  opt.custom<number[]>(
    (v, w, n) => {
      if (Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && d >= 1)) return [...(v as number[])];
      throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a non-empty list of positive integers; received ${describe(v)}.`);
    },
    { kerasKind: 'none' },
  );

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

export class EinsumDense extends Layer<CallArgs> {
  static override readonly className = 'EinsumDense';
  static override readonly options = {
    inputDims: dims(),
    outputDims: dims(),
    useBias: opt.bool(),
    activation: opt.activation<ActivationSpec>(null),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
    // The attention layers' regularizers and constraints, given to each projection (as Keras does).
    kernelRegularizer: { ...opt.regularizer<RegularizerSpec | null>(), kerasKind: 'none' },
    biasRegularizer: { ...opt.regularizer<RegularizerSpec | null>(), kerasKind: 'none' },
    kernelConstraint: { ...opt.constraint<ConstraintSpec | null>(), kerasKind: 'none' },
    biasConstraint: { ...opt.constraint<ConstraintSpec | null>(), kerasKind: 'none' },
  } satisfies OptionsOf<Omit<Own, 'name'>>;
  declare readonly args: Filled<Omit<Own, 'name'>>;
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(args: EinsumDenseArgs) {
    super(args);
    this.act = getActivation(this.args.activation, `EinsumDense '${this.name}'`);
    this.supportsMasking = true;
  }

  override build(): void {
    const a = this.args;
    this.kernel = this.addWeight('kernel', [...a.inputDims, ...a.outputDims], { initializer: a.kernelInitializer, regularizer: a.kernelRegularizer, constraint: a.kernelConstraint });
    if (a.useBias) this.bias = this.addWeight('bias', a.outputDims, { initializer: a.biasInitializer, regularizer: a.biasRegularizer, constraint: a.biasConstraint });
    this.built = true;
  }

  /** Checks that the input ends in `inputDims`; returns its leading axes. */
  private lead(shape: Shape): Shape {
    const { inputDims } = this.args;
    const k = inputDims.length;
    const tail = shape.slice(shape.length - k);
    if (shape.length < k || tail.some((d, i) => d !== inputDims[i])) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `EinsumDense '${this.path}': expected the input to end in ${formatShape(inputDims)}; received shape ${formatShape(shape)}.`);
    }
    return shape.slice(0, shape.length - k);
  }

  /** The projection of `x` ([...batch, ...inputDims] -> [...batch, ...outputDims]). */
  project(x: tf.Tensor): tf.Tensor {
    const { inputDims, outputDims } = this.args;
    const lead = this.lead(x.shape) as number[];
    return tf.tidy(() => {
      let y = matMul(tf.reshape(x, [prod(lead), prod(inputDims)]), tf.reshape(this.kernel, [prod(inputDims), prod(outputDims)]));
      if (this.bias) y = tf.add(y, tf.reshape(this.bias, [prod(outputDims)]));
      return this.act(tf.reshape(y, [...lead, ...outputDims]));
    });
  }

  call(x: tf.Tensor): tf.Tensor {
    return this.project(x);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const x = oneSpec(inputs, `EinsumDense '${this.path}'`);
    return { shape: [...this.lead(x.shape), ...this.args.outputDims], dtype: 'float32', mask: firstMask(args.mask) };
  }
}
