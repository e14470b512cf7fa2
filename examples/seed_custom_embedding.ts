/**
 * Seed 002: a hand-written embedding layer whose computeMask marks id 0 as
 * padding, followed by a built-in layer that consumes the mask.
 */
import { tf, ready, getMask } from '../src/index.js';
import { CustomEmbedding, MaskedMeanPool } from './seed_layers.js';
import { isMain, show } from './format.js';

export async function main(log: (s: string) => void = console.log): Promise<void> {
  await ready();
  const layer = new CustomEmbedding({ inputDim: 10, outputDim: 32, maskZero: true });
  const x = tf.tensor2d(
    [
      [3, 4, 5, 0, 0],
      [6, 7, 0, 0, 0],
    ],
    undefined,
    'int32',
  );
  const y = layer.apply(x);
  log(`output shape: [${y.shape.join(', ')}]`);
  log(`mask: ${show(getMask(y)!)}`);
  const pooled = new MaskedMeanPool().apply(y);
  log(`pooled shape: [${pooled.shape.join(', ')}], mask after pooling: ${getMask(pooled) === null ? 'null' : 'present'}`);
  tf.dispose([x, y, pooled]);
  layer.dispose();
}

if (isMain(import.meta.url)) await main();
