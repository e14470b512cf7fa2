/**
 * Saving and loading whole models in Keras's `.keras` format (a zip with
 * config.json, metadata.json and model.weights.h5). Works on bytes, so it
 * runs in browsers too; `keras_file_node.ts` adds file paths for Node.
 * A compiled model keeps its compile settings (`compile_config`) and its
 * optimizer state (`optimizer/vars` in the weights), as Keras writes them;
 * see keras_compile.ts.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { pythonClassName, type LayerWeight, type SaveTree } from '../engine/layer.js';
import { InputLayer } from '../engine/input_layer.js';
import { Model } from '../models/functional.js';
import { Sequential } from '../models/sequential.js';
import { readKerasArchive, writeKerasArchive } from './keras_archive.js';
import { containerGroupNames, type H5Tree, type VarArray } from './h5_weights.js';
import { exportModel, kerasSavedLayers } from './keras_export.js';
import { modelFromKerasConfig, type FromConfigOptions } from './keras_config.js';
import type { AnyLayer } from './keras_registry.js';
import { addOwnVariables, loadModelAssets, loadOwnVariables, modelAssets } from './keras_assets.js';
import { checkKeys } from '../option_keys.js';
import { compileConfigToKeras, compileFromKeras, optimizerToH5 } from './keras_compile.js';

/**
 * The layers a model's weights file holds under `layers/`, in Keras's
 * order, which names their groups (`dense`, `dense_1`, ... by class). A
 * model read from a file: its graph's layers (Graph orders them as Keras
 * does, the file's op nodes included). A model to save: the layers of the
 * graph Keras would record for it, mask op nodes included (keras_export.ts).
 * A Sequential: its layers as added, without the InputLayer.
 */
type LayerOrder = (model: Model) => AnyLayer[];
const loadedOrder: LayerOrder = (model) => (model instanceof Sequential ? model.sequentialLayers : model.layers);

/** The model's trainable variables in Keras's `trainable_variables` order (its layers in `order`, nested models recursing); the optimizer's slots follow it in files. */
function kerasTrainableOrder(model: Model, order: LayerOrder): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const l of order(model)) {
    const vars = l instanceof Model ? kerasTrainableOrder(l, order) : l.trainableWeights.map((w) => w.variable);
    for (const v of vars) if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** Group tree (SaveTree for plain layers; nested models recurse). */
type Walk = { name: string; vars: LayerWeight[]; groups: Record<string, Walk> };

function modelWalk(model: Model, order: LayerOrder): Walk {
  const layers = order(model);
  const names = containerGroupNames(layers.map((l) => pythonClassName(l.constructor) ?? l.className));
  const groups: Record<string, Walk> = {};
  layers.forEach((l, i) => {
    groups[names[i]!] = l instanceof Model ? modelWalk(l, order) : (l.saveTree() as SaveTree as Walk);
  });
  return { name: model.name, vars: [], groups: { layers: { name: '', vars: [], groups } } };
}

function toH5(w: Walk, container = false): H5Tree {
  const groups: Record<string, H5Tree> = {};
  for (const [k, g] of Object.entries(w.groups)) groups[k] = toH5(g, k === 'layers');
  const vars: VarArray[] = w.vars.map((v) => ({ shape: v.shape, dtype: 'float32', data: Float32Array.from(v.variable.dataSync() as Float32Array) }));
  return container ? { groups, vars: [] } : { groups, vars, varsAttrs: { name: w.name } };
}

/** The model as `.keras` bytes. */
export async function saveModelToBytes(model: Model): Promise<Uint8Array> {
  const config = exportModel(model) as Record<string, unknown>;
  const weights = toH5(modelWalk(model, kerasSavedLayers));
  addOwnVariables(model, weights);
  const compileConfig = compileConfigToKeras(model);
  if (compileConfig !== null) {
    config['compile_config'] = compileConfig;
    weights.groups['optimizer'] = optimizerToH5(model.optimizer!, kerasTrainableOrder(model, kerasSavedLayers));
  }
  return writeKerasArchive({ config, weights, otherFiles: modelAssets(model) });
}

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (k !== 'shared_object_id') o[k] = strip(x);
    return o;
  }
  return v;
}

function assign(w: Walk, tree: H5Tree | undefined, path: string): void {
  const vars = tree?.vars ?? [];
  if (vars.length !== w.vars.length) {
    throw new MasqueError(
      'WEIGHT_COUNT_MISMATCH',
      `loadModel: the weights file has ${vars.length} arrays at '${path}/vars' but layer '${w.name}' needs ${w.vars.length} (${w.vars.map((v) => v.name).join(', ') || 'none'}).`,
    );
  }
  w.vars.forEach((v, i) => {
    const a = vars[i]!;
    if (a.shape.length !== v.shape.length || a.shape.some((d, k) => d !== v.shape[k])) {
      throw new MasqueError('WEIGHT_SHAPE_MISMATCH', `loadModel: '${path}/vars/${i}' has shape [${a.shape}] but weight '${v.path}' has shape [${v.shape}].`);
    }
    tf.tidy(() => v.variable.assign(tf.tensor(Array.from(a.data as ArrayLike<number>), v.shape, v.variable.dtype)));
  });
  for (const [k, g] of Object.entries(w.groups)) {
    const sub = tree?.groups[k];
    if (sub === undefined && countVars(g) > 0) {
      throw new MasqueError('WEIGHT_MISSING', `loadModel: the weights file has no group '${path ? `${path}/` : ''}${k}' for layer '${g.name || k}'.`);
    }
    assign(g, sub, path ? `${path}/${k}` : k);
  }
}

function countVars(w: Walk): number {
  return w.vars.length + Object.values(w.groups).reduce((n, g) => n + countVars(g), 0);
}

/**
 * Keras counts a nested Functional model's calls from 1 in `input_layers`
 * and `output_layers` (its node 0 is its own graph; `functional_from_config`
 * subtracts 1), but from 0 in call arguments. Rewrites those references to
 * count from 0, as the config reader expects.
 * TODO(lead): belongs in keras_config.ts (`pick`), then remove this.
 */
function nestedFunctionalFromZero(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nestedFunctionalFromZero);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const cfg = o['config'] as Record<string, unknown> | undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = nestedFunctionalFromZero(x);
  if ((o['class_name'] === 'Functional' || o['class_name'] === 'Model') && cfg !== undefined && Array.isArray(cfg['layers'])) {
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

export interface LoadModelOptions extends FromConfigOptions {
  /**
   * Compile the model from the file's `compile_config` and restore the
   * optimizer state (default true, as Keras's `load_model(compile=True)`).
   * A compile config Masque cannot honour (an unknown loss, optimizer or
   * metric) raises UNSUPPORTED_CONFIG naming it; pass false to load the
   * model uncompiled instead.
   */
  compile?: boolean;
}

/** Builds a model from `.keras` bytes (an ArrayBuffer works too); compiled when the file has compile settings. */
export async function loadModelFromBytes(bytes: Uint8Array | ArrayBuffer, options: LoadModelOptions = {}): Promise<Model> {
  const { compile = true, ...fromConfig } = checkKeys(options ?? {}, ['compile', 'maskPolicy'], 'loadModel') as LoadModelOptions;
  if (typeof compile !== 'boolean') throw new MasqueError('INVALID_ARGUMENT', `loadModel: the option compile must be true or false; received ${describe(compile)}.`);
  const archive = await readKerasArchive(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const model = modelFromKerasConfig(nestedFunctionalFromZero(strip(archive.config)) as object, undefined, fromConfig);
  try {
    assign(modelWalk(model, loadedOrder), archive.weights, '');
    loadOwnVariables(model, archive.weights);
    loadModelAssets(model, archive.otherFiles ?? {});
    const compileConfig = (archive.config as Record<string, unknown> | null)?.['compile_config'];
    const nonEmpty = compileConfig !== null && typeof compileConfig === 'object' && Object.keys(compileConfig).length > 0;
    if (compile && nonEmpty) compileFromKeras(model, compileConfig, archive.weights.groups['optimizer'], kerasTrainableOrder(model, loadedOrder), `loadModel (model '${model.name}'), compile_config`);
  } catch (e) {
    model.dispose();
    if (e instanceof MasqueError && e.code === 'UNSUPPORTED_CONFIG' && e.message.includes('compile_config')) {
      throw new MasqueError(e.code, `${e.message.replace(/\.?$/, '.')} Load with { compile: false } to get the model uncompiled, then compile it yourself.`, { cause: e });
    }
    if (e instanceof MasqueError) throw e;
    throw new MasqueError('CORRUPT_FILE', `loadModel: could not read the weights or the layers' assets (${(e as Error).message}).`);
  }
  return model;
}

/** True for an InputLayer (exported for tests of the layout). */
export function isInputLayer(l: unknown): boolean {
  return l instanceof InputLayer;
}
