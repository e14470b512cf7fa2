/**
 * The graph Keras 3.15.1 would record for a Masque functional model: Masque's
 * layer calls with the call arguments Keras's `Layer.__call__` writes into
 * each node (`training=False`, `mask=<the input's mask>`), plus the op nodes
 * that make those masks (keras_mask_ops.ts), in Keras's operation order
 * (models/graph_order.ts). `keras_export.ts` writes the config from it, and
 * the weights file names its groups in its layer order, so a saved model
 * loads in Keras as the same graph with every weight in its place.
 */
import { InputLayer } from '../engine/input_layer.js';
import { mapSymbolic, type Node, type SymbolicTensor } from '../engine/symbolic.js';
import { Layer } from '../engine/layer.js';
import type { Shape } from '../engine/types.js';
import type { Model } from '../models/functional.js';
import { kerasGraphOrder } from '../models/graph_order.js';
import { isOperation } from '../models/graph.js';
import { toSnakeCase } from '../names.js';
import { KerasOp } from '../layers/ops/keras_op.js';
import { Comparison } from '../layers/ops/comparison.js';
import { PyFloat } from '../engine/py_float.js';
import { MultiHeadAttention } from '../layers/attention/multi_head_attention.js';
import { GroupQueryAttention } from '../layers/attention/grouped_query_attention.js';
import { RNNLayer } from '../layers/rnn/rnn_base.js';
import { RNN } from '../layers/rnn/rnn.js';
import { Bidirectional } from '../layers/rnn/bidirectional.js';
import { camelToSnake } from './keras_names.js';
import type { AnyLayer } from './keras_registry.js';
import { KEY_AS_KEYWORD, RECORDED_TRAINING_FALSE, kerasCallSignature, kerasOutputMasks, type KMask, type OpClass } from './keras_mask_ops.js';

type Obj = Record<string, unknown>;

/** An op node that Keras's compute_mask makes; it has no Masque layer. */
export interface SyntheticOp {
  readonly cls: OpClass;
  readonly options: Obj;
  /** Set once the graph is ordered: unique in the model, never a layer's name. */
  name: string;
}

export type XOperation = AnyLayer | SyntheticOp;

/** One recorded call: positional arguments and keyword arguments (Keras names) holding XTensors. */
export interface XNode {
  readonly operation: XOperation;
  /** The Masque node it stands for (none for a synthetic op). */
  readonly source: Node | null;
  readonly args: unknown[];
  readonly kwargs: Obj;
  readonly outputs: XTensor[];
}

export class XTensor {
  constructor(
    readonly shape: Shape,
    readonly dtype: string,
    readonly node: XNode,
    readonly index: number,
  ) {}
}

export interface ExportGraph {
  readonly inputs: XTensor[];
  readonly outputs: XTensor[];
  /** Every operation in Keras's order (`model.operations`). */
  readonly operations: XOperation[];
  /** The layers in Keras's order (`model.layers`: input layers included, ops left out). */
  readonly layers: AnyLayer[];
  /** The operation's recorded calls in this graph, in the order they were made. */
  nodesOf(op: XOperation): XNode[];
  /** The index Keras gives a node among its operation's calls in this graph. */
  nodeIndex(node: XNode): number;
}

export function isSynthetic(op: XOperation): op is SyntheticOp {
  return !(op instanceof Layer);
}

/** Layers whose Keras call takes the inputs as separate positional arguments rather than one list. */
function positionalInputs(layer: AnyLayer): boolean {
  return (layer instanceof KerasOp && !(layer.constructor as typeof KerasOp).listOperand) || layer instanceof MultiHeadAttention || layer instanceof GroupQueryAttention;
}

/** The XTensors in `v` in Keras's flattening order (lists in order, dict values by sorted key). */
export function flattenTensors(v: unknown, out: XTensor[] = []): XTensor[] {
  if (v instanceof XTensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v) flattenTensors(x, out);
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v).sort()) flattenTensors((v as Obj)[k], out);
  return out;
}

function maskOf(v: XTensor | XTensor[], masks: Map<XTensor, KMask>): KMask {
  return Array.isArray(v) ? v.map((t) => masks.get(t) ?? null) : (masks.get(v) ?? null);
}

/**
 * The keyword arguments Keras's `Layer.__call__` records for a layer call
 * (steps 1, 5 and 6 of keras/src/layers/layer.py): the user's, and, when
 * the layer was called on one tensor of its dtype with nothing else (a
 * Functional model: on anything), `training=False` where `call`'s default is
 * False and `mask=<the input's mask>` where `call` takes a mask.
 */
function recordedKwargs(layer: AnyLayer, inputs: XTensor | XTensor[], args: unknown[], user: Obj, masks: Map<XTensor, KMask>, importedTrainingFalse: boolean): Obj {
  const kwargs: Obj = importedTrainingFalse && !('training' in user) ? { training: false, ...user } : { ...user };
  const sig = kerasCallSignature(layer);
  const single = !Array.isArray(inputs);
  const copies = sig.convertsInputs && (Object.keys(user).length > 0 || !single || inputs.dtype !== 'float32');
  const tensorArgs = [...args, ...Object.values(user)].filter((a) => flattenTensors(a).length > 0).length;
  const userMask = user['mask'];
  if (!copies) {
    if (sig.trainingFalse && !('training' in user)) kwargs['training'] = false;
    if (sig.mask && tensorArgs === 1 && (userMask === undefined || userMask === null)) kwargs['mask'] = maskOf(inputs, masks);
  }
  // Masque departs from Keras here (an RNN called with initial states still uses its input's mask):
  // writing the mask makes Keras compute what Masque does.
  if ((layer instanceof RNNLayer || layer instanceof RNN || layer instanceof Bidirectional) && user['initial_state'] !== undefined && userMask === undefined && single) {
    const m = masks.get(inputs) ?? null;
    if (m !== null) kwargs['mask'] = m;
  }
  return kwargs;
}

/** Builds the graph Keras would record for `model` (a functional model). */
export function buildExportGraph(model: Model): ExportGraph {
  const tensors = new Map<SymbolicTensor, XTensor>();
  const masks = new Map<XTensor, KMask>();
  const created: XNode[] = [];
  const x = (s: SymbolicTensor): XTensor => tensors.get(s)!;

  const record = (cls: OpClass, options: Obj, args: unknown[]): XTensor => {
    const specs = flattenTensors(args).map((t) => ({ shape: t.shape, dtype: t.dtype as never, mask: null }));
    const probe = new (cls as unknown as new (a: Obj) => KerasOp)({ ...options, name: 'masque_export_probe' });
    if (probe instanceof Comparison && (typeof args[1] === 'number' || args[1] instanceof PyFloat)) probe.other = args[1];
    const spec = probe.computeOutputSpec(specs.length === 1 ? specs[0]! : specs, { mask: null, training: false });
    const out = (Array.isArray(spec) ? spec[0] : spec)!;
    const node: XNode = { operation: { cls, options, name: '' }, source: null, args, kwargs: {}, outputs: [] };
    const t = new XTensor(out.shape, out.dtype, node, 0);
    node.outputs.push(t);
    created.push(node);
    return t;
  };

  for (const n of model.graphNodes) {
    const layer = n.layer as AnyLayer;
    const outputs: XTensor[] = [];
    if (layer instanceof InputLayer) {
      const node: XNode = { operation: layer, source: n, args: [], kwargs: {}, outputs };
      n.outputs.forEach((s, k) => outputs.push(new XTensor(s.shape, s.dtype, node, k)));
      outputs.forEach((t) => tensors.set(n.outputs[t.index]!, t));
      created.push(node);
      continue;
    }
    const inputs = mapSymbolic(n.inputs, x) as XTensor | XTensor[];
    const user: Obj = {};
    for (const [k, v] of Object.entries(n.args)) if (v !== undefined) user[camelToSnake(k)] = mapSymbolic(v, x);
    const list = Array.isArray(inputs) ? inputs : [inputs];
    let args: unknown[] = !positionalInputs(layer) ? [inputs] : layer instanceof KerasOp ? layer.kerasArgs(list) : [...list];
    // An imported attention call that gave the key as a keyword gives it so again.
    if (KEY_AS_KEYWORD.has(n) && positionalInputs(layer) && args.length === 3 && user['key'] === undefined) {
      user['key'] = args[2];
      args = args.slice(0, 2);
    }
    const firstArg = positionalInputs(layer) ? list[0]! : inputs;
    const kwargs = layer instanceof KerasOp ? user : recordedKwargs(layer, inputs, args, user, masks, RECORDED_TRAINING_FALSE.has(n));
    const userMask = user['mask'];
    const node: XNode = { operation: layer, source: n, args, kwargs, outputs };
    n.outputs.forEach((s, k) => outputs.push(new XTensor(s.shape, s.dtype, node, k)));
    outputs.forEach((t) => tensors.set(n.outputs[t.index]!, t));
    const previous: KMask = userMask !== undefined && userMask !== null ? (userMask as KMask) : maskOf(firstArg as XTensor | XTensor[], masks);
    const outMasks = kerasOutputMasks(layer, firstArg as XTensor | XTensor[], previous, outputs.length, record);
    outputs.forEach((t, k) => masks.set(t, outMasks[k] ?? null));
    created.push(node);
  }

  const inputs = model.inputs.map(x);
  const outputs = model.outputs.map(x);
  const { operations, depths } = kerasGraphOrder(
    outputs.map((t) => t.node),
    inputs.map((t) => t.node),
    { operation: (n: XNode) => n.operation, parents: (n: XNode) => [...flattenTensors(n.args), ...flattenTensors(n.kwargs)].map((t) => t.node) },
  );
  const inGraph = new Set<XNode>([...depths.keys(), ...inputs.map((t) => t.node)]);
  const byOp = new Map<XOperation, XNode[]>();
  for (const n of created) {
    if (!inGraph.has(n)) continue;
    if (!byOp.has(n.operation)) byOp.set(n.operation, []);
    byOp.get(n.operation)!.push(n);
  }
  const index = new Map<XNode, number>();
  for (const [op, nodes] of byOp) {
    if (!isSynthetic(op)) nodes.sort((a, b) => op.inboundNodes.indexOf(a.source!) - op.inboundNodes.indexOf(b.source!));
    nodes.forEach((n, i) => index.set(n, i));
  }
  nameSyntheticOps(operations, created.filter((n) => inGraph.has(n)));
  return {
    inputs,
    outputs,
    operations,
    layers: operations.filter((o): o is AnyLayer => !isSynthetic(o) && !isOperation(o)),
    nodesOf: (op) => byOp.get(op) ?? [],
    nodeIndex: (n) => index.get(n) ?? 0,
  };
}

/** Names the synthetic ops in the order they were made, as Keras's counter would: `not_equal`, `not_equal_1`, ..., skipping names the model uses. */
function nameSyntheticOps(operations: XOperation[], created: XNode[]): void {
  const used = new Set(operations.filter((o) => !isSynthetic(o)).map((o) => (o as AnyLayer).name));
  for (const n of created) {
    const op = n.operation;
    if (!isSynthetic(op)) continue;
    const base = toSnakeCase((op.cls as unknown as { className: string }).className);
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    op.name = name;
  }
}
