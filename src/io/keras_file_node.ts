/**
 * Node-only helpers: read and write `.keras` files by path. Browsers use
 * `readKerasArchive` / `writeKerasArchive` on bytes instead.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { MasqueError } from '../errors.js';
import { readKerasArchive, writeKerasArchive, type KerasArchive, type KerasArchiveInput } from './keras_archive.js';

/** Reads and parses the `.keras` file at `path`. Errors name the path. */
export async function readKerasFile(path: string): Promise<KerasArchive> {
  const bytes = await readFile(path);
  try {
    return await readKerasArchive(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    if (err instanceof MasqueError) throw new MasqueError(err.code, `${path}: ${err.message}`);
    throw err;
  }
}

/** Writes `archive` as a `.keras` file at `path` (the name should end in `.keras` for Keras to load it). */
export async function writeKerasFile(path: string, archive: KerasArchiveInput): Promise<void> {
  if (!path.endsWith('.keras')) {
    throw new MasqueError('INVALID_ARGUMENT', `writeKerasFile: expected a path ending in ".keras" (Keras refuses other names); received ${JSON.stringify(path)}.`);
  }
  await writeFile(path, await writeKerasArchive(archive));
}

/** Saves `model` to a `.keras` file (Node). */
export async function saveModel(model: import('../models/functional.js').Model, path: string): Promise<void> {
  const { saveModelToBytes } = await import('./keras_saving.js');
  if (!path.endsWith('.keras')) {
    const { MasqueError } = await import('../errors.js');
    throw new MasqueError('INVALID_ARGUMENT', `saveModel: the path must end in '.keras'; received ${JSON.stringify(path)}.`);
  }
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, await saveModelToBytes(model));
}

/** Loads a model from a `.keras` file (Node). */
export async function loadModel(path: string, options: import('./keras_config.js').FromConfigOptions = {}): Promise<import('../models/functional.js').Model> {
  const { readFile } = await import('node:fs/promises');
  const { loadModelFromBytes } = await import('./keras_saving.js');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const { MasqueError } = await import('../errors.js');
    throw new MasqueError('CORRUPT_FILE', `loadModel: cannot read ${JSON.stringify(path)} (${(e as Error).message}).`);
  }
  return loadModelFromBytes(bytes, options);
}
