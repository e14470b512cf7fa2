/**
 * The Keras 3 `.keras` file: a ZIP archive of `metadata.json`,
 * `config.json` (the model config, same JSON as `model.to_json()`) and
 * `model.weights.h5` (see h5_weights.ts). Isomorphic: no `fs` here; see
 * keras_file_node.ts for reading and writing paths in Node.
 */
import { PyFloat } from '../engine/py_float.js';
import { parseKerasJson } from './keras_json.js';
import { MasqueError } from '../errors.js';
import { readWeightsH5, writeWeightsH5, type H5Tree } from './h5_weights.js';
import { readZip, writeZip, type ZipEntry } from './zip.js';

export type { H5Tree, VarArray, VarDtype, VarData, H5AttrValue } from './h5_weights.js';

/** Keras version Masque writes into `metadata.json` by default. */
export const KERAS_VERSION = '3.15.1';

export interface KerasArchive {
  /** Parsed `config.json`. */
  config: unknown;
  /** Parsed `metadata.json` (`{}` when the archive has none). */
  metadata: Record<string, unknown>;
  /** The weights file as a tree (`weights.groups.layers.groups.lstm.groups.cell.vars`). */
  weights: H5Tree;
  /** Other members (e.g. `assets/...`), kept byte for byte. */
  otherFiles?: Record<string, Uint8Array>;
}

export interface KerasArchiveInput {
  config: unknown;
  /** Defaults to `{keras_version: "3.15.1", date_saved: <now, "YYYY-MM-DD@HH:MM:SS">}`. */
  metadata?: Record<string, unknown>;
  weights: H5Tree;
  otherFiles?: Record<string, Uint8Array>;
}

const CONFIG = 'config.json';
const METADATA = 'metadata.json';
const WEIGHTS = 'model.weights.h5';
const LABEL = 'the .keras file';

function parseJson(member: string, bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MasqueError('CORRUPT_FILE', `${LABEL}, member "${member}": expected UTF-8 JSON text; received ${bytes.length} bytes that are not valid UTF-8.`);
  }
  try {
    return parseKerasJson(text);
  } catch (err) {
    const start = JSON.stringify(text.slice(0, 40));
    throw new MasqueError('CORRUPT_FILE', `${LABEL}, member "${member}": expected valid JSON; received text starting ${start} (${(err as Error).message}).`);
  }
}

/**
 * Reads a `.keras` archive from its bytes. Throws `CORRUPT_FILE` when the
 * bytes are not a complete ZIP archive, lack `config.json` or
 * `model.weights.h5`, hold invalid JSON, or hold a damaged HDF5 file; and
 * `UNSUPPORTED_FILE` for `.keras` variants Masque does not read
 * (npz or sharded weights).
 */
export async function readKerasArchive(bytes: Uint8Array): Promise<KerasArchive> {
  const files = readZip(bytes, LABEL);
  const names = [...files.keys()];
  const listing = names.length ? names.map((n) => JSON.stringify(n)).join(', ') : 'no members';
  const configBytes = files.get(CONFIG);
  if (!configBytes) {
    throw new MasqueError('CORRUPT_FILE', `${LABEL}: expected a ZIP archive with a "${CONFIG}" member; received one with ${listing}.`);
  }
  const weightsBytes = files.get(WEIGHTS);
  if (!weightsBytes) {
    if (files.has('model.weights.npz') || files.has('model.weights.json')) {
      throw new MasqueError('UNSUPPORTED_FILE', `${LABEL}: expected weights in "${WEIGHTS}"; received an archive with ${listing} (npz or sharded weights, which Masque does not read; re-save with weights_format="h5").`);
    }
    throw new MasqueError('CORRUPT_FILE', `${LABEL}: expected a ZIP archive with a "${WEIGHTS}" member; received one with ${listing}.`);
  }
  const config = parseJson(CONFIG, configBytes);
  const metaBytes = files.get(METADATA);
  const meta = metaBytes ? parseJson(METADATA, metaBytes) : {};
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new MasqueError('CORRUPT_FILE', `${LABEL}, member "${METADATA}": expected a JSON object; received ${Array.isArray(meta) ? 'an array' : JSON.stringify(meta)}.`);
  }
  const weights = await readWeightsH5(weightsBytes, `${LABEL}, member "${WEIGHTS}"`);
  const archive: KerasArchive = { config, metadata: meta as Record<string, unknown>, weights };
  const others = names.filter((n) => n !== CONFIG && n !== METADATA && n !== WEIGHTS);
  if (others.length) archive.otherFiles = Object.fromEntries(others.map((n) => [n, files.get(n)!]));
  return archive;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Keras's `date_saved` format: local time as `YYYY-MM-DD@HH:MM:SS`. */
export function kerasDateSaved(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}@${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export { PyFloat };

/** Python's `json.dumps` with default settings (", " and ": " separators, ASCII escapes), as Keras writes JSON. */
export function pythonJsonDumps(value: unknown): string {
  if (value instanceof PyFloat) {
    const v = value.value;
    // Python's repr: 2.0, and 1e+16 upward in exponent form (JavaScript writes 1e16..1e20 as digits, an int to Python).
    if (Number.isInteger(v) && !Object.is(v, -0)) return Math.abs(v) < 1e16 ? `${v}.0` : v.toExponential();
    return Object.is(v, -0) ? '-0.0' : pythonJsonDumps(v);
  }
  if (Array.isArray(value)) return `[${value.map((v) => pythonJsonDumps(v ?? null)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const items = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    return `{${items.map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  const s = JSON.stringify(value);
  if (s === undefined) {
    throw new MasqueError('INVALID_ARGUMENT', `writeKerasArchive: expected a JSON-serialisable value; received ${typeof value}.`);
  }
  return s.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Writes a `.keras` archive that Keras 3.15.1 can load: members
 * `metadata.json`, `config.json`, `model.weights.h5` in that order, stored
 * uncompressed, like `keras.saving.save_model` writes them.
 */
export async function writeKerasArchive(a: KerasArchiveInput): Promise<Uint8Array> {
  if (a === null || typeof a !== 'object' || a.config === undefined || a.weights === undefined) {
    throw new MasqueError('INVALID_ARGUMENT', `writeKerasArchive: expected {config, weights, metadata?}; received ${a === null ? 'null' : typeof a === 'object' ? `an object with keys ${JSON.stringify(Object.keys(a))}` : typeof a}.`);
  }
  const enc = new TextEncoder();
  const metadata = a.metadata ?? { keras_version: KERAS_VERSION, date_saved: kerasDateSaved() };
  const weights = await writeWeightsH5(a.weights);
  const entries: ZipEntry[] = [
    { name: METADATA, data: enc.encode(pythonJsonDumps(metadata)) },
    { name: CONFIG, data: enc.encode(pythonJsonDumps(a.config)) },
    { name: WEIGHTS, data: weights, mtime: new Date() },
  ];
  for (const [name, data] of Object.entries(a.otherFiles ?? {})) entries.push({ name, data });
  return writeZip(entries);
}
