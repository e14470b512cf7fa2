/**
 * A small Transformer encoder classifier on variable-length token sequences:
 *
 *   Embedding(maskZero) + position embedding -> MultiHeadAttention -> Add
 *   -> LayerNormalization -> Dense -> GlobalAveragePooling1D -> Dense
 *
 * The mask made by the Embedding flows through every layer: attention
 * ignores padded keys, the residual Add keeps the mask (Keras loses it
 * there, see docs/attention.md), and the pooling averages valid steps only.
 * Positions are counted over the valid tokens, so pre- and post-padding give
 * the same positions. The model learns whether a sequence contains token 1,
 * then its predictions are compared for the same sequences padded post to
 * their longest length and pre to 3x that.
 */
import {
  tf, ready, Layer, Input, Model, Embedding, MultiHeadAttention, Add, LayerNormalization, Dense, GlobalAveragePooling1D, Adam, padSequences, SymbolicTensor,
  type BaseLayerArgs, type CallArgs, type Shape,
} from '../src/index.js';
import { isMain } from './format.js';

export interface PositionEmbeddingArgs extends BaseLayerArgs {
  /** Longest sequence (in valid tokens) the table covers. */
  maxLength: number;
}

/**
 * Adds a learned vector for each position, counted over valid tokens only
 * (position = number of valid tokens before this one). With absolute
 * positions, pre-padding would shift every token and change the answer.
 */
export class PositionEmbedding extends Layer {
  readonly maxLength: number;
  table!: tf.Variable;

  constructor(args: PositionEmbeddingArgs) {
    super(args, 'PositionEmbedding');
    this.maxLength = args.maxLength;
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const dim = (inputShape as Shape)[2] as number;
    this.table = this.addWeight('embeddings', [this.maxLength, dim], { initializer: { className: 'RandomNormal', config: { stddev: 0.05 } } });
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor {
    const x = inputs as tf.Tensor;
    const [b, t] = x.shape as [number, number];
    const valid = args.mask ? tf.cast(args.mask as tf.Tensor, 'int32') : tf.ones([b, t], 'int32');
    // Exclusive running count of valid tokens, clipped to the table (padded steps reuse a row; their output is masked).
    const positions = tf.minimum(tf.cumsum(valid, 1, true), this.maxLength - 1);
    const onehot = tf.oneHot(tf.cast(tf.reshape(positions, [-1]), 'int32'), this.maxLength);
    return tf.add(x, tf.reshape(tf.matMul(onehot, this.table), x.shape));
  }

  override getConfig(): PositionEmbeddingArgs & Record<string, unknown> {
    return { ...super.getConfig(), maxLength: this.maxLength };
  }
}

export interface EncoderOptions {
  vocabSize: number;
  maxLength: number;
  dim: number;
  numHeads: number;
  classes: number;
}

export const DEFAULTS: EncoderOptions = { vocabSize: 12, maxLength: 32, dim: 8, numHeads: 2, classes: 2 };

/** The encoder as a functional Model over int32 token ids [batch, time] (0 = padding). */
export function buildEncoder(o: EncoderOptions = DEFAULTS): Model {
  const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
  const tokens = new Embedding({ inputDim: o.vocabSize, outputDim: o.dim, maskZero: true, name: 'tokens' }).apply(ids);
  const x = new PositionEmbedding({ maxLength: o.maxLength, name: 'positions' }).apply(tokens);
  const attended = new MultiHeadAttention({ numHeads: o.numHeads, keyDim: o.dim / o.numHeads, name: 'self_attention' }).apply([x, x]) as SymbolicTensor;
  const residual = new LayerNormalization({ name: 'norm' }).apply(new Add({ name: 'residual' }).apply([x, attended]));
  const hidden = new Dense({ units: o.dim, activation: 'relu', name: 'ffn' }).apply(residual);
  const pooled = new GlobalAveragePooling1D({ name: 'pool' }).apply(hidden);
  const logits = new Dense({ units: o.classes, name: 'classifier' }).apply(pooled);
  return new Model({ inputs: ids, outputs: logits, name: 'transformer_encoder' });
}

/** Seeded token sequences of lengths 1..maxLen (ids 2..vocab-1), half of them containing a 1; label 1 when they do. */
export function toyData(n: number, maxLen: number, vocabSize: number, seed = 1): { sequences: number[][]; labels: number[] } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const sequences: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rand() * maxLen);
    const seq = Array.from({ length: len }, () => 2 + Math.floor(rand() * (vocabSize - 2)));
    const label = i % 2;
    if (label === 1) seq[Math.floor(rand() * len)] = 1;
    sequences.push(seq);
    labels.push(label);
  }
  return { sequences, labels };
}

export async function main(log: (s: string) => void = console.log): Promise<void> {
  await ready();
  const model = buildEncoder();
  model.compile({ optimizer: new Adam({ learningRate: 0.02 }), loss: { name: 'sparse_categorical_crossentropy', fromLogits: true }, metrics: ['accuracy'] });
  const train = toyData(256, 10, DEFAULTS.vocabSize);
  const x = padSequences(train.sequences, { padding: 'post' });
  const y = tf.tensor1d(train.labels, 'int32');
  const history = await model.fit(x, y, { epochs: 12, batchSize: 32, verbose: 0, seed: 1 });
  const acc = history.history['accuracy'] as number[];
  log(`trained ${acc.length} epochs: accuracy ${acc[0]!.toFixed(2)} -> ${acc[acc.length - 1]!.toFixed(2)}`);

  const test = toyData(8, 10, DEFAULTS.vocabSize, 99);
  const longest = Math.max(...test.sequences.map((q) => q.length));
  const post = padSequences(test.sequences, { padding: 'post' });
  const pre = padSequences(test.sequences, { padding: 'pre', maxlen: 3 * longest });
  const a = model.predict(post) as tf.Tensor;
  const b = model.predict(pre) as tf.Tensor;
  const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
  log(`padded post to ${longest} vs pre to ${3 * longest}: max |difference| of the logits = ${diff < 1e-5 ? '< 1e-5' : diff.toExponential(2)}`);
  const predicted = Array.from(tf.argMax(a, -1).dataSync());
  log(`test labels:     [${test.labels.join(', ')}]`);
  log(`predicted:       [${predicted.join(', ')}]`);
  tf.dispose([x, y, post, pre, a, b]);
  model.dispose();
}

if (isMain(import.meta.url)) await main();
