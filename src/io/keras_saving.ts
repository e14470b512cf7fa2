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
import { containerGroupNames, isHdf5, readLegacyH5, readWeightsH5, writeWeightsH5, type H5Tree, type VarArray } from './h5_weights.js';
import { loadLegacyH5Model, loadOptions } from './keras_legacy_load.js';
import { setLegacyWeights } from './keras_legacy.js';
import { exportModel, kerasSavedLayers } from './keras_export.js';
import { assignWeightArrays, modelFromKerasConfig, type FromConfigOptions } from './keras_config.js';
import type { AnyLayer } from './keras_registry.js';
import { addOwnVariables, loadModelAssets, loadOwnVariables, modelAssets } from './keras_assets.js';
import { checkKeys } from '../option_keys.js';
import { compileConfigToKeras, compileFromKeras, kerasTrainableOrder, loadedOrder, optimizerToH5, prepareOptimizerState, type LayerOrder } from './keras_compile.js';

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
  const compileConfig = compileConfigToKeras(model);
  if (compileConfig !== null) config['compile_config'] = compileConfig;
  return writeKerasArchive({ config, weights: weightsTree(model, compileConfig !== null), otherFiles: modelAssets(model) });
}

/** The model's weights file as Keras lays it out (`model.weights.h5`, `.weights.h5`), with the optimizer's variables when `withOptimizer`. */
function weightsTree(model: Model, withOptimizer: boolean): H5Tree {
  const weights = toH5(modelWalk(model, kerasSavedLayers));
  addOwnVariables(model, weights);
  if (withOptimizer) weights.groups['optimizer'] = optimizerToH5(model.optimizer!, kerasTrainableOrder(model, kerasSavedLayers));
  return weights;
}

/** Pairs each weight of `w` with its array in `tree`, checking counts and shapes (nothing is set yet). */
function collect(w: Walk, tree: H5Tree | undefined, path: string, where: string, out: [LayerWeight, VarArray][] = []): [LayerWeight, VarArray][] {
  const vars = tree?.vars ?? [];
  if (vars.length !== w.vars.length) {
    throw new MasqueError(
      'WEIGHT_COUNT_MISMATCH',
      `${where}: the weights file has ${vars.length} arrays at '${path}/vars' but layer '${w.name}' needs ${w.vars.length} (${w.vars.map((v) => v.name).join(', ') || 'none'}).`,
    );
  }
  w.vars.forEach((v, i) => {
    const a = vars[i]!;
    if (a.shape.length !== v.shape.length || a.shape.some((d, k) => d !== v.shape[k])) {
      throw new MasqueError('WEIGHT_SHAPE_MISMATCH', `${where}: '${path}/vars/${i}' has shape [${a.shape}] but weight '${v.path}' has shape [${v.shape}].`);
    }
    out.push([v, a]);
  });
  for (const [k, g] of Object.entries(w.groups)) {
    const sub = tree?.groups[k];
    if (sub === undefined && countVars(g) > 0) {
      throw new MasqueError('WEIGHT_MISSING', `${where}: the weights file has no group '${path ? `${path}/` : ''}${k}' for layer '${g.name || k}'.`);
    }
    collect(g, sub, path ? `${path}/${k}` : k, where, out);
  }
  return out;
}

function countVars(w: Walk): number {
  return w.vars.length + Object.values(w.groups).reduce((n, g) => n + countVars(g), 0);
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
  const { compile, fromConfig } = loadOptions(options, 'loadModel');
  const data = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (data instanceof Uint8Array && isHdf5(data)) return loadLegacyH5Model(data, { compile, fromConfig }, 'loadModel (legacy HDF5 file)');
  const archive = await readKerasArchive(data);
  const model = modelFromKerasConfig(archive.config as object, undefined, fromConfig);
  try {
    assignWeightArrays(collect(modelWalk(model, loadedOrder), archive.weights, '', 'loadModel'));
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

function checkModel(model: unknown, where: string): asserts model is Model {
  if (!(model instanceof Model)) throw new MasqueError('INVALID_ARGUMENT', `${where}: expected a Masque model first; received ${describe(model)}.`);
  if (!model.built) throw new MasqueError('NOT_BUILT', `${where}: model '${model.name}' has no weights yet; build it first (give it an Input, or call build(inputShape)).`);
}

/**
 * The model's weights as Keras 3's weights file (`model.save_weights('x.weights.h5')`):
 * the layers' weights and, for a compiled model, the optimizer's state.
 */
export async function saveWeightsToBytes(model: Model): Promise<Uint8Array> {
  checkModel(model, 'saveWeights');
  return writeWeightsH5(weightsTree(model, model.optimizer !== null));
}

/**
 * Sets the model's weights from a weights file (Keras's `model.load_weights`):
 * Keras 3's `.weights.h5` (matched by the layers' places in the model, as
 * Keras does), a legacy HDF5 weights or model file (tf.keras 2's
 * `save_weights('x.h5')`, or `model.save('x.h5')`: matched layer by layer
 * in order, as Keras does), or a `.keras` file (its weights). A compiled
 * model also gets the optimizer state a Keras 3 file holds, even when its
 * optimizer has not been built yet (Keras skips the state then). Every
 * weight and the optimizer state are checked before any is set: a file that
 * does not fit leaves the model as it was (its optimizer unbuilt again; a
 * tf-idf lookup that had no idf weights keeps the file's, see
 * loadOwnVariables).
 */
export async function loadWeightsFromBytes(model: Model, bytes: Uint8Array | ArrayBuffer): Promise<void> {
  const where = 'loadWeights';
  checkModel(model, where);
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array)) throw new MasqueError('INVALID_ARGUMENT', `${where}: expected the file's bytes (a Uint8Array or ArrayBuffer); received ${describe(bytes)}.`);
  let tree: H5Tree;
  if (isHdf5(data)) {
    const legacy = await readLegacyH5(data, where);
    if (legacy.layers !== null) {
      if (legacy.topLevel.length > 0) throw new MasqueError('UNSUPPORTED_FILE', `${where}: the file holds ${legacy.topLevel.length} weights of the model itself (top_level_model_weights), which Masque's models do not have.`);
      setLegacyWeights(model, legacy.layers, `${where} (legacy HDF5 weights)`);
      return;
    }
    tree = await readWeightsH5(data, where);
  } else if (data.length >= 2 && data[0] === 0x50 && data[1] === 0x4b) {
    tree = (await readKerasArchive(data)).weights;
  } else {
    const first = Array.from(data.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new MasqueError('CORRUPT_FILE', `${where}: expected a weights file (.weights.h5 or legacy .h5: HDF5) or a .keras file (ZIP); received ${data.length === 0 ? 'no bytes' : `${data.length} bytes starting with ${first}`}.`);
  }
  const pairs = collect(modelWalk(model, loadedOrder), tree, '', where);
  const optimizer = tree.groups['optimizer'];
  let setOptimizer = (): void => undefined;
  let built: tf.Variable[] = [];
  try {
    if (optimizer !== undefined && model.optimizer !== null) {
      const weights = model.trainableWeights;
      if (weights.length > 0) built = model.optimizer.build(weights.map((w) => w.variable), weights.map((w) => w.path));
      setOptimizer = prepareOptimizerState(model, optimizer, kerasTrainableOrder(model, kerasSavedLayers), where);
    }
    loadOwnVariables(model, tree, where);
  } catch (e) {
    model.optimizer?.unbuild(built); // the optimizer as it was: not built on these weights
    throw e;
  }
  setOptimizer();
  assignWeightArrays(pairs);
}

/** True for an InputLayer (exported for tests of the layout). */
export function isInputLayer(l: unknown): boolean {
  return l instanceof InputLayer;
}
