/**
 * Loading models saved in the formats before Keras 3's `.keras`: legacy
 * HDF5 files (`.h5`, Keras 2 and Keras 3) and TensorFlow.js layers models
 * (`model.json` + weight shards). The config translation and the weight
 * matching are in keras_legacy.ts. Works on bytes and in-memory artifacts,
 * so it runs in browsers too.
 */
import { parseKerasJson } from './keras_json.js';
import { MasqueError, describe } from '../errors.js';
import { Model } from '../models/functional.js';
import { checkKeys } from '../option_keys.js';
import { readLegacyH5, type LegacyLayerWeights, type VarArray } from './h5_weights.js';
import { modelFromKerasConfig, modelFromReadConfig, type FromConfigOptions } from './keras_config.js';
import { compileFromKeras, kerasTrainableOrder, loadedOrder } from './keras_compile.js';
import { isKeras2Config, kerasConfigFromLegacy, setLegacyWeights, withOpModules, type LegacyDialect } from './keras_legacy.js';
import { isObj, type Obj } from './keras_training_objects.js';

/** The options every loader takes (`loadModel`'s). */
export interface LegacyLoadOptions extends FromConfigOptions {
  compile?: boolean;
}

/** Checks a loader's options; returns `compile` and the config options. */
export function loadOptions(options: LegacyLoadOptions | undefined, where: string): { compile: boolean; fromConfig: FromConfigOptions } {
  const { compile = true, ...fromConfig } = checkKeys(options ?? {}, ['compile', 'maskPolicy'], where) as LegacyLoadOptions;
  if (typeof compile !== 'boolean') throw new MasqueError('INVALID_ARGUMENT', `${where}: the option compile must be true or false; received ${describe(compile)}.`);
  return { compile, fromConfig };
}

/**
 * Builds the model of `config` (a Keras 3 config, or a legacy one in
 * `dialect`), sets its weights with `setWeights` and compiles it with
 * `compileIt`; a failure disposes the model. UNSUPPORTED_CONFIG from the
 * compile settings says how to load the model uncompiled.
 */
function buildLegacy(config: unknown, dialect: LegacyDialect | 'keras3', where: string, fromConfig: FromConfigOptions, setWeights: (m: Model) => void, compileIt: (m: Model) => void): Model {
  const model = dialect === 'keras3' ? modelFromKerasConfig(withOpModules(config) as object, undefined, fromConfig) : modelFromReadConfig(kerasConfigFromLegacy(config, dialect, where), undefined, fromConfig);
  try {
    setWeights(model);
    compileIt(model);
  } catch (e) {
    model.dispose();
    if (e instanceof MasqueError && e.code === 'UNSUPPORTED_CONFIG' && e.message.includes('training_config')) {
      throw new MasqueError(e.code, `${e.message.replace(/\.?$/, '.')} Load with { compile: false } to get the model uncompiled, then compile it yourself.`, { cause: e });
    }
    if (e instanceof MasqueError) throw e;
    throw new MasqueError('CORRUPT_FILE', `${where}: could not set the weights (${(e as Error).message}).`);
  }
  return model;
}

/**
 * Keras's `training_config` (legacy `.h5`) as the `compile_config` that
 * compileFromKeras reads. From tf.keras 2: `Custom>Adam` is Adam;
 * `jit_compile` and `is_legacy_optimizer` are dropped; Keras 2's optimizers
 * wrote `decay` (0 unless a decay was set; Keras 3 dropped it): 0 is
 * dropped, another value refused.
 */
function compileConfigFromTraining(tc: Obj, where: string): Obj {
  const opt = isObj(tc['optimizer_config']) ? { ...tc['optimizer_config'] } : tc['optimizer_config'];
  if (isObj(opt)) {
    // tf.keras 2.11+ writes its built-in optimizers as 'Custom>Adam'.
    if (typeof opt['class_name'] === 'string') opt['class_name'] = opt['class_name'].replace(/^Custom>/, '');
    if (isObj(opt['config'])) {
      const { decay, jit_compile: jit, is_legacy_optimizer: legacy, ...rest } = opt['config'];
      if (decay !== undefined && decay !== 0 && decay !== null) {
        throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: the optimizer sets Keras 2's decay=${JSON.stringify(decay)} (a learning-rate schedule Keras 3 dropped), which Masque does not support.`);
      }
      void jit; // tf.keras 2's XLA switch: no effect on the result
      void legacy;
      opt['config'] = rest;
    }
  }
  return { optimizer: opt, loss: kerasLoss(tc['loss']), metrics: kerasMetrics(tc['metrics'] ?? null), weighted_metrics: kerasMetrics(tc['weighted_metrics'] ?? null), loss_weights: tc['loss_weights'] ?? null };
}

/** Keras's short metric names, by the function each stands for. */
const METRIC_ALIASES = new Map([['mae', 'mean_absolute_error'], ['mse', 'mean_squared_error'], ['mape', 'mean_absolute_percentage_error'], ['msle', 'mean_squared_logarithmic_error']]);

/**
 * Metrics of a Keras 2 training_config: a model saved after `fit` holds its
 * metrics as `MeanMetricWrapper` objects around a function (`fn`); each
 * becomes the metric of that function's name (per output, as nested), but
 * keeps its own name where that names the same function (`accuracy`, `mae`,
 * ...), so the history logs what tf.keras logged.
 */
function kerasMetrics(m: unknown): unknown {
  if (Array.isArray(m)) return m.map(kerasMetrics);
  if (isObj(m) && m['class_name'] === 'MeanMetricWrapper' && isObj(m['config']) && typeof m['config']['fn'] === 'string') {
    // 'accuracy' was resolved to one of the three accuracies by tf.keras 2; Masque's 'accuracy' picks the same one
    // (from the shapes, as Keras 3 does) and keeps the name the history logged.
    const { name, fn } = m['config'];
    const accuracy = (name === 'accuracy' || name === 'acc') && /^(binary|categorical|sparse_categorical)_accuracy$/.test(fn);
    return accuracy || (typeof name === 'string' && METRIC_ALIASES.get(name) === fn) ? name : fn;
  }
  if (isObj(m) && !('class_name' in m)) return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, kerasMetrics(v)]));
  return m;
}

/** A loss of a Keras 2 training_config: Keras 2's reduction 'auto' is Keras 3's default, 'sum_over_batch_size'. */
function kerasLoss(loss: unknown): unknown {
  if (Array.isArray(loss)) return loss.map(kerasLoss);
  if (isObj(loss) && isObj(loss['config']) && loss['config']['reduction'] === 'auto') return { ...loss, config: { ...loss['config'], reduction: 'sum_over_batch_size' } };
  if (isObj(loss) && !('class_name' in loss)) return Object.fromEntries(Object.entries(loss).map(([k, v]) => [k, kerasLoss(v)]));
  return loss;
}

/**
 * A model from a legacy HDF5 file (`model.save('x.h5')` in Keras 2, tf.keras
 * or Keras 3): its `model_config`, its `model_weights`, and with `compile`
 * its `training_config` and optimizer state (as Keras 3's
 * `load_model_from_hdf5`).
 */
export async function loadLegacyH5Model(bytes: Uint8Array, options: { compile: boolean; fromConfig: FromConfigOptions }, label: string): Promise<Model> {
  const { compile, fromConfig } = options;
  const file = await readLegacyH5(bytes, label);
  const text = file.attrs['model_config'];
  if (text === undefined) {
    throw new MasqueError('UNSUPPORTED_FILE', `${label}: expected a whole model saved as HDF5 (a "model_config" attribute); received an HDF5 file without one${file.layers !== null ? ', a weights file (save_weights): build the model, then call loadWeights' : ''}.`);
  }
  const parse = (s: string, what: string): unknown => {
    try {
      return parseKerasJson(s);
    } catch (e) {
      throw new MasqueError('CORRUPT_FILE', `${label}: the ${what} attribute is not valid JSON (${(e as Error).message}).`);
    }
  };
  const version = file.attrs['keras_version'] ?? '';
  const config = parse(text, 'model_config');
  // Keras 3 writes its version; a file without one is read by the dialect of its config.
  const dialect = /^3\./.test(version) ? 'keras3' : version !== '' || isKeras2Config(config) ? 'keras2' : 'keras3';
  const where = `${label} (Keras ${version || 'version unknown'})`;
  const training = compile && file.attrs['training_config'] !== undefined ? parse(file.attrs['training_config'], 'training_config') : null;
  return buildLegacy(
    config,
    dialect,
    where,
    fromConfig,
    (model) => {
      if (file.layers === null) throw new MasqueError('CORRUPT_FILE', `${where}: expected a "model_weights" group listing the layers ("layer_names"); the file has none.`);
      if (file.topLevel.length > 0) throw new MasqueError('UNSUPPORTED_FILE', `${where}: the file holds ${file.topLevel.length} weights of the model itself (top_level_model_weights), which Masque's models do not have.`);
      setLegacyWeights(model, file.layers, where);
    },
    (model) => {
      if (!isObj(training)) return;
      const order = kerasTrainableOrder(model, loadedOrder);
      compileFromKeras(model, compileConfigFromTraining(training, `${where}, training_config`), file.optimizer === null ? undefined : { groups: {}, vars: file.optimizer }, order, `${where}, training_config`);
    },
  );
}

/** The parts of TensorFlow.js's `ModelArtifacts` a layers model needs. */
export interface TfjsArtifacts {
  modelTopology?: unknown;
  format?: string;
  weightSpecs?: { name: string; shape: number[]; dtype: string; quantization?: unknown }[];
  weightData?: ArrayBuffer | ArrayBufferView | (ArrayBuffer | ArrayBufferView)[];
  trainingConfig?: unknown;
}

/** The weight dtypes Masque reads: bytes per value and the reader (a Map: a dtype such as '__proto__' finds nothing). */
const TFJS_DTYPES = new Map<string, { size: number; read: (b: ArrayBuffer, off: number, n: number) => ArrayLike<number> }>([
  ['float32', { size: 4, read: (b, o, n) => new Float32Array(b.slice(o, o + 4 * n)) }],
  ['int32', { size: 4, read: (b, o, n) => new Int32Array(b.slice(o, o + 4 * n)) }],
  ['bool', { size: 1, read: (b, o, n) => new Uint8Array(b.slice(o, o + n)) }],
]);

/**
 * A model from a TensorFlow.js layers model's artifacts (`format:
 * 'layers-model'`): its `modelTopology` (Keras 2's config dialect, from
 * tfjs-layers or tensorflowjs_converter) and its weights, taken per layer
 * in order (each weight is named `layer/weight`). Compile settings in the
 * artifacts are not read: compile the model yourself.
 */
export function modelFromTfjsArtifacts(artifacts: TfjsArtifacts, options: FromConfigOptions | undefined, label: string): Model {
  if (!isObj(artifacts)) throw new MasqueError('INVALID_ARGUMENT', `${label}: expected TensorFlow.js model artifacts { modelTopology, weightSpecs, weightData }; received ${describe(artifacts)}.`);
  const fromConfig = checkKeys(options ?? {}, ['maskPolicy'], label) as FromConfigOptions;
  if (artifacts.format !== undefined && artifacts.format !== 'layers-model') {
    throw new MasqueError('UNSUPPORTED_FILE', `${label}: expected a TensorFlow.js layers model (format "layers-model"); received format ${JSON.stringify(artifacts.format)} (a graph model holds TensorFlow ops, not layers, and cannot be read as one).`);
  }
  let topology = artifacts.modelTopology;
  if (topology instanceof ArrayBuffer) throw new MasqueError('UNSUPPORTED_FILE', `${label}: the model topology is a binary GraphDef (a graph model), not a layers model's JSON config.`);
  if (isObj(topology) && isObj(topology['model_config'])) topology = topology['model_config'];
  const layers = tfjsWeights(artifacts, label);
  return buildLegacy(topology, 'tfjs', label, fromConfig, (model) => setLegacyWeights(model, layers, label, { byName: true }), () => undefined);
}

/** The artifacts' weights grouped per layer (the name before the first '/'), layers in order of first appearance. */
function tfjsWeights(artifacts: TfjsArtifacts, label: string): LegacyLayerWeights[] {
  const specs = artifacts.weightSpecs ?? [];
  if (!Array.isArray(specs)) throw new MasqueError('CORRUPT_FILE', `${label}: expected weightSpecs to be a list; received ${describe(specs)}.`);
  const data = artifacts.weightData as unknown;
  const list = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const buffers = list.map((b) => {
    if (b instanceof ArrayBuffer) return new Uint8Array(b);
    if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    throw new MasqueError('CORRUPT_FILE', `${label}: expected weightData as an ArrayBuffer (or a list of them, one per shard); received ${describe(b)}.`);
  });
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const buffer = new Uint8Array(total);
  let at = 0;
  for (const b of buffers) {
    buffer.set(b, at);
    at += b.byteLength;
  }
  // tensorflowjs_converter lists the layers by name (not in the model's order); each layer's weights stay in order.
  const out: LegacyLayerWeights[] = [];
  const groups = new Map<string, LegacyLayerWeights>();
  let offset = 0;
  for (const spec of specs) {
    if (!isObj(spec) || typeof spec['name'] !== 'string' || !Array.isArray(spec['shape']) || !spec['shape'].every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw new MasqueError('CORRUPT_FILE', `${label}: expected each weight spec as { name, shape, dtype }; received ${describe(spec)}.`);
    }
    const { name, shape, dtype } = spec as { name: string; shape: number[]; dtype: string };
    if (spec['quantization'] !== undefined && spec['quantization'] !== null) {
      throw new MasqueError('UNSUPPORTED_FILE', `${label}: weight '${name}' is quantized (${JSON.stringify(spec['quantization'])}), which Masque does not read; convert the model without quantization.`);
    }
    const kind = TFJS_DTYPES.get(dtype);
    if (kind === undefined) throw new MasqueError('UNSUPPORTED_FILE', `${label}: weight '${name}' has dtype ${JSON.stringify(dtype)}; Masque reads float32, int32 and bool weights.`);
    const n = shape.reduce((a, b) => a * b, 1);
    const bytes = n * kind.size;
    if (offset + bytes > total) {
      throw new MasqueError('CORRUPT_FILE', `${label}: the weight data ends at byte ${total}, but weight '${name}' (shape [${shape}], ${dtype}) needs bytes ${offset} to ${offset + bytes}: a shard is missing or truncated.`);
    }
    const values = kind.read(buffer.buffer, buffer.byteOffset + offset, n);
    offset += bytes;
    const layer = name.includes('/') ? name.slice(0, name.indexOf('/')) : name;
    let group = groups.get(layer);
    if (group === undefined) {
      groups.set(layer, (group = { name: layer, weightNames: [], arrays: [] }));
      out.push(group);
    }
    group.weightNames.push(name);
    group.arrays.push({ shape, dtype: 'float32', data: Float32Array.from(values) } as VarArray);
  }
  if (offset !== total) throw new MasqueError('CORRUPT_FILE', `${label}: the weight data has ${total} bytes but the weight specs describe ${offset}.`);
  return out;
}

/** A TensorFlow.js IOHandler (`tf.io.http(url)`, `tf.io.browserFiles(...)`, ...): anything with `load()`. */
export interface TfjsLoadHandler {
  load(): Promise<TfjsArtifacts>;
}

let fileReader: ((path: string) => Promise<TfjsArtifacts>) | null = null;

/** Registers how `loadTfjsModel` reads a `model.json` path (Node's file reader; index.ts). */
export function registerTfjsFileReader(read: (path: string) => Promise<TfjsArtifacts>): void {
  fileReader = read;
}

/**
 * Loads a TensorFlow.js layers model: the path of its `model.json` (Node;
 * the weight shards it lists are read from the same folder), a TensorFlow.js
 * IOHandler (`tf.io.http(url)`, `tf.io.browserFiles([...])`: anything with
 * `load()`), or its artifacts `{ modelTopology, weightSpecs, weightData }`.
 */
export async function loadTfjsModel(source: string | TfjsLoadHandler | TfjsArtifacts, options?: FromConfigOptions): Promise<Model> {
  const label = 'loadTfjsModel';
  if (typeof source === 'string') {
    if (fileReader === null) throw new MasqueError('NODE_ONLY', `${label}: reading a path needs Node's file system; in a browser pass tf.io.http(url) or the artifacts.`);
    return modelFromTfjsArtifacts(await fileReader(source), options, `${label} (${JSON.stringify(source)})`);
  }
  if (isObj(source) && typeof (source as Partial<TfjsLoadHandler>).load === 'function') {
    let artifacts: TfjsArtifacts;
    try {
      artifacts = await (source as unknown as TfjsLoadHandler).load();
    } catch (e) {
      throw new MasqueError('CORRUPT_FILE', `${label}: the IOHandler failed to load the model (${(e as Error).message}).`);
    }
    return modelFromTfjsArtifacts(artifacts, options, label);
  }
  return modelFromTfjsArtifacts(source as TfjsArtifacts, options, label);
}
