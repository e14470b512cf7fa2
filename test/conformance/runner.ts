/**
 * The conformance runner: runs every case file of a folder (format in the
 * conformance README) and reports pass / fail / skip per case. Model cases
 * go through the Keras importer, pad_sequences cases through padSequences,
 * custom cases through TypeScript versions of their custom layers. The
 * deliberate departures are checked against Masque's documented behaviour.
 */
import { join } from 'node:path';
import { tf, MasqueError, Model as ModelClass, modelFromKerasConfig, getMask, setWarningHandler, collectLosses, type LayerWeight, type Model, type MaskPolicy, type SymbolicTensor } from '../../src/index.js';
import { caseFileNames, compare, loadCase, nestedToTensor, toTensor, type Case, type CaseArray } from './cases.js';
import { scoped } from './cases.js';
import { runCustomCase } from './custom_cases.js';

export type Status = 'pass' | 'fail' | 'skip';
export interface CaseResult {
  name: string;
  status: Status;
  maxDiff: number;
  message: string;
}

export interface ModelCheckOptions {
  maskPolicy?: MaskPolicy;
  /** Replaces the expected value of model output i (departures). */
  expectOutput?: (i: number, want: CaseArray) => CaseArray;
  /** Replaces the expected output mask i (departures). */
  expectMask?: (i: number, want: CaseArray | null) => CaseArray | null;
  /** Replaces a layer's expected outputs in layer_outputs (departures); return null to skip that layer. */
  expectLayer?: (entry: Case) => Case | null;
  /** Replaces the expected `model_losses` (departures). */
  expectLosses?: (want: number[]) => number[];
}

const pass = (name: string, maxDiff: number, message = ''): CaseResult => ({ name, status: 'pass', maxDiff, message });
export const fail = (name: string, message: string, maxDiff = Infinity): CaseResult => ({ name, status: 'fail', maxDiff, message });
const skip = (name: string, message: string): CaseResult => ({ name, status: 'skip', maxDiff: 0, message });

function flatOutputs(out: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(out) ? out : [out];
}

/** Builds the case's model (with weights) under a mask policy. */
export function buildCaseModel(c: Case, maskPolicy?: MaskPolicy): Model {
  const weights = (c['weights'] as CaseArray[] & { name: string }[]).map((w) => ({
    name: (w as unknown as { name: string }).name,
    shape: w.shape,
    data: Array.from(toTensorData(w)),
  }));
  return modelFromKerasConfig(c['config'], weights, { maskPolicy });
}

function toTensorData(a: CaseArray): Float32Array {
  return Float32Array.from(a.data, (v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v)));
}

/** Runs the case's model on its inputs (or `given`, in their place) with call_kwargs and returns the flat outputs. */
export function runCaseModel(model: Model, c: Case, given?: tf.Tensor[]): { outputs: tf.Tensor[]; inputs: tf.Tensor[] } {
  const inputs = given ?? (c['inputs'] as CaseArray[]).map(toTensor);
  const kw = (c['call_kwargs'] ?? {}) as Record<string, unknown>;
  const args: { training: boolean; mask?: tf.Tensor | (tf.Tensor | null)[] } = { training: kw['training'] === true };
  if (kw['mask'] !== undefined && kw['mask'] !== null) {
    const m = kw['mask'];
    args.mask = inputs.length > 1 && Array.isArray(m) && m.length === inputs.length && Array.isArray((m as unknown[])[0]) && Array.isArray(((m as unknown[])[0] as unknown[])[0])
      ? (m as unknown[]).map((x) => (x === null ? null : nestedToTensor(x, 'bool')))
      : nestedToTensor(m, 'bool');
  }
  const out = model.apply(inputs.length === 1 ? inputs[0]! : inputs, args);
  return { outputs: flatOutputs(out), inputs };
}

/** The standard check of a model case: outputs, output masks and every layer's outputs. */
export function checkModelCase(c: Case, opts: ModelCheckOptions = {}): CaseResult {
  const name = c['name'] as string;
  const tol = (c['tolerance'] as number | undefined) ?? 1e-5;
  return scoped(() => {
    const model = buildCaseModel(c, opts.maskPolicy);
    try {
      const { result: { outputs }, losses } = collectLosses(() => runCaseModel(model, c));
      const lossCheck = checkModelLosses(model, c, losses, tol, opts);
      if (lossCheck !== null) return fail(name, lossCheck.message, lossCheck.maxDiff);
      const wantOut = c['outputs'] as CaseArray[];
      const wantMasks = c['output_masks'] as (CaseArray | null)[];
      if (outputs.length !== wantOut.length) return fail(name, `got ${outputs.length} outputs, expected ${wantOut.length}`);
      let maxDiff = 0;
      for (let i = 0; i < outputs.length; i++) {
        const want = opts.expectOutput ? opts.expectOutput(i, wantOut[i]!) : wantOut[i]!;
        const d = compare(outputs[i]!, want, tol, `output ${i}`);
        if (!d.ok) return fail(name, d.message, d.maxDiff);
        maxDiff = Math.max(maxDiff, d.maxDiff);
        const wm = opts.expectMask ? opts.expectMask(i, wantMasks[i] ?? null) : (wantMasks[i] ?? null);
        const dm = compare(getMask(outputs[i]!), wm, 0, `output mask ${i}`);
        if (!dm.ok) return fail(name, dm.message);
      }
      const w = checkWeightsAfterCall(model, c, tol);
      if (w !== null) return fail(name, w.message, w.maxDiff);
      if (layerOutputsComparable(c)) {
        const r = checkLayerOutputs(model, c, tol, opts);
        if (r !== null) return fail(name, r.message, r.maxDiff);
      }
      return pass(name, maxDiff);
    } finally {
      model.dispose();
    }
  });
}

/**
 * `model_losses` (Keras's `model.losses` after the call): the layers' losses
 * collected during the call, then the weight regularization penalties.
 */
function checkModelLosses(model: Model, c: Case, losses: tf.Tensor[], tol: number, opts: ModelCheckOptions): { message: string; maxDiff: number } | null {
  const penalties = model.regularizationLosses();
  const got = [...losses, ...penalties].map((t) => t.dataSync()[0]!);
  tf.dispose([...losses, ...penalties]);
  if (c['model_losses'] === undefined) return null;
  const raw = (c['model_losses'] as (number | string)[]).map((v) => Number(v));
  const want = opts.expectLosses ? opts.expectLosses(raw) : raw;
  if (got.length !== want.length) return { message: `model_losses: got ${got.length} losses [${got.join(', ')}], expected ${want.length} [${want.join(', ')}]`, maxDiff: Infinity };
  let maxDiff = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    if (!(d <= tol)) return { message: `model_losses[${i}]: got ${got[i]}, expected ${want[i]}`, maxDiff: d };
    maxDiff = Math.max(maxDiff, d);
  }
  return null;
}

/**
 * Whether the case's layer_outputs describe this call: Keras's sub-models
 * get the model's inputs only, so not with an explicit `mask` call argument;
 * with `training` they must have been made in training mode too
 * (`layer_outputs_training`).
 */
export function layerOutputsComparable(c: Case): boolean {
  const kw = (c['call_kwargs'] ?? {}) as Record<string, unknown>;
  if (!Array.isArray(c['layer_outputs'])) return false;
  if (Object.keys(kw).some((k) => k !== 'training')) return false;
  return (kw['training'] === true) === (c['layer_outputs_training'] === true);
}

/** The model's weight for a case weight name: same path, or the same path without a model-name prefix on either side. */
export function weightByPath(model: Model, path: string): LayerWeight | undefined {
  const ws = model.weights;
  const exact = ws.find((w) => w.path === path);
  if (exact !== undefined) return exact;
  const tail = ws.filter((w) => w.path.endsWith(`/${path}`) || path.endsWith(`/${w.path}`));
  return tail.length === 1 ? tail[0] : undefined;
}

/** Sets the model's weights back to the case's `weights` (before the call), by path. */
export function resetCaseWeights(model: Model, c: Case): void {
  for (const w of (c['weights'] ?? []) as (CaseArray & { name: string })[]) {
    const v = weightByPath(model, w.name);
    if (v === undefined) throw new Error(`weights: no weight '${w.name}' in the model`);
    v.variable.assign(tf.tensor(Array.from(toTensorData(w)), w.shape, v.variable.dtype));
  }
}

/** `weights_after_call` (training-mode cases): each named weight's value after the one call. */
export function checkWeightsAfterCall(model: Model, c: Case, tol: number): { message: string; maxDiff: number } | null {
  const after = c['weights_after_call'] as (CaseArray & { name: string })[] | undefined;
  if (after === undefined) return null;
  if (!Array.isArray(after)) return { message: 'weights_after_call is not a list', maxDiff: Infinity };
  for (const w of after) {
    const v = weightByPath(model, w.name);
    if (v === undefined) return { message: `weights_after_call: no weight '${w.name}' in the model (weights: ${model.weights.map((x) => x.path).join(', ')})`, maxDiff: Infinity };
    const d = compare(v.variable, { ...w, dtype: w.dtype ?? 'float32' }, tol, `weight '${w.name}' after the call`);
    if (!d.ok) return d;
  }
  return null;
}

/** Compares each layer's outputs (Keras computed them with sub-models cut after the layer, each from `weights`). */
function checkLayerOutputs(model: Model, c: Case, tol: number, opts: ModelCheckOptions): { message: string; maxDiff: number } | null {
  const entries = (c['layer_outputs'] ?? []) as Case[];
  const inputs = (c['inputs'] as CaseArray[]).map(toTensor);
  const training = c['layer_outputs_training'] === true;
  for (const raw of entries) {
    const e = opts.expectLayer ? opts.expectLayer(raw) : raw;
    // Keras could not cut a sub-model after this layer (a nested model's own output); it recorded the error instead.
    if (e === null || (e['outputs'] === undefined && e['error'] !== undefined)) continue;
    const node = model.graphNodes.find((n) => n.layer.name === e['layer']);
    if (node === undefined) return { message: `layer_outputs: no layer '${String(e['layer'])}' in the model`, maxDiff: Infinity };
    // A training call can change state (moving statistics): each sub-model starts from the case's weights, as Keras's did.
    if (training) resetCaseWeights(model, c);
    const sub = subModel(model, node.outputs);
    const outs = flatOutputs(sub.apply(inputs.length === 1 ? inputs[0]! : inputs, { training }));
    const wantOut = e['outputs'] as CaseArray[];
    const wantMasks = e['masks'] as (CaseArray | null)[];
    for (let i = 0; i < wantOut.length; i++) {
      const d = compare(outs[i] ?? null, wantOut[i]!, tol, `layer '${String(e['layer'])}' output ${i}`);
      if (!d.ok) return d;
      const dm = compare(outs[i] ? getMask(outs[i]!) : null, wantMasks?.[i] ?? null, 0, `layer '${String(e['layer'])}' mask ${i}`);
      if (!dm.ok) return dm;
    }
  }
  return null;
}

function subModel(model: Model, outputs: SymbolicTensor[]): Model {
  return new ModelClass({ inputs: model.inputs.length === 1 ? model.inputs[0]! : model.inputs, outputs: outputs.length === 1 ? outputs[0]! : outputs, maskPolicy: model.maskPolicy });
}

async function checkPadCase(c: Case): Promise<CaseResult> {
  const name = c['name'] as string;
  let mod: { checkPadSequencesCase?: (c: Case) => { pass: boolean; maxDiff: number; message: string } };
  try {
    mod = (await import('./pad_sequences_case.js')) as typeof mod;
  } catch {
    return skip(name, 'padSequences is not available yet');
  }
  const r = mod.checkPadSequencesCase!(c);
  return r.pass ? pass(name, r.maxDiff, r.message) : fail(name, r.message, r.maxDiff);
}

/** Runs one case file and returns its result; never throws. */
export async function runCase(c: Case): Promise<CaseResult> {
  const name = String(c?.['name']);
  const bad = invalidCase(c, `case '${name}'`);
  if (bad !== null) return fail(name, bad);
  const restore = setWarningHandler(() => {});
  try {
    if (c['kind'] === 'pad_sequences') return await checkPadCase(c);
    if (c['kind'] === 'custom') return runCustomCase(c);
    if (c['kind'] !== 'model') return fail(name, `unknown case kind ${JSON.stringify(c['kind'])}`);
    // Imported here: departure modules import this one, so any of them can be a program's first import.
    const { departures } = await import('./departures.js');
    const dep = departures.find((d) => d.appliesTo(c));
    const result = dep ? await dep.run(c) : checkModelCase(c);
    if (result.status === 'pass' && c['loss'] !== undefined) return await checkLoss(c, result);
    return result;
  } catch (e) {
    if (e instanceof MasqueError && e.code === 'UNKNOWN_LAYER_CLASS') return skip(name, e.message.split('. Masque can import')[0]!);
    return fail(name, `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  } finally {
    setWarningHandler(restore);
  }
}

/** Loss cases: model.evaluate(x, y) must give the case's evaluate_loss. */
async function checkLoss(c: Case, prior: CaseResult): Promise<CaseResult> {
  const name = prior.name;
  const model = buildCaseModel(c) as Model & { compile?: (a: unknown) => void; evaluate?: (x: unknown, y: unknown, o: unknown) => unknown };
  try {
    if (typeof model.compile !== 'function' || typeof model.evaluate !== 'function') return skip(name, 'outputs match; evaluate() needs the training issue');
    const loss = c['loss'] as Case;
    model.compile({ loss: loss['compile_loss'], optimizer: 'sgd' });
    const x = (c['inputs'] as CaseArray[]).map(toTensor);
    const y = toTensor(loss['y_true'] as CaseArray);
    const r = (await model.evaluate(x.length === 1 ? x[0] : x, y, { batchSize: x[0]!.shape[0], verbose: 0 })) as number | number[] | { loss: number };
    const got = typeof r === 'number' ? r : Array.isArray(r) ? r[0]! : r.loss;
    const want = Number(loss['evaluate_loss']);
    const d = Math.abs(got - want) / Math.max(1, Math.abs(want));
    x.forEach((t) => t.dispose());
    y.dispose();
    return d <= ((c['tolerance'] as number) ?? 1e-5) ? pass(name, Math.max(prior.maxDiff, d)) : fail(name, `evaluate loss ${got}, expected ${want}`, d);
  } finally {
    model.dispose();
  }
}

export interface RunOptions {
  only?: string[];
}

/** Runs every *.json case (except index.json) in `dir`. */
export async function runConformance(dir: string, opts: RunOptions = {}): Promise<CaseResult[]> {
  const files = caseFileNames(dir).filter((f) => !opts.only || opts.only.some((p) => f.startsWith(p)));
  const results: CaseResult[] = [];
  for (const f of files) {
    let c: Case;
    try {
      c = loadCase(join(dir, f));
    } catch (e) {
      results.push(fail(f.replace(/\.json$/, ''), `cannot read case file ${f}: ${e instanceof Error ? e.message : String(e)}`));
      continue;
    }
    const bad = invalidCase(c, `case file ${f}`);
    results.push(bad !== null ? fail(typeof c?.['name'] === 'string' ? c['name'] : f.replace(/\.json$/, ''), bad) : await runCase(c));
  }
  return results;
}

/** Why a parsed case cannot be run (`where` names it: "case file x.json"), or null. */
export function invalidCase(c: unknown, where: string): string | null {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return `${where} does not hold a JSON object`;
  const tol = (c as Case)['tolerance'];
  if ('tolerance' in c && !(typeof tol === 'number' && Number.isFinite(tol) && tol > 0)) {
    return `${where}: tolerance must be a positive finite number, received ${JSON.stringify(tol) ?? String(tol)}`;
  }
  return null;
}

export function summarize(results: CaseResult[]): string {
  const n = (s: Status) => results.filter((r) => r.status === s).length;
  const skipped = n('skip');
  return `${n('pass')} passed, ${n('fail')} failed${skipped ? `, ${skipped} skipped` : ''}`;
}
