/**
 * ReversibleEmbedding (keras.layers.ReversibleEmbedding): an Embedding that
 * can also be called with `reverse: true` to project vectors back onto the
 * vocabulary, `logits = x @ embeddings^T` (tieWeights) or `x @
 * reverseEmbeddings`, optionally soft-capped as `tanh(logits / cap) * cap`.
 *
 * Masks: the forward call makes Keras's `ids != 0` mask with maskZero.
 * Departure (docs/keras.md): Keras drops every mask on the reverse call
 * (and on a forward call without maskZero), so a loss on the logits counts
 * the padded steps; Masque passes the input's mask through, as Dense does.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer, withMasks, type MaskedOutputs } from '../../engine/layer.js';
import { BASE_OPTIONS, opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getConstraint, getRegularizer, type ConstraintSpec, type RegularizerSpec } from '../../engine/regularizers.js';
import { MasqueError, formatShape } from '../../errors.js';
import { embeddingLookup } from '../../ops/embedding_lookup.js';
import { finiteAtMaskedChecked } from '../../ops/attention_ops.js';

export interface ReversibleEmbeddingArgs extends BaseLayerArgs {
  inputDim: number;
  outputDim: number;
  /** Reverse with the transposed embeddings (default) or a separate `reverse_embeddings` weight [outputDim, inputDim]. */
  tieWeights?: boolean;
  embeddingsInitializer?: InitializerSpec;
  embeddingsRegularizer?: RegularizerSpec | null;
  embeddingsConstraint?: ConstraintSpec | null;
  maskZero?: boolean;
  /** Dtype of the reverse projection: null or 'float32' (tfjs computes in float32 only). */
  reverseDtype?: 'float32' | null;
  /** Soft cap of the logits: `tanh(logits / cap) * cap` (null: none). */
  logitSoftCap?: number | null;
}

export interface ReversibleEmbeddingCallArgs extends CallArgs {
  /** Project vectors [..., outputDim] to logits [..., inputDim] instead of looking ids up. */
  reverse?: boolean;
}

type Own = Omit<ReversibleEmbeddingArgs, keyof BaseLayerArgs>;

export class ReversibleEmbedding extends Layer<ReversibleEmbeddingCallArgs> {
  static override readonly className = 'ReversibleEmbedding';
  /** The call arguments it takes (Layer.apply refuses others). */
  static readonly callArgNames: readonly string[] = ['training', 'mask', 'reverse'];
  static override readonly floatInputs = false;
  static override readonly options = {
    inputDim: opt.int({ min: 1 }),
    outputDim: opt.int({ min: 1 }),
    embeddingsInitializer: opt.initializer<InitializerSpec>('uniform'),
    embeddingsRegularizer: opt.regularizer<RegularizerSpec | null>(),
    embeddingsConstraint: opt.constraint<ConstraintSpec | null>(),
    maskZero: opt.bool(false),
    tieWeights: opt.bool(true),
    reverseDtype: opt.oneOf([null, 'float32'] as const, null),
    logitSoftCap: opt.nullableNumber({ min: 0, minOpen: true, default: null }),
    // Token ids: a first ReversibleEmbedding given inputShape takes int32 inputs.
    inputDtype: { ...BASE_OPTIONS.inputDtype, default: 'int32' },
  } satisfies OptionsOf<Own> & Record<string, unknown>;
  /** Keys Keras's config holds that Masque fixes (null), written on export so the config has Keras's keys. */
  static readonly kerasExtras = { activity_regularizer: null, quantization_config: null };
  declare readonly args: Filled<Own>;
  embeddings!: tf.Variable;
  reverseEmbeddings: tf.Variable | null = null;

  static maskDetail(layer: ReversibleEmbedding): string | undefined {
    return layer.args.maskZero ? 'maskZero' : undefined;
  }

  constructor(args: ReversibleEmbeddingArgs) {
    super(args);
    getRegularizer(this.args.embeddingsRegularizer, `ReversibleEmbedding '${this.name}', embeddingsRegularizer`);
    getConstraint(this.args.embeddingsConstraint, `ReversibleEmbedding '${this.name}', embeddingsConstraint`);
    this.supportsMasking = true;
  }

  override build(_inputShape: Shape): void {
    const { inputDim, outputDim, embeddingsInitializer, embeddingsRegularizer, embeddingsConstraint } = this.args;
    this.embeddings = this.addWeight('embeddings', [inputDim, outputDim], { initializer: embeddingsInitializer, regularizer: embeddingsRegularizer, constraint: embeddingsConstraint });
    if (!this.args.tieWeights) this.reverseEmbeddings = this.addWeight('reverse_embeddings', [outputDim, inputDim], { initializer: embeddingsInitializer });
  }

  /** Returns the embeddings (forward) or the logits (reverse) with their mask: `ids != 0` with maskZero, else the input's. */
  call(x: tf.Tensor, args: ReversibleEmbeddingCallArgs): MaskedOutputs {
    const given = Array.isArray(args.mask) ? (args.mask[0] ?? null) : (args.mask ?? null);
    if (!args.reverse) {
      const out = embeddingLookup(this.embeddings, x, { layerName: this.name });
      return withMasks(out, this.args.maskZero ? tf.notEqual(x, tf.scalar(0, x.dtype)) : given);
    }
    // NaN or Inf at masked steps is read as 0: it cannot reach the embeddings' gradient.
    const v = finiteAtMaskedChecked(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), given);
    const kernel = this.reverseEmbeddings ?? tf.transpose(this.embeddings);
    const lead = v.shape.slice(0, -1);
    let logits = tf.reshape(tf.matMul(tf.reshape(v, [-1, this.args.outputDim]), kernel), [...lead, this.args.inputDim]);
    const cap = this.args.logitSoftCap;
    if (cap !== null) logits = tf.mul(tf.tanh(tf.div(logits, cap)), cap);
    return withMasks(logits, given);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<ReversibleEmbeddingCallArgs>): TensorSpec {
    const x = oneSpec(inputs, `ReversibleEmbedding '${this.name}'`);
    if (args.reverse) {
      const last = x.shape[x.shape.length - 1];
      if (x.shape.length < 2 || last !== this.args.outputDim) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `ReversibleEmbedding '${this.name}': a reverse call takes vectors [..., ${this.args.outputDim}] (outputDim); received shape ${formatShape(x.shape)}.`);
      }
      return { shape: [...x.shape.slice(0, -1), this.args.inputDim], dtype: 'float32', mask: firstMask(args.mask) };
    }
    return { shape: [...x.shape, this.args.outputDim], dtype: 'float32', mask: this.args.maskZero ? { shape: x.shape } : firstMask(args.mask) };
  }
}
