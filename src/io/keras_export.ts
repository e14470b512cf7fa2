/**
 * Masque model -> Keras 3 config (`model.to_json()` format), so that
 * `.keras` files written by Masque load in Keras as the same graph. Layer
 * options are converted camelCase -> snake_case; nested layers and
 * initializers become Keras's serialized objects; a functional model is
 * written from the graph Keras itself would record for it
 * (keras_export_graph.ts: its mask op nodes and `training`/`mask` call
 * arguments, in Keras's layer order), with each layer's build config as
 * Keras's `get_build_config()` gives it.
 */
import { PyFloat } from '../engine/py_float.js';
import { pythonJsonDumps } from './keras_archive.js';
import type { Layer } from '../engine/layer.js';
import { InputLayer } from '../engine/input_layer.js';
import { collectSymbolic, isSymbolic, mapSymbolic } from '../engine/symbolic.js';
import type { CallArgs } from '../engine/types.js';
import { Model } from '../models/functional.js';
import { Sequential } from '../models/sequential.js';
import { FLOAT32_POLICY, kerasLayerConfig } from './keras_registry.js';
import { KerasOp } from '../layers/ops/keras_op.js';
import { MultiHeadAttention } from '../layers/attention/multi_head_attention.js';
import { Masking } from '../layers/core/masking.js';
import { Activation, ReLU } from '../layers/core/activation.js';
import { Dropout, GaussianNoise } from '../layers/core/dropout.js';
import { Reshape } from '../layers/core/reshaping.js';
import { Softmax } from '../layers/activations/softmax.js';
import { GlobalAveragePooling1D } from '../layers/pooling/global_average_pooling1d.js';
import { GlobalMaxPooling1D } from '../layers/pooling/global_max_pooling1d.js';
import { AveragePooling1D } from '../layers/pooling/average_pooling1d.js';
import { MaxPooling1D } from '../layers/pooling/max_pooling1d.js';
import { RNNLayer } from '../layers/rnn/rnn_base.js';
import { RNN } from '../layers/rnn/rnn.js';
import { Bidirectional } from '../layers/rnn/bidirectional.js';
import { TimeDistributed } from '../layers/rnn/time_distributed.js';
import { buildExportGraph, flattenTensors, isSynthetic, XTensor, type XOperation } from './keras_export_graph.js';
import { GroupQueryAttention } from '../layers/attention/grouped_query_attention.js';
import { ELU } from '../layers/activations/elu.js';
import { LeakyReLU } from '../layers/activations/leaky_relu.js';
import { Identity } from '../layers/core/identity.js';
import { GaussianDropout } from '../layers/regularization/gaussian_dropout.js';
import { AlphaDropout } from '../layers/regularization/alpha_dropout.js';
import { SpatialDropout1D } from '../layers/regularization/spatial_dropout.js';
import { ActivityRegularization } from '../layers/regularization/activity_regularization.js';
import { UnitNormalization } from '../layers/normalization/unit_normalization.js';

type Obj = Record<string, unknown>;
type AnyLayer = Layer<CallArgs, boolean>;

/** A layer's Keras `config` object. */
export function exportLayerConfig(layer: AnyLayer): Obj {
  return kerasLayerConfig(layer, (l) => exportLayerEntry(l, false));
}

/** A Keras operation's entry: its module, and a config of its name and arguments only. */
function exportOpEntry(op: KerasOp, withName: boolean): Obj {
  const config = exportLayerConfig(op);
  delete config['trainable'];
  // `dtype` is the layer dtype policy unless the op has a dtype argument of its own (zeros_like, cast, ...).
  if (!('dtype' in ((op.constructor as typeof KerasOp).options ?? {}))) delete config['dtype'];
  return { module: op.kerasModule, class_name: op.className, config, registered_name: op.className, ...(withName ? { name: op.name } : {}) };
}

/** A layer's Keras entry: module, class, config and (for a layer Keras builds with shapes) its build config. */
function exportLayerEntry(layer: AnyLayer, withName: boolean): Obj {
  if (layer instanceof Model) return withName ? { ...exportModel(layer), name: layer.name } : exportModel(layer);
  if (layer instanceof KerasOp) return exportOpEntry(layer, withName);
  const entry: Obj = { module: 'keras.layers', class_name: layer.className, config: exportLayerConfig(layer), registered_name: null };
  const build = buildConfig(layer);
  if (build !== undefined) entry['build_config'] = build;
  wrappedBuildConfig(layer, entry);
  if (withName) entry['name'] = layer.name;
  return entry;
}

/** Layers for which Keras records no build config (they are never built with shapes; checked against Keras's own saves). */
const NO_BUILD: readonly (abstract new (...a: never[]) => AnyLayer)[] = [
  InputLayer, Masking, Activation, ReLU, Dropout, GaussianNoise, Reshape, Softmax,
  GlobalAveragePooling1D, GlobalMaxPooling1D, AveragePooling1D, MaxPooling1D,
  ELU, LeakyReLU, Identity, GaussianDropout, AlphaDropout, SpatialDropout1D, ActivityRegularization, UnitNormalization,
];

/**
 * Bidirectional and TimeDistributed build the layer they wrap: Keras saves
 * that layer's build config inside theirs (the sequences' shape; for
 * TimeDistributed, the shape of one step).
 */
function wrappedBuildConfig(layer: AnyLayer, entry: Obj): void {
  if (!(layer instanceof Bidirectional || layer instanceof TimeDistributed)) return;
  // A layer Keras builds at init (Dropout, Activation, ...) has no build config, wrapped or not.
  if (layer instanceof TimeDistributed && NO_BUILD.some((c) => layer.layer instanceof c)) return;
  const inner = (entry['config'] as Obj)['layer'] as Obj | undefined;
  const node = layer.inboundNodes[0];
  if (inner === undefined || node === undefined || inner['build_config'] !== undefined || inner['module'] !== 'keras.layers') return;
  const shape = collectSymbolic(node.inputs)[0]!.shape;
  const child = layer instanceof TimeDistributed ? [shape[0]!, ...shape.slice(2)] : shape;
  const named = Object.entries(inner);
  const at = named.findIndex(([k]) => k === 'registered_name') + 1;
  (entry['config'] as Obj)['layer'] = Object.fromEntries([...named.slice(0, at), ['build_config', { input_shape: child }], ...named.slice(at)]);
}

/**
 * Keras's `get_build_config()`: the shapes of the first call, as `build()`
 * received them; `{"input_shape": ...}` when `build` took one argument,
 * `{"shapes_dict": {...}}` when it took several (the attention layers'
 * query/value/key, a recurrent layer's sequences and initial state).
 */
function buildConfig(layer: AnyLayer): Obj | undefined {
  const node = layer.inboundNodes[0];
  if (node === undefined || NO_BUILD.some((c) => layer instanceof c)) return undefined;
  const shapes = collectSymbolic(node.inputs).map((s) => s.shape);
  const shapeOf = (v: unknown): unknown => mapSymbolic(v, (s) => s.shape);
  if (layer instanceof MultiHeadAttention || layer instanceof GroupQueryAttention) {
    const value = shapes[1] ?? shapeOf(node.args['value']);
    const key = shapes[2] ?? (node.args['key'] === undefined || node.args['key'] === null ? undefined : shapeOf(node.args['key']));
    return { shapes_dict: { query_shape: shapes[0], value_shape: value, ...(key !== undefined ? { key_shape: key } : {}) } };
  }
  const state = node.args['initialState'];
  if ((layer instanceof RNNLayer || layer instanceof RNN || layer instanceof Bidirectional) && state !== undefined && state !== null) {
    return { shapes_dict: { sequences_shape: shapes[0], initial_state_shape: shapeOf(state) } };
  }
  return { input_shape: Array.isArray(node.inputs) ? shapes : shapes[0] };
}

function inputLayerEntry(layer: InputLayer): Obj {
  return {
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: layer.output.shape, dtype: layer.args.dtype, sparse: false, ragged: false, name: layer.name, optional: false },
    registered_name: null,
  };
}

function exportSequential(model: Sequential): Obj {
  const input = model.inputs[0];
  const layers: Obj[] = [];
  if (input) layers.push(inputLayerEntry(input.node!.layer as InputLayer));
  for (const l of model.sequentialLayers) layers.push(exportLayerEntry(l, false));
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: { name: model.name, trainable: model.trainable, dtype: FLOAT32_POLICY, layers, ...(input ? { build_input_shape: input.shape } : {}) },
    registered_name: null,
    ...(input ? { build_config: { input_shape: input.shape } } : {}),
  };
}

/** A Functional model's config, from the graph Keras would record for it (keras_export_graph.ts). */
function exportFunctional(model: Model): Obj {
  const graph = buildExportGraph(model);
  const history = (t: XTensor): [string, number, number] => [t.node.operation.name, graph.nodeIndex(t.node), t.index];
  const serialize = (v: unknown): unknown => {
    if (v instanceof XTensor) return { class_name: '__keras_tensor__', config: { shape: v.shape, dtype: v.dtype, keras_history: history(v) } };
    if (v instanceof PyFloat) return v; // an operation's 2.0, written 2.0
    if (Array.isArray(v)) return v.map(serialize);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, serialize(x)]));
    return v;
  };
  const inbound = (op: XOperation): Obj[] =>
    graph.nodesOf(op).filter((n) => flattenTensors([n.args, n.kwargs]).length > 0).map((n) => ({ args: serialize(n.args), kwargs: serialize(n.kwargs) }));
  const layers: Obj[] = graph.operations.map((op) => {
    if (isSynthetic(op)) return { ...exportOpEntry(new (op.cls as unknown as new (a: Obj) => KerasOp)({ ...op.options, name: op.name }), true), inbound_nodes: inbound(op) };
    if (op instanceof InputLayer) return { ...inputLayerEntry(op), name: op.name, inbound_nodes: [] };
    return { ...exportLayerEntry(op, true), inbound_nodes: inbound(op) };
  });
  // A nested Functional model's calls count from 1 in input_layers/output_layers (Keras reserves 0 for its own graph).
  const ioHistory = (t: XTensor): [string, number, number] => {
    const op = t.node.operation;
    const h = history(t);
    return op instanceof Model && !(op instanceof Sequential) ? [h[0], h[1] + 1, h[2]] : h;
  };
  const ref = (list: XTensor[]) => (list.length === 1 ? ioHistory(list[0]!) : list.map(ioHistory));
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: { name: model.name, trainable: model.trainable, layers, input_layers: ref(graph.inputs), output_layers: ref(graph.outputs) },
    registered_name: 'Functional',
    build_config: { input_shape: null },
  };
}

/**
 * The layers a model's weights file holds under `layers/`, in Keras's order:
 * a Sequential's layers as added, a Functional model's in the order of the
 * graph Keras would record for it (input layers included, ops left out).
 */
export function kerasSavedLayers(model: Model): AnyLayer[] {
  if (model instanceof Sequential) return model.sequentialLayers;
  return buildExportGraph(model).layers;
}

/**
 * The Keras 3 config of a model as `model.to_json()` writes it: Python's JSON
 * text, where an operation's float `2.0` stays `2.0` (JSON.stringify of
 * `modelToKerasConfig`'s object writes `2`, an int to Keras).
 */
export function exportModelJson(model: Model): string {
  return pythonJsonDumps(exportModel(model));
}

/** The Keras 3 config of a model, as `model.to_json()` would write it. */
export function exportModel(model: Model): Obj {
  if (model instanceof Sequential) return exportSequential(model);
  return exportFunctional(model);
}

/** True when `v` holds symbolic tensors (used by tests). */
export function hasSymbolic(v: unknown): boolean {
  return isSymbolic(v) || collectSymbolic(v).length > 0;
}
