/**
 * The one registry of the Keras layer classes Masque can import and export,
 * listed explicitly, and the conversion between a Keras layer config
 * (snake_case keys, Keras's serialized values) and a layer's declared
 * options (camelCase). Both directions read each class's `options` table
 * (engine/options.ts): its Keras key (the snake_case of the option name
 * unless declared) and its kind (plain value, initializer, activation,
 * nested layer). Custom layers are added with `registerKerasLayers`.
 */
import { MasqueError, describe } from '../errors.js';
import { BASE_CALL_ARGS, Layer, type LayerClass } from '../engine/layer.js';
import { Model } from '../models/functional.js';
import { Sequential } from '../models/sequential.js';
import { BASE_OPTIONS, type KerasKind, type OptionTable } from '../engine/options.js';
import type { CallArgs } from '../engine/types.js';
import { activationName } from '../ops/activations.js';
import { camelToSnake, snakeToCamel } from './keras_names.js';
import { Masking } from '../layers/core/masking.js';
import { Embedding } from '../layers/core/embedding.js';
import { Dense } from '../layers/core/dense.js';
import { Activation, ReLU } from '../layers/core/activation.js';
import { Dropout, GaussianNoise } from '../layers/core/dropout.js';
import { Flatten, Reshape } from '../layers/core/reshaping.js';
import { LayerNormalization } from '../layers/normalization/layer_normalization.js';
import { SimpleRNN } from '../layers/rnn/simple_rnn.js';
import { LSTM } from '../layers/rnn/lstm.js';
import { GRU } from '../layers/rnn/gru.js';
import { Bidirectional } from '../layers/rnn/bidirectional.js';
import { TimeDistributed } from '../layers/rnn/time_distributed.js';
import { Attention } from '../layers/attention/attention.js';
import { MultiHeadAttention } from '../layers/attention/multi_head_attention.js';
import { GlobalAveragePooling1D } from '../layers/pooling/global_average_pooling1d.js';
import { GlobalMaxPooling1D } from '../layers/pooling/global_max_pooling1d.js';
import { AveragePooling1D } from '../layers/pooling/average_pooling1d.js';
import { MaxPooling1D } from '../layers/pooling/max_pooling1d.js';
import { Add } from '../layers/merging/add.js';
import { Subtract } from '../layers/merging/subtract.js';
import { Multiply } from '../layers/merging/multiply.js';
import { Average } from '../layers/merging/average.js';
import { Maximum } from '../layers/merging/maximum.js';
import { Minimum } from '../layers/merging/minimum.js';
import { Concatenate } from '../layers/merging/concatenate.js';
import { Dot } from '../layers/merging/dot.js';
import { Equal, Greater, GreaterEqual, Less, LessEqual, NotEqual } from '../layers/ops/comparison.js';
import { All, Any, LogicalAnd, LogicalNot, LogicalOr, LogicalXor } from '../layers/ops/logical.js';
import { Cast, ConcatenateOp, ConvertToTensor, ExpandDims, OnesLike, Squeeze, ZerosLike } from '../layers/ops/array_ops.js';
import { KerasOp } from '../layers/ops/keras_op.js';
import {
  AddOp, SubtractOp, MultiplyOp, MaximumOp, MinimumOp, Power, TrueDivide, Divide, Negative, Absolute, Square, Sqrt, Exp, Log, Tanh,
  SigmoidOp, ReluOp, SoftmaxOp, LogSoftmax, Sum, Mean, Max, Min, TransposeOp, ReshapeOp, Matmul, Where, GetItem,
} from '../layers/ops/math_ops.js';
import {
  Log1p, Expm1, Sin, Cos, Floor, Ceil, Sign, Reciprocal, Erf, Rsqrt, Silu, Softplus, LogSigmoid, Softsign, Relu6, HardSigmoid, HardSilu, Gelu, EluOp, LeakyReluOp,
  Round, Clip, FloorDivide, Mod, Log2, Log10, Exp2, Tan, Arcsin, Arccos, Arctan, Sinh, Cosh, Isnan, Isinf, Isfinite, NanToNum, StopGradient,
} from '../layers/ops/elementwise_ops.js';
import { Prod, Var, Std, Logsumexp, Argmax, Argmin, Cumsum, Normalize, CountNonzero } from '../layers/ops/statistics_ops.js';
import { Stack, Tile, Repeat, Take, OneHot, Swapaxes, Flip, Tril, Triu, Pad, Moveaxis, Roll } from '../layers/ops/gather_ops.js';
import { Sort, Argsort, TopK, Cumprod, Split, Unstack, TakeAlongAxis } from '../layers/ops/order_ops.js';
import { DotOp, Tensordot, Outer, Diagonal, Trace } from '../layers/ops/product_ops.js';
import { Einsum } from '../layers/ops/einsum_ops.js';
import { Softmax } from '../layers/activations/softmax.js';
import { Conv1D } from '../layers/convolutional/conv1d.js';
import { Cropping1D } from '../layers/reshaping/cropping1d.js';
import { ZeroPadding1D } from '../layers/reshaping/zero_padding1d.js';
import { RepeatVector } from '../layers/reshaping/repeat_vector.js';
import { CategoryEncoding } from '../layers/preprocessing/category_encoding.js';
import { Discretization } from '../layers/preprocessing/discretization.js';
import { Hashing } from '../layers/preprocessing/hashing.js';
import { ConvLSTM1D } from '../layers/rnn/conv_lstm1d.js';
import { Permute } from '../layers/reshaping/permute.js';
import { UpSampling1D } from '../layers/reshaping/up_sampling1d.js';
import { Conv1DTranspose } from '../layers/convolutional/conv1d_transpose.js';
import { DepthwiseConv1D, SeparableConv1D } from '../layers/convolutional/depthwise_conv1d.js';
import { AdaptiveAveragePooling1D, AdaptiveMaxPooling1D } from '../layers/pooling/adaptive_pooling1d.js';
// normalization family (issue 14)
import { BatchNormalization } from '../layers/normalization/batch_normalization.js';
import { GroupNormalization } from '../layers/normalization/group_normalization.js';
import { UnitNormalization } from '../layers/normalization/unit_normalization.js';
import { RMSNormalization } from '../layers/normalization/rms_normalization.js';
import { Normalization } from '../layers/preprocessing/normalization.js';
import { Rescaling } from '../layers/preprocessing/rescaling.js';
// text family (issue 16)
import { Lambda } from '../layers/core/lambda.js';
import { TextVectorization } from '../layers/preprocessing/text_vectorization.js';
import { StringLookup } from '../layers/preprocessing/string_lookup.js';
import { IntegerLookup } from '../layers/preprocessing/integer_lookup.js';
import { RNN } from '../layers/rnn/rnn.js';
import { SimpleRNNCell, LSTMCell, GRUCell } from '../layers/rnn/rnn_cell.js';
import { StackedRNNCells } from '../layers/rnn/stacked_rnn_cells.js';
import type { AbstractRNNCell } from '../layers/rnn/abstract_rnn_cell.js';
import { GroupQueryAttention } from '../layers/attention/grouped_query_attention.js';
import { AdditiveAttention } from '../layers/attention/additive_attention.js';
import { ELU } from '../layers/activations/elu.js';
import { LeakyReLU } from '../layers/activations/leaky_relu.js';
import { LEGACY_ACTIVATIONS } from './keras_legacy.js';
import { PReLU } from '../layers/activations/prelu.js';
import { Identity } from '../layers/core/identity.js';
import { GaussianDropout } from '../layers/regularization/gaussian_dropout.js';
import { AlphaDropout } from '../layers/regularization/alpha_dropout.js';
import { SpatialDropout1D } from '../layers/regularization/spatial_dropout.js';
import { ActivityRegularization } from '../layers/regularization/activity_regularization.js';
import { ReversibleEmbedding } from '../layers/core/reversible_embedding.js';
import { EinsumDense } from '../layers/core/einsum_dense.js';

export type AnyLayer = Layer<CallArgs, boolean>;

/** A layer class Masque can build from options (every built-in one). */
export type BuiltinClass = LayerClass & (new (args: never) => AnyLayer);

/** Every built-in layer class that Keras configs can name, by Keras class name. */
export const BUILTIN_LAYERS: readonly BuiltinClass[] = [
  Masking, Embedding, Dense, Activation, ReLU, Dropout, GaussianNoise, Flatten, Reshape, LayerNormalization,
  SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed,
  Attention, MultiHeadAttention,
  GlobalAveragePooling1D, GlobalMaxPooling1D, AveragePooling1D, MaxPooling1D,
  Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
  Softmax, Conv1D, Cropping1D, ZeroPadding1D,
  // sequence shaping (fourteenth round)
  RepeatVector, Permute, UpSampling1D, Conv1DTranspose, DepthwiseConv1D, SeparableConv1D, AdaptiveAveragePooling1D, AdaptiveMaxPooling1D,
  // normalization family (issue 14)
  BatchNormalization, GroupNormalization, UnitNormalization, RMSNormalization, Normalization, Rescaling,
  // text family (issue 16)
  TextVectorization, StringLookup, IntegerLookup,
  // categorical preprocessing and ConvLSTM1D (fifteenth round)
  CategoryEncoding, Discretization, Hashing, ConvLSTM1D,
  // recurrent cells (issue 14): RNN(cell) and the cells it runs
  RNN, SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells,
  // attention, activations and regularization (issue 14)
  GroupQueryAttention, AdditiveAttention, ELU, LeakyReLU, PReLU, Identity,
  GaussianDropout, AlphaDropout, SpatialDropout1D, ActivityRegularization, ReversibleEmbedding, EinsumDense,
] as unknown as readonly BuiltinClass[];

/**
 * The Keras operations Masque imports (the ones Keras records for masks,
 * the usual mask idioms, and the arithmetic, reductions, shapes and
 * indexing written between layers), by module and class name: Keras names the op
 * `Concatenate` like the layer and tells them apart by module.
 */
export const BUILTIN_OPS: readonly BuiltinClass[] = [
  NotEqual, Equal, Greater, GreaterEqual, Less, LessEqual,
  LogicalOr, LogicalAnd, LogicalXor, LogicalNot, Any, All,
  ExpandDims, Squeeze, ZerosLike, OnesLike, ConcatenateOp, Cast, ConvertToTensor,
  // operations on data (math_ops.ts): arithmetic, elementwise functions, reductions, shapes, indexing
  AddOp, SubtractOp, MultiplyOp, MaximumOp, MinimumOp, Power, TrueDivide, Divide, Negative, Absolute, Square, Sqrt, Exp, Log, Tanh,
  SigmoidOp, ReluOp, SoftmaxOp, LogSoftmax, Sum, Mean, Max, Min, TransposeOp, ReshapeOp, Matmul, Where, GetItem,
  // the second set: more elementwise functions and activations, reductions, stacking and picking
  Log1p, Expm1, Sin, Cos, Floor, Ceil, Sign, Reciprocal, Erf, Rsqrt, Silu, Softplus, LogSigmoid, Softsign, Relu6, HardSigmoid, HardSilu, Gelu, EluOp, LeakyReluOp,
  Round, Clip, FloorDivide, Mod, Prod, Var, Std, Logsumexp, Argmax, Argmin, Cumsum, Normalize, Stack, Tile, Repeat, Take, OneHot, Swapaxes, Flip, Tril, Triu, Einsum, Pad,
  // the third set: ordering and splitting (several outputs for Split, Unstack and TopK)
  Sort, Argsort, TopK, Cumprod, Split, Unstack, TakeAlongAxis,
  // the fourth set: more float functions, NaN tests, stop_gradient, moving and rolling axes, counting
  Log2, Log10, Exp2, Tan, Arcsin, Arccos, Arctan, Sinh, Cosh, Isnan, Isinf, Isfinite, NanToNum, StopGradient, Moveaxis, Roll, CountNonzero,
  // the fifth set: products and diagonals
  DotOp, Tensordot, Outer, Diagonal, Trace,
] as unknown as readonly BuiltinClass[];

/** A custom layer for import: a class that declares its options, or a function from its camelCase config (a layer, or a recurrent cell for RNN configs). */
export type KerasLayerEntry = BuiltinClass | { create(config: Record<string, unknown>): AnyLayer | AbstractRNNCell };

/** The Keras class name of a layer class. */
export function kerasClassName(cls: LayerClass): string {
  return Object.prototype.hasOwnProperty.call(cls, 'className') && cls.className !== undefined ? cls.className : (cls as unknown as { name: string }).name;
}

/**
 * Keras's other names for some layer classes (`keras.layers.MaxPool1D` is
 * `MaxPooling1D`, ...): the same classes, so Keras writes the long name in
 * configs, but its deserializer, and Masque's, take either.
 */
export const KERAS_LAYER_ALIASES: Readonly<Record<string, LayerClass>> = {
  AvgPool1D: AveragePooling1D as unknown as LayerClass,
  MaxPool1D: MaxPooling1D as unknown as LayerClass,
  GlobalAvgPool1D: GlobalAveragePooling1D as unknown as LayerClass,
  GlobalMaxPool1D: GlobalMaxPooling1D as unknown as LayerClass,
  Convolution1D: Conv1D as unknown as LayerClass,
  Convolution1DTranspose: Conv1DTranspose as unknown as LayerClass,
  SeparableConvolution1D: SeparableConv1D as unknown as LayerClass,
  // Keras's Python class; its legacy .h5 configs are written under this name.
  GroupedQueryAttention: GroupQueryAttention as unknown as LayerClass,
};

const registry = new Map<string, KerasLayerEntry>([
  ...BUILTIN_LAYERS.map((c): [string, KerasLayerEntry] => [kerasClassName(c), c]),
  ...Object.entries(KERAS_LAYER_ALIASES).map(([alias, c]): [string, KerasLayerEntry] => [alias, c as unknown as KerasLayerEntry]),
]);

// Every built-in class declares the call arguments it takes (Layer.apply
// refuses any other key): its own list, the nearest ancestor's, or
// training and mask. A user's subclass declares none unless it says so.
for (const c of [...BUILTIN_LAYERS, ...BUILTIN_OPS, Model, Sequential] as unknown as { callArgNames?: readonly string[] }[]) {
  if (!Object.prototype.hasOwnProperty.call(c, 'callArgNames')) Object.defineProperty(c, 'callArgNames', { value: c.callArgNames ?? BASE_CALL_ARGS });
}
const ops = new Map<string, BuiltinClass>(BUILTIN_OPS.map((c) => [opKey((c as unknown as typeof KerasOp).kerasModule, kerasClassName(c)), c]));

function opKey(module: string, className: string): string {
  return `${module}.${className}`;
}

/**
 * The module of the Keras operation class `className` (legacy `.h5` configs
 * of Keras 3 drop op entries' `module`), or undefined. The name must belong
 * to exactly one op module. When a layer has the same name (`Add`,
 * `Multiply`, `Reshape`, `Softmax`), the entry is the op's only if its
 * `config` is an op's: Keras writes every layer's `trainable` and `dtype`,
 * and no op's.
 */
export function opModuleOf(className: string, config?: unknown): string | undefined {
  if (registry.has(className) && !(isObj(config) && !('trainable' in config) && !('dtype' in config))) return undefined;
  const modules = BUILTIN_OPS.filter((c) => kerasClassName(c) === className).map((c) => (c as unknown as typeof KerasOp).kerasModule);
  return modules.length === 1 ? modules[0] : undefined;
}

/** True for an entry whose module is one of Keras's op modules (keras.src.ops.*). */
function isOpEntry(entry: Obj): boolean {
  return typeof entry['module'] === 'string' && entry['module'].startsWith('keras.src.ops.');
}

/**
 * Registers custom layers for Keras import: `registerKerasLayers({ MyLayer })`
 * with a layer class that declares `static options` (its config is checked
 * and converted like a built-in's), or `{ MyLayer: { create(config) } }`
 * (config keys in camelCase, values as Keras wrote them).
 */
export function registerKerasLayers(entries: Record<string, KerasLayerEntry>): void {
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
    throw new MasqueError('INVALID_ARGUMENT', `registerKerasLayers: expected an object { KerasClassName: layer class or { create(config) } }; received ${describe(entries)}.`);
  }
  for (const [name, entry] of Object.entries(entries)) {
    const ok = (typeof entry === 'function' && entry.prototype instanceof Layer) || (entry !== null && typeof entry === 'object' && typeof (entry as { create?: unknown }).create === 'function');
    if (!ok) throw new MasqueError('INVALID_ARGUMENT', `registerKerasLayers: '${name}' must be a layer class or { create(config) }; received ${describe(entry)}.`);
    registry.set(name, entry);
  }
}

export function kerasLayerClasses(): string[] {
  return [...registry.keys()].sort();
}

/** Context for nested layers (Bidirectional, TimeDistributed): builds a layer or model from its Keras entry. */
export interface ConvertContext {
  layerFromConfig(entry: unknown): AnyLayer;
}

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keras's float32 dtype policy, as every layer config of a float32 model holds it. */
export const FLOAT32_POLICY: Obj = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

/** Keys Keras always writes that Masque ignores when they hold these values. */
const IGNORABLE = new Map<string, (v: unknown) => boolean>([
  ['dtype', (v) => v === 'float32' || v === null || (isObj(v) && isObj(v['config']) && v['config']['name'] === 'float32')],
  ['build_config', () => true],
  ['sparse', (v) => v === false],
  ['ragged', (v) => v === false],
  ['optional', (v) => v === false],
  ['stateful', (v) => v === false],
  ['input_length', () => true],
  ['lora_rank', (v) => v === null || v === undefined],
  ['lora_alpha', (v) => v === null || v === undefined],
  ['quantization_config', (v) => v === null],
  ['autocast', () => true],
]);

/** The Keras key of each option in `table` (declared, or the snake_case of its name), Masque-only options left out. */
function kerasKeys(table: OptionTable): Map<string, string> {
  const m = new Map<string, string>();
  for (const [name, spec] of Object.entries(table)) if (spec.kerasKind !== 'none') m.set(spec.kerasName ?? camelToSnake(name), name);
  return m;
}

/** A Keras config value as the option of `kind` takes it. */
function fromKeras(kind: KerasKind, v: unknown, ctx: ConvertContext): unknown {
  if ((kind === 'initializer' || kind === 'regularizer' || kind === 'constraint') && isObj(v) && typeof v['class_name'] === 'string') {
    return { className: v['class_name'], config: isObj(v['config']) ? v['config'] : {} };
  }
  if (kind === 'layer' && isObj(v)) return ctx.layerFromConfig(v);
  if (kind === 'dtypePolicy' && isObj(v) && isObj(v['config']) && typeof v['config']['name'] === 'string') return v['config']['name'];
  if (kind === 'layers' && Array.isArray(v)) return v.map((e) => ctx.layerFromConfig(e));
  return v;
}

/** An option value of `kind` as Keras writes it. */
export function toKeras(kind: KerasKind, v: unknown, where: string, nested: (l: AnyLayer) => Obj): unknown {
  if (typeof v === 'function') {
    const legacy = LEGACY_ACTIVATIONS.get(v);
    if (legacy !== undefined) throw new MasqueError('UNSUPPORTED_CONFIG', `Saving to Keras format: ${where} is ${legacy}. Keras 3 has no activation equal to it, so a Keras file cannot hold this model.`);
    const named = kind === 'initializer' || kind === 'activation' || kind === 'regularizer' || kind === 'constraint' ? `a named ${kind}` : "one of the option's named values (e.g. standardize: 'lower_and_strip_punctuation')";
    throw new MasqueError('UNSUPPORTED_CONFIG', `Saving to Keras format: ${where} is a function, which a Keras config cannot hold. Use ${named}.`);
  }
  if (kind === 'regularizer' || kind === 'constraint') {
    if (v === null) return null;
    const module = kind === 'regularizer' ? 'keras.regularizers' : 'keras.constraints';
    // A name becomes Keras's class of that name with its default config.
    if (typeof v === 'string') return { module, class_name: kerasObjectName(kind, v), config: {}, registered_name: null };
    if (isObj(v) && typeof v['className'] === 'string') return { module, class_name: v['className'], config: v['config'] ?? {}, registered_name: null };
  }
  if (kind === 'activation') return activationName(v as string | null) ?? v;
  if (kind === 'dtypePolicy' && typeof v === 'string') return { ...FLOAT32_POLICY, config: { name: v } };
  if (kind === 'initializer') {
    if (typeof v === 'string') return camelToSnake(v);
    if (isObj(v) && typeof v['className'] === 'string') return { module: 'keras.initializers', class_name: v['className'], config: v['config'] ?? {}, registered_name: null };
  }
  if (kind === 'layer' && v instanceof Layer) return nested(v as AnyLayer);
  if (kind === 'layers' && Array.isArray(v)) return v.map((l) => (l instanceof Layer ? nested(l as AnyLayer) : l));
  return v;
}

/** Keras's class name for a regularizer or constraint name ('l2' -> 'L2', 'non_neg' or 'nonNeg' -> 'NonNeg'). */
function kerasObjectName(kind: 'regularizer' | 'constraint', name: string): string {
  const key = name.replace(/_/g, '').toLowerCase();
  const names = kind === 'regularizer' ? ['L1', 'L2', 'L1L2'] : ['NonNeg', 'MaxNorm', 'UnitNorm', 'MinMaxNorm'];
  return names.find((n) => n.toLowerCase() === key) ?? name;
}

/** Options for `cls` from a Keras config, rejecting settings Masque does not support. */
function optionsFromKeras(className: string, table: OptionTable, cfg: Obj, ctx: ConvertContext): Obj {
  const keys = kerasKeys(table);
  const out: Obj = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'name' || k === 'trainable') {
      out[k] = v;
      continue;
    }
    const name = keys.get(k);
    if (name !== undefined) {
      out[name] = fromKeras(table[name]!.kerasKind, v, ctx);
      continue;
    }
    if (IGNORABLE.get(k)?.(v) === true) continue;
    if ((k.endsWith('_regularizer') || k.endsWith('_constraint')) && v === null) continue;
    throw new MasqueError('UNSUPPORTED_CONFIG', `Keras config of ${className} '${String(cfg['name'])}': Masque does not support ${k}=${JSON.stringify(v)}.`);
  }
  return out;
}

/** A declared class built from a Keras config: options converted, required ones present, refused values reported as unsupported. */
function construct(cls: BuiltinClass, className: string, cfg: Obj, ctx: ConvertContext): AnyLayer {
  const table: OptionTable = { ...BASE_OPTIONS, ...cls.options };
  const where = `Keras config of ${className} '${String(cfg['name'])}'`;
  const missing = Object.keys(table).filter((k) => table[k]!.required && table[k]!.kerasKind !== 'none' && !((table[k]!.kerasName ?? camelToSnake(k)) in cfg));
  if (missing.length > 0) throw new MasqueError('INVALID_CONFIG', `${where}: the config has no ${missing.map((k) => `'${table[k]!.kerasName ?? camelToSnake(k)}'`).join(', ')}.`);
  const args = optionsFromKeras(className, table, cfg, ctx);
  try {
    return new cls(args as never);
  } catch (e) {
    // A value Keras wrote that Masque's layer refuses is a setting Masque does not support.
    if (e instanceof MasqueError && e.code === 'INVALID_ARGUMENT') throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: ${e.message}`);
    throw e;
  }
}

/** Builds a layer (or an operation) from one Keras entry `{ module, class_name, config }`. */
export function layerFromKerasEntry(entry: unknown, ctx: ConvertContext): AnyLayer {
  if (!isObj(entry) || typeof entry['class_name'] !== 'string' || !isObj(entry['config'])) {
    throw new MasqueError('INVALID_CONFIG', `Keras config: expected a layer entry { class_name, config }; received ${describe(entry)}.`);
  }
  const className = entry['class_name'];
  const cfg = entry['config'];
  if (isOpEntry(entry)) {
    const op = ops.get(opKey(entry['module'] as string, className));
    if (op === undefined) {
      throw new MasqueError(
        'UNKNOWN_LAYER_CLASS',
        `Keras config: unknown operation '${className}' of module ${String(entry['module'])} (node '${String(cfg['name'])}'). Masque can import the operations ${[...ops.keys()].join(', ')}.`,
      );
    }
    return construct(op, className, cfg, ctx);
  }
  const found = registry.get(className);
  if (found === undefined && className === 'Lambda') {
    throw new MasqueError(
      'UNSUPPORTED_CONFIG',
      `Keras config: layer '${String(cfg['name'])}' is a Lambda layer, whose function Keras saves as Python bytecode, which Masque cannot run. ` +
        `Write the computation as a custom layer (a Layer subclass) and register it for this layer with registerKerasLayers({ Lambda: { create: (config) => new MyLayer({ name: config.name }) } }), ` +
        `or replace the Lambda in Keras by a custom layer registered with keras.saving.register_keras_serializable and register the same class name in Masque.`,
    );
  }
  if (found === undefined) {
    throw new MasqueError(
      'UNKNOWN_LAYER_CLASS',
      `Keras config: unknown layer class '${className}' (layer '${String(cfg['name'])}'). Masque can import: ${kerasLayerClasses().join(', ')}. For a custom layer, register it with registerKerasLayers.`,
    );
  }
  if (typeof found === 'function' && found.options !== null) return construct(found, className, cfg, ctx);
  const camel: Obj = {};
  for (const [k, v] of Object.entries(cfg)) if (!(IGNORABLE.get(k)?.(v) === true)) camel[snakeToCamel(k)] = v;
  return typeof found === 'function' ? new found(camel as never) : ((found as { create(c: Obj): AnyLayer | AbstractRNNCell }).create(camel) as AnyLayer);
}

/** A layer's Keras `config` object: its declared options under their Keras keys (custom layers: `getConfig()` in snake_case). */
export function kerasLayerConfig(layer: AnyLayer, nested: (l: AnyLayer) => Obj): Obj {
  if (layer instanceof Lambda) {
    throw new MasqueError(
      'UNSUPPORTED_CONFIG',
      `Saving to Keras format: layer '${layer.name}' (Lambda) holds a JavaScript function, which a .keras file cannot hold (Keras saves a Lambda's function as Python bytecode). ` +
        `Write the computation as a custom layer (a Layer subclass with static className and options), register it with registerKerasLayers to load it in Masque, ` +
        `and register a layer of the same class name in Keras (keras.saving.register_keras_serializable) to load it there.`,
    );
  }
  const out: Obj = { name: layer.name, trainable: layer.trainable, dtype: FLOAT32_POLICY };
  // A few Keras classes write their base keys differently (SpatialDropout1D: no `trainable`, which its
  // constructor refuses, and `dtype` as a plain string); `kerasExtras` are keys Keras writes that Masque
  // fixes (null regularizers and quantization configs), added so the config has Keras's keys.
  const statics = layer.constructor as { kerasOmits?: readonly string[]; kerasBase?: Obj; kerasExtras?: Obj };
  for (const k of statics.kerasOmits ?? []) delete out[k];
  Object.assign(out, statics.kerasBase ?? {});
  const table = (layer.constructor as unknown as LayerClass).options;
  if (table === null) {
    for (const [k, v] of Object.entries(layer.getConfig() as Obj)) {
      if (k in BASE_OPTIONS || v === undefined) continue;
      out[camelToSnake(k)] = toKeras(/(initializer)$/i.test(k) ? 'initializer' : /activation$/i.test(k) ? 'activation' : 'value', v, `option '${k}' of ${layer.className} '${layer.name}'`, nested);
    }
    return out;
  }
  const args = layer.args as Obj;
  for (const [key, name] of kerasKeys(table)) {
    const v = args[name];
    if (v === undefined) continue;
    out[key] = toKeras(table[name]!.kerasKind, v, `option '${name}' of ${layer.className} '${layer.name}'`, nested);
  }
  for (const [k, v] of Object.entries(statics.kerasExtras ?? {})) if (!(k in out)) out[k] = v;
  return out;
}
