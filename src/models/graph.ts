/**
 * The graph of a functional model: the layer calls recorded on symbolic
 * inputs, in execution order. It runs on tensors (each node through the
 * same `apply` as a direct call, so masks propagate identically at every
 * level of nesting) and on specs (each node's `outputSpecs`, so a model
 * applied to new symbolic inputs computes its outputs' shapes and masks
 * without running anything).
 */
import type { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { argmaxClasses, type Layer } from '../engine/layer.js';
import { attachMask, cloneMask, getMask } from '../engine/masks.js';
import { InputLayer } from '../engine/input_layer.js';
import { SymbolicTensor, collectSymbolic, isSymbolic, mapSymbolic, type Node } from '../engine/symbolic.js';
import type { CallArgs, MaskSpec, TensorSpec } from '../engine/types.js';
import { kerasGraphOrder } from './graph_order.js';

export type AnyLayer = Layer<CallArgs, boolean>;

export class Graph {
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  /** Layer calls in execution order (input layers first). */
  readonly nodes: Node[];
  /** Every layer and operation of the graph in Keras's order (`model.operations`; see graph_order.ts). */
  readonly operations: AnyLayer[];
  /** The layers in Keras's order, operations left out, as Keras's `model.layers`. */
  readonly layers: AnyLayer[];
  /** Whether the model was given one input (not a list) and one output. */
  readonly singleInput: boolean;
  readonly singleOutput: boolean;

  /** Checks that `outputs` are computed from `inputs` only, with unique layer names and no cycle; `where` names the model in errors. */
  constructor(inputs: SymbolicTensor | SymbolicTensor[], outputs: SymbolicTensor | SymbolicTensor[], where: string) {
    const ins = Array.isArray(inputs) ? inputs : [inputs];
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    for (const [what, list] of [['inputs', ins], ['outputs', outs]] as const) {
      if (list.length === 0 || list.some((s) => !isSymbolic(s))) {
        throw new MasqueError('INVALID_ARGUMENT', `${where}: ${what} must be symbolic tensors (from Input and layer calls); received ${describe(list.map((s) => (isSymbolic(s) ? s.name : s)))}.`);
      }
    }
    for (const s of ins) {
      if (!(s.node?.layer instanceof InputLayer)) {
        throw new MasqueError('INVALID_ARGUMENT', `${where}: every input must come from Input(); '${s.name}' was made by a layer call.`);
      }
    }
    const order: Node[] = [];
    const seen = new Set<Node>();
    const visiting = new Set<Node>();
    const visit = (s: SymbolicTensor, from: string): void => {
      const node = s.node;
      if (node === null) throw new MasqueError('GRAPH_DISCONNECTED', `${where}: the tensor '${s.name}' has no producing layer call.`);
      if (seen.has(node)) return;
      if (node.layer instanceof InputLayer && !ins.includes(s)) {
        throw new MasqueError(
          'GRAPH_DISCONNECTED',
          `${where}: graph disconnected. '${from}' needs the input '${s.name}', which is not among the model's inputs [${ins.map((i) => i.name).join(', ')}].`,
        );
      }
      if (visiting.has(node)) throw new MasqueError('GRAPH_DISCONNECTED', `${where}: the graph has a cycle at layer '${node.layer.name}'.`);
      visiting.add(node);
      for (const t of collectSymbolic([node.inputs, node.args])) visit(t, node.layer.name);
      visiting.delete(node);
      seen.add(node);
      order.push(node);
    };
    for (const s of ins) visit(s, s.name);
    for (const s of outs) visit(s, s.name);
    const { operations } = kerasGraphOrder(
      outs.map((s) => s.node!),
      ins.map((s) => s.node!),
      { operation: (n: Node) => n.layer as AnyLayer, parents: (n: Node) => kerasArgumentTensors(n).map((s) => s.node!) },
    );
    const names = new Set<string>();
    for (const l of operations) {
      if (names.has(l.name)) throw new MasqueError('INVALID_ARGUMENT', `${where}: layer names must be unique in a model; '${l.name}' appears twice.`);
      names.add(l.name);
    }
    this.inputs = ins;
    this.outputs = outs;
    this.nodes = order;
    this.operations = operations;
    this.layers = operations.filter((l) => !isOperation(l));
    this.singleInput = !Array.isArray(inputs);
    this.singleOutput = !Array.isArray(outputs);
  }

  /** The first node whose layer received a mask it cannot use (recorded when the node was made), or null. */
  firstDroppedMask(): Node | null {
    return this.nodes.find((n) => n.dropsMask !== null) ?? null;
  }

  /**
   * Runs the graph on one tensor per input (masks attached); returns one
   * tensor per output, masks attached. With `classes` (a graph with one
   * output), returns instead the classes of that output (int32, the argmax
   * over its last axis, its mask attached): the layer that makes the output
   * gives them through `applyClasses`, so that a Dense softmax at the end
   * never computes its probabilities.
   */
  run(inputs: tf.Tensor[], where: string, classes = false): tf.Tensor[] {
    const values = new Map<SymbolicTensor, tf.Tensor>();
    this.inputs.forEach((s, i) => values.set(s, inputs[i]!));
    const get = (s: SymbolicTensor): tf.Tensor => {
      const v = values.get(s);
      if (v === undefined) throw new MasqueError('GRAPH_DISCONNECTED', `${where}: no value for '${s.name}'.`);
      return v;
    };
    // The node whose one output is the graph's one output (none: the output is an input, or one of several outputs of its node).
    const out = this.outputs[0]!;
    const last = classes && out.node !== null && out.node.outputs.length === 1 && !(out.node.layer instanceof InputLayer) ? out.node : null;
    for (const node of this.nodes) {
      if (node.layer instanceof InputLayer) continue;
      const ins = mapSymbolic(node.inputs, get) as tf.Tensor | tf.Tensor[];
      const a = mapSymbolic(node.args, get) as CallArgs;
      const res = node === last ? node.layer.applyClasses(ins, a) : node.layer.apply(ins, a);
      const flat = Array.isArray(res) ? res : [res];
      node.outputs.forEach((s, k) => values.set(s, flat[k]!));
    }
    if (!classes || last !== null) return this.outputs.map(get);
    const y = get(out);
    const c = argmaxClasses(y, where);
    const m = getMask(y);
    attachMask(c, m === null ? null : cloneMask(m));
    return [c];
  }

  /**
   * The output specs for inputs with these specs (masks included), found
   * from each node's declared output spec: nothing runs (unless a layer
   * declares none and is traced). The mask policy in force applies to
   * layers that receive a mask they cannot use.
   */
  outputSpecs(inputs: TensorSpec[]): TensorSpec[] {
    const specs = new Map<SymbolicTensor, TensorSpec>();
    this.inputs.forEach((s, i) => specs.set(s, inputs[i]!));
    const get = (s: SymbolicTensor): TensorSpec => {
      const v = specs.get(s);
      if (v === undefined) throw new MasqueError('GRAPH_DISCONNECTED', `graph: no spec for '${s.name}'.`);
      return v;
    };
    for (const node of this.nodes) {
      if (node.layer instanceof InputLayer) continue;
      const ins = mapSymbolic(node.inputs, get) as TensorSpec | TensorSpec[];
      const args: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node.args)) {
        args[k] = k === 'mask' && v !== undefined ? mapSymbolic(v, (s) => explicitMaskSpec(s, get(s))) : mapSymbolic(v, get);
      }
      const r = node.layer.outputSpecs(ins, args);
      node.outputs.forEach((s, k) => specs.set(s, r.outputs[k]!));
    }
    return this.outputs.map(get);
  }
}

/** True for a Keras operation (ops.not_equal, ...) run as a layer: a graph node, but not one of a model's `layers`. */
export function isOperation(layer: AnyLayer): boolean {
  return (layer.constructor as unknown as { isOperation?: boolean }).isOperation === true;
}

/**
 * The symbolic tensors a node was called on, in Keras's argument order:
 * the inputs (positional arguments), then the call arguments with their
 * keys sorted, as `keras.tree.flatten` orders a dict. (The camelCase keys
 * that can hold tensors sort as their snake_case Keras names do.)
 */
export function kerasArgumentTensors(node: Node): SymbolicTensor[] {
  const keys = Object.keys(node.args).sort();
  return collectSymbolic([node.inputs, ...keys.map((k) => node.args[k])]);
}

/** The spec of an explicit mask argument: the mask tensor's shape, made by the layer that made the tensor. */
export function explicitMaskSpec(s: SymbolicTensor, spec: TensorSpec): MaskSpec {
  const layer = s.node?.layer;
  return layer === undefined ? { shape: spec.shape } : { shape: spec.shape, origin: { layerName: layer.name, className: layer.className, detail: 'explicit mask argument' } };
}
