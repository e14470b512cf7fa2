/**
 * Masque: Keras-exact padding and masking for variable-length sequence
 * models, on TensorFlow.js core. This file is the whole public API.
 */
export { tf, ready, setBackend, type BackendName } from './engine/tfjs.js';
export { MasqueError, type MasqueErrorCode } from './errors.js';

// engine
export { Layer, LayerWeight, type WeightOptions } from './engine/layer.js';
export type { BaseLayerArgs, CallArgs, MaskArg, Shape } from './engine/types.js';
export { getMask, attachMask, withMask } from './engine/masks.js';
export { setMaskPolicy, getMaskPolicy, setWarningHandler, type MaskPolicy } from './engine/mask_policy.js';
export { Input, InputLayer, type InputArgs } from './engine/input_layer.js';
export { SymbolicTensor } from './engine/symbolic.js';
export type { InitializerSpec } from './engine/initializers.js';
export type { ActivationSpec } from './ops/activations.js';

// layers
export { Masking, type MaskingArgs } from './layers/core/masking.js';
export { Embedding, type EmbeddingArgs } from './layers/core/embedding.js';
export { Dense, type DenseArgs } from './layers/core/dense.js';
export { Activation, ReLU, type ActivationArgs, type ReLUArgs } from './layers/core/activation.js';
export { Dropout, GaussianNoise, type DropoutArgs, type GaussianNoiseArgs } from './layers/core/dropout.js';
export { Flatten, Reshape, type FlattenArgs, type ReshapeArgs } from './layers/core/reshaping.js';
export { Lambda, type LambdaArgs } from './layers/core/lambda.js';
export { LayerNormalization, type LayerNormalizationArgs } from './layers/normalization/layer_normalization.js';

// models
export { Model, type ModelArgs, type PredictOptions } from './models/functional.js';
export { Sequential, type SequentialArgs } from './models/sequential.js';

// data
export { padSequences, type PadSequencesOptions, type PaddedSequences, type PadSequencesDtype } from './data/pad_sequences.js';
export { TextVectorizer, type TextVectorizerArgs } from './data/text_vectorization.js';
export { planBatches, padBatch, type PlanBatchesOptions } from './data/bucketing.js';

// io
export { modelFromKerasConfig, setKerasWeights, type NamedWeight, type WeightsInput } from './io/keras_config.js';
export { loadModelFromBytes, saveModelToBytes } from './io/keras_saving.js';
export { loadModel, saveModel } from './io/keras_file_node.js';
export { exportModel as modelToKerasConfig } from './io/keras_export.js';
export { registerKerasLayers, kerasLayerClasses, type KerasLayerEntry } from './io/keras_layers.js';
