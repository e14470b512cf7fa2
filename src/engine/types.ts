import type { tf } from '../runtime/tfjs.js';

/** A shape with `null` for unknown dimensions (batch, time). */
export type Shape = (number | null)[];

/** A mask argument: one mask, none, or one per input. */
export type MaskArg = tf.Tensor | null | (tf.Tensor | null)[];

/** What every layer's `call` receives besides its inputs. */
export interface CallArgs {
  /** The input mask(s); filled from the inputs' masks unless passed explicitly. `null` means "no mask". */
  mask?: MaskArg;
  /** Training mode (dropout, noise). Inherited from the enclosing call when omitted. */
  training?: boolean;
}

/** Options every layer accepts. */
export interface BaseLayerArgs {
  name?: string;
  trainable?: boolean;
  /** Shape of one sample (no batch dim) for a first layer, as in tfjs and Keras 2. */
  inputShape?: Shape;
  /** Batch size to go with `inputShape`. */
  batchSize?: number | null;
  /** Input dtype for a first layer given `inputShape` (default float32; int32 for Embedding). */
  inputDtype?: 'float32' | 'int32' | 'bool' | 'string';
}
