/**
 * Layer assets in `.keras` files: the files a layer saves beside its
 * weights, at `assets/<layer path>/<name>` in the zip, where the layer path
 * is the one its weights have in `model.weights.h5` (`layers/text_vectorization`,
 * `layers/text_vectorization/_lookup_layer`). Keras's text layers save their
 * adapted vocabulary there (`vocabulary.txt`; `IndexLookup.save_assets`).
 *
 * A layer has assets when it has `saveAssets()` (files by name, or null) and
 * `loadAssets(files, where)`. `modelAssets` collects them for a writer;
 * `loadModelAssets` hands each layer the files of its folder.
 *
 * `saveModelToBytes` (keras_saving.ts) passes `modelAssets(model)` to the
 * archive writer, and `loadModelFromBytes` calls `loadModelAssets` after the
 * weights.
 *
 * Likewise a layer has own variables (Keras's `save_own_variables` with
 * named entries, such as a tf-idf lookup's `idf_weights`) when it has
 * `saveOwnVariables()` and `loadOwnVariables(named, where)`: they are the
 * datasets of its `vars` group saved by name, beside the numbered weights.
 * Keras loads them before the assets, and so does Masque.
 */
import type { Layer } from '../engine/layer.js';
import type { OwnVariable } from '../engine/types.js';
import { MasqueError } from '../errors.js';
import type { CallArgs } from '../engine/types.js';
import { Model } from '../models/functional.js';
import { Sequential } from '../models/sequential.js';
import { containerGroupNames, getH5Group, type H5Tree, type VarArray } from './h5_weights.js';

type AnyLayer = Layer<CallArgs, boolean>;

/** Files by name. */
export type AssetFiles = Record<string, Uint8Array>;

/** A layer that saves files beside its weights. */
export interface LayerWithAssets {
  saveAssets(): AssetFiles | null;
  loadAssets(files: AssetFiles, where: string): void;
}

export function hasAssets(l: unknown): l is LayerWithAssets {
  return typeof (l as Partial<LayerWithAssets>).saveAssets === 'function' && typeof (l as Partial<LayerWithAssets>).loadAssets === 'function';
}

/** A layer that saves named variables in its `vars` group. */
export interface LayerWithOwnVariables {
  saveOwnVariables(): Record<string, VarArray> | null;
  loadOwnVariables(named: Record<string, OwnVariable>, where: string): void;
}

function hasOwnVariables(l: unknown): l is LayerWithOwnVariables {
  return typeof (l as Partial<LayerWithOwnVariables>).saveOwnVariables === 'function' && typeof (l as Partial<LayerWithOwnVariables>).loadOwnVariables === 'function';
}

/** Adds each layer's named variables to the weights tree `weights` (made from the same model). */
export function addOwnVariables(model: Model, weights: H5Tree): void {
  for (const { layer, path } of layerPaths(model)) {
    if (!hasOwnVariables(layer)) continue;
    const named = layer.saveOwnVariables();
    if (named === null) continue;
    const group = getH5Group(weights, path);
    if (group === undefined) throw new Error(`internal: no weights group '${path}' for layer '${layer.name}'`);
    group.named = { ...(group.named ?? {}), ...named };
  }
}

/**
 * Gives each layer with named variables the datasets of its `vars` group in
 * `weights`; named datasets of any other layer raise (checked before any
 * layer is given anything). A layer that refuses its datasets raises, and the
 * layers given theirs before it get their previous ones back (where they had
 * any: a tf-idf lookup without idf weights keeps the file's).
 */
export function loadOwnVariables(model: Model, weights: H5Tree, where = 'loadModel'): void {
  const todo: { layer: LayerWithOwnVariables; named: Record<string, OwnVariable>; at: string }[] = [];
  for (const { layer, path } of layerPaths(model)) {
    const named = getH5Group(weights, path)?.named ?? {};
    const at = `${where}, layer '${layer.name}' (${layer.className}) at ${path}/vars`;
    if (hasOwnVariables(layer)) todo.push({ layer, named, at });
    else if (Object.keys(named).length > 0) {
      throw new MasqueError('UNSUPPORTED_FILE', `${at}: the file holds variables by name (${Object.keys(named).map((k) => JSON.stringify(k)).join(', ')}) that Masque's ${layer.className} does not read; expected only numbered weights.`);
    }
  }
  const done: { layer: LayerWithOwnVariables; before: Record<string, OwnVariable> | null }[] = [];
  try {
    for (const { layer, named, at } of todo) {
      let before: Record<string, OwnVariable> | null;
      try {
        before = layer.saveOwnVariables();
      } catch {
        before = null; // nothing that can be saved yet (a tf-idf lookup without weights)
      }
      layer.loadOwnVariables(named, at);
      done.push({ layer, before });
    }
  } catch (e) {
    for (const { layer, before } of done.reverse()) if (before !== null) layer.loadOwnVariables(before, where);
    throw e;
  }
}

const ASSETS = 'assets';

/** Every layer of `model` (nested models and sub-layers included) with its path in the `.keras` file. */
export function layerPaths(model: Model, prefix = ''): { layer: AnyLayer; path: string }[] {
  const out: { layer: AnyLayer; path: string }[] = [];
  const layers = model instanceof Sequential ? model.sequentialLayers : model.layers;
  const names = containerGroupNames(layers.map((l) => l.className));
  const visitLayer = (l: AnyLayer, path: string): void => {
    out.push({ layer: l, path });
    // Sub-layers are saved under the names saveTree gives them, in the same order.
    const groups = Object.keys(l.saveTree().groups);
    l.subLayers.forEach((c, k) => visitLayer(c, `${path}/${groups[k]}`));
  };
  layers.forEach((l, i) => {
    const path = `${prefix}layers/${names[i]}`;
    if (l instanceof Model) out.push(...layerPaths(l, `${path}/`));
    else visitLayer(l, path);
  });
  return out;
}

/** The asset members of the model's `.keras` zip: `assets/<layer path>/<file>` -> bytes. */
export function modelAssets(model: Model): AssetFiles {
  const files: AssetFiles = {};
  for (const { layer, path } of layerPaths(model)) {
    if (!hasAssets(layer)) continue;
    for (const [name, data] of Object.entries(layer.saveAssets() ?? {})) files[`${ASSETS}/${path}/${name}`] = data;
  }
  return files;
}

/** Gives each layer with assets the files of its folder (`assets/<layer path>/`) from the zip members `files`. */
export function loadModelAssets(model: Model, files: AssetFiles | Map<string, Uint8Array>, where = 'loadModel'): void {
  const entries = files instanceof Map ? [...files.entries()] : Object.entries(files);
  for (const { layer, path } of layerPaths(model)) {
    if (!hasAssets(layer)) continue;
    const folder = `${ASSETS}/${path}/`;
    const own: AssetFiles = {};
    for (const [name, data] of entries) {
      if (name.startsWith(folder) && !name.slice(folder.length).includes('/') && name.length > folder.length) own[name.slice(folder.length)] = data;
    }
    layer.loadAssets(own, `${where}, layer '${layer.name}' (${layer.className}) at ${folder}`);
  }
}
