/**
 * Seed 002 (the Keras masking guide): TemporalSplit splits a masked sequence
 * in two along time, and its computeMask splits the mask the same way.
 */
import { tf, ready, Embedding, getMask } from '../src/index.js';
import { TemporalSplit } from './seed_layers.js';
import { isMain, show } from './format.js';

export async function main(log: (s: string) => void = console.log): Promise<void> {
  await ready();
  const padded = tf.tensor2d(
    [
      [711, 632, 71, 0, 0, 0],
      [73, 9, 3215, 55, 927, 0],
      [83, 91, 1, 645, 1253, 927],
    ],
    undefined,
    'int32',
  );
  const embedding = new Embedding({ inputDim: 5000, outputDim: 16, maskZero: true });
  const masked = embedding.apply(padded);
  const [firstHalf, secondHalf] = new TemporalSplit().apply(masked);
  log(`first half mask:  ${show(getMask(firstHalf!)!)}`);
  log(`second half mask: ${show(getMask(secondHalf!)!)}`);
  tf.dispose([padded, masked, firstHalf!, secondHalf!]);
  embedding.dispose();
}

if (isMain(import.meta.url)) await main();
