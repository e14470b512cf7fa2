/**
 * Reading and writing `model.weights.h5`, the HDF5 weights file inside a
 * Keras 3 `.keras` archive, as a plain JS tree.
 *
 * Keras layout (see notes/keras_h5_layout.md): every saveable object gets a
 * group at its path (`layers/lstm/cell`), and its own variables live in a
 * `vars` child group as datasets named "0", "1", … with a scalar UTF-8
 * string attribute `name` (the object's name). Uses h5wasm's in-memory
 * Emscripten file system, so it runs in Node and in browsers.
 */
import { toSnakeCase } from '../names.js';
import type { Dataset as H5Dataset, Group as H5Group } from 'h5wasm';
import { MasqueError, describe, formatShape } from '../errors.js';

export type VarDtype = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';
export type VarData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

/** One variable: a C-order array. `shape: []` is a scalar. */
export interface VarArray {
  shape: number[];
  dtype: VarDtype;
  data: VarData;
}

/** Attribute values Masque keeps: Keras writes only scalar strings (`name`). */
export type H5AttrValue = string | number;

/**
 * One HDF5 group of the weights file. `groups` holds the child groups other
 * than `vars`; `vars` the datasets of the `vars` child group in index order;
 * `varsAttrs` the attributes of that `vars` group — present exactly when the
 * group exists (Keras creates it, with `name`, even for objects without
 * variables). On write, a `vars` group is created when `varsAttrs` is set or
 * `vars` is non-empty.
 */
export interface H5Tree {
  groups: Record<string, H5Tree>;
  vars: VarArray[];
  varsAttrs?: Record<string, H5AttrValue>;
  /**
   * Datasets of the `vars` group saved by name rather than by index (a
   * layer's own `save_own_variables`, e.g. a tf-idf lookup's
   * `idf_weights`); written after the indexed ones.
   */
  named?: Record<string, VarArray>;
}

const DTYPES: Record<VarDtype, { ctor: new (n: number) => VarData; cls: 'f' | 'i' | 'u'; size: number }> = {
  float32: { ctor: Float32Array, cls: 'f', size: 4 },
  float64: { ctor: Float64Array, cls: 'f', size: 8 },
  int8: { ctor: Int8Array, cls: 'i', size: 1 },
  int16: { ctor: Int16Array, cls: 'i', size: 2 },
  int32: { ctor: Int32Array, cls: 'i', size: 4 },
  int64: { ctor: BigInt64Array, cls: 'i', size: 8 },
  uint8: { ctor: Uint8Array, cls: 'u', size: 1 },
  uint16: { ctor: Uint16Array, cls: 'u', size: 2 },
  uint32: { ctor: Uint32Array, cls: 'u', size: 4 },
  uint64: { ctor: BigUint64Array, cls: 'u', size: 8 },
};

type H5Lib = typeof import('h5wasm').default;
type H5Mod = Awaited<H5Lib['ready']>;
let lib: Promise<{ h5: H5Lib; mod: H5Mod }> | null = null;
let tmpCounter = 0;

function loadH5(): Promise<{ h5: H5Lib; mod: H5Mod }> {
  lib ??= import('h5wasm').then(async (m) => ({ h5: m.default, mod: await m.default.ready }));
  return lib;
}

/** Runs `fn` on a temp file in h5wasm's in-memory FS with HDF5 errors thrown (not printed); always unlinks it. */
async function withTempFile<T>(init: Uint8Array | null, fn: (path: string, h5: H5Lib, mod: H5Mod) => T): Promise<T> {
  const { h5, mod } = await loadH5();
  const path = `/masque_weights_${++tmpCounter}_${Math.random().toString(36).slice(2)}.h5`;
  mod.activate_throwing_error_handler();
  try {
    if (init) mod.FS.writeFile(path, init);
    return fn(path, h5, mod);
  } finally {
    mod.deactivate_throwing_error_handler();
    try { mod.FS.unlink(path); } catch { /* never created */ }
  }
}

/** The innermost HDF5 diagnostic of an h5wasm error, e.g. "truncated file: eof = 4000, …". */
function h5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split('\n').filter((l) => /#\d+:/.test(l));
  const last = lines[lines.length - 1];
  const m = last ? /\(\): (.*)$/.exec(last) : null;
  return (m ? m[1]! : text.split('\n')[0]!).trim();
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * HDF5's reader loops forever on a global heap collection (where h5py keeps
 * variable-length strings, such as Keras's `name` attributes) whose objects
 * do not add up, e.g. one of size 0 in a damaged file. So every collection
 * (signature `GCOL`, version 1, at least 4096 bytes) is walked here first:
 * each object's size must keep it inside the collection, and the free space
 * (object 0) must run to its end. Anything else is `CORRUPT_FILE`, before
 * HDF5 reads a byte.
 */
function checkGlobalHeaps(bytes: Uint8Array, label: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = bytes.indexOf(0x47); i !== -1 && i + 16 <= bytes.length; i = bytes.indexOf(0x47, i + 1)) {
    if (bytes[i + 1] !== 0x43 || bytes[i + 2] !== 0x4f || bytes[i + 3] !== 0x4c || bytes[i + 4] !== 1 || (bytes[i + 5]! | bytes[i + 6]! | bytes[i + 7]!) !== 0) continue;
    const size = Number(view.getBigUint64(i + 8, true));
    if (size < 4096) continue; // not a collection: HDF5 makes none smaller
    const end = i + size;
    if (end > bytes.length) continue; // beyond the end: HDF5 reports the truncated file itself
    let ok = true;
    for (let p = i + 16; ok && p + 16 <= end; ) {
      const index = view.getUint16(p, true);
      const objectSize = Number(view.getBigUint64(p + 8, true));
      if (index === 0) {
        ok = objectSize >= 16 && p + objectSize === end;
        break;
      }
      const step = 16 + Math.ceil(objectSize / 8) * 8;
      ok = Number.isSafeInteger(step) && p + step <= end;
      p += step;
    }
    if (!ok) throw new MasqueError('CORRUPT_FILE', `${label}: expected a readable HDF5 file; received one whose global heap at byte ${i} is damaged (its objects do not add up to its ${size} bytes).`);
  }
}

/**
 * Parses HDF5 bytes laid out as Keras 3 writes `model.weights.h5`. `label`
 * names the file in errors. Throws `CORRUPT_FILE` for bytes that are not
 * HDF5, are truncated, or do not follow the Keras layout, and
 * `UNSUPPORTED_FILE` for dtypes Masque does not read (bfloat16, float16, …).
 */
export async function readWeightsH5(bytes: Uint8Array, label = 'model.weights.h5'): Promise<H5Tree> {
  return readHdf5(bytes, label, (file, h5) => readGroup(file, '', h5, label));
}

/**
 * Opens HDF5 `bytes` (signature and global heaps checked first) and runs
 * `read` on the file: `CORRUPT_FILE` names `label` when HDF5 cannot open or
 * read it; MasqueErrors from `read` pass through; the file is always closed.
 */
function readHdf5<T>(bytes: Uint8Array, label: string, read: (file: InstanceType<H5Lib['File']>, h5: H5Lib) => T): Promise<T> {
  if (!isHdf5(bytes)) {
    const first = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new MasqueError('CORRUPT_FILE', `${label}: expected an HDF5 file starting with the signature 89 48 44 46 0d 0a 1a 0a ("\\x89HDF\\r\\n\\x1a\\n"); received ${bytes.length === 0 ? 'an empty file' : `${bytes.length} bytes starting with ${first}`}.`);
  }
  checkGlobalHeaps(bytes, label);
  return withTempFile(bytes, (path, h5) => {
    let file: InstanceType<H5Lib['File']>;
    try {
      file = new h5.File(path, 'r');
    } catch (err) {
      throw new MasqueError('CORRUPT_FILE', `${label}: expected a complete HDF5 file; received ${bytes.length} bytes that HDF5 cannot open (${h5Reason(err)}).`);
    }
    try {
      return read(file, h5);
    } catch (err) {
      if (err instanceof MasqueError) throw err;
      throw new MasqueError('CORRUPT_FILE', `${label}: expected a readable HDF5 file; received one that fails while reading (${h5Reason(err)}).`);
    } finally {
      try { file.close(); } catch { /* already failed */ }
    }
  });
}

function readGroup(g: H5Group, path: string, h5: H5Lib, label: string): H5Tree {
  const tree: H5Tree = { groups: {}, vars: [] };
  for (const key of g.keys()) {
    const child = g.get(key);
    const where = `${path}/${key}`;
    if (key === 'vars' && child instanceof h5.Group) {
      tree.varsAttrs = readAttrs(child, where, label);
      const { vars, named } = readVars(child, where, h5, label);
      tree.vars = vars;
      if (Object.keys(named).length > 0) tree.named = named;
    } else if (child instanceof h5.Group) {
      tree.groups[key] = readGroup(child, where, h5, label);
    } else {
      const kind = child instanceof h5.Dataset ? 'a dataset' : `an object of type ${child?.constructor?.name ?? 'null'}`;
      throw new MasqueError('CORRUPT_FILE', `${label}: expected only groups outside "vars" groups (Keras 3 layout); received ${kind} at "${where}".`);
    }
  }
  return tree;
}

function readAttrs(g: H5Group, where: string, label: string): Record<string, H5AttrValue> {
  const out: Record<string, H5AttrValue> = {};
  for (const [k, a] of Object.entries(g.attrs)) {
    const v = a.value;
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (typeof v === 'bigint') out[k] = Number(v);
    else throw new MasqueError('UNSUPPORTED_FILE', `${label}: expected scalar string or number attributes on "${where}"; received attribute "${k}" of shape ${formatShape(a.shape ?? [])}.`);
  }
  return out;
}

/** A dataset name of a `vars` group that is an index (`0`, `1`, ...), not a name. */
const INDEX_NAME = /^(0|[1-9]\d*)$/;

function readVars(g: H5Group, where: string, h5: H5Lib, label: string): { vars: VarArray[]; named: Record<string, VarArray> } {
  const keys = g.keys();
  const indexed = keys.filter((k) => INDEX_NAME.test(k));
  const vars: VarArray[] = [];
  const named: Record<string, VarArray> = {};
  const read = (key: string): VarArray => {
    const ds = g.get(key);
    if (!(ds instanceof h5.Dataset)) {
      throw new MasqueError('CORRUPT_FILE', `${label}: expected a dataset at "${where}/${key}"; received a group or link.`);
    }
    return readDataset(ds, `${where}/${key}`, label);
  };
  for (let i = 0; i < indexed.length; i++) {
    if (!indexed.includes(String(i))) {
      throw new MasqueError('CORRUPT_FILE', `${label}: expected the numbered datasets of "${where}" to be named 0..${indexed.length - 1}; received names ${JSON.stringify(keys)}.`);
    }
    vars.push(read(String(i)));
  }
  for (const key of keys) if (!indexed.includes(key)) named[key] = read(key);
  return { vars, named };
}

function readDataset(ds: H5Dataset, where: string, label: string): VarArray {
  const md = ds.metadata;
  if ('dtype' in ds.attrs) {
    throw new MasqueError('UNSUPPORTED_FILE', `${label}: expected float or integer variables; received "${where}" stored with dtype attribute ${JSON.stringify(ds.attrs['dtype']!.value)} (e.g. bfloat16), which Masque does not read.`);
  }
  const cls = md.type === 1 ? 'f' : md.type === 0 ? (md.signed ? 'i' : 'u') : null;
  const dtype = (Object.keys(DTYPES) as VarDtype[]).find((d) => DTYPES[d].cls === cls && DTYPES[d].size === md.size);
  if (!dtype || !md.littleEndian || md.vlen) {
    throw new MasqueError('UNSUPPORTED_FILE', `${label}: expected a little-endian float32/64 or integer dataset at "${where}"; received HDF5 type class ${md.type} of ${md.size} bytes (dtype ${JSON.stringify(ds.dtype)}).`);
  }
  const shape = (md.shape ?? []).map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const { ctor } = DTYPES[dtype];
  const data = new ctor(size);
  if (size > 0) {
    const v = ds.value as unknown;
    if (ArrayBuffer.isView(v)) (data as unknown as { set(a: ArrayLike<unknown>): void }).set(v as unknown as ArrayLike<unknown>);
    else (data as unknown as unknown[])[0] = v;
  }
  return { shape, dtype, data };
}

/**
 * Serialises a tree to HDF5 bytes laid out like h5py writes them for Keras
 * (superblock version 0, contiguous little-endian datasets, no compression).
 * Throws `INVALID_ARGUMENT` when a variable's data does not match its shape
 * or dtype.
 */
export async function writeWeightsH5(tree: H5Tree): Promise<Uint8Array> {
  checkTree(tree, '');
  return withTempFile(null, (path, h5, mod) => {
    const file = new h5.File(path, 'w', { libver: ['earliest', 'latest'] });
    try {
      writeGroup(file, tree);
    } finally {
      file.close();
    }
    return mod.FS.readFile(path);
  });
}

function checkTree(tree: H5Tree, path: string): void {
  if (!tree || typeof tree !== 'object' || typeof tree.groups !== 'object' || !Array.isArray(tree.vars)) {
    throw new MasqueError('INVALID_ARGUMENT', `writeWeightsH5: expected an H5Tree {groups, vars, varsAttrs?} at "${path || '/'}"; received ${tree === null ? 'null' : typeof tree}.`);
  }
  for (const key of Object.keys(tree.named ?? {})) {
    if (key === '' || key.includes('/') || INDEX_NAME.test(key)) {
      throw new MasqueError('INVALID_ARGUMENT', `writeWeightsH5: expected named variables' names to be non-empty, without "/" and not numbers at "${path}/vars"; received ${JSON.stringify(key)}.`);
    }
  }
  const all: [string, VarArray][] = [...tree.vars.map((v, i): [string, VarArray] => [String(i), v]), ...Object.entries(tree.named ?? {})];
  for (const [key, v] of all) {
    const where = `${path}/vars/${key}`;
    const spec = DTYPES[v?.dtype];
    const size = Array.isArray(v?.shape) ? v.shape.reduce((a, b) => a * b, 1) : NaN;
    if (!spec) throw new MasqueError('INVALID_ARGUMENT', `writeWeightsH5: expected dtype one of ${Object.keys(DTYPES).join(', ')} at "${where}"; received ${JSON.stringify(v?.dtype)}.`);
    if (!(v.data instanceof spec.ctor)) throw new MasqueError('INVALID_ARGUMENT', `writeWeightsH5: expected a ${spec.ctor.name} for dtype ${v.dtype} at "${where}"; received ${v.data?.constructor?.name ?? typeof v.data}.`);
    if (!v.shape.every((d) => Number.isInteger(d) && d >= 0) || v.data.length !== size) {
      throw new MasqueError('INVALID_ARGUMENT', `writeWeightsH5: expected data of ${size} values for shape ${formatShape(v.shape)} at "${where}"; received ${v.data.length}.`);
    }
  }
  for (const [k, child] of Object.entries(tree.groups)) {
    if (k === 'vars' || k === '' || k.includes('/')) throw new MasqueError('INVALID_ARGUMENT', `writeWeightsH5: expected group names without "/" and other than "vars" at "${path || '/'}"; received ${JSON.stringify(k)}.`);
    checkTree(child, `${path}/${k}`);
  }
}

function writeGroup(g: H5Group, tree: H5Tree): void {
  const named = Object.entries(tree.named ?? {});
  if (tree.varsAttrs !== undefined || tree.vars.length > 0 || named.length > 0) {
    const vg = g.create_group('vars');
    for (const [k, v] of Object.entries(tree.varsAttrs ?? {})) vg.create_attribute(k, v);
    tree.vars.forEach((v, i) => vg.create_dataset({ name: String(i), data: v.data, shape: v.shape }));
    for (const [k, v] of named) vg.create_dataset({ name: k, data: v.data, shape: v.shape });
  }
  for (const [k, child] of Object.entries(tree.groups)) writeGroup(g.create_group(k), child);
}

/**
 * The group names Keras gives the objects of a list (e.g. a model's
 * `layers`): the snake_case class name, then `_1`, `_2`, … for repeats.
 * `containerGroupNames(['LSTM', 'LSTM', 'Dense'])` → `['lstm', 'lstm_1', 'dense']`.
 */
export function containerGroupNames(classNames: readonly string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((c) => {
    const base = toSnakeCase(c);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  });
}

/** The subtree at a slash-separated path (`"layers/lstm/cell"`), or undefined. */
export function getH5Group(tree: H5Tree, path: string): H5Tree | undefined {
  let t: H5Tree | undefined = tree;
  for (const part of path.split('/').filter((p) => p !== '')) t = t?.groups[part];
  return t;
}

/** One layer's weights in a Keras 2 style (legacy `.h5`) weights group: its `weight_names` and their arrays, in that order. */
export interface LegacyLayerWeights {
  name: string;
  weightNames: string[];
  arrays: VarArray[];
}

/** What Masque reads of a legacy HDF5 file (`model.save('x.h5')`, `save_weights('x.h5')`, Keras 2 or 3). */
export interface LegacyH5 {
  /** String attributes of the root (`model_config`, `training_config`, `keras_version`, `backend`). */
  attrs: Record<string, string>;
  /** The layers' weights in the file's `layer_names` order, or null when the file has no legacy weights group. */
  layers: LegacyLayerWeights[] | null;
  /** Keras 3's `top_level_model_weights` (empty when absent). */
  topLevel: VarArray[];
  /** The `optimizer_weights` group's arrays in `weight_names` order, or null. */
  optimizer: VarArray[] | null;
}

/** True when `bytes` start with the HDF5 signature. */
export function isHdf5(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && HDF5_SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Reads a legacy HDF5 model or weights file: the weights group is
 * `model_weights` in a whole-model file and the root in a weights file; its
 * `layer_names` attribute lists the layers, each layer group's
 * `weight_names` its datasets (paths inside that group). Keras splits long
 * name lists into `layer_names0`, `layer_names1`, ... attributes; those are
 * joined.
 */
export async function readLegacyH5(bytes: Uint8Array, label: string): Promise<LegacyH5> {
  return readHdf5(bytes, label, (file, h5) => {
    const attrs: Record<string, string> = {};
    for (const [k, a] of Object.entries(file.attrs)) if (typeof a.value === 'string') attrs[k] = a.value;
    const weightsGroup = attrs['model_config'] !== undefined ? file.get('model_weights') : file;
    const names = weightsGroup instanceof h5.Group ? nameList(weightsGroup, 'layer_names', label) : null;
    let layers: LegacyLayerWeights[] | null = null;
    let topLevel: VarArray[] = [];
    if (names !== null) {
      const group = weightsGroup as H5Group;
      layers = names.map((name) => readLegacyGroup(group, name, h5, label));
      if (group.keys().includes('top_level_model_weights')) topLevel = readLegacyGroup(group, 'top_level_model_weights', h5, label).arrays;
    }
    const opt = file.keys().includes('optimizer_weights') ? readLegacyGroup(file, 'optimizer_weights', h5, label).arrays : null;
    return { attrs, layers, topLevel, optimizer: opt };
  });
}

/** A list-of-strings attribute (joined from Keras's numbered chunks), or null when absent. */
function nameList(g: H5Group, attr: string, label: string): string[] | null {
  const keys = Object.keys(g.attrs);
  const chunks = keys.includes(attr) ? [attr] : keys.filter((k) => new RegExp(`^${attr}\\d+$`).test(k)).sort((a, b) => Number(a.slice(attr.length)) - Number(b.slice(attr.length)));
  if (chunks.length === 0) return null;
  const out: string[] = [];
  for (const k of chunks) {
    const v = g.attrs[k]!.value as unknown;
    // h5py writes an empty list as an empty float64 array.
    const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : ArrayBuffer.isView(v) && (v as unknown as ArrayLike<unknown>).length === 0 ? [] : null;
    if (list === null || list.some((s) => typeof s !== 'string')) {
      throw new MasqueError('CORRUPT_FILE', `${label}: expected attribute "${k}" of "${g.path}" to be a list of strings; received ${describe(v)}.`);
    }
    out.push(...(list as string[]));
  }
  return out;
}

function readLegacyGroup(parent: H5Group, name: string, h5: H5Lib, label: string): LegacyLayerWeights {
  const g = parent.get(name);
  const where = `${parent.path === '/' ? '' : parent.path}/${name}`;
  if (!(g instanceof h5.Group)) throw new MasqueError('CORRUPT_FILE', `${label}: the file lists layer "${name}" but has no group "${where}".`);
  const weightNames = nameList(g, 'weight_names', label) ?? [];
  const arrays = weightNames.map((w) => {
    const ds = g.get(w);
    if (!(ds instanceof h5.Dataset)) throw new MasqueError('CORRUPT_FILE', `${label}: "${where}" lists weight "${w}" but has no dataset "${where}/${w}".`);
    return readDataset(ds, `${where}/${w}`, label);
  });
  return { name, weightNames, arrays };
}
