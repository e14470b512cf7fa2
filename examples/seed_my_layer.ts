/**
 * Seed 002, "passing mask tensors directly to layers": a custom layer holds
 * an Embedding and an LSTM, asks the embedding for its mask with
 * `computeMask(inputs)` and passes it to the LSTM explicitly. The output is
 * [32, 32], and extra padding (post or pre) does not change it.
 */
import { tf, ready, Layer, Embedding, LSTM, type CallArgs } from '../src/index.js';
import { isMain } from './format.js';

/** The seed's `MyLayer`: Embedding(5000, 16, maskZero) then LSTM(32), mask passed by hand. */
export class MyLayer extends Layer {
  readonly embedding: Embedding;
  readonly lstm: LSTM;

  constructor(args: { name?: string } = {}) {
    super(args, 'MyLayer');
    this.embedding = this.trackLayer(new Embedding({ inputDim: 5000, outputDim: 16, maskZero: true }));
    this.lstm = this.trackLayer(new LSTM({ units: 32 }));
  }

  call(inputs: tf.Tensor | tf.Tensor[], _args: CallArgs): tf.Tensor {
    const x = this.embedding.apply(inputs as tf.Tensor);
    // The mask could be prepared by hand too; its shape is [batch, time].
    const mask = this.embedding.computeMask(inputs);
    return this.lstm.apply(x, { mask }) as tf.Tensor;
  }
}

/** Pads every row of `ids` with `extra` zeros after (post) or before (pre) it. */
function pad(ids: tf.Tensor2D, extra: number, side: 'pre' | 'post'): tf.Tensor2D {
  return tf.pad(ids, [[0, 0], side === 'pre' ? [extra, 0] : [0, extra]]);
}

export async function main(log: (s: string) => void = console.log): Promise<void> {
  await ready();
  const layer = new MyLayer();
  // x = np.random.random((32, 10)) * 100, as int32: ids in [0, 100); a 0 is a masked step.
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const x = tf.tensor2d(Array.from({ length: 32 }, () => Array.from({ length: 10 }, () => Math.floor(rand() * 100))), [32, 10], 'int32');
  const y = layer.apply(x) as tf.Tensor;
  log(`output shape: [${y.shape.join(', ')}]`);
  for (const side of ['post', 'pre'] as const) {
    const xp = pad(x, 7, side);
    const yp = layer.apply(xp) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(yp, y))).dataSync()[0]!;
    log(`padded ${side} to length ${xp.shape[1]}: max |difference| = ${diff < 1e-6 ? '< 1e-6' : diff.toExponential(2)}`);
    tf.dispose([xp, yp]);
  }
  tf.dispose([x, y]);
  layer.dispose();
}

if (isMain(import.meta.url)) await main();
