/**
 * Masque: Keras-exact padding and masking for variable-length sequence
 * models, on TensorFlow.js core. This file is the whole public API. Its one
 * side effect: it registers src/io's `.keras` writer behind `model.save`
 * and `model.toKerasBytes` (models do not import io).
 */
import { registerModelSaver } from './models/saving_port.js';
import { saveModelToBytes } from './io/keras_saving.js';
import { readTfjsModelFiles, saveModel } from './io/keras_file_node.js';
import { registerTfjsFileReader } from './io/keras_legacy_load.js';

registerModelSaver({ save: saveModel, toBytes: saveModelToBytes });
registerTfjsFileReader(readTfjsModelFiles);

export { tf, ready, setBackend, type BackendName } from './runtime/tfjs.js';
export { MasqueError, type MasqueErrorCode } from './errors.js';

// engine
export { Layer, LayerWeight, withMasks, MaskedOutputs, type WeightOptions, type LayerClass } from './engine/layer.js';
export type { BaseLayerArgs, CallArgs, MaskArg, Shape, TensorSpec, MaskSpec, SpecArgs } from './engine/types.js';
export { opt, type OptionSpec, type OptionTable, type OptionsOf, type Filled } from './engine/options.js';
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

// rnn
export { SimpleRNN, type SimpleRNNArgs } from './layers/rnn/simple_rnn.js';
export { LSTM, type LSTMArgs } from './layers/rnn/lstm.js';
export { GRU, type GRUArgs } from './layers/rnn/gru.js';
export { RNNLayer, type RNNArgs, type RNNCallArgs } from './layers/rnn/rnn_base.js';
export { RNNCell } from './layers/rnn/rnn_cell.js';
export { Bidirectional, type BidirectionalArgs, type MergeMode } from './layers/rnn/bidirectional.js';
export { TimeDistributed, type TimeDistributedArgs } from './layers/rnn/time_distributed.js';
export { setKernelThreads, kernelThreads, setKernelSpin } from './ops/rnn/parallel.js';
export { setRelaxedSimd, relaxedSimd } from './ops/rnn/kernel.js';
export { setProjectionTables, type ProjectionTableSettings } from './ops/rnn/projection_table.js';
// recurrent cells (issue 14): RNN(cell), the built-in cells, StackedRNNCells and the base of custom cells
export { RNN, type GenericRNNArgs } from './layers/rnn/rnn.js';
export { SimpleRNNCell, LSTMCell, GRUCell, type SimpleRNNCellArgs, type LSTMCellArgs, type GRUCellArgs } from './layers/rnn/rnn_cell.js';
export { StackedRNNCells, type StackedRNNCellsArgs } from './layers/rnn/stacked_rnn_cells.js';
export { AbstractRNNCell, type RecurrentCell, type CellCallArgs, type CellOutput, type StateSize } from './layers/rnn/abstract_rnn_cell.js';

// attention, pooling, merging, convolution
export { Attention, type AttentionArgs, type AttentionCallArgs } from './layers/attention/attention.js';
export { MultiHeadAttention, type MultiHeadAttentionArgs, type MultiHeadAttentionCallArgs } from './layers/attention/multi_head_attention.js';
export { GlobalAveragePooling1D, GlobalAveragePooling1D as GlobalAvgPool1D, type GlobalAveragePooling1DArgs } from './layers/pooling/global_average_pooling1d.js';
export { GlobalMaxPooling1D, GlobalMaxPooling1D as GlobalMaxPool1D, type GlobalMaxPooling1DArgs } from './layers/pooling/global_max_pooling1d.js';
export { AveragePooling1D, AveragePooling1D as AvgPool1D, type AveragePooling1DArgs } from './layers/pooling/average_pooling1d.js';
export { MaxPooling1D, MaxPooling1D as MaxPool1D, type MaxPooling1DArgs } from './layers/pooling/max_pooling1d.js';
export { Add } from './layers/merging/add.js';
export { Subtract } from './layers/merging/subtract.js';
export { Multiply } from './layers/merging/multiply.js';
export { Average } from './layers/merging/average.js';
export { Maximum } from './layers/merging/maximum.js';
export { Minimum } from './layers/merging/minimum.js';
export { Concatenate, type ConcatenateArgs } from './layers/merging/concatenate.js';
export { Dot, type DotArgs } from './layers/merging/dot.js';
export type { MergeArgs } from './layers/merging/base_merge.js';
export { Softmax, type SoftmaxArgs } from './layers/activations/softmax.js';
export { Conv1D, Conv1D as Convolution1D, type Conv1DArgs } from './layers/convolutional/conv1d.js';
export { Conv1DTranspose, Conv1DTranspose as Convolution1DTranspose, type Conv1DTransposeArgs } from './layers/convolutional/conv1d_transpose.js';
export { DepthwiseConv1D, SeparableConv1D, SeparableConv1D as SeparableConvolution1D, type DepthwiseConv1DArgs, type SeparableConv1DArgs } from './layers/convolutional/depthwise_conv1d.js';
export { AdaptiveAveragePooling1D, AdaptiveMaxPooling1D, type AdaptivePooling1DArgs } from './layers/pooling/adaptive_pooling1d.js';
export { Cropping1D, type Cropping1DArgs } from './layers/reshaping/cropping1d.js';
export { ZeroPadding1D, type ZeroPadding1DArgs } from './layers/reshaping/zero_padding1d.js';
export { RepeatVector, type RepeatVectorArgs } from './layers/reshaping/repeat_vector.js';
export { CategoryEncoding, type CategoryEncodingArgs, type CategoryEncodingCallArgs, type CategoryOutputMode } from './layers/preprocessing/category_encoding.js';
export { Discretization, type DiscretizationArgs } from './layers/preprocessing/discretization.js';
export { Hashing, type HashingArgs, type HashingOutputMode } from './layers/preprocessing/hashing.js';
export { ConvLSTM1D, type ConvLSTM1DArgs } from './layers/rnn/conv_lstm1d.js';
export { Permute, type PermuteArgs } from './layers/reshaping/permute.js';
export { UpSampling1D, type UpSampling1DArgs } from './layers/reshaping/up_sampling1d.js';
// normalization family (issue 14)
export { BatchNormalization, type BatchNormalizationArgs, type RenormClipping } from './layers/normalization/batch_normalization.js';
export { GroupNormalization, type GroupNormalizationArgs } from './layers/normalization/group_normalization.js';
export { UnitNormalization, type UnitNormalizationArgs } from './layers/normalization/unit_normalization.js';
export { RMSNormalization, type RMSNormalizationArgs } from './layers/normalization/rms_normalization.js';
export { Normalization, type NormalizationArgs, type AdaptOptions } from './layers/preprocessing/normalization.js';
export { Rescaling, type RescalingArgs } from './layers/preprocessing/rescaling.js';

// text preprocessing (string tensors in, token ids out)
export { TextVectorization, type TextVectorizationArgs } from './layers/preprocessing/text_vectorization.js';
export { StringLookup, type StringLookupArgs } from './layers/preprocessing/string_lookup.js';
export { IntegerLookup, type IntegerLookupArgs } from './layers/preprocessing/integer_lookup.js';
export type { StandardizeSpec, SplitSpec } from './ops/text_ops.js';
// layers: attention, activations and regularization (issue 14)
export { GroupQueryAttention, GroupedQueryAttention, type GroupQueryAttentionArgs, type GroupQueryAttentionCallArgs } from './layers/attention/grouped_query_attention.js';
export { AdditiveAttention, type AdditiveAttentionArgs } from './layers/attention/additive_attention.js';
export { ELU, type ELUArgs } from './layers/activations/elu.js';
export { LeakyReLU, type LeakyReLUArgs } from './layers/activations/leaky_relu.js';
export { PReLU, type PReLUArgs } from './layers/activations/prelu.js';
export { Identity, type IdentityArgs } from './layers/core/identity.js';
export { GaussianDropout, type GaussianDropoutArgs } from './layers/regularization/gaussian_dropout.js';
export { AlphaDropout, type AlphaDropoutArgs } from './layers/regularization/alpha_dropout.js';
export { SpatialDropout1D, type SpatialDropout1DArgs } from './layers/regularization/spatial_dropout.js';
export { ActivityRegularization, type ActivityRegularizationArgs } from './layers/regularization/activity_regularization.js';
export { ReversibleEmbedding, type ReversibleEmbeddingArgs, type ReversibleEmbeddingCallArgs } from './layers/core/reversible_embedding.js';
export { EinsumDense, type EinsumDenseArgs } from './layers/core/einsum_dense.js';
export { collectLosses } from './engine/context.js';
export type { RegularizerSpec, ConstraintSpec, RegularizerFn, ConstraintFn } from './engine/regularizers.js';

// models
export { Model, type ModelArgs, type ModelOptions, type PredictOptions } from './models/functional.js';
export { Sequential, type SequentialArgs, type SequentialEntry } from './models/sequential.js';

// data
// training
export { type CompileArgs, type FitArgs, type EvaluateArgs, type TrainOnBatchArgs, type TestOnBatchArgs, type ClassWeight, type LossSpec } from './training/trainer.js';
export { type SequenceDataset } from './training/data_adapter.js';
export { type PredictDataset } from './training/predict_dataset.js';
export { ctcLoss, ctcDecode, type CtcDecodeOptions } from './training/ctc.js';
export { getLoss, computeLoss, meanSquaredError, meanAbsoluteError, binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy, huber, logCosh, meanAbsolutePercentageError, meanSquaredLogarithmicError, cosineSimilarity, hinge, squaredHinge, categoricalHinge, klDivergence, poisson, binaryFocalCrossentropy, categoricalFocalCrossentropy, type LossFunction, type LossConfig, type LossObject, type Reduction, type ComputeLossOptions } from './training/losses.js';
export { Loss, MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Huber, LogCosh, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, CTC, BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy, type DiceArgs, type TverskyArgs, type CircleArgs, type GeneralizedCrossEntropyArgs, type FocalArgs, type LossArgs, type CrossentropyArgs, type HuberArgs, type CosineSimilarityArgs } from './training/loss_classes.js';
export { Optimizer, SGD, Adam, AdamW, RMSprop, type OptimizerArgs, type SGDArgs, type AdamArgs, type RMSpropArgs, type LearningRateSchedule } from './training/optimizers.js';
export { Adagrad, type AdagradArgs } from './training/adagrad.js';
export { Nadam, type NadamArgs } from './training/nadam.js';
export { getOptimizer, type OptimizerSpec } from './training/optimizer_registry.js';
export { Mean, MeanMetricWrapper, RootMeanSquaredError, Accuracy, binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy, type Metric, type MetricUpdateOptions } from './training/metrics.js';
export { getMetric } from './training/metric_registry.js';
export { BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, topKCategoricalAccuracy, sparseTopKCategoricalAccuracy, type TopKArgs } from './training/accuracy_metrics.js';
export { Precision, Recall, AUC, type PrecisionRecallArgs, type AUCArgs } from './training/confusion_metrics.js';
export { FBetaScore, F1Score, type FBetaScoreArgs, type F1ScoreArgs, type FScoreAverage } from './training/f_score_metrics.js';
export { Callback, CallbackList, History, EarlyStopping, ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau, type Logs, type EarlyStoppingArgs, type ModelCheckpointArgs, type ReduceLROnPlateauArgs } from './training/callbacks.js';
export { ProgressBar, ProgbarLogger, type ProgressBarOptions } from './training/progress.js';
export { embeddingLookup } from './ops/embedding_lookup.js';
// Keras's operations (keras.ops) for models and tensors
export { ops, type IndexEntry, type ReduceOptions, type AxisOptions } from './layers/ops/ops_api.js';

export { padSequences, type PadSequencesOptions, type PaddedSequences, type PadSequencesDtype } from './data/pad_sequences.js';
export { TextVectorizer, type TextVectorizerArgs } from './data/text_vectorization.js';
export { planBatches, padBatch, type PlanBatchesOptions } from './data/bucketing.js';

// io
export { modelFromKerasConfig, setKerasWeights, type NamedWeight, type WeightsInput } from './io/keras_config.js';
export { loadModelFromBytes, saveModelToBytes, loadWeightsFromBytes, saveWeightsToBytes, type LoadModelOptions } from './io/keras_saving.js';
export { loadModel, saveModel, loadWeights, saveWeights } from './io/keras_file_node.js';
export { loadTfjsModel, type TfjsArtifacts, type TfjsLoadHandler } from './io/keras_legacy_load.js';
export { exportModel as modelToKerasConfig, exportModelJson as modelToKerasJson } from './io/keras_export.js';
export { registerKerasLayers, kerasLayerClasses, type KerasLayerEntry } from './io/keras_registry.js';
