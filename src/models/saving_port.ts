/**
 * How `model.save()` reaches `src/io` without `src/models` importing it
 * (io builds models, so models must not depend on io): the package entry
 * registers the io functions here (`src/index.ts`). Importing `masque`
 * registers them; a module that imports `src/models` alone has no saver and
 * gets a clear error.
 */
import { MasqueError } from '../errors.js';
import type { Model } from './functional.js';

export interface ModelSaver {
  /** Writes the model as a `.keras` file (Node). */
  save(model: Model, path: string): Promise<void>;
  /** The model as `.keras` bytes. */
  toBytes(model: Model): Promise<Uint8Array>;
}

let saver: ModelSaver | null = null;

/** Registers the functions behind `model.save` and `model.toKerasBytes` (done by the package entry). */
export function registerModelSaver(s: ModelSaver): void {
  saver = s;
}

export function modelSaver(where: string): ModelSaver {
  if (saver === null) {
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: saving is not registered; import Masque from its package entry ('masque'), which registers src/io's saver.`);
  }
  return saver;
}
