/**
 * What Keras 3.15.1 records when it builds a functional model, for the
 * layers Masque has: the masks its symbolic `compute_mask` makes (graph
 * nodes of ops: `not_equal`, `any`, `logical_or`, ...) and the call
 * arguments `Layer.__call__` writes into a node (`training`, `mask`). A
 * `.keras` file that holds them loads in Keras as the same graph; one that
 * lacks them makes Keras re-derive the masks when it loads, adding auto-named
 * op nodes (which change the layer order and can collide with layer names).
 * See notes/keras_ops.md for the evidence behind each rule.
 *
 * Masks here are Keras's symbolic masks (`_keras_mask` of KerasTensors), not
 * Masque's: they differ where Keras differs (a nested model's output has
 * none, GlobalMaxPooling1D drops it).
 */
import type { Shape } from '../engine/types.js';
import { PyFloat } from '../engine/py_float.js';
import { BUILTIN_LAYERS, type AnyLayer } from './keras_registry.js';
import { InputLayer } from '../engine/input_layer.js';
import { Model } from '../models/functional.js';
import { Sequential } from '../models/sequential.js';
import { Embedding } from '../layers/core/embedding.js';
import { Masking } from '../layers/core/masking.js';
import { Dense } from '../layers/core/dense.js';
import { Activation, ReLU } from '../layers/core/activation.js';
import { Dropout, GaussianNoise } from '../layers/core/dropout.js';
import { LayerNormalization } from '../layers/normalization/layer_normalization.js';
import { RNNLayer } from '../layers/rnn/rnn_base.js';
import { RNN } from '../layers/rnn/rnn.js';
import { Bidirectional } from '../layers/rnn/bidirectional.js';
import { TimeDistributed } from '../layers/rnn/time_distributed.js';
import { Attention } from '../layers/attention/attention.js';
import { MultiHeadAttention } from '../layers/attention/multi_head_attention.js';
import { GlobalAveragePooling1D } from '../layers/pooling/global_average_pooling1d.js';
import { Merge } from '../layers/merging/base_merge.js';
import { Concatenate } from '../layers/merging/concatenate.js';
import { Dot } from '../layers/merging/dot.js';
import { Softmax } from '../layers/activations/softmax.js';
import { KerasOp } from '../layers/ops/keras_op.js';
import { NotEqual } from '../layers/ops/comparison.js';
import { Any, LogicalOr } from '../layers/ops/logical.js';
import { ConcatenateOp, ConvertToTensor, ExpandDims, OnesLike, ZerosLike } from '../layers/ops/array_ops.js';
import { BatchNormalization } from '../layers/normalization/batch_normalization.js';
import { GroupNormalization } from '../layers/normalization/group_normalization.js';
import { UnitNormalization } from '../layers/normalization/unit_normalization.js';
import { Normalization } from '../layers/preprocessing/normalization.js';
import { Rescaling } from '../layers/preprocessing/rescaling.js';
import { GroupQueryAttention } from '../layers/attention/grouped_query_attention.js';
import { ELU } from '../layers/activations/elu.js';
import { LeakyReLU } from '../layers/activations/leaky_relu.js';
import { PReLU } from '../layers/activations/prelu.js';
import { Identity } from '../layers/core/identity.js';
import { GaussianDropout } from '../layers/regularization/gaussian_dropout.js';
import { AlphaDropout } from '../layers/regularization/alpha_dropout.js';
import { SpatialDropout1D } from '../layers/regularization/spatial_dropout.js';
import { ActivityRegularization } from '../layers/regularization/activity_regularization.js';

/** A tensor of the graph Keras records: its shape, dtype, and where it comes from (opaque here). */
export interface KTensor {
  readonly shape: Shape;
  readonly dtype: string;
}

/** A Keras symbolic mask: none, one tensor, or one per tensor of a list argument. */
export type KMask = KTensor | null | KMask[];

/** A Keras op class Masque can write (its `kerasModule` and `className` name it in configs). */
export type OpClass = typeof NotEqual | typeof Any | typeof LogicalOr | typeof ExpandDims | typeof ZerosLike | typeof OnesLike | typeof ConcatenateOp | typeof ConvertToTensor;

/** Records one op call (`args` as Keras records them: tensors and scalars, positionally) and returns its output. */
export type RecordOp = (cls: OpClass, options: Record<string, unknown>, args: unknown[]) => KTensor;

/** The parts of a layer's Keras `call` signature that decide what `__call__` records. */
export interface KerasCallSignature {
  /** `call` has a `mask` parameter: a call on one tensor records `mask=<its mask>`. */
  mask: boolean;
  /** `call`'s `training` defaults to False: such a call records `training=False`. */
  trainingFalse: boolean;
  /** `__call__` copies the arguments first (every layer but a Functional model) unless called on one tensor of the layer's dtype with nothing else. */
  convertsInputs: boolean;
}

/**
 * Graph nodes imported from a Keras config whose recorded call held
 * `training=False` (Keras writes it when it filled the mask itself, and a
 * Keras model loaded from such a config passes it on as given). Masque's
 * import drops `training` from the call; the export writes it back for these
 * nodes, so a Keras config imported and exported again records the same call.
 */
export const RECORDED_TRAINING_FALSE = new WeakSet<object>();

/**
 * Attention calls imported from a Keras config that gave the key as a
 * keyword (`mha(query, value, key=k)`). Masque's attention layers take the
 * key as their third input; the export writes it back as the keyword.
 */
export const KEY_AS_KEYWORD = new WeakSet<object>();

/** The Keras call signature of a Masque layer (for ops: none of these). */
export function kerasCallSignature(layer: AnyLayer): KerasCallSignature {
  const sig = (mask: boolean, trainingFalse = false, convertsInputs = true): KerasCallSignature => ({ mask, trainingFalse, convertsInputs });
  if (layer instanceof Sequential) return sig(true);
  if (layer instanceof Model) return sig(true, false, false);
  // call(sequences, initial_state=None, mask=None, training=False)
  if (layer instanceof RNNLayer || layer instanceof RNN) return sig(true, true);
  // call(inputs, mask=None) or BatchNormalization's call(inputs, training=None, mask=None)
  if (layer instanceof Bidirectional || layer instanceof TimeDistributed || layer instanceof GlobalAveragePooling1D || layer instanceof Softmax || layer instanceof BatchNormalization) return sig(true);
  // call(inputs, training=False): the dropout family (SpatialDropout1D is a Dropout in Keras)
  if (layer instanceof Dropout || layer instanceof GaussianNoise || layer instanceof GaussianDropout || layer instanceof AlphaDropout || layer instanceof SpatialDropout1D) return sig(false, true);
  return sig(false);
}

/** Whether Keras's layer passes masks on (`supports_masking`), for layers whose `compute_mask` is the default (the previous mask). */
function passesMask(layer: AnyLayer): boolean {
  return (
    layer instanceof Dense || layer instanceof Activation || layer instanceof ReLU || layer instanceof Dropout || layer instanceof GaussianNoise ||
    layer instanceof LayerNormalization || layer instanceof Softmax || layer instanceof TimeDistributed || layer instanceof MultiHeadAttention ||
    // issue 14's layers with supports_masking and the default compute_mask (RMSNormalization and EinsumDense have no mask support;
    // ReversibleEmbedding's compute_mask is None: it sets the mask inside call, which Keras's symbolic graph never sees)
    layer instanceof BatchNormalization || layer instanceof GroupNormalization || layer instanceof UnitNormalization || layer instanceof Normalization ||
    layer instanceof Rescaling || layer instanceof GroupQueryAttention || layer instanceof ELU || layer instanceof LeakyReLU || layer instanceof PReLU ||
    layer instanceof Identity || layer instanceof GaussianDropout || layer instanceof AlphaDropout || layer instanceof SpatialDropout1D ||
    layer instanceof ActivityRegularization ||
    // A custom layer that says it supports masks is taken to keep Keras's default compute_mask.
    (!isBuiltin(layer) && layer.supportsMasking)
  );
}

function isBuiltin(layer: AnyLayer): boolean {
  return BUILTIN_LAYERS.some((c) => layer instanceof (c as unknown as abstract new (...a: never[]) => AnyLayer));
}

/** The first element of a Keras mask structure (`tree.flatten(mask)[0]`). */
function first(m: KMask): KTensor | null {
  if (Array.isArray(m)) return m.length === 0 ? null : first(m[0]!);
  return m;
}

/**
 * The Keras masks of a layer call's outputs (one per output), as
 * `Layer.__call__` sets them: `compute_mask(first_arg, previous_mask)`
 * zipped with the outputs, for layers that support masking. `firstArg` is
 * the call's first argument (a tensor, or the list of a list input) and
 * `previous` the mask the call received (explicit, or its first argument's).
 */
export function kerasOutputMasks(layer: AnyLayer, firstArg: KTensor | KTensor[], previous: KMask, outputCount: number, record: RecordOp): KMask[] {
  const none = (): KMask[] => Array.from({ length: outputCount }, () => null);
  const zip = (masks: KMask[]): KMask[] => none().map((_, i) => masks[i] ?? null);
  const list = (m: KMask): KMask[] => (Array.isArray(m) ? m : [m]);
  if (layer instanceof InputLayer || layer instanceof KerasOp || layer instanceof Model) return none();
  if (layer instanceof Embedding) {
    return layer.args.maskZero ? zip([record(NotEqual, {}, [firstArg, 0])]) : none();
  }
  if (layer instanceof Masking) {
    // Keras's mask_value is a Python float (0.0 by default): it records not_equal(x, 0.0).
    const ne = record(NotEqual, {}, [firstArg, new PyFloat(layer.args.maskValue)]);
    return zip([record(Any, { axis: -1, keepdims: false }, [ne])]);
  }
  if (layer instanceof Concatenate) return zip([concatenateMask(layer.axis, firstArg as KTensor[], list(previous), record)]);
  if (layer instanceof Dot) return none();
  if (layer instanceof Merge) {
    const masks = list(previous);
    if (masks.length === 0 || masks.some((m) => first(m) === null)) return none();
    let out = first(masks[0]!)!;
    for (const m of masks.slice(1)) out = record(LogicalOr, {}, [out, first(m)!]);
    return zip([out]);
  }
  if (layer instanceof Attention) {
    const q = Array.isArray(previous) ? first(previous[0] ?? null) : null;
    return zip([q === null ? null : record(ConvertToTensor, { dtype: null, sparse: null, ragged: null }, [q])]);
  }
  if (layer instanceof RNNLayer || layer instanceof RNN) {
    const out = layer.returnSequences ? first(previous) : null;
    return zip([out]);
  }
  if (layer instanceof Bidirectional) {
    const m = layer.returnSequences ? first(previous) : null;
    return zip(layer.mergeMode === null ? [m, m] : [m]);
  }
  if (layer instanceof GlobalAveragePooling1D) return none();
  if (passesMask(layer)) return zip(list(previous));
  // Flatten, Reshape, Conv1D, pooling, GlobalMaxPooling1D, Cropping1D, ZeroPadding1D: no mask support in Keras.
  return none();
}

/** Concatenate's compute_mask: unmasked inputs count as all true, masks broadcast to the inputs, concatenated, reduced with any(). */
function concatenateMask(axis: number, inputs: KTensor[], masks: KMask[], record: RecordOp): KTensor | null {
  const ms = inputs.map((_, i) => first(masks[i] ?? null));
  if (ms.every((m) => m === null)) return null;
  const parts = inputs.map((x, i) => {
    const m = ms[i]!;
    if (m === null) return record(OnesLike, { dtype: 'bool' }, [x]);
    if (m.shape.length < x.shape.length) {
      return record(LogicalOr, {}, [record(ExpandDims, { axis: -1 }, [m]), record(ZerosLike, { dtype: 'bool' }, [x])]);
    }
    return m;
  });
  const cat = record(ConcatenateOp, { axis }, [parts]);
  return record(Any, { axis: -1, keepdims: false }, [cat]);
}
