/**
 * Models in the formats before Keras 3's `.keras`: legacy HDF5 files
 * (`model.save('x.h5')` in Keras 2 / tf.keras and Keras 3) and TensorFlow.js
 * layers models (`model.json` with weight shards, from tfjs-layers'
 * `model.save` or `tensorflowjs_converter`).
 *
 * Both hold a Keras 2 style config (tfjs-layers writes Keras 2's), which
 * `kerasConfigFromLegacy` turns into the Keras 3 config that
 * `modelFromKerasConfig` reads, as Keras 3.15.1's own legacy loader does
 * (`keras/src/legacy/saving/saving_utils.py`: `batch_input_shape` becomes
 * the input's shape, a one-element `axis` list an integer; functional
 * `inbound_nodes` in the list form), with these differences (docs/keras.md,
 * "Older formats", and departures 27 and 28), among others:
 *
 * - `time_major: false` and `implementation` (Keras 2's recurrent layers)
 *   are dropped: they do not change the result, and Keras 3 refuses
 *   `time_major`, so it cannot load any tf.keras 2 LSTM, GRU or SimpleRNN.
 *   `time_major: true` is refused.
 * - `hard_sigmoid` in a Keras 2 or TensorFlow.js config is Keras 2's
 *   `clip(0.2 x + 0.5, 0, 1)`; Keras 3's is `relu6(x + 3) / 6`, a different
 *   function that Keras 3 runs in its place. TensorFlow.js's `gelu_new` is the
 *   tanh approximation of GELU. Keras 3 has neither, so such a model cannot be
 *   saved as `.keras` (saving raises UNSUPPORTED_CONFIG).
 *
 * Weights are matched as Keras's `load_weights_from_hdf5_group` does: the
 * file's layers that hold weights, in order, to the model's layers that hold
 * weights, each layer's trainable weights then its non-trainable ones; a
 * TensorFlow.js model's by name (see setLegacyWeights). Everything is
 * checked before any weight is set.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import type { LayerWeight } from '../engine/layer.js';
import { Model } from '../models/functional.js';
import { Sequential } from '../models/sequential.js';
import { opModuleOf, type AnyLayer } from './keras_registry.js';
import { assignWeightArrays } from './keras_config.js';
import type { LegacyLayerWeights, VarArray } from './h5_weights.js';
import { isObj, type Obj } from './keras_training_objects.js';
import { opLambdaEntries } from './keras_legacy_ops.js';

/** Where a legacy config comes from: Keras 2 (tf.keras) or TensorFlow.js layers. */
export type LegacyDialect = 'keras2' | 'tfjs';

/** Keras 2's hard sigmoid, `clip(0.2 x + 0.5, 0, 1)` (tf.keras 2 and tfjs-layers), computed in the same float32 steps. */
export function keras2HardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1));
}
/** TensorFlow.js's `gelu_new`: the tanh approximation of GELU. */
export function tfjsGeluNew(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))));
}
/** Why each legacy activation cannot be written to a Keras 3 config (read by the saver). */
export const LEGACY_ACTIVATIONS = new Map<unknown, string>([
  [keras2HardSigmoid, "Keras 2's hard_sigmoid (clip(0.2 x + 0.5, 0, 1)), read from a Keras 2 or TensorFlow.js model; Keras 3's hard_sigmoid is another function (relu6(x + 3) / 6)"],
  [tfjsGeluNew, "TensorFlow.js's gelu_new (the tanh approximation of GELU), read from a TensorFlow.js model; Keras 3's 'gelu' is the exact GELU"],
]);

/** Activation names of Keras 2 and tfjs whose function Keras 3 does not have under that name (a Map: 'constructor' finds nothing). */
const LEGACY_ACTIVATION_BY_NAME = new Map<string, (x: tf.Tensor) => tf.Tensor>([['hard_sigmoid', keras2HardSigmoid], ['hardsigmoid', keras2HardSigmoid], ['gelu_new', tfjsGeluNew]]);

/** Keras 2 recurrent layers and cells, whose `time_major` and `implementation` are dropped. */
const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'ConvLSTM1D', 'LSTMCell', 'GRUCell', 'SimpleRNNCell', 'StackedRNNCells', 'PeepholeLSTMCell']);

/** Layers whose call takes `value` as its second argument (tf.keras 2 records it as a keyword). */
const VALUE_AS_KEYWORD = new Set(['MultiHeadAttention', 'GroupedQueryAttention', 'GroupQueryAttention']);

/** The keys of an RNN's own config (tfjs-layers adds its cell's keys beside them). */
const RNN_KEYS = new Set(['name', 'trainable', 'dtype', 'cell', 'return_sequences', 'return_state', 'go_backwards', 'stateful', 'unroll', 'time_major', 'zero_output_for_mask', 'input_dim', 'input_length', 'batch_input_shape']);

/** A Keras 2 layer entry (with its nested layers) as Keras 3 writes it. */
function layerEntry(entry: unknown, dialect: LegacyDialect, where: string, taken: Set<string> = new Set()): unknown {
  if (!isObj(entry) || !isObj(entry['config'])) return entry; // the config reader reports malformed entries
  const className = String(entry['class_name']);
  if (className === 'Sequential' || className === 'Functional' || className === 'Model') {
    const model = modelEntry(entry, dialect, where);
    return Array.isArray(entry['inbound_nodes']) ? { ...model, inbound_nodes: entry['inbound_nodes'].map((n) => nodeEntry(n, `${where}, model '${String((entry['config'] as Obj)['name'] ?? entry['name'])}'`)) } : model;
  }
  const name = String(entry['config']['name'] ?? entry['name'] ?? className);
  const here = `${where}, layer '${name}' (${className})`;
  // One entry, or (tf.linalg.matmul with transpose_a/transpose_b) the Swapaxes entries it needs before it.
  if (className === 'TFOpLambda' || className === 'SlicingOpLambda') return opLambdaEntries(entry, where, taken);
  const cfg: Obj = { ...entry['config'] };
  delete cfg['batch_input_shape'];
  if (dialect === 'tfjs' && className === 'RNN' && isObj(cfg['cell']) && isObj(cfg['cell']['config'])) {
    // tfjs-layers repeats its cell's config at the top level of an RNN's: those copies go, the cell keeps them.
    const cell = cfg['cell']['config'];
    for (const k of Object.keys(cfg)) if (!RNN_KEYS.has(k) && Object.hasOwn(cell, k) && JSON.stringify(cfg[k]) === JSON.stringify(cell[k])) delete cfg[k];
  }
  // Keras 2 writes keys that change nothing in Keras 3's layers (and Keras 3 refuses them).
  if (className === 'Embedding' && cfg['mask_zero'] === null) cfg['mask_zero'] = false; // tfjs-layers' unset default
  if (className.startsWith('SpatialDropout') && cfg['noise_shape'] === null) delete cfg['noise_shape'];
  if (className === 'MultiHeadAttention') for (const k of ['query_shape', 'key_shape', 'value_shape']) delete cfg[k]; // build hints of tf.keras 2
  if ((className === 'Attention' || className === 'AdditiveAttention') && 'causal' in cfg) {
    if (cfg['causal'] === true) throw new MasqueError('UNSUPPORTED_CONFIG', `${here}: causal=true (tf.keras 2.10 and before) is not read; Keras 3 takes it at the call (use_causal_mask=True). Rebuild the layer without it and pass useCausalMask: true when calling it.`);
    delete cfg['causal'];
  }
  const axis = cfg['axis'];
  if (Array.isArray(axis) && axis.length === 1) cfg['axis'] = Math.trunc(Number(axis[0]));
  else if (typeof axis === 'number') cfg['axis'] = Math.trunc(axis);
  if (RECURRENT.has(className)) {
    if (cfg['time_major'] === true) throw new MasqueError('UNSUPPORTED_CONFIG', `${here}: time_major=true (inputs laid out [time, batch, ...]) is not supported; Masque's recurrent layers take [batch, time, ...] as Keras 3's do.`);
    delete cfg['time_major'];
    delete cfg['implementation'];
    if (cfg['unit_forget_bias'] === null) cfg['unit_forget_bias'] = false; // tfjs-layers writes its unset default
  }
  if (className === 'LeakyReLU' && 'alpha' in cfg && !('negative_slope' in cfg)) {
    cfg['negative_slope'] = cfg['alpha'];
    delete cfg['alpha'];
  }
  for (const key of ['activation', 'recurrent_activation']) {
    const a = cfg[key];
    const legacy = typeof a === 'string' ? LEGACY_ACTIVATION_BY_NAME.get(a.toLowerCase()) : undefined;
    if (legacy !== undefined) cfg[key] = legacy;
  }
  for (const key of ['layer', 'backward_layer', 'cell']) if (isObj(cfg[key])) cfg[key] = layerEntry(cfg[key], dialect, here);
  if (Array.isArray(cfg['cells'])) cfg['cells'] = cfg['cells'].map((c) => layerEntry(c, dialect, here));
  const out: Obj = { ...entry, config: cfg };
  if (Array.isArray(entry['inbound_nodes'])) out['inbound_nodes'] = entry['inbound_nodes'].map((n) => nodeEntry(n, here, VALUE_AS_KEYWORD.has(className)));
  return out;
}

/** A tensor reference of a Keras 2 node, `[layer, node, tensor]` (4th: kwargs), as Keras 3's `__keras_tensor__`. */
function tensorRef(r: unknown[]): Obj {
  return { class_name: '__keras_tensor__', config: { shape: null, dtype: null, keras_history: [r[0], r[1], r[2]] } };
}
const isRef = (r: unknown): r is unknown[] => Array.isArray(r) && (r.length === 3 || r.length === 4) && typeof r[0] === 'string' && Number.isInteger(r[1]) && Number.isInteger(r[2]);

/**
 * One call of a Keras 2 `inbound_nodes` list, `[[layer, node, tensor, kwargs], ...]`,
 * as Keras 3's `{ args, kwargs }`: the inputs (one, or a list), and the last
 * entry's keyword arguments (Keras 3's `deserialize_node`). A keyword argument
 * that is itself a reference becomes a tensor reference; with
 * `valueArgument` (MultiHeadAttention, whose `value` tf.keras 2 records as a
 * keyword) `value` becomes the second argument, as Keras 3 records it.
 */
function nodeEntry(node: unknown, where: string, valueArgument = false): unknown {
  if (isObj(node)) return node; // already Keras 3's form
  if (!Array.isArray(node) || node.length === 0 || !node.every(isRef)) {
    throw new MasqueError('INVALID_CONFIG', `${where}: expected inbound_nodes entries as lists of [layer name, node index, tensor index, kwargs]; received ${describe(node)}.`);
  }
  const refs = node.map(tensorRef);
  const last = node[node.length - 1]!;
  const kw = isObj(last[3]) ? last[3] : {};
  const kwargs: Obj = {};
  for (const [k, v] of Object.entries(kw)) kwargs[k] = isRef(v) ? tensorRef(v) : Array.isArray(v) && v.length > 0 && v.every(isRef) ? v.map(tensorRef) : v;
  // tf.keras 2 records MultiHeadAttention's value as a keyword; Keras 3 records query and value as the two arguments.
  if (valueArgument && refs.length === 1 && isObj(kwargs['value']) && kwargs['value']['class_name'] === '__keras_tensor__') {
    const { value, ...rest } = kwargs;
    return { args: [refs[0], value], kwargs: rest };
  }
  return { args: [refs.length === 1 ? refs[0] : refs], kwargs };
}

function inputEntry(cfg: Obj): Obj {
  const c: Obj = { ...cfg };
  if (c['batch_shape'] === undefined && c['batch_input_shape'] !== undefined) c['batch_shape'] = c['batch_input_shape'];
  delete c['batch_input_shape'];
  return c;
}

function modelEntry(entry: Obj, dialect: LegacyDialect, where: string): Obj {
  const className = String(entry['class_name']);
  // Keras 2.0-2.1 wrote a Sequential's config as the list of its layers.
  const raw = Array.isArray(entry['config']) ? { layers: entry['config'] } : entry['config'];
  if (!isObj(raw)) return entry;
  const cfg: Obj = { ...raw };
  const name = String(cfg['name'] ?? className);
  const here = `${where}${where ? ', ' : ''}model '${name}'`;
  const layers = Array.isArray(cfg['layers']) ? (cfg['layers'] as unknown[]) : null;
  if (layers === null) return { ...entry, config: cfg };
  // Keras 2 and tfjs count the calls of a nested model that has its own inputs from 1 (its node 0 is its
  // own graph); Masque's config reader counts them from 0, as Keras 3 does in call arguments.
  const nested = new Set(layers.filter(hasOwnGraph).map((e) => String((e as Obj)['name'] ?? ((e as Obj)['config'] as Obj)['name'])));
  const shift = (v: unknown): unknown =>
    // A shifted reference's keyword arguments are walked too: a TFOpLambda's second operand (matmul's b) is among them.
    isRef(v) && nested.has(v[0] as string) && (v[1] as number) >= 1 ? [v[0], (v[1] as number) - 1, v[2], ...v.slice(3).map(shift)] : Array.isArray(v) ? v.map(shift) : isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shift(x)])) : v;
  const out: unknown[] = [];
  // The names in use, so that the operations a TFOpLambda adds (matmul's Swapaxes) take new ones.
  const taken = new Set(layers.map((e) => (isObj(e) ? String(e['name'] ?? (isObj(e['config']) ? e['config']['name'] : '')) : '')));
  layers.forEach((e0, i) => {
    const e = isObj(e0) && Array.isArray(e0['inbound_nodes']) && nested.size > 0 ? { ...e0, inbound_nodes: shift(e0['inbound_nodes']) } : e0;
    if (isObj(e) && e['class_name'] === 'InputLayer' && isObj(e['config'])) {
      out.push({ ...e, config: inputEntry(e['config']) });
      return;
    }
    // A Sequential's first layer carries the input's shape (tfjs-layers and Keras 2 without an InputLayer entry).
    const shape = isObj(e) && isObj(e['config']) ? e['config']['batch_input_shape'] : undefined;
    if (className === 'Sequential' && i === 0 && Array.isArray(shape)) {
      const c = (e as Obj)['config'] as Obj;
      const dtype = (e as Obj)['class_name'] === 'Embedding' ? 'int32' : typeof c['dtype'] === 'string' ? c['dtype'] : 'float32';
      out.push({ class_name: 'InputLayer', config: { batch_shape: shape, dtype, name: `${String(c['name'] ?? 'layer')}_input` } });
    }
    const translated = layerEntry(e, dialect, here, taken);
    if (Array.isArray(translated)) out.push(...(translated as unknown[]));
    else out.push(translated);
  });
  cfg['layers'] = out;
  // Keras 2 lists a model's inputs and outputs even when there is one, and its model then takes and returns one tensor.
  for (const key of ['input_layers', 'output_layers']) {
    const refs = shift(cfg[key]);
    cfg[key] = refs;
    if (Array.isArray(refs) && refs.length === 1 && isRef(refs[0])) cfg[key] = (refs[0] as unknown[]).slice(0, 3);
  }
  return { ...entry, class_name: className === 'Model' ? 'Functional' : className, config: cfg };
}

/** A nested model entry whose node 0 is its own graph: a Functional model, or a Sequential given its input's shape. */
function hasOwnGraph(e: unknown): boolean {
  if (!isObj(e) || !isObj(e['config']) && !Array.isArray(e['config'])) return false;
  if (e['class_name'] === 'Functional' || e['class_name'] === 'Model') return true;
  if (e['class_name'] !== 'Sequential') return false;
  const layers = Array.isArray(e['config']) ? e['config'] : (e['config'] as Obj)['layers'];
  const first = Array.isArray(layers) ? layers[0] : undefined;
  return isObj(first) && (first['class_name'] === 'InputLayer' || (isObj(first['config']) && Array.isArray(first['config']['batch_input_shape'])));
}

/**
 * A Keras 2 or TensorFlow.js layers model config (`model_config` of a
 * Keras 2 `.h5` file, `modelTopology` of a `model.json`) as the Keras 3
 * config `modelFromKerasConfig` reads. `where` names the file in errors.
 */
export function kerasConfigFromLegacy(config: unknown, dialect: LegacyDialect, where: string): Obj {
  const top = isObj(config) && isObj(config['model_config']) ? config['model_config'] : config; // tfjs: modelTopology may wrap it
  if (!isObj(top) || typeof top['class_name'] !== 'string') {
    throw new MasqueError('INVALID_CONFIG', `${where}: expected a model config { class_name, config }; received ${describe(top)}.`);
  }
  if (!['Sequential', 'Functional', 'Model'].includes(top['class_name'])) {
    throw new MasqueError('UNKNOWN_LAYER_CLASS', `${where}: the top level must be a Sequential or Functional model; received class '${top['class_name']}'.`);
  }
  return modelEntry(top, dialect, where);
}

/**
 * True when a model config is in Keras 2's dialect rather than Keras 3's:
 * Keras 3 writes `module` on every layer entry and `{ args, kwargs }`
 * inbound nodes; Keras 2 writes neither.
 */
export function isKeras2Config(config: unknown): boolean {
  if (!isObj(config) || !isObj(config['config']) && !Array.isArray(config['config'])) return false;
  const layers = Array.isArray(config['config']) ? config['config'] : (config['config'] as Obj)['layers'];
  if (!Array.isArray(layers)) return false;
  return layers.some((e) => isObj(e) && (Array.isArray(e['inbound_nodes']) && e['inbound_nodes'].some((n) => Array.isArray(n)) || (isObj(e['config']) && 'batch_input_shape' in e['config']))) ||
    layers.every((e) => isObj(e) && !('module' in e));
}

/** The layers Keras's legacy loader walks: `model.layers` (a Sequential's without its InputLayer). */
function legacyLayers(model: Model): AnyLayer[] {
  return model instanceof Sequential ? model.sequentialLayers : model.layers;
}

/** The layers with weights, nested models replaced by their own layers, recursively. */
function leafLayers(model: Model): AnyLayer[] {
  return legacyLayers(model).flatMap((l) => (l instanceof Model ? leafLayers(l) : legacyWeights(l).length > 0 ? [l] : []));
}

/** `layers` in the order of the file's layers when each file layer names exactly one of them, else null. */
function pairByName(fileLayers: LegacyLayerWeights[], layers: AnyLayer[]): AnyLayer[] | null {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const unique = byName.size === layers.length && new Set(fileLayers.map((f) => f.name)).size === fileLayers.length;
  if (!unique || fileLayers.length !== layers.length || !fileLayers.every((f) => byName.has(f.name))) return null;
  return fileLayers.map((f) => byName.get(f.name)!);
}

/** A layer's weights in Keras's legacy order: trainable, then non-trainable. */
function legacyWeights(layer: AnyLayer): LayerWeight[] {
  return [...layer.trainableWeights, ...layer.nonTrainableWeights];
}

/**
 * Sets `model`'s weights from a legacy file's layers (Keras's
 * `load_weights_from_hdf5_group`): the file's layers that list weights, in
 * order (or by name, when the names are the model's), to the model's layers
 * that hold weights. Checks every count and shape first, so a mismatch
 * leaves the model's weights as they were.
 */
export function setLegacyWeights(model: Model, layers: LegacyLayerWeights[], where: string, options: { byName?: boolean } = {}): void {
  const fileLayers = layers.filter((l) => l.arrays.length > 0);
  let modelLayers = legacyLayers(model).filter((l) => legacyWeights(l).length > 0);
  // Keras pairs the layers by order, and so does Masque for HDF5 files. A TensorFlow.js model is paired by
  // name when every name of its weights names one of the model's layers: tensorflowjs_converter lists the
  // layers by name, not in the model's order, and TensorFlow.js names a nested model's weights by its inner
  // layers (tried next).
  const named = options.byName ? pairByName(fileLayers, modelLayers) ?? pairByName(fileLayers, leafLayers(model)) : null;
  if (named !== null) modelLayers = named;
  if (fileLayers.length !== modelLayers.length) {
    throw new MasqueError(
      'WEIGHT_COUNT_MISMATCH',
      `${where}: the file has weights for ${fileLayers.length} layers (${fileLayers.map((l) => `'${l.name}'`).join(', ') || 'none'}) but the model has ${modelLayers.length} layers with weights (${modelLayers.map((l) => `'${l.name}'`).join(', ') || 'none'}).`,
    );
  }
  const pairs: [LayerWeight, VarArray][] = [];
  fileLayers.forEach((f, k) => {
    const layer = modelLayers[k]!;
    const ws = legacyWeights(layer);
    if (ws.length !== f.arrays.length) {
      throw new MasqueError('WEIGHT_COUNT_MISMATCH', `${where}: layer #${k} ('${layer.name}' in the model, '${f.name}' in the file) needs ${ws.length} weights (${ws.map((w) => w.name).join(', ')}); the file has ${f.arrays.length} (${f.weightNames.join(', ')}).`);
    }
    ws.forEach((w, i) => {
      const a = f.arrays[i]!;
      if (a.shape.length !== w.shape.length || a.shape.some((d, j) => d !== w.shape[j])) {
        throw new MasqueError('WEIGHT_SHAPE_MISMATCH', `${where}: weight '${f.weightNames[i]}' of layer '${f.name}' has shape ${formatShape(a.shape)} but '${w.path}' of layer '${layer.name}' has shape ${formatShape(w.shape)}.`);
      }
      pairs.push([w, a]);
    });
  });
  assignWeightArrays(pairs);
}

/**
 * A Keras 3 model config from a legacy `.h5` file, where Keras drops the
 * `module` of operation entries (`NotEqual` of `keras.src.ops.numpy`, which
 * Keras then cannot find when it loads its own file): each such entry gets
 * the module of the one Keras operation of that name.
 */
export function withOpModules(config: unknown): unknown {
  if (Array.isArray(config)) return config.map(withOpModules);
  if (!isObj(config)) return config;
  const out: Obj = {};
  for (const [k, v] of Object.entries(config)) out[k] = withOpModules(v);
  if (typeof config['class_name'] === 'string' && isObj(config['config']) && Array.isArray(config['inbound_nodes']) && !('module' in config)) {
    const module = opModuleOf(config['class_name'], config['config']);
    if (module !== undefined) out['module'] = module;
  }
  return out;
}
