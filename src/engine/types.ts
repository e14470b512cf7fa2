import type { tf } from '../runtime/tfjs.js';
import type { MaskOrigin } from './masks.js';

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

/** What is known of a mask before any data: its shape, and the layer that made it. */
export interface MaskSpec {
  shape: Shape;
  origin?: MaskOrigin;
}

/** What is known of a tensor before any data: shape, dtype and the spec of its mask. */
export interface TensorSpec {
  shape: Shape;
  dtype: tf.DataType;
  mask: MaskSpec | null;
}

/** A mask spec argument: one, none, or one per input. */
export type MaskSpecArg = MaskSpec | null | (MaskSpec | null)[];

/** A call argument with its tensors replaced by their specs. */
export type SpecOf<T> = T extends tf.Tensor ? TensorSpec : T extends readonly (infer U)[] ? SpecOf<U>[] : T;

/** The call arguments `computeOutputSpec` receives: `mask` holds the mask specs the call would get, other tensors are specs. */
export type SpecArgs<A> = { [K in keyof A]?: K extends 'mask' ? MaskSpecArg : SpecOf<A[K]> } & { mask: MaskSpecArg; training: boolean };

/**
 * A variable a layer saves by name in its `vars` group of a `.keras`
 * weights file (Keras's `save_own_variables`, e.g. `idf_weights`): a C-order
 * array, as `src/io` reads and writes it.
 */
export interface OwnVariable {
  shape: number[];
  dtype: string;
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
}
