// The structure of a Keras model config, for comparing the configs Masque
// writes with Keras's own (test/keras_roundtrip.test.ts,
// test/keras_export_recorded_calls.test.ts).
import { asPyFloat } from '../src/engine/py_float.js';

/**
 * A config's structure: every entry's module, class, name, build config and
 * recorded calls, in order, and the ops' own configs; op names replaced by
 * their order of appearance (Keras names its ops from a process-wide
 * counter). Layer options are left out: Masque writes initializers by name
 * and leaves out null regularizers, which Keras reads the same. Numbers are
 * compared as numbers (`0.0` as `0`).
 */
export function structure(config: unknown): unknown {
  const ops = new Map<string, string>();
  const findOps = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(findOps);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o['module'] === 'string' && o['module'].startsWith('keras.src.ops') && typeof o['name'] === 'string') ops.set(o['name'], `op_${ops.size}`);
      Object.values(o).forEach(findOps);
    }
  };
  findOps(config);
  const walk = (v: unknown, key = ''): unknown => {
    // A float written 2.0 (read as a float mark, or a PyFloat being written) is compared as its number, as JSON.parse reads it.
    const float = asPyFloat(v);
    if (float !== null) return float.value;
    if (typeof v === 'string') return ops.get(v) ?? v;
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (k === 'shared_object_id' || k === 'compile_config') continue;
      const layerOptions = k === 'config' && o['module'] === 'keras.layers' && o['class_name'] !== 'InputLayer' && key !== 'layers';
      if (layerOptions) {
        const c = x as Record<string, unknown>;
        out[k] = { name: c['name'], ...(c['layer'] !== undefined ? { layer: walk(c['layer']) } : {}) };
      } else out[k] = walk(x, k);
    }
    return out;
  };
  return walk(config);
}

