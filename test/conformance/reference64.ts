/**
 * Float64 references of the layers where Keras 3.15.1's own numbers are
 * wrong (deliberate departures 7 and 8 of the conformance README): masked
 * SimpleRNN / LSTM / GRU (both reset_after) with every option the fuzz
 * generator draws, their Bidirectional composition, and
 * LayerNormalization. They follow Keras's formulas (read from
 * keras/src/layers/rnn/*.py and keras/src/ops/nn.py of v3.15.1) in float64,
 * with Keras's scan path for masks (`zero_output_for_mask` honoured), not its
 * unrolled numpy loop. Test code only: plain loops over Float64Arrays.
 */

/** A dense float64 array in C order. */
export interface Arr64 {
  shape: number[];
  data: Float64Array;
}

// ---------------------------------------------------------------------------
// Activations (keras/src/activations/activations.py; numpy backend formulas)
// ---------------------------------------------------------------------------

/** erf to ~1e-15: Taylor series below 2.5, continued fraction of erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const sigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

const ELEMENTWISE: Record<string, (v: number) => number> = {
  linear: (v) => v,
  tanh: Math.tanh,
  relu: (v) => Math.max(v, 0),
  sigmoid,
  hard_sigmoid: (v) => Math.min(1, Math.max(0, v / 6 + 0.5)),
  softsign: (v) => v / (1 + Math.abs(v)),
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
  selu: (v) => SELU_SCALE * (v > 0 ? v : SELU_ALPHA * Math.expm1(v)),
  gelu: (v) => (v * (1 + erf(v / Math.SQRT2))) / 2,
  swish: (v) => v * sigmoid(v),
  silu: (v) => v * sigmoid(v),
  softplus: (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
  leaky_relu: (v) => (v >= 0 ? v : 0.2 * v),
  relu6: (v) => Math.min(6, Math.max(0, v)),
  exponential: Math.exp,
};

/** Applies a Keras activation (by its serialized name) to one row, in place; softmax and log_softmax act on the row. */
export type Activation = (row: Float64Array) => void;

export function activation(name: unknown): Activation {
  const key = typeof name === 'string' ? name : name === null || name === undefined ? 'linear' : String((name as { config?: { name?: string } }).config?.name ?? name);
  if (key === 'softmax' || key === 'log_softmax') {
    return (row) => {
      const max = Math.max(...row);
      let sum = 0;
      for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
      for (let i = 0; i < row.length; i++) row[i] = key === 'softmax' ? Math.exp(row[i]! - max) / sum : row[i]! - max - Math.log(sum);
    };
  }
  const f = ELEMENTWISE[key];
  if (f === undefined) throw new Error(`float64 reference: unknown activation ${JSON.stringify(name)}`);
  return (row) => {
    for (let i = 0; i < row.length; i++) row[i] = f(row[i]!);
  };
}

// ---------------------------------------------------------------------------
// Recurrent layers
// ---------------------------------------------------------------------------

/** The options of a Keras SimpleRNN / LSTM / GRU config that change its numbers at inference. */
export interface RnnSpec {
  cls: 'SimpleRNN' | 'LSTM' | 'GRU';
  units: number;
  activation: Activation;
  recurrentActivation: Activation;
  useBias: boolean;
  resetAfter: boolean;
  goBackwards: boolean;
  returnSequences: boolean;
  returnState: boolean;
  zeroOutputForMask: boolean;
}

export interface RnnWeights {
  kernel: Arr64;
  recurrentKernel: Arr64;
  bias: Arr64 | null;
}

/** An RnnSpec from a Keras layer config (`{class_name, config}`). */
export function rnnSpec(layer: { class_name: string; config: Record<string, unknown> }): RnnSpec {
  const cls = layer.class_name;
  if (cls !== 'SimpleRNN' && cls !== 'LSTM' && cls !== 'GRU') throw new Error(`float64 reference: ${cls} is not SimpleRNN, LSTM or GRU`);
  const k = layer.config;
  return {
    cls,
    units: Number(k['units']),
    activation: activation(k['activation'] ?? 'tanh'),
    recurrentActivation: activation(k['recurrent_activation'] ?? 'sigmoid'),
    useBias: k['use_bias'] !== false,
    resetAfter: k['reset_after'] !== false,
    goBackwards: k['go_backwards'] === true,
    returnSequences: k['return_sequences'] === true,
    returnState: k['return_state'] === true,
    zeroOutputForMask: k['zero_output_for_mask'] === true,
  };
}

/** x @ W[:, from:from+n] (+ b[from:from+n]) for one row x. */
function matRow(x: Float64Array, w: Arr64, from: number, n: number, bias: Float64Array | null, biasFrom = from): Float64Array {
  const cols = w.shape[1]!;
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = bias ? bias[biasFrom + j]! : 0;
    for (let i = 0; i < x.length; i++) s += x[i]! * w.data[i * cols + from + j]!;
    out[j] = s;
  }
  return out;
}

/** One cell step: the new states (h first; LSTM also c). The output is h. */
function cellStep(s: RnnSpec, w: RnnWeights, x: Float64Array, states: Float64Array[]): Float64Array[] {
  const u = s.units;
  const h = states[0]!;
  const b = s.useBias && w.bias ? w.bias.data : null;
  if (s.cls === 'SimpleRNN') {
    const a = matRow(x, w.kernel, 0, u, b);
    const r = matRow(h, w.recurrentKernel, 0, u, null);
    for (let j = 0; j < u; j++) a[j] = a[j]! + r[j]!;
    s.activation(a);
    return [a];
  }
  if (s.cls === 'LSTM') {
    const z = matRow(x, w.kernel, 0, 4 * u, b);
    const r = matRow(h, w.recurrentKernel, 0, 4 * u, null);
    for (let j = 0; j < 4 * u; j++) z[j] = z[j]! + r[j]!;
    const i = z.slice(0, u);
    const f = z.slice(u, 2 * u);
    const g = z.slice(2 * u, 3 * u);
    const o = z.slice(3 * u, 4 * u);
    s.recurrentActivation(i);
    s.recurrentActivation(f);
    s.activation(g);
    s.recurrentActivation(o);
    const c = new Float64Array(u);
    for (let j = 0; j < u; j++) c[j] = f[j]! * states[1]![j]! + i[j]! * g[j]!;
    const ac = c.slice();
    s.activation(ac);
    const hNew = new Float64Array(u);
    for (let j = 0; j < u; j++) hNew[j] = o[j]! * ac[j]!;
    return [hNew, c];
  }
  // GRU: gates z, r, h. reset_after: bias (2, 3U) = [input bias, recurrent bias], r * (h @ R_h + b_rh).
  const inB = b ? b.subarray(0, 3 * u) : null;
  const recB = b && s.resetAfter ? b.subarray(3 * u, 6 * u) : null;
  const xz = matRow(x, w.kernel, 0, 3 * u, inB);
  const rz = matRow(h, w.recurrentKernel, 0, 2 * u, recB);
  const zg = new Float64Array(u);
  const rg = new Float64Array(u);
  for (let j = 0; j < u; j++) {
    zg[j] = xz[j]! + rz[j]!;
    rg[j] = xz[u + j]! + rz[u + j]!;
  }
  s.recurrentActivation(zg);
  s.recurrentActivation(rg);
  let recH: Float64Array;
  if (s.resetAfter) {
    recH = matRow(h, w.recurrentKernel, 2 * u, u, recB, 2 * u);
    for (let j = 0; j < u; j++) recH[j] = rg[j]! * recH[j]!;
  } else {
    const rh = new Float64Array(u);
    for (let j = 0; j < u; j++) rh[j] = rg[j]! * h[j]!;
    recH = matRow(rh, w.recurrentKernel, 2 * u, u, null);
  }
  const hh = new Float64Array(u);
  for (let j = 0; j < u; j++) hh[j] = xz[2 * u + j]! + recH[j]!;
  s.activation(hh);
  const hNew = new Float64Array(u);
  for (let j = 0; j < u; j++) hNew[j] = zg[j]! * h[j]! + (1 - zg[j]!) * hh[j]!;
  return [hNew];
}

/**
 * A masked recurrent layer on x [B, T, F] with mask [B, T] (null: all valid),
 * zero initial states. Masked steps keep the states; their output is 0 with
 * zero_output_for_mask, else the previous h. go_backwards processes
 * T-1..0 and returns the sequence in processing order. Returns
 * [output, ...states] (states only with return_state).
 */
export function rnn64(s: RnnSpec, w: RnnWeights, x: Arr64, mask: boolean[] | null): Arr64[] {
  const [bsz, tlen, feat] = x.shape as [number, number, number];
  const u = s.units;
  const nStates = s.cls === 'LSTM' ? 2 : 1;
  const seq = new Float64Array(bsz * tlen * u);
  const last = new Float64Array(bsz * u);
  const finals = Array.from({ length: nStates }, () => new Float64Array(bsz * u));
  for (let b = 0; b < bsz; b++) {
    let states: Float64Array[] = Array.from({ length: nStates }, () => new Float64Array(u));
    let out: Float64Array = new Float64Array(u);
    for (let k = 0; k < tlen; k++) {
      const t = s.goBackwards ? tlen - 1 - k : k;
      const valid = mask === null || mask[b * tlen + t] === true;
      if (valid) {
        const xt = x.data.subarray((b * tlen + t) * feat, (b * tlen + t + 1) * feat);
        states = cellStep(s, w, xt, states);
        out = states[0]!.slice();
      } else {
        out = s.zeroOutputForMask ? new Float64Array(u) : states[0]!.slice();
      }
      seq.set(out, (b * tlen + k) * u);
    }
    last.set(out, b * u);
    states.forEach((st, i) => finals[i]!.set(st, b * u));
  }
  const y: Arr64 = s.returnSequences ? { shape: [bsz, tlen, u], data: seq } : { shape: [bsz, u], data: last };
  return s.returnState ? [y, ...finals.map((d) => ({ shape: [bsz, u], data: d }))] : [y];
}

/** Reverses a [B, T, ...] array along time. */
function flipTime(a: Arr64): Arr64 {
  const [bsz, tlen] = a.shape as [number, number];
  const inner = a.data.length / (bsz * tlen);
  const out = new Float64Array(a.data.length);
  for (let b = 0; b < bsz; b++) for (let t = 0; t < tlen; t++) out.set(a.data.subarray((b * tlen + t) * inner, (b * tlen + t + 1) * inner), (b * tlen + tlen - 1 - t) * inner);
  return { shape: a.shape, data: out };
}

export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul' | null;

/**
 * Keras's Bidirectional: both directions get the mask and have
 * zero_output_for_mask forced to return_sequences; the backward sequence is
 * flipped back to input order, then merged. Returns Keras's flat output
 * list: [merged | y_fwd, y_bwd, ...states_fwd, ...states_bwd].
 */
export function bidirectional64(fwd: RnnSpec, bwd: RnnSpec, wf: RnnWeights, wb: RnnWeights, mergeMode: MergeMode, x: Arr64, mask: boolean[] | null): Arr64[] {
  const f = rnn64({ ...fwd, zeroOutputForMask: fwd.returnSequences }, wf, x, mask);
  const b = rnn64({ ...bwd, zeroOutputForMask: bwd.returnSequences }, wb, x, mask);
  const y = f[0]!;
  const yr = fwd.returnSequences ? flipTime(b[0]!) : b[0]!;
  const states = [...f.slice(1), ...b.slice(1)];
  if (mergeMode === null) return [y, yr, ...states];
  let merged: Arr64;
  if (mergeMode === 'concat') {
    const da = y.shape[y.shape.length - 1]!;
    const db = yr.shape[yr.shape.length - 1]!;
    const rows = y.data.length / da;
    const data = new Float64Array(rows * (da + db));
    for (let r = 0; r < rows; r++) {
      data.set(y.data.subarray(r * da, (r + 1) * da), r * (da + db));
      data.set(yr.data.subarray(r * db, (r + 1) * db), r * (da + db) + da);
    }
    merged = { shape: [...y.shape.slice(0, -1), da + db], data };
  } else {
    // Keras merges with numpy broadcasting: directions of 4 and 1 units give 4 (a backward_layer may differ).
    const op = { sum: (p: number, q: number) => p + q, ave: (p: number, q: number) => (p + q) / 2, mul: (p: number, q: number) => p * q }[mergeMode];
    const da = y.shape[y.shape.length - 1]!;
    const db = yr.shape[yr.shape.length - 1]!;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`float64 reference: cannot merge ${da} and ${db} units with '${mergeMode}'`);
    const d = Math.max(da, db);
    const rows = y.data.length / da;
    const data = new Float64Array(rows * d);
    for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) data[r * d + j] = op(y.data[r * da + (da === 1 ? 0 : j)]!, yr.data[r * db + (db === 1 ? 0 : j)]!);
    merged = { shape: [...y.shape.slice(0, -1), d], data };
  }
  return [merged, ...states];
}

// ---------------------------------------------------------------------------
// LayerNormalization
// ---------------------------------------------------------------------------

export interface LayerNormSpec {
  /** Normalized axes, non-negative, sorted. */
  axes: number[];
  epsilon: number;
  rmsScaling: boolean;
}

/**
 * Keras's LayerNormalization in float64 with a two-pass variance:
 * (x - mean) / sqrt(var + eps) * gamma + beta over `axes`, gamma and beta
 * shaped like those axes. rms_scaling follows Keras 3.15.1: x / sqrt(var + eps) * gamma.
 */
export function layerNorm64(spec: LayerNormSpec, x: Arr64, gamma: Arr64 | null, beta: Arr64 | null): Arr64 {
  const shape = x.shape;
  const rank = shape.length;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
  const isAxis = shape.map((_, i) => spec.axes.includes(i));
  const groupSize = spec.axes.reduce((p, a) => p * shape[a]!, 1);
  const groups = new Map<number, number[]>();
  const paramIndex = new Int32Array(x.data.length);
  for (let flat = 0; flat < x.data.length; flat++) {
    let key = 0;
    let p = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(flat / strides[d]!) % shape[d]!;
      if (isAxis[d]) p = p * shape[d]! + idx;
      else key += idx * strides[d]!;
    }
    paramIndex[flat] = p;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(flat);
  }
  const out = new Float64Array(x.data.length);
  for (const members of groups.values()) {
    let mean = 0;
    for (const i of members) mean += x.data[i]!;
    mean /= groupSize;
    let variance = 0;
    for (const i of members) variance += (x.data[i]! - mean) ** 2;
    variance /= groupSize;
    const inv = 1 / Math.sqrt(variance + spec.epsilon);
    for (const i of members) {
      const g = gamma ? gamma.data[paramIndex[i]!]! : 1;
      const b = beta ? beta.data[paramIndex[i]!]! : 0;
      out[i] = spec.rmsScaling ? x.data[i]! * inv * g : (x.data[i]! - mean) * inv * g + b;
    }
  }
  return { shape, data: out };
}

/** A LayerNormSpec from a Keras LayerNormalization config, for an input of rank `rank`. */
export function layerNormSpec(config: Record<string, unknown>, rank: number): LayerNormSpec {
  const raw = config['axis'] ?? -1;
  const list = (Array.isArray(raw) ? raw : [raw]).map(Number);
  const axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
  if (axes.some((a) => a < 0 || a >= rank)) throw new Error(`float64 reference: LayerNormalization axis ${JSON.stringify(raw)} out of range for rank ${rank}`);
  return { axes, epsilon: Number(config['epsilon'] ?? 1e-3), rmsScaling: config['rms_scaling'] === true };
}
