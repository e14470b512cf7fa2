/**
 * Seed 002 (the Keras masking and padding guide): pad the raw sequences with
 * padSequences, then see the same mask from Embedding(maskZero) and from
 * Masking on the tiled float input.
 */
import { tf, ready, padSequences, Embedding, Masking, getMask } from '../src/index.js';
import { isMain, show } from './format.js';

export async function main(log: (s: string) => void = console.log): Promise<void> {
  await ready();
  const rawInputs = [
    [711, 632, 71],
    [73, 9, 3215, 55, 927],
    [83, 91, 1, 645, 1253, 927],
  ];
  const { padded, lengths } = padSequences(rawInputs, { padding: 'post', returnLengths: true });
  log(`padded: ${show(padded)}`);
  log(`lengths: [${Array.from(lengths).join(', ')}]`);

  const embedding = new Embedding({ inputDim: 5000, outputDim: 16, maskZero: true });
  const maskedOutput = embedding.apply(padded);
  log(`Embedding mask: ${show(getMask(maskedOutput)!)}`);

  const tiled = tf.cast(tf.tile(tf.expandDims(padded, -1), [1, 1, 10]), 'float32');
  const maskedEmbedding = new Masking().apply(tiled);
  log(`Masking mask:   ${show(getMask(maskedEmbedding)!)}`);
  tf.dispose([padded, maskedOutput, tiled, maskedEmbedding]);
  embedding.dispose();
}

if (isMain(import.meta.url)) await main();
