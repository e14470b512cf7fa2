/**
 * The explicit registry of Keras layer classes Masque can import, and the
 * conversion of a Keras layer config (snake_case) to Masque's options
 * (camelCase). Families add entries with `registerKerasLayers`.
 */
import { MasqueError, describe } from '../errors.js';
import type { Layer } from '../engine/layer.js';
import type { CallArgs } from '../engine/types.js';
import { snakeToCamel } from './keras_names.js';
import { Masking } from '../layers/core/masking.js';
import { Embedding } from '../layers/core/embedding.js';
import { Dense } from '../layers/core/dense.js';
import { Activation, ReLU } from '../layers/core/activation.js';
import { Dropout, GaussianNoise } from '../layers/core/dropout.js';
import { Flatten, Reshape } from '../layers/core/reshaping.js';
import { LayerNormalization } from '../layers/normalization/layer_normalization.js';

export type AnyLayer = Layer<CallArgs, boolean>;

/** Context for converters that contain nested layers (Bidirectional, TimeDistributed). */
export interface ConvertContext {
  layerFromConfig(entry: unknown): AnyLayer;
}

export interface KerasLayerEntry {
  /** camelCase option names the Masque class accepts (besides name/trainable). */
  keys: readonly string[];
  create(args: Record<string, unknown>, ctx: ConvertContext, raw: Record<string, unknown>): AnyLayer;
}

const registry = new Map<string, KerasLayerEntry>();

export function registerKerasLayers(entries: Record<string, KerasLayerEntry>): void {
  for (const [k, v] of Object.entries(entries)) registry.set(k, v);
}

export function kerasLayerClasses(): string[] {
  return [...registry.keys()].sort();
}

export function hasKerasLayer(className: string): boolean {
  return registry.has(className);
}

/** Keys Keras always writes that Masque ignores when they hold these values. */
const IGNORABLE: Record<string, (v: unknown) => boolean> = {
  dtype: (v) => v === 'float32' || v === null || (isObj(v) && isObj(v['config']) && v['config']['name'] === 'float32'),
  build_config: () => true,
  sparse: (v) => v === false,
  ragged: (v) => v === false,
  optional: (v) => v === false,
  stateful: (v) => v === false,
  input_length: () => true,
  lora_rank: (v) => v === null || v === undefined,
  lora_alpha: (v) => v === null || v === undefined,
  quantization_config: (v) => v === null,
  autocast: () => true,
};

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Converts a Keras config value: initializer dicts become `{ className, config }`. */
function convertValue(v: unknown): unknown {
  if (isObj(v) && typeof v['class_name'] === 'string' && 'config' in v && String(v['module'] ?? '').includes('initializers')) {
    return { className: v['class_name'], config: v['config'] ?? {} };
  }
  return v;
}

/** camelCased options for `className` from a Keras config, rejecting settings Masque does not support. */
export function convertKerasArgs(className: string, cfg: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) {
    const camel = snakeToCamel(k);
    if (camel === 'name' || camel === 'trainable' || keys.includes(camel)) {
      out[camel] = convertValue(v);
      continue;
    }
    const ign = IGNORABLE[k];
    if (ign && ign(v)) continue;
    if ((k.endsWith('_regularizer') || k.endsWith('_constraint')) && v === null) continue;
    throw new MasqueError(
      'UNSUPPORTED_CONFIG',
      `Keras config of ${className} '${String(cfg['name'])}': Masque does not support ${k}=${JSON.stringify(v)}.`,
    );
  }
  return out;
}

function simple(keys: string[], make: (a: never) => AnyLayer): KerasLayerEntry {
  return { keys, create: (a) => make(a as never) };
}

registerKerasLayers({
  Masking: simple(['maskValue'], (a) => new Masking(a)),
  Embedding: simple(['inputDim', 'outputDim', 'embeddingsInitializer', 'maskZero'], (a) => new Embedding(a)),
  Dense: simple(['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer'], (a) => new Dense(a)),
  Activation: simple(['activation'], (a) => new Activation(a)),
  ReLU: simple(['maxValue', 'negativeSlope', 'threshold'], (a) => new ReLU(a)),
  Dropout: simple(['rate', 'noiseShape', 'seed'], (a) => new Dropout(a)),
  GaussianNoise: simple(['stddev', 'seed'], (a) => new GaussianNoise(a)),
  Flatten: simple(['dataFormat'], (a) => new Flatten(a)),
  Reshape: simple(['targetShape'], (a) => new Reshape(a)),
  LayerNormalization: simple(['axis', 'epsilon', 'center', 'scale', 'gammaInitializer', 'betaInitializer', 'rmsScaling'], (a) => {
    const args = a as Record<string, unknown>;
    if (args['rmsScaling'] === true) throw new MasqueError('UNSUPPORTED_CONFIG', `LayerNormalization '${String(args['name'])}': rms_scaling=true is not supported.`);
    delete args['rmsScaling'];
    return new LayerNormalization(args);
  }),
});

/** Builds a layer from one Keras layer entry `{ class_name, config }`. */
export function layerFromKerasEntry(entry: unknown, ctx: ConvertContext): AnyLayer {
  if (!isObj(entry) || typeof entry['class_name'] !== 'string' || !isObj(entry['config'])) {
    throw new MasqueError('INVALID_CONFIG', `Keras config: expected a layer entry { class_name, config }; received ${describe(entry)}.`);
  }
  const className = entry['class_name'];
  const spec = registry.get(className);
  if (spec === undefined) {
    throw new MasqueError(
      'UNKNOWN_LAYER_CLASS',
      `Keras config: unknown layer class '${className}' (layer '${String(entry['config']['name'])}'). Masque can import: ${kerasLayerClasses().join(', ')}. For a custom layer, register it with registerKerasLayers.`,
    );
  }
  const args = convertKerasArgs(className, entry['config'], spec.keys);
  return spec.create(args, ctx, entry['config']);
}
