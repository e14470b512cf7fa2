/**
 * The layer-by-layer check of a model case, used where Keras's numbers are
 * wrong at some layers (departures 7 and 8). It walks the model's graph in
 * order and feeds every layer the values Keras gave for its inputs (the
 * `layer_outputs` of the producing layers, with Keras's masks attached;
 * model inputs from the case; op nodes without an entry computed by
 * Masque), then compares the layer's outputs and masks with Keras's entry,
 * or, for a layer the caller flags, with a float64 reference computed from
 * the same inputs. So every layer is checked against Keras given Keras's
 * inputs and the flagged ones against float64. Afterwards the whole model
 * runs end to end: its output masks must match, and so must the outputs that
 * no flagged layer feeds.
 */
import { tf, getMask, attachMask, SymbolicTensor, type Model } from '../../src/index.js';
import { compare, scoped, toTensor, type Case, type CaseArray } from './cases.js';
import { buildCaseModel, checkWeightsAfterCall, fail, layerOutputsComparable, runCaseModel, type CaseResult } from './runner.js';
import { expectedFor } from './departures_attention.js';
import type { Arr64 } from './reference64.js';

type Mask = CaseArray | null;
/** What a layer's call received: its inputs and extra arguments, as tensors (Keras's values). */
export interface LayerCall {
  inputs: tf.Tensor[];
  args: Record<string, unknown>;
}

export interface LayerwiseOptions {
  /** Float64 outputs a layer must match instead of Keras's, with a label for messages; null: compare with Keras. */
  reference(layerName: string, call: LayerCall): { outputs: Arr64[]; label: string } | null;
  /**
   * Test hook: replaces Masque's outputs of a layer before they are
   * compared (a test passes Keras's own outputs to show that reproducing
   * Keras's defect fails the check).
   */
  substitute?(layerName: string, outputs: tf.Tensor[], keras: CaseArray[]): tf.Tensor[];
}

const zeroNaN = (a: CaseArray): CaseArray => ({ ...a, data: a.data.map((v) => (v === 'NaN' ? 0 : v)) });
const asCaseArray = (a: Arr64): CaseArray => ({ shape: a.shape, dtype: 'float32', data: Array.from(a.data) });

function flat(out: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(out) ? out : [out];
}

/** Replaces symbolic tensors inside lists and plain objects (node inputs and args). */
function mapSym(x: unknown, f: (s: SymbolicTensor) => tf.Tensor): unknown {
  if (x instanceof SymbolicTensor) return f(x);
  if (Array.isArray(x)) return x.map((v) => mapSym(v, f));
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, mapSym(v, f)]));
  }
  return x;
}

function collectSym(x: unknown, out: SymbolicTensor[] = []): SymbolicTensor[] {
  mapSym(x, (s) => {
    out.push(s);
    return null as unknown as tf.Tensor;
  });
  return out;
}

/** Runs the layer-by-layer check of `c` (model cases with layer_outputs). */
export function checkLayerByLayer(c: Case, opts: LayerwiseOptions): CaseResult {
  const name = String(c['name']);
  const tol = (c['tolerance'] as number | undefined) ?? 1e-5;
  const training = c['layer_outputs_training'] === true;
  if (!layerOutputsComparable(c)) return fail(name, 'layer-by-layer check: the case has no layer_outputs made like its call');
  const kept: tf.Tensor[] = [];
  return scoped(() => {
    // Two fresh models: the walk calls each layer once from the case's weights, as Keras's
    // sub-models did; the end-to-end call then changes state once, as Keras's model call did.
    const model = buildCaseModel(c);
    const whole = buildCaseModel(c);
    try {
      const r = walk(model, c, tol, training, opts, kept);
      if (r.message !== '') return fail(name, r.message, r.maxDiff);
      const taintedOutputs = new Set(model.outputs.flatMap((s, i) => (r.tainted.has(s) ? [i] : [])));
      const maskTaintedOutputs = new Set(model.outputs.flatMap((s, i) => (r.maskTainted.has(s) ? [i] : [])));
      const e = endToEnd(whole, c, tol, taintedOutputs, maskTaintedOutputs);
      if (e.message !== '') return fail(name, e.message, e.maxDiff);
      return { name, status: 'pass', maxDiff: Math.max(r.maxDiff, e.maxDiff), message: r.checked.length ? `float64 at ${r.checked.join(', ')}` : '' };
    } finally {
      model.dispose();
      whole.dispose();
      kept.forEach((t) => t.dispose());
    }
  });
}

interface WalkResult {
  message: string;
  maxDiff: number;
  /** Tensors whose values a flagged layer feeds: Masque's and Keras's differ there by the departure. */
  tainted: Set<SymbolicTensor>;
  /**
   * Tensors whose masks were made from such values (a Masking layer fed by a
   * tainted tensor, a tainted tensor passed as a `mask` argument, and what
   * such masks flow into): after departure 7 Keras's repeated outputs are
   * nonzero where Masque's are zeros, so a downstream Masking(0.0) masks
   * steps in Masque that Keras keeps.
   */
  maskTainted: Set<SymbolicTensor>;
  checked: string[];
}

function walk(model: Model, c: Case, tol: number, training: boolean, opts: LayerwiseOptions, kept: tf.Tensor[]): WalkResult {
  const entries = new Map(((c['layer_outputs'] ?? []) as Case[]).filter((e) => e['error'] === undefined).map((e) => [String(e['layer']), e]));
  const derived = c['model_class'] === 'Functional' && JSON.stringify(c['config']).includes('"class_name":"MultiHeadAttention"') ? expectedFor(c)?.layerMasks : undefined;
  const values = new Map<SymbolicTensor, tf.Tensor>();
  const tainted = new Set<SymbolicTensor>();
  const maskTainted = new Set<SymbolicTensor>();
  const seen = new Set<string>();
  const checked: string[] = [];
  let maxDiff = 0;
  const done = (message: string, d = Infinity): WalkResult => ({ message, maxDiff: d, tainted, maskTainted, checked });
  const withMask = (t: tf.Tensor, m: Mask): tf.Tensor => {
    if (m !== null) {
      const mt = toTensor(m);
      kept.push(mt);
      attachMask(t, mt);
    }
    return t;
  };

  const inputs = (c['inputs'] as CaseArray[]).map(toTensor);
  model.inputs.forEach((s, i) => values.set(s, inputs[i]!.dtype === s.dtype ? inputs[i]! : tf.cast(inputs[i]!, s.dtype)));
  const get = (s: SymbolicTensor): tf.Tensor => {
    const v = values.get(s);
    if (v === undefined) throw new Error(`layer-by-layer check: no value for '${s.name}'`);
    return v;
  };

  for (const node of model.graphNodes) {
    if (model.inputs.some((s) => node.outputs.includes(s))) continue;
    const layer = node.layer.name;
    const ins = mapSym(node.inputs, get) as tf.Tensor | tf.Tensor[];
    const args = mapSym(node.args, get) as Record<string, unknown>;
    let outs = flat(node.layer.apply(ins, { ...args, training } as never) as tf.Tensor | tf.Tensor[]);
    const fedByDeparture = collectSym([node.inputs, node.args]).some((s) => tainted.has(s));
    const masksFromTainted =
      collectSym([node.inputs, node.args]).some((s) => maskTainted.has(s)) ||
      collectSym(node.args['mask']).some((s) => tainted.has(s)) ||
      (node.layer.className === 'Masking' && collectSym(node.inputs).some((s) => tainted.has(s)));
    if (masksFromTainted) node.outputs.forEach((s) => maskTainted.add(s));
    const entry = seen.has(layer) ? undefined : entries.get(layer);
    seen.add(layer);
    if (entry === undefined) {
      node.outputs.forEach((s, k) => {
        values.set(s, outs[k]!);
        if (fedByDeparture) tainted.add(s);
      });
      continue;
    }
    const want = entry['outputs'] as CaseArray[];
    const wantMasks = (derived?.get(layer) ?? (entry['masks'] as Mask[])).map((m) => m ?? null);
    if (opts.substitute) outs = opts.substitute(layer, outs, want);
    const ref = opts.reference(layer, { inputs: flat(ins), args });
    // A reference has the outputs Masque documents; Keras may have fewer (departure 22).
    const count = ref !== null ? ref.outputs.length : want.length;
    if (outs.length !== count) return done(`layer '${layer}': ${outs.length} outputs, ${ref !== null ? `the ${ref.label} has` : 'Keras has'} ${count}`);
    if (ref !== null) checked.push(`'${layer}'`);
    for (let i = 0; i < count; i++) {
      const expected = ref !== null ? asCaseArray(ref.outputs[i]!) : entry['class'] === 'GlobalAveragePooling1D' ? zeroNaN(want[i]!) : want[i]!;
      const what = ref !== null ? `layer '${layer}' output ${i} (${ref.label})` : `layer '${layer}' output ${i} (given Keras's inputs)`;
      const d = compare(outs[i]!, expected, tol, what);
      if (!d.ok) return done(d.message, d.maxDiff);
      maxDiff = Math.max(maxDiff, d.maxDiff);
      const dm = compare(getMask(outs[i]!), wantMasks[i] ?? null, 0, `layer '${layer}' mask ${i}`);
      if (!dm.ok) return done(dm.message);
    }
    node.outputs.forEach((s, k) => {
      // An output Keras lacks was just checked against the reference: feed Masque's own.
      values.set(s, want[k] !== undefined ? withMask(toTensor(want[k]), wantMasks[k] ?? null) : outs[k]!);
      if (ref !== null || fedByDeparture) tainted.add(s);
    });
  }
  const missing = [...entries.keys()].find((l) => !seen.has(l));
  if (missing !== undefined) return done(`layer_outputs: no layer '${missing}' in the model`);
  return { message: '', maxDiff, tainted, maskTainted, checked };
}

/**
 * The whole model: output masks unless they were made from values a flagged
 * layer feeds, output values where no flagged layer feeds them;
 * weights_after_call.
 */
function endToEnd(model: Model, c: Case, tol: number, taintedOutputs: Set<number>, maskTaintedOutputs: Set<number>): { message: string; maxDiff: number } {
  const { outputs } = runCaseModel(model, c);
  const mha = c['model_class'] === 'Functional' && JSON.stringify(c['config']).includes('"class_name":"MultiHeadAttention"') ? expectedFor(c) : null;
  const gap = JSON.stringify(c['config']).includes('"class_name":"GlobalAveragePooling1D"');
  const wantOut = (mha?.outputs ?? (c['outputs'] as CaseArray[])).map((a) => (gap ? zeroNaN(a) : a));
  const wantMasks = mha?.masks ?? (c['output_masks'] as Mask[]);
  if (outputs.length !== wantOut.length) return { message: `got ${outputs.length} outputs, expected ${wantOut.length}`, maxDiff: Infinity };
  let maxDiff = 0;
  for (let i = 0; i < outputs.length; i++) {
    if (!maskTaintedOutputs.has(i)) {
      const dm = compare(getMask(outputs[i]!), wantMasks[i] ?? null, 0, `output mask ${i}`);
      if (!dm.ok) return { message: dm.message, maxDiff: Infinity };
    }
    if (taintedOutputs.has(i)) continue;
    const d = compare(outputs[i]!, wantOut[i]!, tol, `output ${i}`);
    if (!d.ok) return d;
    maxDiff = Math.max(maxDiff, d.maxDiff);
  }
  return checkWeightsAfterCall(model, c, tol) ?? { message: '', maxDiff };
}
