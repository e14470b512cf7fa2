/**
 * Seed 001, example 1: Masking followed by a custom mean pool that honours
 * the mask. Prints [[10, 10], [15, 15], [20, 20], [25, 25]].
 */
import { tf, ready, Input, Masking, Model } from '../src/index.js';
import { MaskedMeanPool } from './seed_layers.js';
import { isMain, show } from './format.js';

export async function main(log: (s: string) => void = console.log): Promise<void> {
  await ready();
  const data = [
    [[10, 10], [0, 0], [0, 0], [0, 0]],
    [[10, 10], [20, 20], [0, 0], [0, 0]],
    [[10, 10], [20, 20], [30, 30], [0, 0]],
    [[10, 10], [20, 20], [30, 30], [40, 40]],
  ];
  const A = Input({ shape: [4, 2] });
  const mA = new Masking().apply(A);
  const out = new MaskedMeanPool().apply(mA);
  const model = new Model({ inputs: A, outputs: out });
  const y = model.predict(data) as tf.Tensor;
  log(show(y));
  y.dispose();
  model.dispose();
}

if (isMain(import.meta.url)) await main();
