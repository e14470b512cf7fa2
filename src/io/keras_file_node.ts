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
import { basename, dirname, join } from 'node:path';
import { MasqueError, describe } from '../errors.js';
import type { Model } from '../models/functional.js';
import { readKerasArchive, writeKerasArchive, type KerasArchive, type KerasArchiveInput } from './keras_archive.js';
import { loadModelFromBytes, saveModelToBytes, type LoadModelOptions } from './keras_saving.js';

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

/** Loads a model from a `.keras` file (Node); compiled, with its optimizer state, when the file has compile settings (`{ compile: false }` skips them). */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  return loadModelFromBytes(await readBytes(path, 'loadModel'), options);
}
