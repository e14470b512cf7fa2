/**
 * The conformance runner: runs every case file of a folder (format in the
 * conformance README) and reports pass / fail / skip per case. Model cases
 * go through the Keras importer, pad_sequences cases through padSequences,
 * custom cases through TypeScript versions of their custom layers. The
 * deliberate departures are checked against Masque's documented behaviour.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tf, MasqueError, Model as ModelClass, modelFromKerasConfig, getMask, setWarningHandler, type Model, type MaskPolicy, type SymbolicTensor } from '../../src/index.js';
import { compare, loadCase, nestedToTensor, toTensor, type Case, type CaseArray } from './cases.js';
import { scoped } from './cases.js';
import { departures } from './departures.js';
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

/** Runs the case's model on its inputs (with call_kwargs) and returns the flat outputs. */
export function runCaseModel(model: Model, c: Case): { outputs: tf.Tensor[]; inputs: tf.Tensor[] } {
  const inputs = (c['inputs'] as CaseArray[]).map(toTensor);
  const kw = (c['call_kwargs'] ?? {}) as Record<string, unknown>;
  const args: { training: boolean; mask?: tf.Tensor | (tf.Tensor | null)[] } = { training: false };
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
      const { outputs } = runCaseModel(model, c);
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
      if (c['call_kwargs'] === undefined) {
        const r = checkLayerOutputs(model, c, tol, opts);
        if (r !== null) return fail(name, r.message, r.maxDiff);
      }
      return pass(name, maxDiff);
    } finally {
      model.dispose();
    }
  });
}

/** Compares each layer's outputs (Keras computed them with sub-models cut after the layer). */
function checkLayerOutputs(model: Model, c: Case, tol: number, opts: ModelCheckOptions): { message: string; maxDiff: number } | null {
  const entries = (c['layer_outputs'] ?? []) as Case[];
  const inputs = (c['inputs'] as CaseArray[]).map(toTensor);
  for (const raw of entries) {
    const e = opts.expectLayer ? opts.expectLayer(raw) : raw;
    if (e === null) continue;
    const node = model.graphNodes.find((n) => n.layer.name === e['layer']);
    if (node === undefined) return { message: `layer_outputs: no layer '${String(e['layer'])}' in the model`, maxDiff: Infinity };
    const sub = subModel(model, node.outputs);
    const outs = flatOutputs(sub.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: false }));
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
  const name = String(c['name']);
  const restore = setWarningHandler(() => {});
  try {
    if (c['kind'] === 'pad_sequences') return await checkPadCase(c);
    if (c['kind'] === 'custom') return runCustomCase(c);
    if (c['kind'] !== 'model') return fail(name, `unknown case kind ${JSON.stringify(c['kind'])}`);
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
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .filter((f) => !opts.only || opts.only.some((p) => f.startsWith(p)))
    .sort();
  const results: CaseResult[] = [];
  for (const f of files) results.push(await runCase(loadCase(join(dir, f))));
  return results;
}

export function summarize(results: CaseResult[]): string {
  const n = (s: Status) => results.filter((r) => r.status === s).length;
  const skipped = n('skip');
  return `${n('pass')} passed, ${n('fail')} failed${skipped ? `, ${skipped} skipped` : ''}`;
}
