/**
 * Embedding: token ids -> vectors. With `maskZero`, id 0 is padding: the
 * output mask is `ids != 0`. Token 0 still looks up row 0 (Keras zeroes
 * nothing); layers downstream use the mask.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, Shape } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { MasqueError, describe } from '../../errors.js';
import { embeddingLookup } from '../../ops/embedding_lookup.js';

export interface EmbeddingArgs extends BaseLayerArgs {
  inputDim: number;
  outputDim: number;
  embeddingsInitializer?: InitializerSpec;
  maskZero?: boolean;
}

export class Embedding extends Layer<CallArgs> {
  readonly args: EmbeddingArgs;
  embeddings!: tf.Variable;

  constructor(args: EmbeddingArgs) {
    super({ inputDtype: 'int32', ...args }, 'Embedding');
    for (const k of ['inputDim', 'outputDim'] as const) {
      if (!Number.isInteger(args[k]) || args[k] < 1) {
        throw new MasqueError('INVALID_ARGUMENT', `Embedding: ${k} must be a positive integer; received ${describe(args[k])}.`);
      }
    }
    this.args = { ...args, embeddingsInitializer: args.embeddingsInitializer ?? 'uniform', maskZero: args.maskZero ?? false };
    this.supportsMasking = this.args.maskZero === true;
  }

  override build(_inputShape: Shape): void {
    this.embeddings = this.addWeight('embeddings', [this.args.inputDim, this.args.outputDim], { initializer: this.args.embeddingsInitializer });
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // embeddingLookup: a gather whose gradient works on wasm (tfjs's needs
    // UnsortedSegmentSum, which that backend lacks) and checks the id range.
    return embeddingLookup(this.embeddings, inputs as tf.Tensor, { layerName: this.name });
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | null {
    if (!this.args.maskZero) return null;
    return tf.notEqual(inputs as tf.Tensor, tf.scalar(0, (inputs as tf.Tensor).dtype));
  }

  protected override maskDetail(): string {
    return 'maskZero';
  }

  override getConfig(): EmbeddingArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
