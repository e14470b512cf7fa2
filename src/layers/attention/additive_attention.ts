/**
 * AdditiveAttention (Bahdanau-style): Keras's Attention with the scores
 * `sum(scale * tanh(query + key), -1)`, `scale` a learned vector of the
 * feature size (with useScale, the default) or 1. Masks as Attention
 * (rule 17): value-masked scores become `scores - 1e9`, query-masked output
 * rows are zeroed, the key's own mask is not used, and the output mask is
 * the query mask; the scores output has none. Padded batches are packed
 * like Attention's, so they cost their real tokens.
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, Shape } from '../../engine/types.js';
import { Attention } from './attention.js';

export interface AdditiveAttentionArgs extends BaseLayerArgs {
  /** Learn a vector that scales the tanh terms (default true). */
  useScale?: boolean;
  /** Dropout rate on the attention weights (training only). */
  dropout?: number;
  seed?: number | null;
}

export class AdditiveAttention extends Attention {
  static override readonly className = 'AdditiveAttention';
  static override readonly options = {
    useScale: opt.bool(true),
    dropout: opt.number({ min: 0, max: 1, maxOpen: true, default: 0 }),
    seed: opt.seed(),
  } satisfies OptionsOf<Omit<AdditiveAttentionArgs, keyof BaseLayerArgs>>;

  constructor(args: AdditiveAttentionArgs = {}) {
    super(args);
  }

  override build(inputShape: Shape | Shape[]): void {
    this.checkShapes(inputShape);
    const dim = (inputShape as Shape[])[0]![2] as number;
    if (this.args.useScale) this.scale = this.addWeight('scale', [dim], { initializer: 'glorotUniform' });
  }

  protected override scoreCost(d: number): number {
    return 3 * d;
  }

  /** `sum(scale * tanh(query[..., :, None, :] + key[..., None, :, :]), -1)`. */
  protected override scores(q: tf.Tensor, k: tf.Tensor): tf.Tensor {
    const t = tf.tanh(tf.add(tf.expandDims(q, -2), tf.expandDims(k, -3)));
    return tf.sum(this.scale ? tf.mul(this.scale, t) : t, -1);
  }
}
