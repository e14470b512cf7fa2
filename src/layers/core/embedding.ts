/**
 * Embedding: token ids -> vectors. With `maskZero`, id 0 is padding: the
 * output mask is `ids != 0`. Token 0 still looks up row 0 (Keras zeroes
 * nothing); layers downstream use the mask.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { BASE_OPTIONS } from '../../engine/options.js';
import { embeddingLookup } from '../../ops/embedding_lookup.js';
import { releaseProjectionTables } from '../../ops/rnn/index.js';

export interface EmbeddingArgs extends BaseLayerArgs {
  inputDim: number;
  outputDim: number;
  embeddingsInitializer?: InitializerSpec;
  maskZero?: boolean;
}

type Own = Omit<EmbeddingArgs, keyof BaseLayerArgs>;

export class Embedding extends Layer<CallArgs> {
  static override readonly className = 'Embedding';
  static override readonly floatInputs = false;
  static override readonly options = {
    inputDim: opt.int({ min: 1 }),
    outputDim: opt.int({ min: 1 }),
    embeddingsInitializer: opt.initializer<InitializerSpec>('uniform'),
    maskZero: opt.bool(false),
    // Token ids: a first Embedding given inputShape takes int32 inputs.
    inputDtype: { ...BASE_OPTIONS.inputDtype, default: 'int32' },
  } satisfies OptionsOf<Own> & Record<string, unknown>;
  declare readonly args: Filled<Own>;
  embeddings!: tf.Variable;

  static maskDetail(): string {
    return 'maskZero';
  }

  constructor(args: EmbeddingArgs) {
    super(args);
    this.supportsMasking = this.args.maskZero;
  }

  override build(_inputShape: Shape): void {
    this.embeddings = this.addWeight('embeddings', [this.args.inputDim, this.args.outputDim], { initializer: this.args.embeddingsInitializer });
  }

  /** Recurrent layers' projection tables made from this table go with it. */
  protected override releaseCaches(): void {
    if (this.embeddings !== undefined) releaseProjectionTables(this.embeddings);
  }

  call(ids: tf.Tensor): tf.Tensor {
    // embeddingLookup: a gather whose gradient works on wasm (tfjs's needs
    // UnsortedSegmentSum, which that backend lacks) and checks the id range.
    return embeddingLookup(this.embeddings, ids, { layerName: this.name });
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], _mask?: MaskArg): tf.Tensor | null {
    if (!this.args.maskZero) return null;
    const ids = inputs as tf.Tensor;
    return tf.notEqual(ids, tf.scalar(0, ids.dtype));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const ids = oneSpec(inputs, `Embedding '${this.name}'`);
    return { shape: [...ids.shape, this.args.outputDim], dtype: 'float32', mask: this.args.maskZero ? { shape: ids.shape } : null };
  }
}
