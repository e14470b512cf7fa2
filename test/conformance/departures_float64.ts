/**
 * Departures 7 and 8 (conformance README): two places where Keras 3.15.1's
 * numbers are wrong and Masque's are right, checked against float64.
 *
 * 7. `unroll`: with unroll=True the numpy (and JAX) backend's unrolled loop
 *    ignores zero_output_for_mask and repeats the previous output at masked
 *    steps (keras/src/backend/numpy/rnn.py); Bidirectional forces
 *    zero_output_for_mask = return_sequences on both directions, so
 *    Bidirectional(RNN(unroll=True), return_sequences) hits it too.
 *    Flagged: an RNN layer with unroll and zero_output_for_mask, or a
 *    Bidirectional returning sequences with an unrolled direction.
 * 8. `layernorm variance`: Keras's float32 variance E[x^2] - E[x]^2 loses
 *    digits on nearly constant rows. Flagged: every LayerNormalization and
 *    TimeDistributed(LayerNormalization).
 *
 * 22. `Bidirectional states` (docs/keras.md departure 22): with return_state
 *    and directions of different state counts (SimpleRNN/GRU one way, LSTM
 *    the other), Keras's functional outputs repeat the forward layer's state
 *    structure for both directions, so a state is dropped (or named and never
 *    computed); Masque returns every state, as Keras's own `call` does.
 *    Flagged: such a Bidirectional; its reference has every output.
 *
 * A case with a flagged layer is checked layer by layer (layerwise.ts):
 * every layer against Keras given Keras's inputs, each flagged layer against
 * the float64 reference (reference64.ts) of the same inputs and the case's
 * weights, within the case's tolerance.
 */
import { getMask, type tf } from '../../src/index.js';
import type { Case, CaseArray } from './cases.js';
import { decodeNumbers } from './cases.js';
import { checkLayerByLayer, type LayerCall, type LayerwiseOptions } from './layerwise.js';
import { bidirectional64, layerNorm64, layerNormSpec, rnn64, rnnSpec, type Arr64, type MergeMode, type RnnWeights } from './reference64.js';
import type { Departure } from './departures.js';
import { layerOutputsComparable, type CaseResult } from './runner.js';

interface LayerConfig {
  class_name: string;
  config: Case;
}

const RNN_CLASSES = new Set(['SimpleRNN', 'LSTM', 'GRU']);

function layerConfigs(c: Case): Map<string, LayerConfig> {
  const list = (c['config']?.['config']?.['layers'] ?? []) as LayerConfig[];
  return new Map(list.map((l) => [String(l.config['name']), l]));
}

type Kind = 'unroll' | 'layernorm' | 'states';

/** How many states a recurrent layer config carries (LSTM: h and c). */
const stateCount = (l: LayerConfig): number => (l.class_name === 'LSTM' ? 2 : 1);

/** The departure a layer config falls under, or null. */
export function departureOf(l: LayerConfig): Kind | null {
  const k = l.config;
  if (RNN_CLASSES.has(l.class_name)) return k['unroll'] === true && k['zero_output_for_mask'] === true ? 'unroll' : null;
  if (l.class_name === 'Bidirectional') {
    const fwd = k['layer'] as LayerConfig;
    const bwd = (k['backward_layer'] ?? fwd) as LayerConfig;
    if (fwd.config['return_state'] === true && stateCount(fwd) !== stateCount(bwd)) return 'states';
    return fwd.config['return_sequences'] === true && (fwd.config['unroll'] === true || bwd.config['unroll'] === true) ? 'unroll' : null;
  }
  if (l.class_name === 'LayerNormalization') return 'layernorm';
  if (l.class_name === 'TimeDistributed' && (k['layer'] as LayerConfig | undefined)?.class_name === 'LayerNormalization') return 'layernorm';
  return null;
}

const hasDeparture = (c: Case, kind: Kind): boolean =>
  c['kind'] === 'model' && layerOutputsComparable(c) && [...layerConfigs(c).values()].some((l) => departureOf(l) === kind);

// -- weights ---------------------------------------------------------------

const arr64 = (a: CaseArray): Arr64 => ({ shape: a.shape, data: decodeNumbers(a) });

/** The case's weights of one layer, keyed by their path below the layer (`forward_lstm/lstm_cell/kernel`), in order. */
function weightsOf(c: Case, layer: string): [string, Arr64][] {
  const model = String(c['config']?.['config']?.['name'] ?? '');
  const prefixes = [`${model}/${layer}/`, `${layer}/`];
  const out: [string, Arr64][] = [];
  for (const w of c['weights'] as (CaseArray & { name: string })[]) {
    const p = prefixes.find((q) => w.name.startsWith(q));
    if (p !== undefined) out.push([w.name.slice(p.length), arr64(w)]);
  }
  return out;
}

const leaf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

function rnnWeights(ws: [string, Arr64][], where: string): RnnWeights {
  const find = (n: string): Arr64 | null => ws.find(([p]) => leaf(p) === n)?.[1] ?? null;
  const kernel = find('kernel');
  const recurrentKernel = find('recurrent_kernel');
  if (kernel === null || recurrentKernel === null) throw new Error(`float64 reference: no kernel/recurrent_kernel among the weights of ${where} (${ws.map(([p]) => p).join(', ')})`);
  return { kernel, recurrentKernel, bias: find('bias') };
}

// -- references ------------------------------------------------------------

function tensor64(t: tf.Tensor): Arr64 {
  return { shape: t.shape.slice(), data: Float64Array.from(t.dataSync() as ArrayLike<number>) };
}

/** The mask the layer used: an explicit `mask` argument, else the input's (Keras's) mask. */
function maskOf(call: LayerCall): boolean[] | null {
  const explicit = call.args['mask'];
  const m = explicit !== undefined && explicit !== null ? (Array.isArray(explicit) ? (explicit[0] as tf.Tensor | null) : (explicit as tf.Tensor)) : getMask(call.inputs[0]!);
  return m === null ? null : Array.from(m.dataSync() as ArrayLike<number>, (v) => v !== 0);
}

/** The float64 reference kind of any layer it covers (flagged or not). */
function coveredKind(l: LayerConfig): Kind | null {
  if (RNN_CLASSES.has(l.class_name) || l.class_name === 'Bidirectional') return 'unroll';
  return departureOf(l);
}

/**
 * The float64 outputs of a flagged layer for this call, or null for a layer
 * Keras gets right. With `all`, every RNN, Bidirectional and
 * LayerNormalization layer gets its float64 reference (to test the
 * references against Keras where Keras is right).
 */
export function reference64(c: Case, layerName: string, call: LayerCall, all = false): { outputs: Arr64[]; label: string } | null {
  const l = layerConfigs(c).get(layerName);
  if (l === undefined) return null;
  const kind = all ? coveredKind(l) : departureOf(l);
  if (kind === null) return null;
  if (call.inputs.length !== 1 || Object.keys(call.args).some((k) => k !== 'mask' && k !== 'training' && call.args[k] !== undefined)) {
    throw new Error(`float64 reference: layer '${layerName}' has extra call arguments (${Object.keys(call.args).join(', ')}); not supported`);
  }
  const x = tensor64(call.inputs[0]!);
  const ws = weightsOf(c, layerName);
  if (kind === 'layernorm') {
    const inner = l.class_name === 'TimeDistributed' ? (l.config['layer'] as LayerConfig).config : l.config;
    // TimeDistributed runs the inner layer on [B*T, ...]: its positive axes move one to the right.
    const axis = l.class_name === 'TimeDistributed' ? [inner['axis'] ?? -1].flat().map((a) => (Number(a) >= 0 ? Number(a) + 1 : Number(a))) : inner['axis'];
    const spec = layerNormSpec({ ...inner, axis }, x.shape.length);
    const find = (n: string): Arr64 | null => ws.find(([p]) => leaf(p) === n)?.[1] ?? null;
    return { outputs: [layerNorm64(spec, x, find('gamma'), find('beta'))], label: 'float64 reference, departure 8: LayerNormalization variance' };
  }
  const mask = maskOf(call);
  const flaggedAs = departureOf(l);
  const label =
    flaggedAs === 'states'
      ? 'float64 reference, departure 22: Bidirectional returns every state of both directions'
      : flaggedAs === 'unroll'
        ? 'float64 reference, departure 7: unroll ignores zero_output_for_mask'
        : 'float64 reference';
  if (l.class_name !== 'Bidirectional') return { outputs: rnn64(rnnSpec(l), rnnWeights(ws, layerName), x, mask), label };
  const fwdCfg = l.config['layer'] as LayerConfig;
  const bwdCfg = (l.config['backward_layer'] as LayerConfig | undefined) ?? { ...fwdCfg, config: { ...fwdCfg.config, go_backwards: true } };
  const groups: string[] = [];
  for (const [p] of ws) if (!groups.includes(p.split('/')[0]!)) groups.push(p.split('/')[0]!);
  if (groups.length !== 2) throw new Error(`float64 reference: expected forward and backward weights under '${layerName}', found ${groups.join(', ')}`);
  const part = (g: string): [string, Arr64][] => ws.filter(([p]) => p.startsWith(`${g}/`));
  const merge = (l.config['merge_mode'] ?? null) as MergeMode;
  return { outputs: bidirectional64(rnnSpec(fwdCfg), rnnSpec(bwdCfg), rnnWeights(part(groups[0]!), `${layerName} forward`), rnnWeights(part(groups[1]!), `${layerName} backward`), merge, x, mask), label };
}

/** The layer-by-layer check with the float64 references of this case (options for tests). */
export function checkFloat64Departures(c: Case, extra: Partial<LayerwiseOptions> = {}): CaseResult {
  return checkLayerByLayer(c, { reference: (layer, call) => reference64(c, layer, call), ...extra });
}

export const unrollZeroOutput: Departure = {
  id: 'unroll-zero-output-for-mask',
  appliesTo: (c) => hasDeparture(c, 'unroll'),
  run: (c) => checkFloat64Departures(c),
};

export const layerNormVariance: Departure = {
  id: 'layernorm-variance',
  appliesTo: (c) => hasDeparture(c, 'layernorm'),
  run: (c) => checkFloat64Departures(c),
};

/** Departure 22 (docs/keras.md): a Bidirectional whose directions have different states returns all of them. */
export const bidirectionalStates: Departure = {
  id: 'bidirectional-every-state',
  appliesTo: (c) => hasDeparture(c, 'states'),
  run: (c) => checkFloat64Departures(c),
};

export const float64Departures: Departure[] = [unrollZeroOutput, layerNormVariance, bidirectionalStates];
