/**
 * Building Masque models from Keras 3 `model.to_json()` configs: Sequential
 * and Functional (with nested models), then setting weights by their Keras
 * paths (or in `model.weights` order).
 */
import { KerasOp } from '../layers/ops/keras_op.js';
import { parseKerasJson, plainNumbers } from './keras_json.js';
import { PyFloat } from '../engine/py_float.js';
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { checkKeys } from '../option_keys.js';
import { Input, InputLayer } from '../engine/input_layer.js';
import { isSymbolic, type SymbolicTensor } from '../engine/symbolic.js';
import type { MaskPolicy } from '../engine/mask_policy.js';
import { withMaskPolicy } from '../engine/mask_policy.js';
import { Model } from '../models/functional.js';
import type { LayerWeight } from '../engine/layer.js';
import { Sequential } from '../models/sequential.js';
import { layerFromKerasEntry, type AnyLayer, type ConvertContext } from './keras_registry.js';
import { snakeToCamel } from './keras_names.js';
import { KEY_AS_KEYWORD, RECORDED_TRAINING_FALSE } from './keras_mask_ops.js';

/** Weights as the conformance cases and `.keras` readers give them. */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
}

export type WeightsInput = NamedWeight[] | (tf.Tensor | ArrayLike<number>)[];

export interface FromConfigOptions {
  maskPolicy?: MaskPolicy;
}

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** One import: how nested entries are built, and every layer built so far (disposed if the import fails). */
interface ImportContext extends ConvertContext {
  created: AnyLayer[];
}

function importContext(): ImportContext {
  const ctx: ImportContext = { created: [], layerFromConfig: (e) => layerOrModel(e, ctx) };
  return ctx;
}

function layerOrModel(entry: unknown, ctx: ImportContext): AnyLayer {
  if (isObj(entry) && (entry['class_name'] === 'Functional' || entry['class_name'] === 'Sequential' || entry['class_name'] === 'Model')) {
    return modelFromEntry(entry, undefined, ctx);
  }
  const layer = layerFromKerasEntry(entry, ctx);
  ctx.created.push(layer);
  return layer;
}

function inputFromConfig(cfg: unknown): SymbolicTensor {
  if (!isObj(cfg)) throw new MasqueError('INVALID_CONFIG', `Keras config: an InputLayer entry has no config object; received ${describe(cfg)}.`);
  const shape = (cfg['batch_shape'] ?? cfg['batch_input_shape']) as (number | null)[] | undefined;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => d !== null && !(Number.isInteger(d) && d >= 0))) {
    throw new MasqueError('INVALID_CONFIG', `Keras config: InputLayer '${String(cfg['name'])}' needs batch_shape, a list of non-negative integers or null (batch first); received ${describe(shape)}.`);
  }
  const dtype = String(cfg['dtype'] ?? 'float32');
  const mapped = dtype.startsWith('int') || dtype.startsWith('uint') ? 'int32' : dtype === 'bool' ? 'bool' : dtype === 'string' ? 'string' : 'float32';
  return Input({ shape: shape.slice(1), batchSize: shape[0] ?? null, dtype: mapped, name: String(cfg['name']) });
}

function sequentialFromConfig(cfg: Obj, policy: MaskPolicy | undefined, ctx: ImportContext): Sequential {
  const model = new Sequential({ name: String(cfg['name'] ?? 'sequential'), maskPolicy: policy, trainable: cfg['trainable'] !== false });
  const layers = cfg['layers'];
  if (!Array.isArray(layers)) throw new MasqueError('INVALID_CONFIG', `Keras config: Sequential '${String(cfg['name'])}' has no layers list.`);
  for (const entry of layers) {
    if (isObj(entry) && entry['class_name'] === 'InputLayer') {
      model.add(inputFromConfig(entry['config']).node!.layer as InputLayer);
    } else {
      model.add(layerOrModel(entry, ctx));
    }
  }
  const shape = cfg['build_input_shape'];
  if (!model.built && Array.isArray(shape)) model.build(shape as (number | null)[]);
  return model;
}

/** A `keras_history` reference `[layer name, node index, tensor index]`, checked. */
function historyOf(v: unknown, what: string): [string, number, number] {
  const h = isObj(v) && isObj(v['config']) ? v['config']['keras_history'] : v;
  if (!Array.isArray(h) || h.length !== 3 || typeof h[0] !== 'string' || !Number.isInteger(h[1]) || !Number.isInteger(h[2])) {
    throw new MasqueError('INVALID_CONFIG', `Keras config: ${what} must be [layer name, node index, tensor index]; received ${describe(h)}.`);
  }
  return h as [string, number, number];
}

/** Resolves `__keras_tensor__` references in node args/kwargs to symbolic tensors. */
function resolve(v: unknown, outputs: Map<string, SymbolicTensor[][]>): unknown {
  if (v instanceof PyFloat) return v; // an operation's 2.0 (a saved model's config handed back)
  if (isObj(v) && v['class_name'] === '__keras_tensor__') {
    const hist = historyOf(v, 'a tensor reference (keras_history)');
    const node = outputs.get(hist[0])?.[hist[1]];
    if (node !== undefined && node[hist[2]] === undefined) {
      throw new MasqueError('INVALID_CONFIG', `Keras config: a tensor reference asks for output ${hist[2]} of call ${hist[1]} of '${hist[0]}', which has ${node.length} output(s).`);
    }
    const t = node?.[hist[2]];
    if (t === undefined) throw new Pending();
    return t;
  }
  if (Array.isArray(v)) return v.map((x) => resolve(x, outputs));
  if (isObj(v)) {
    const o: Obj = {};
    for (const [k, x] of Object.entries(v)) o[k] = resolve(x, outputs);
    return o;
  }
  return v;
}

class Pending extends Error {}

function functionalFromConfig(cfg: Obj, policy: MaskPolicy | undefined, ctx: ImportContext): Model {
  const entries = cfg['layers'];
  if (!Array.isArray(entries)) throw new MasqueError('INVALID_CONFIG', `Keras config: Functional '${String(cfg['name'])}' has no layers list.`);
  const layers = new Map<string, AnyLayer>();
  const outputs = new Map<string, SymbolicTensor[][]>();
  const pending: { name: string; node: Obj }[] = [];
  for (const e of entries as unknown[]) {
    if (!isObj(e) || !isObj(e['config'])) throw new MasqueError('INVALID_CONFIG', `Keras config: Functional '${String(cfg['name'])}': each layer entry needs a config object; received ${describe(e)}.`);
    const c = e['config'];
    const name = String(e['name'] ?? c['name']);
    if (layers.has(name) || outputs.has(name)) throw new MasqueError('INVALID_CONFIG', `Keras config: Functional '${String(cfg['name'])}' has two layers named '${name}'.`);
    if (e['class_name'] === 'InputLayer') {
      outputs.set(name, [[inputFromConfig(c)]]);
      continue;
    }
    const nodes = e['inbound_nodes'] ?? [];
    if (!Array.isArray(nodes) || nodes.some((n) => !isObj(n) || (n['args'] !== undefined && !Array.isArray(n['args'])) || (n['kwargs'] !== undefined && !isObj(n['kwargs'])))) {
      throw new MasqueError('INVALID_CONFIG', `Keras config: layer '${name}' has malformed inbound_nodes (expected a list of { args: [...], kwargs: {...} }); received ${describe(nodes)}.`);
    }
    const made = layerOrModel(e, ctx);
    layers.set(name, made);
    // Keras records an operation's numbers and keys per call; Masque keeps one set per operation.
    if (made instanceof KerasOp && nodes.length > 1) {
      const shape = (n: Obj) => JSON.stringify(n['args'] ?? [], (_k, v: unknown) => (isObj(v) && v['class_name'] === '__keras_tensor__' ? 'T' : v));
      if (new Set((nodes as Obj[]).map(shape)).size > 1) {
        throw new MasqueError('UNSUPPORTED_CONFIG', `Keras config: operation '${name}' (${String(e['class_name'])}) is called ${nodes.length} times with different numbers, constants, keys or operands; Masque keeps one set per operation. Give each call its own operation.`);
      }
    }
    for (const node of nodes as Obj[]) pending.push({ name, node });
  }
  // Run the recorded calls in order; a call whose inputs are not ready yet waits.
  let progress = true;
  while (pending.length > 0 && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const { name, node } = pending[i]!;
      if (pending.slice(0, i).some((p) => p.name === name)) continue; // keep each layer's node order
      let args: unknown[];
      let kwargs: Obj;
      try {
        args = resolve(node['args'] ?? [], outputs) as unknown[];
        kwargs = resolve(node['kwargs'] ?? {}, outputs) as Obj;
      } catch (err) {
        if (err instanceof Pending) continue;
        throw err;
      }
      const callArgs: Obj = {};
      for (const [k, v] of Object.entries(kwargs)) {
        if (k === 'training' || v === null) continue;
        callArgs[snakeToCamel(k)] = v;
      }
      // Python floats (2.0) stay floats for the operations, which tell them from ints (and write them back); layers take numbers.
      const layer = layers.get(name)! as AnyLayer;
      const given = layer instanceof KerasOp ? args : (plainNumbers(args) as unknown[]);
      const inputs = given.length === 1 ? given[0] : given;
      const out = layer.apply(inputs as SymbolicTensor, plainNumbers(callArgs) as never);
      const list = Array.isArray(out) ? out : [out];
      const made = (list as SymbolicTensor[])[0]?.node;
      if (kwargs['training'] === false && made) RECORDED_TRAINING_FALSE.add(made);
      if (kwargs['key'] !== undefined && kwargs['key'] !== null && made) KEY_AS_KEYWORD.add(made);
      if (!outputs.has(name)) outputs.set(name, []);
      outputs.get(name)!.push(list as SymbolicTensor[]);
      pending.splice(i, 1);
      progress = true;
      i--;
    }
  }
  if (pending.length > 0) {
    throw new MasqueError('GRAPH_DISCONNECTED', `Keras config: could not connect the calls of ${[...new Set(pending.map((p) => `'${p.name}'`))].join(', ')}; their inputs are never produced.`);
  }
  const pick = (spec: unknown): SymbolicTensor | SymbolicTensor[] => {
    const one = (s: unknown): SymbolicTensor => {
      const [n, ni, ti] = historyOf(s, 'a model input or output');
      const t = outputs.get(n)?.[ni]?.[ti];
      if (!isSymbolic(t)) throw new MasqueError('INVALID_CONFIG', `Keras config: model input/output ${describe(s)} does not name a layer output.`);
      return t;
    };
    // Keras nests the references as it nests the outputs (an RNN's states per cell); Masque's are flat.
    const all = (s: unknown): SymbolicTensor[] => {
      if (Array.isArray(s) && typeof s[0] === 'string') return [one(s)];
      if (Array.isArray(s)) return s.flatMap(all);
      if (isObj(s)) return Object.values(s).flatMap(all);
      throw new MasqueError('INVALID_CONFIG', `Keras config: expected input_layers/output_layers; received ${describe(spec)}.`);
    };
    return Array.isArray(spec) && typeof spec[0] === 'string' ? one(spec) : all(spec);
  };
  return new Model({ inputs: pick(cfg['input_layers']), outputs: pick(cfg['output_layers']), name: String(cfg['name'] ?? 'functional'), maskPolicy: policy, trainable: cfg['trainable'] !== false });
}

function modelFromEntry(entry: Obj, policy: MaskPolicy | undefined, ctx: ImportContext): Model {
  const cfg = entry['config'];
  if (!isObj(cfg)) throw new MasqueError('INVALID_CONFIG', `Keras config: '${String(entry['class_name'])}' has no config object.`);
  switch (entry['class_name']) {
    case 'Sequential':
      return sequentialFromConfig(cfg, policy, ctx);
    case 'Functional':
    case 'Model':
      return functionalFromConfig(cfg, policy, ctx);
    default:
      throw new MasqueError('UNKNOWN_LAYER_CLASS', `Keras config: the top level must be a Sequential or Functional model; received class '${String(entry['class_name'])}'.`);
  }
}

/**
 * Builds a model from a Keras 3 config (`model.to_json()`, as a string or
 * parsed) and optionally sets its weights: named weights are matched by
 * their Keras paths, plain arrays are taken in `model.weights` order.
 */
export function modelFromKerasConfig(config: string | object, weights?: WeightsInput, options: FromConfigOptions = {}): Model {
  let parsed: unknown = config;
  if (typeof config === 'string') {
    try {
      parsed = parseKerasJson(config);
    } catch (e) {
      throw new MasqueError('INVALID_CONFIG', `modelFromKerasConfig: the config is not valid JSON (${(e as Error).message}).`);
    }
  }
  // As Keras reads it: a nested Functional model's calls count from 1 in input_layers/output_layers.
  return modelFromReadConfig(isObj(parsed) ? kerasFileConfig(parsed) : parsed, weights, options);
}

/**
 * `modelFromKerasConfig` of a parsed config whose references all count a
 * nested model's calls from 0 (kerasFileConfig's result; the Keras 2 and
 * tfjs translations give that too).
 */
export function modelFromReadConfig(parsed: unknown, weights?: WeightsInput, options: FromConfigOptions = {}): Model {
  if (!isObj(parsed)) throw new MasqueError('INVALID_CONFIG', `modelFromKerasConfig: expected a config object; received ${describe(parsed)}.`);
  checkKeys(options, ['maskPolicy'], 'modelFromKerasConfig');
  options ??= {};
  const ctx = importContext();
  try {
    const model = withMaskPolicy(options.maskPolicy, () => modelFromEntry(parsed as Obj, options.maskPolicy, ctx));
    // Keras drops a listed layer that no model output depends on (and an empty output reference); so does Masque, and frees its weights.
    const kept = new Set(model.weights.map((w) => w.variable));
    for (const l of ctx.created) if (l.weights.length > 0 && l.weights.every((w) => !kept.has(w.variable))) l.dispose();
    if (weights !== undefined) setKerasWeights(model, weights);
    return model;
  } catch (e) {
    // Nothing built by a failed import survives it.
    for (const l of ctx.created) l.dispose();
    throw e;
  }
}

/**
 * Matches each model weight path with a given name: the same path, or else
 * the one given name that is the path's tail at a '/' (Keras names the
 * weights of a reloaded model without its enclosing layers:
 * `forward_lstm/lstm_cell/kernel` for `sequential/bidirectional/forward_lstm/lstm_cell/kernel`).
 * Returns the name for each path, or undefined where none fits.
 */
function matchWeightNames(paths: string[], names: string[]): (string | undefined)[] {
  const free = new Set(names);
  const out: (string | undefined)[] = paths.map((p) => (free.delete(p) ? p : undefined));
  paths.forEach((p, i) => {
    if (out[i] !== undefined) return;
    const tails = [...free].filter((n) => p.endsWith(`/${n}`));
    if (tails.length === 1) {
      out[i] = tails[0]!;
      free.delete(tails[0]!);
    }
  });
  return out;
}

/** Sets each weight from its array, after the caller has checked them all (counts and shapes). */
export function assignWeightArrays(pairs: readonly [LayerWeight, { data: ArrayLike<number | bigint> }][]): void {
  for (const [w, a] of pairs) {
    // Typed arrays go to tfjs as they are (it converts them to the variable's dtype); only int64 data is copied to numbers.
    const values = a.data instanceof BigInt64Array || a.data instanceof BigUint64Array ? Array.from(a.data, Number) : ArrayBuffer.isView(a.data) ? (a.data as unknown as Float32Array) : Array.from(a.data as ArrayLike<number>);
    tf.tidy(() => w.variable.assign(tf.tensor(values, w.shape, w.variable.dtype)));
  }
}

/** Sets weights given by Keras path (matched by name) or as plain arrays (in order). */
export function setKerasWeights(model: Model, weights: WeightsInput): void {
  if (!(model instanceof Model)) throw new MasqueError('INVALID_ARGUMENT', `setKerasWeights: expected a Masque model first; received ${describe(model)}.`);
  if (!Array.isArray(weights)) throw new MasqueError('INVALID_ARGUMENT', `setKerasWeights: weights must be a list (arrays in model.weights order, or { name, value } entries by Keras path); received ${describe(weights)}.`);
  const named = weights.length > 0 && isObj(weights[0]) && typeof (weights[0] as NamedWeight).name === 'string' && !(weights[0] instanceof tf.Tensor);
  if (!named) {
    model.setWeights(weights as (tf.Tensor | ArrayLike<number>)[]);
    return;
  }
  const list = weights as NamedWeight[];
  const byName = new Map(list.map((w) => [w.name, w]));
  const paths = model.weightPaths();
  const matched = matchWeightNames(paths, [...byName.keys()]);
  const missing = paths.filter((_, i) => matched[i] === undefined);
  if (missing.length > 0 || list.length !== paths.length) {
    const used = new Set(matched);
    const extra = list.map((w) => w.name).filter((n) => !used.has(n));
    throw new MasqueError(
      missing.length > 0 ? 'WEIGHT_MISSING' : 'WEIGHT_COUNT_MISMATCH',
      `setKerasWeights: the model has ${paths.length} weights and ${list.length} were given.` +
        (missing.length ? ` Missing: ${missing.join(', ')}.` : '') +
        (extra.length ? ` Not in the model: ${extra.join(', ')}.` : ''),
    );
  }
  model.setWeights(matched.map((n) => Float32Array.from(byName.get(n!)!.data as ArrayLike<number>)));
}

function strip(v: unknown): unknown {
  if (v instanceof PyFloat) return v; // an operation's 2.0 in a config Masque wrote (modelToKerasConfig)
  if (Array.isArray(v)) return v.map(strip);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (k !== 'shared_object_id') o[k] = strip(x);
    return o;
  }
  return v;
}

/**
 * Keras counts a nested Functional model's calls from 1 in `input_layers`
 * and `output_layers` (its node 0 is its own graph; `functional_from_config`
 * subtracts 1), but from 0 in call arguments. Rewrites those references to
 * count from 0, as the config reader expects.
 */
function nestedFunctionalFromZero(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nestedFunctionalFromZero);
  if (v === null || typeof v !== 'object' || v instanceof PyFloat) return v;
  const o = v as Record<string, unknown>;
  const cfg = o['config'] as Record<string, unknown> | undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = nestedFunctionalFromZero(x);
  if ((o['class_name'] === 'Functional' || o['class_name'] === 'Model') && isObj(cfg) && Array.isArray(cfg['layers'])) {
    const functional = new Set(
      (cfg['layers'] as Record<string, unknown>[]).filter((e) => e !== null && typeof e === 'object' && (e['class_name'] === 'Functional' || e['class_name'] === 'Model')).map((e) => String(e['name'] ?? (e['config'] as Record<string, unknown>)?.['name'])),
    );
    const shift = (r: unknown): unknown => {
      if (Array.isArray(r) && r.length === 3 && typeof r[0] === 'string' && typeof r[1] === 'number') return functional.has(r[0]) ? [r[0], r[1] - 1, r[2]] : r;
      if (Array.isArray(r)) return r.map(shift);
      if (r !== null && typeof r === 'object') return Object.fromEntries(Object.entries(r).map(([k, x]) => [k, shift(x)]));
      return r;
    };
    const c = out['config'] as Record<string, unknown>;
    out['config'] = { ...c, input_layers: shift(c['input_layers']), output_layers: shift(c['output_layers']) };
  }
  return out;
}

/** A config read from a Keras file, as `modelFromKerasConfig` takes it (`shared_object_id` dropped, nested Functional references from 0). */
export function kerasFileConfig(config: unknown): object {
  return nestedFunctionalFromZero(strip(config)) as object;
}
