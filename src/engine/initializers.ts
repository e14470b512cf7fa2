/**
 * Weight initializers with Keras's names and defaults. An initializer is
 * given by name ('glorotUniform' or 'glorot_uniform'), as a Keras-style
 * object `{ className: 'RandomNormal', config: { stddev: 0.1 } }`, or as a
 * function of shape and dtype.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';

export type InitializerFn = (shape: number[], dtype: tf.DataType) => tf.Tensor;
export interface InitializerObject {
  className: string;
  config?: Record<string, unknown>;
}
export type InitializerSpec = string | InitializerObject | InitializerFn;

function fans(shape: number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2]! * receptive, shape[shape.length - 1]! * receptive];
}

function num(cfg: Record<string, unknown>, key: string, dflt: number): number {
  const v = cfg[key];
  return typeof v === 'number' ? v : dflt;
}

function seedOf(cfg: Record<string, unknown>): number | undefined {
  return typeof cfg['seed'] === 'number' ? (cfg['seed'] as number) : undefined;
}

function orthogonal(shape: number[], gain: number, seed?: number): tf.Tensor {
  return tf.tidy(() => {
    const cols = shape[shape.length - 1] ?? 1;
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const a = tf.randomNormal([Math.max(rows, cols), Math.min(rows, cols)], 0, 1, 'float32', seed);
    const [q, r] = tf.linalg.qr(a);
    const d = tf.sign(tf.sum(tf.mul(r, tf.eye(r.shape[0]!, r.shape[1])), 0));
    let qq: tf.Tensor = tf.mul(q, d);
    if (rows < cols) qq = tf.transpose(qq);
    return tf.reshape(tf.mul(qq, gain), shape);
  });
}

/**
 * Keras's Constant: `value` (a number or a nested array, such as pretrained
 * embeddings) broadcast to the weight's shape. A value that does not
 * broadcast, or is not numeric, is an error naming the weight.
 */
function constant(cfg: Record<string, unknown>, where: string): InitializerFn {
  const value = cfg['value'] ?? 0;
  if (typeof value === 'number') return (s, d) => tf.fill(s, value, d);
  if (value instanceof tf.Tensor || Array.isArray(value)) {
    return (s, d) =>
      tf.tidy(() => {
        let t: tf.Tensor;
        try {
          t = value instanceof tf.Tensor ? value : tf.tensor(value as number[], undefined, 'float32');
        } catch (e) {
          throw new MasqueError('INVALID_ARGUMENT', `${where}: the Constant initializer's value must be a number or a rectangular array of numbers; received ${describe(value)} (${(e as Error).message}).`);
        }
        if (t.dtype === 'string') throw new MasqueError('INVALID_ARGUMENT', `${where}: the Constant initializer's value must be numeric; received strings.`);
        const fits = t.rank <= s.length && t.shape.every((dim, i) => dim === 1 || dim === s[s.length - t.rank + i]);
        if (!fits) {
          throw new MasqueError('WEIGHT_SHAPE_MISMATCH', `${where}: the Constant initializer's value of shape ${formatShape(t.shape)} does not fit (broadcast to) the weight's shape ${formatShape(s)}.`);
        }
        return tf.cast(tf.broadcastTo(t, s), d);
      });
  }
  throw new MasqueError('INVALID_ARGUMENT', `${where}: the Constant initializer's value must be a number or an array of numbers; received ${describe(value)}.`);
}

const BUILDERS: Record<string, (cfg: Record<string, unknown>, where: string) => InitializerFn> = {
  zeros: () => (s, d) => tf.zeros(s, d),
  ones: () => (s, d) => tf.ones(s, d),
  constant: (c, where) => constant(c, where),
  randomnormal: (c) => (s, d) => tf.randomNormal(s, num(c, 'mean', 0), num(c, 'stddev', 0.05), d as 'float32', seedOf(c)),
  randomuniform: (c) => (s, d) => tf.randomUniform(s, num(c, 'minval', -0.05), num(c, 'maxval', 0.05), d, seedOf(c)),
  truncatednormal: (c) => (s, d) => tf.truncatedNormal(s, num(c, 'mean', 0), num(c, 'stddev', 0.05), d as 'float32', seedOf(c)),
  glorotuniform: (c) => (s, d) => {
    const [fi, fo] = fans(s);
    const limit = Math.sqrt(6 / (fi + fo));
    return tf.randomUniform(s, -limit, limit, d, seedOf(c));
  },
  glorotnormal: (c) => (s, d) => {
    const [fi, fo] = fans(s);
    return tf.truncatedNormal(s, 0, Math.sqrt(2 / (fi + fo)) / 0.87962566103423978, d as 'float32', seedOf(c));
  },
  heuniform: (c) => (s, d) => {
    const limit = Math.sqrt(6 / fans(s)[0]);
    return tf.randomUniform(s, -limit, limit, d, seedOf(c));
  },
  orthogonal: (c) => (s) => orthogonal(s, num(c, 'gain', 1), seedOf(c)),
  variancescaling: (c, where) => varianceScaling(c['scale'] ?? 1, c['mode'] ?? 'fan_in', c['distribution'] ?? 'truncated_normal', c, where),
  henormal: (c, where) => varianceScaling(2, 'fan_in', 'truncated_normal', c, where),
  lecunnormal: (c, where) => varianceScaling(1, 'fan_in', 'truncated_normal', c, where),
  lecununiform: (c, where) => varianceScaling(1, 'fan_in', 'uniform', c, where),
};

/**
 * Keras's VarianceScaling (HeNormal, LecunNormal and LecunUniform are
 * instances): `scale / max(1, fan)` is the variance, drawn from a normal
 * truncated at two standard deviations (Keras's stddev correction
 * 0.8796...), an untruncated normal, or a uniform. `'normal'` means
 * `'truncated_normal'`, as in Keras. `input_axes` / `output_axes` other
 * than null are refused.
 */
function varianceScaling(scale: unknown, mode: unknown, distribution: unknown, cfg: Record<string, unknown>, where: string): InitializerFn {
  const dist = typeof distribution === 'string' ? (distribution.toLowerCase() === 'normal' ? 'truncated_normal' : distribution.toLowerCase()) : distribution;
  if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale)) throw new MasqueError('INVALID_ARGUMENT', `${where}: VarianceScaling's scale must be a positive number; received ${describe(scale)}.`);
  if (mode !== 'fan_in' && mode !== 'fan_out' && mode !== 'fan_avg') throw new MasqueError('INVALID_ARGUMENT', `${where}: VarianceScaling's mode must be 'fan_in', 'fan_out' or 'fan_avg'; received ${describe(mode)}.`);
  if (dist !== 'truncated_normal' && dist !== 'untruncated_normal' && dist !== 'uniform') {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: VarianceScaling's distribution must be 'truncated_normal', 'untruncated_normal' or 'uniform'; received ${describe(distribution)}.`);
  }
  for (const k of ['input_axes', 'output_axes']) {
    if (cfg[k] !== undefined && cfg[k] !== null) throw new MasqueError('INVALID_ARGUMENT', `${where}: VarianceScaling's ${k} is not supported (fans come from the last two axes); received ${describe(cfg[k])}.`);
  }
  return (s, d) => {
    const [fi, fo] = fans(s);
    const v = scale / Math.max(1, mode === 'fan_in' ? fi : mode === 'fan_out' ? fo : (fi + fo) / 2);
    if (dist === 'uniform') return tf.randomUniform(s, -Math.sqrt(3 * v), Math.sqrt(3 * v), d, seedOf(cfg));
    if (dist === 'untruncated_normal') return tf.randomNormal(s, 0, Math.sqrt(v), d as 'float32', seedOf(cfg));
    return tf.truncatedNormal(s, 0, Math.sqrt(v) / 0.87962566103423978, d as 'float32', seedOf(cfg));
  };
}
BUILDERS['uniform'] = BUILDERS['randomuniform']!;
BUILDERS['normal'] = BUILDERS['randomnormal']!;
/** Own-property lookups only: 'constructor' or '__proto__' is an unknown initializer, not Object's. */
const BY_NAME = new Map(Object.entries(BUILDERS));

/** Resolves an initializer spec to a function. */
export function getInitializer(spec: InitializerSpec, where: string): InitializerFn {
  if (typeof spec === 'function') return spec;
  const name = typeof spec === 'string' ? spec : spec?.className;
  const cfg = typeof spec === 'object' && spec !== null ? (spec.config ?? {}) : {};
  const key = typeof name === 'string' ? name.replace(/_/g, '').toLowerCase() : '';
  const builder = BY_NAME.get(key);
  if (builder === undefined) {
    throw new MasqueError(
      'UNKNOWN_NAME',
      `${where}: unknown initializer ${describe(name ?? spec)}; expected one of zeros, ones, constant, glorotUniform, glorotNormal, heUniform, heNormal, lecunNormal, lecunUniform, varianceScaling, orthogonal, randomNormal, randomUniform, truncatedNormal, uniform, or a function (shape, dtype) => Tensor.`,
    );
  }
  return builder(cfg, where);
}

/** A JSON-friendly form of an initializer spec for getConfig(). */
export function serializeInitializer(spec: InitializerSpec): string | InitializerObject {
  return typeof spec === 'function' ? { className: 'Custom', config: {} } : spec;
}
