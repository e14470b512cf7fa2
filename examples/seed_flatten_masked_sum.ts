/**
 * Seed 001, example 2: Embedding(5, 3, maskZero, ones) -> a Flatten that
 * also flattens the mask -> a masked sum. Prints [3, 6, 9, 12] both ways:
 * method 1 reshapes values and mask back to [B, 4, 3] inside the sum;
 * method 2 uses the flattened [B, 12] mask directly.
 */
import { tf, ready, Input, Embedding, Model, Layer, type CallArgs, type MaskArg } from '../src/index.js';
import { FlattenWithMask, MaskedSum } from './seed_layers.js';
import { isMain, show } from './format.js';

/**
 * Method 1's sum: reshapes [B, T*D] back to [B, T, D], turns the flattened
 * mask back into a [B, T, D] mask, and sums the valid entries.
 */
class ReshapeMaskedSum extends Layer {
  constructor(private readonly steps: number) {
    super({}, 'ReshapeMaskedSum');
    this.supportsMasking = true;
  }
  call(inputs: tf.Tensor | tf.Tensor[], { mask }: CallArgs): tf.Tensor {
    const flat = inputs as tf.Tensor;
    const x = tf.reshape(flat, [flat.shape[0]!, this.steps, -1]);
    if (!mask) return tf.sum(x, [1, 2]);
    const m = tf.cast(tf.reshape(mask as tf.Tensor, x.shape), 'float32');
    return tf.sum(tf.mul(x, m), [1, 2]);
  }
  override computeMask(): MaskArg {
    return null;
  }
}

/** A Flatten that claims mask support but leaves the [B, T] mask on a [B, T*D] tensor. */
class FlattenKeepStepMask extends Layer {
  constructor() {
    super({}, 'FlattenKeepStepMask');
    this.supportsMasking = true;
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = inputs as tf.Tensor;
    return tf.reshape(x, [x.shape[0]!, -1]);
  }
}

export async function main(log: (s: string) => void = console.log): Promise<void> {
  await ready();
  const data2 = [
    [1, 0, 0, 0],
    [1, 2, 0, 0],
    [1, 2, 3, 0],
    [1, 2, 3, 4],
  ];
  for (const method of [1, 2]) {
    const A = Input({ shape: [4], dtype: 'int32' });
    const emb = new Embedding({ inputDim: 5, outputDim: 3, maskZero: true, embeddingsInitializer: 'ones' }).apply(A);
    const flat = new FlattenWithMask().apply(emb);
    const out = method === 1 ? new ReshapeMaskedSum(4).apply(flat) : new MaskedSum().apply(flat);
    const model = new Model({ inputs: A, outputs: out });
    const y = model.predict(data2) as tf.Tensor;
    log(`method ${method}: ${show(y)}`);
    y.dispose();
    model.dispose();
  }
  // The seed asks why its Flatten did not flatten the mask. In Masque a mask
  // must describe the tensor it rides on, so a [4, 4] mask on a [4, 12]
  // tensor is an error, not a silent mismatch:
  const A = Input({ shape: [4], dtype: 'int32' });
  const emb = new Embedding({ inputDim: 5, outputDim: 3, maskZero: true, embeddingsInitializer: 'ones' }).apply(A);
  try {
    new MaskedSum().apply(new FlattenKeepStepMask().apply(emb));
  } catch (e) {
    log(`a Flatten that keeps the step mask: ${(e as Error).message.split(';')[0]}`);
  }
}

if (isMain(import.meta.url)) await main();
