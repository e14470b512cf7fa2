/**
 * The projection sub-layers of MultiHeadAttention (Keras's EinsumDense in
 * the forms MHA uses): the last `inputDims.length` axes of the input are
 * contracted with a kernel of shape [...inputDims, ...outputDims], and a bias
 * of shape `outputDims` is added. Weights are named like Keras's
 * (`multi_head_attention/query/kernel`).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { CallArgs } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { MasqueError, formatShape } from '../../errors.js';

export interface EinsumDenseArgs {
  name: string;
  /** Trailing input axes that are contracted, e.g. [dim] or [heads, valueDim]. */
  inputDims: number[];
  /** Output axes that replace them, e.g. [heads, keyDim] or [dim]. */
  outputDims: number[];
  useBias: boolean;
  activation?: ActivationSpec;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

export class EinsumDense extends Layer<CallArgs> {
  readonly args: EinsumDenseArgs;
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(args: EinsumDenseArgs) {
    super({ name: args.name }, 'EinsumDense');
    this.args = args;
    this.act = getActivation(args.activation ?? null, `EinsumDense '${args.name}'`);
    this.supportsMasking = true;
  }

  override build(): void {
    this.kernel = this.addWeight('kernel', [...this.args.inputDims, ...this.args.outputDims], { initializer: this.args.kernelInitializer ?? 'glorotUniform' });
    if (this.args.useBias) this.bias = this.addWeight('bias', this.args.outputDims, { initializer: this.args.biasInitializer ?? 'zeros' });
    this.built = true;
  }

  /** The projection of `x` ([...batch, ...inputDims] -> [...batch, ...outputDims]). */
  project(x: tf.Tensor): tf.Tensor {
    const { inputDims, outputDims } = this.args;
    const k = inputDims.length;
    const tail = x.shape.slice(x.rank - k);
    if (tail.some((d, i) => d !== inputDims[i])) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `EinsumDense '${this.path}': expected the input to end in ${formatShape(inputDims)}; received shape ${formatShape(x.shape)}.`);
    }
    return tf.tidy(() => {
      const lead = x.shape.slice(0, x.rank - k);
      let y = tf.matMul(tf.reshape(x, [-1, prod(inputDims)]), tf.reshape(this.kernel, [prod(inputDims), prod(outputDims)]));
      if (this.bias) y = tf.add(y, tf.reshape(this.bias, [prod(outputDims)]));
      return this.act(tf.reshape(y, [...lead, ...outputDims]));
    });
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.project(inputs as tf.Tensor);
  }

  override getConfig(): EinsumDenseArgs & { name: string } {
    return { ...this.args };
  }
}
