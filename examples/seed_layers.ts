/**
 * The custom layers of the seed notes, written with Masque's Layer API.
 * Each shows one part of the mask protocol: `supportsMasking`,
 * `call(inputs, { mask })` and `computeMask(inputs, mask)`.
 */
import { tf, Layer, type CallArgs, type MaskArg, type Shape } from '../src/index.js';

/** Mean over time that ignores masked steps (seed 001, example 1). Consumes the mask. */
export class MaskedMeanPool extends Layer {
  constructor(args: { name?: string } = {}) {
    super(args, 'MaskedMeanPool');
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], { mask }: CallArgs): tf.Tensor {
    const x = inputs as tf.Tensor;
    if (!mask) return tf.mean(x, 1);
    const m = tf.cast(tf.expandDims(mask as tf.Tensor, -1), x.dtype);
    return tf.div(tf.sum(tf.mul(x, m), 1), tf.sum(m, 1));
  }

  override computeMask(): MaskArg {
    return null;
  }
}

/** Flatten [B, T, D] -> [B, T*D], flattening the mask the same way (seed 001, example 2). */
export class FlattenWithMask extends Layer {
  constructor(args: { name?: string } = {}) {
    super(args, 'FlattenWithMask');
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputs as tf.Tensor;
    return tf.reshape(x, [x.shape[0]!, -1]);
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): MaskArg {
    if (!mask) return null;
    const x = inputs as tf.Tensor;
    const full = tf.broadcastTo(tf.expandDims(mask as tf.Tensor, -1), x.shape);
    return tf.reshape(full, [x.shape[0]!, -1]);
  }
}

/** Sum over the last axis of the entries whose mask is true (seed 001, example 2). */
export class MaskedSum extends Layer {
  constructor(args: { name?: string } = {}) {
    super(args, 'MaskedSum');
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], { mask }: CallArgs): tf.Tensor {
    let x = inputs as tf.Tensor;
    if (mask) x = tf.where(mask as tf.Tensor, x, tf.zerosLike(x));
    return tf.sum(x, -1);
  }

  override computeMask(): MaskArg {
    return null;
  }
}

/** Splits along time into two halves, and splits the mask too (seed 002, the Keras guide). */
export class TemporalSplit extends Layer<CallArgs, true> {
  constructor(args: { name?: string } = {}) {
    super(args, 'TemporalSplit');
    this.supportsMasking = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.split(inputs as tf.Tensor, 2, 1);
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): MaskArg {
    if (!mask) return null;
    return tf.split(mask as tf.Tensor, 2, 1);
  }
}

/** An embedding written by hand, with its own computeMask (seed 002). */
export class CustomEmbedding extends Layer {
  embeddings!: tf.Variable;

  constructor(override readonly args: { inputDim: number; outputDim: number; maskZero?: boolean; name?: string }) {
    super(args, 'CustomEmbedding');
  }

  override build(_inputShape: Shape): void {
    this.embeddings = this.addWeight('embeddings', [this.args.inputDim, this.args.outputDim], { initializer: 'randomNormal' });
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.gather(this.embeddings, tf.cast(inputs as tf.Tensor, 'int32'));
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[]): MaskArg {
    if (!this.args.maskZero) return null;
    return tf.notEqual(inputs as tf.Tensor, 0);
  }
}
