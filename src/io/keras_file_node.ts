/**
 * Node-only helpers: read and write `.keras` files by path. Browsers use
 * `loadModelFromBytes` / `saveModelToBytes` on bytes instead.
 *
 * Writes are atomic: the bytes go to a temporary file in the target's
 * folder, which then replaces the target with one rename. A write that fails
 * part-way (disk full, a size limit) leaves the previous file untouched and
 * removes the temporary one.
 */
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { MasqueError, describe } from '../errors.js';
import type { Model } from '../models/functional.js';
import { readKerasArchive, writeKerasArchive, type KerasArchive, type KerasArchiveInput } from './keras_archive.js';
import { loadModelFromBytes, loadWeightsFromBytes, saveModelToBytes, saveWeightsToBytes, type LoadModelOptions } from './keras_saving.js';
import type { TfjsArtifacts } from './keras_legacy_load.js';
import { parseKerasJson } from './keras_json.js';

let tempCounter = 0;

/** Checks that `path` is a string ending in `.keras` (Keras refuses other names). */
function kerasPath(path: unknown, where: string): string {
  if (typeof path !== 'string' || path === '') throw new MasqueError('INVALID_ARGUMENT', `${where}: expected a file path (a string ending in ".keras"); received ${describe(path)}.`);
  if (!path.endsWith('.keras')) throw new MasqueError('INVALID_ARGUMENT', `${where}: the path must end in ".keras" (Keras refuses other names); received ${JSON.stringify(path)}.`);
  return path;
}

/**
 * Writes `bytes` to `path` atomically (temporary file + rename). Errors are
 * MasqueErrors naming the path and the system's reason.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, where: string): Promise<void> {
  const dir = dirname(path);
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) throw new MasqueError('INVALID_ARGUMENT', `${where}: ${JSON.stringify(path)} is a folder, not a file.`);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    const reason = e instanceof Error ? e.message : String(e);
    throw new MasqueError('SAVE_FAILED', `${where}: could not write ${JSON.stringify(path)} (${reason}); the previous file, if any, is unchanged.`);
  }
}

/** Reads and parses the `.keras` file at `path`. Errors name the path. */
export async function readKerasFile(path: string): Promise<KerasArchive> {
  const bytes = await readBytes(path, 'readKerasFile');
  try {
    return await readKerasArchive(bytes);
  } catch (err) {
    if (err instanceof MasqueError) throw new MasqueError(err.code, `${path}: ${err.message}`);
    throw err;
  }
}

/** Writes `archive` as a `.keras` file at `path`, atomically. */
export async function writeKerasFile(path: string, archive: KerasArchiveInput): Promise<void> {
  await writeFileAtomic(kerasPath(path, 'writeKerasFile'), await writeKerasArchive(archive), 'writeKerasFile');
}

/** Saves `model` to a `.keras` file (Node), atomically: a failed save leaves the previous file as it was. */
export async function saveModel(model: Model, path: string): Promise<void> {
  const p = kerasPath(path, 'saveModel');
  await writeFileAtomic(p, await saveModelToBytes(model), 'saveModel');
}

async function readBytes(path: unknown, where: string): Promise<Uint8Array> {
  if (typeof path !== 'string' || path === '') throw new MasqueError('INVALID_ARGUMENT', `${where}: expected a file path; received ${describe(path)}.`);
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new MasqueError('CORRUPT_FILE', `${where}: cannot read ${JSON.stringify(path)} (${(e as Error).message}).`);
  }
}

/** Loads a model from a `.keras` file, or a legacy HDF5 (`.h5`) model file of Keras 2 or 3 (Node); compiled, with its optimizer state, when the file has compile settings (`{ compile: false }` skips them). */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  return loadModelFromBytes(await readBytes(path, 'loadModel'), options);
}

/** Saves the model's weights as Keras 3's weights file (`save_weights`); the path must end in ".weights.h5", as Keras requires. Atomic. */
export async function saveWeights(model: Model, path: string): Promise<void> {
  if (typeof path !== 'string' || !path.endsWith('.weights.h5')) {
    throw new MasqueError('INVALID_ARGUMENT', `saveWeights: the path must end in ".weights.h5" (Keras refuses other names for weights files); received ${describe(path)}.`);
  }
  await writeFileAtomic(path, await saveWeightsToBytes(model), 'saveWeights');
}

/** Sets the model's weights from a `.weights.h5`, legacy `.h5` or `.keras` file (see loadWeightsFromBytes). */
export async function loadWeights(model: Model, path: string): Promise<void> {
  const bytes = await readBytes(path, 'loadWeights');
  try {
    await loadWeightsFromBytes(model, bytes);
  } catch (err) {
    if (err instanceof MasqueError && !err.message.includes(String(path))) throw new MasqueError(err.code, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Reads a TensorFlow.js layers model from disk: its `model.json` at `path`
 * and the weight shards it lists, from the same folder.
 */
export async function readTfjsModelFiles(path: string): Promise<TfjsArtifacts> {
  const text = new TextDecoder().decode(await readBytes(path, 'loadTfjsModel'));
  let json: Record<string, unknown>;
  try {
    // Python's JSON: a float written 2.0 stays a float in the layers' calls (tf.one_hot's on_value=1.0), NaN and Infinity read.
    json = parseKerasJson(text) as Record<string, unknown>;
  } catch (e) {
    throw new MasqueError('CORRUPT_FILE', `loadTfjsModel: ${JSON.stringify(path)} is not valid JSON (${(e as Error).message}).`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json) || !('modelTopology' in json)) {
    throw new MasqueError('CORRUPT_FILE', `loadTfjsModel: expected ${JSON.stringify(path)} to be a TensorFlow.js model.json with "modelTopology" and "weightsManifest"; received ${describe(json)}.`);
  }
  const manifest = (json['weightsManifest'] ?? []) as { paths?: unknown; weights?: unknown }[];
  if (!Array.isArray(manifest) || manifest.some((g) => g === null || typeof g !== 'object' || !Array.isArray(g.paths) || !Array.isArray(g.weights))) {
    throw new MasqueError('CORRUPT_FILE', `loadTfjsModel: ${JSON.stringify(path)} has a malformed weightsManifest (expected a list of { paths, weights }).`);
  }
  const weightSpecs = manifest.flatMap((g) => g.weights as NonNullable<TfjsArtifacts['weightSpecs']>);
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    for (const p of group.paths as unknown[]) {
      if (typeof p !== 'string' || isAbsolute(p) || p.split(/[\\/]/).includes('..')) {
        throw new MasqueError('CORRUPT_FILE', `loadTfjsModel: expected weight shard paths relative to the model.json's folder; received ${describe(p)}.`);
      }
      const b = await readBytes(join(dirname(path), p), 'loadTfjsModel');
      buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    }
  }
  return { modelTopology: json['modelTopology'], format: json['format'] as string | undefined, weightSpecs, weightData: buffers };
}
