/**
 * Masque model -> Keras 3 config (`model.to_json()` format), so that
 * `.keras` files written by Masque load in Keras. Layer options are
 * converted camelCase -> snake_case; nested layers and initializers become
 * Keras's serialized objects; functional graphs become `inbound_nodes`.
 */
import type { Layer } from '../engine/layer.js';
import { InputLayer } from '../engine/input_layer.js';
import { collectSymbolic, isSymbolic, mapSymbolic, type Node, type SymbolicTensor } from '../engine/symbolic.js';
import type { CallArgs } from '../engine/types.js';
import { Model } from '../models/functional.js';
import { Sequential } from '../models/sequential.js';
import { camelToSnake } from './keras_names.js';
import { FLOAT32_POLICY, kerasLayerConfig } from './keras_registry.js';
import { KerasOp } from '../layers/ops/keras_op.js';
import { MultiHeadAttention } from '../layers/attention/multi_head_attention.js';
import { GroupQueryAttention } from '../layers/attention/grouped_query_attention.js';

type Obj = Record<string, unknown>;
type AnyLayer = Layer<CallArgs, boolean>;

/** A layer's Keras `config` object. */
export function exportLayerConfig(layer: AnyLayer): Obj {
  return kerasLayerConfig(layer, (l) => exportLayerEntry(l, false));
}

/** A Keras operation's entry: its module, and a config of its name and arguments only. */
function exportOpEntry(op: KerasOp, withName: boolean): Obj {
  const { trainable: _t, dtype: _d, ...config } = exportLayerConfig(op);
  return { module: op.kerasModule, class_name: op.className, config, registered_name: op.className, ...(withName ? { name: op.name } : {}) };
}

/** Layers whose Keras call takes its inputs as separate positional arguments, not one list. */
function positionalInputs(layer: AnyLayer): boolean {
  return layer instanceof KerasOp || layer instanceof MultiHeadAttention || layer instanceof GroupQueryAttention;
}

/** Keras's build_config of a layer whose build takes named shapes (the attention layers: query_shape, value_shape, key_shape). */
function shapesDict(layer: AnyLayer, shapes: unknown[]): Obj | null {
  if (!(layer instanceof GroupQueryAttention || layer instanceof MultiHeadAttention)) return null;
  const names = ['query_shape', 'value_shape', 'key_shape'];
  return { shapes_dict: Object.fromEntries(shapes.map((s, i) => [names[i]!, s])) };
}

function exportLayerEntry(layer: AnyLayer, withName: boolean): Obj {
  if (layer instanceof Model) return exportModel(layer);
  if (layer instanceof KerasOp) return exportOpEntry(layer, withName);
  const entry: Obj = { module: 'keras.layers', class_name: layer.className, config: exportLayerConfig(layer), registered_name: null };
  const node = layer.inboundNodes.find((n) => n.layer === layer);
  if (node && !(layer instanceof InputLayer)) {
    const shapes = collectSymbolic(node.inputs).map((s) => s.shape);
    entry['build_config'] = shapesDict(layer, shapes) ?? { input_shape: Array.isArray(node.inputs) ? shapes : shapes[0] };
  }
  if (withName) entry['name'] = layer.name;
  return entry;
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

function exportFunctional(model: Model): Obj {
  // Node indices count each layer's calls within this model, in graph order.
  const nodeIndex = new Map<Node, number>();
  const perLayer = new Map<AnyLayer, number>();
  for (const n of model.graphNodes) {
    const k = perLayer.get(n.layer) ?? 0;
    nodeIndex.set(n, k);
    perLayer.set(n.layer, k + 1);
  }
  const history = (s: SymbolicTensor): [string, number, number] => [s.node!.layer.name, nodeIndex.get(s.node!) ?? 0, s.outputIndex];
  const kerasTensor = (s: SymbolicTensor): Obj => ({ class_name: '__keras_tensor__', config: { shape: s.shape, dtype: s.dtype, keras_history: history(s) } });
  const layers: Obj[] = [];
  for (const l of model.layers) {
    if (l instanceof InputLayer) {
      layers.push({ ...inputLayerEntry(l), name: l.name, inbound_nodes: [] });
      continue;
    }
    const entry = exportLayerEntry(l, true);
    entry['inbound_nodes'] = model.graphNodes
      .filter((n) => n.layer === l)
      .map((n) => {
        const kwargs: Obj = {};
        for (const [k, v] of Object.entries(n.args)) if (v !== undefined) kwargs[camelToSnake(k)] = mapSymbolic(v, kerasTensor);
        const inputs = Array.isArray(n.inputs) ? n.inputs.map(kerasTensor) : kerasTensor(n.inputs);
        if (!positionalInputs(l) || (l instanceof KerasOp && (l.constructor as typeof KerasOp).listOperand)) return { args: [inputs], kwargs };
        const extra = l instanceof KerasOp ? l.extraOperands() : [];
        return { args: [...(Array.isArray(inputs) ? inputs : [inputs]), ...extra], kwargs };
      });
    layers.push(entry);
  }
  const ref = (list: SymbolicTensor[]) => (list.length === 1 ? history(list[0]!) : list.map(history));
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: { name: model.name, trainable: model.trainable, layers, input_layers: ref(model.inputs), output_layers: ref(model.outputs) },
    registered_name: 'Functional',
    build_config: { input_shape: null },
  };
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
