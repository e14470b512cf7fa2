/** Dense: `activation(x @ kernel + bias)` on the last axis of any rank; passes the mask through. */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { activationName, getActivation, type ActivationSpec } from '../../ops/activations.js';
import { MasqueError, formatShape } from '../../errors.js';
import { matMul } from '../../ops/matmul.js';
import { fusedDenseClasses, fusedDenseProduct } from '../../ops/dense_ops.js';

export interface DenseArgs extends BaseLayerArgs {
  units: number;
  activation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

type Own = Omit<DenseArgs, keyof BaseLayerArgs>;

export class Dense extends Layer<CallArgs> {
  static override readonly className = 'Dense';
  static override readonly options = {
    units: opt.int({ min: 1 }),
    activation: opt.activation<ActivationSpec>(null),
    useBias: opt.bool(true),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;
  private readonly act: (x: tf.Tensor) => tf.Tensor;
  /** Whether the activation is the softmax, which the split product applies itself. */
  private readonly softmax: boolean;

  constructor(args: DenseArgs) {
    super(args);
    this.act = getActivation(this.args.activation, `Dense '${this.name}'`);
    this.softmax = typeof this.args.activation === 'string' && activationName(this.args.activation) === 'softmax';
    this.supportsMasking = true;
  }

  override build(inputShape: Shape): void {
    const last = inputShape[inputShape.length - 1];
    if (typeof last !== 'number') {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Dense '${this.name}': the last input dimension must be known; received input shape ${formatShape(inputShape)}.`);
    }
    this.kernel = this.addWeight('kernel', [last, this.args.units], { initializer: this.args.kernelInitializer });
    if (this.args.useBias) this.bias = this.addWeight('bias', [this.args.units], { initializer: this.args.biasInitializer });
  }

  /** x as a matrix [rows, k], k checked against the kernel. */
  private rows(x: tf.Tensor): tf.Tensor {
    const k = this.kernel.shape[0]!;
    if (x.shape[x.rank - 1] !== k) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `Dense '${this.name}': expected the last input dimension to be ${k}; received input shape ${formatShape(x.shape)}.`);
    }
    return tf.reshape(x, [x.shape.slice(0, -1).reduce((a, b) => a * b, 1), k]);
  }

  call(x: tf.Tensor): tf.Tensor {
    const flat = this.rows(x);
    const outShape = [...x.shape.slice(0, -1), this.args.units];
    // In the kernel where that pays (two threads for large products), with the bias and a softmax in the same pass.
    const split = fusedDenseProduct(flat, this.kernel, this.bias, this.softmax);
    if (split !== null) return this.softmax ? tf.reshape(split, outShape) : this.act(tf.reshape(split, outShape));
    let y = matMul(flat, this.kernel);
    if (this.bias) y = tf.add(y, this.bias);
    return this.act(tf.reshape(y, outShape));
  }

  /**
   * With a softmax or no activation, the classes are the argmax of the
   * logits x W + b: the softmax keeps a row's order, so it is not taken
   * (where two probabilities round to the same float32, the larger logit
   * wins rather than the first column). In the kernel (Node's wasm
   * backend), the logits never leave it. Other activations: null (the
   * argmax of the output).
   */
  override callClasses(x: tf.Tensor): tf.Tensor | null {
    const a = this.args.activation;
    const linear = typeof a !== 'function' && activationName(a) === 'linear';
    if (!this.softmax && !linear) return null;
    if (x.rank < 2) return null;
    const flat = this.rows(x);
    const classes = fusedDenseClasses(flat, this.kernel, this.bias) ?? tf.argMax(this.bias ? tf.add(matMul(flat, this.kernel), this.bias) : matMul(flat, this.kernel), -1);
    return tf.reshape(classes, x.shape.slice(0, -1));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const x = oneSpec(inputs, `Dense '${this.name}'`);
    return { shape: [...x.shape.slice(0, -1), this.args.units], dtype: 'float32', mask: firstMask(args.mask) };
  }
}
