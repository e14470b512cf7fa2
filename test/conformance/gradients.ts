/**
 * Masque's gradients against Keras's, on conformance cases: the directional
 * derivatives that `scripts/grad_oracle.py` takes from Keras in float64 (see
 * there for the loss L and the directions) against g . v, where g is Masque's
 * float32 gradient of the same L (tfjs's tape through the model, so the
 * training kernels run) and v the same direction.
 *
 * Measure: |g . v - D| / max(1, S), S = sum_i |g_i v_i|, the size of the
 * terms the float32 sum adds (a gradient computed exactly from rounded
 * activations is off by about 1e-7 S, not 1e-7 |D|).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/index.js';
import type { MaskPolicy, Model } from '../../src/index.js';
import { caseFileNames, decodeNumbers, loadCase, type Case, type CaseArray, scoped, toTensor } from './cases.js';
import { buildCaseModel, runCaseModel, weightByPath } from './runner.js';
import { departures } from './departures.js';

export interface GradDirection {
  kind: 'weight' | 'input';
  index: number;
  name: string;
  direction: CaseArray;
  derivative: number;
  err: number;
}

export interface GradCase {
  name: string;
  loss: number;
  r: CaseArray[];
  directions: GradDirection[];
}

export interface GradResult {
  name: string;
  /** The largest |g . v - D| / max(1, S) over the case's directions. */
  worst: number;
  /** Which direction gave `worst`, with its numbers. */
  detail: string;
  /** The largest oracle error estimate err / max(1, S) (see grad_oracle.py) over the directions compared. */
  oracleErr: number;
  /**
   * Directions not compared because the oracle's err is not below a tenth
   * of the tolerance there (float64 differences that cannot resolve the
   * derivative, e.g. beside an exploding output).
   */
  unsure: number;
  /** Masque's float32 L against Keras's float64 L, relative to max(1, |L|). */
  lossDiff: number;
  /** max(1, S) of each direction: the scale its difference is divided by. */
  scales: number[];
  /** Set when the case could not be compared (the reason). */
  error?: string;
}

function validWeights(c: Case, k: number, out: tf.Tensor): tf.Tensor {
  const m = (c['output_masks'] as (CaseArray | null)[])[k] ?? null;
  if (m === null) return tf.onesLike(out);
  const mm = tf.tensor(Array.from(decodeNumbers(m)), m.shape, 'float32');
  const shape = [...m.shape, ...Array(out.rank - m.shape.length).fill(1)];
  return tf.mul(tf.reshape(mm, shape), tf.onesLike(out));
}

/**
 * The mask policy a case's gradients are checked under: departure 1's cases
 * (a layer that cannot use a mask raises) as their conformance check runs
 * them, under 'warn'; the default for departure 12 (LayerNormalization's
 * precision), which moves Masque toward the float64 truth the oracle
 * computes, and for every other case; null for the other departures, which
 * change what Masque computes, so the check does not run them.
 */
export function gradientPolicy(c: Case): MaskPolicy | undefined | null {
  const dep = departures.find((d) => d.appliesTo(c));
  if (dep === undefined || dep.id === 'layernorm-variance') return undefined;
  return dep.id === 'mask-not-supported-raises' ? 'warn' : null;
}

/** Masque's gradient of the oracle's L on case `c`, dotted with each direction, compared with D. */
export function compareGradients(c: Case, g: GradCase, maskPolicy?: MaskPolicy, tol = 1e-5): GradResult {
  const name = c['name'] as string;
  return scoped(() => {
    let model: Model | null = null;
    // Variables outlive tfjs scopes: the inputs' are disposed here.
    let inputVars: (tf.Variable | null)[] = [];
    try {
      model = buildCaseModel(c, maskPolicy);
      const caseWeights = c['weights'] as (CaseArray & { name: string })[];
      // Not from a run of the model: a training-mode call would move BatchNormalization's statistics first.
      const inputs = (c['inputs'] as CaseArray[]).map(toTensor);
      inputVars = inputs.map((x) => (x.dtype === 'float32' ? tf.variable(x, true) : null));
      const dirs = g.directions;
      const trainable = new Set(model.trainableWeights.map((w) => w.variable));
      const vars: tf.Variable[] = [];
      for (const d of dirs) {
        if (d.kind === 'input') {
          const v = inputVars[d.index];
          if (!v) throw new Error(`input ${d.index} is not a float input in Masque`);
          vars.push(v);
          continue;
        }
        const w = weightByPath(model, caseWeights[d.index]!.name);
        if (w === undefined) throw new Error(`no weight '${d.name}' in the model`);
        if (!trainable.has(w.variable)) throw new Error(`weight '${d.name}' is trainable in Keras but not in Masque`);
        vars.push(w.variable);
      }
      const trainableCount = trainable.size;
      const kerasTrainable = dirs.filter((d) => d.kind === 'weight').length;
      if (trainableCount !== kerasTrainable) throw new Error(`Masque's model has ${trainableCount} trainable weights; Keras's has ${kerasTrainable}`);
      const rs = g.r.map((r) => tf.tensor(Array.from(decodeNumbers(r)), r.shape, 'float32'));
      const m = model;
      const xs = inputs.map((x, i) => inputVars[i] ?? x);
      const lossFn = (): tf.Scalar => {
        const out = runCaseModel(m, c, xs).outputs;
        if (out.length !== rs.length) throw new Error(`Masque gives ${out.length} outputs; the oracle weighted ${rs.length}`);
        return out.reduce((acc: tf.Tensor, o, k) => tf.add(acc, tf.sum(tf.mul(tf.mul(o, rs[k]!), validWeights(c, k, o)))), tf.scalar(0)) as tf.Scalar;
      };
      // An output that depends on none of the variables (a model of comparisons and casts) has zero derivatives
      // along every direction; tfjs refuses to differentiate it, so zeros are compared with Keras's.
      let value: tf.Scalar;
      let grads: tf.NamedTensorMap;
      try {
        ({ value, grads } = tf.variableGrads(lossFn, vars));
      } catch (e) {
        if (!(e instanceof Error && e.message.startsWith('Cannot find a connection between any variable and the result'))) throw e;
        value = lossFn();
        grads = {};
      }
      const l = value.dataSync()[0]!;
      const lossDiff = Math.abs(l - g.loss) / Math.max(1, Math.abs(g.loss));
      let worst = 0;
      let oracleErr = 0;
      let unsure = 0;
      let detail = '';
      const scales: number[] = [];
      dirs.forEach((d, i) => {
        const gv = grads[vars[i]!.name];
        const gd = gv === undefined ? new Float32Array(vars[i]!.size) : (gv.dataSync() as Float32Array);
        const v = decodeNumbers(d.direction);
        let dot = 0;
        let s = 0;
        for (let k = 0; k < v.length; k++) {
          dot += gd[k]! * v[k]!;
          s += Math.abs(gd[k]! * v[k]!);
        }
        const scale = Math.max(1, s);
        scales.push(scale);
        const diff = Math.abs(dot - d.derivative) / scale;
        if (!(d.err / scale < tol / 10)) {
          unsure++;
          return;
        }
        oracleErr = Math.max(oracleErr, d.err / scale);
        if (!(diff <= worst)) {
          worst = diff;
          detail = `${d.kind} ${d.name}: Masque g.v ${dot.toPrecision(9)}, Keras (float64) ${d.derivative.toPrecision(9)}, S ${s.toPrecision(3)}`;
        }
      });
      return { name, worst, detail, oracleErr, unsure, lossDiff, scales };
    } catch (e) {
      return { name, worst: Infinity, detail: '', oracleErr: 0, unsure: 0, lossDiff: Infinity, scales: [], error: e instanceof Error ? e.message : String(e) };
    } finally {
      model?.dispose();
      for (const v of inputVars) v?.dispose();
    }
  });
}

/** A file written by scripts/grad_oracle.py. */
export function loadGradCase(path: string): GradCase {
  return JSON.parse(readFileSync(path, 'utf8')) as GradCase;
}

export interface GradFolderResult {
  /** One per case compared, with the number of its directions. */
  compared: { result: GradResult; directions: number }[];
  /** The cases a departure keeps out (gradientPolicy null). */
  skipped: string[];
}

/** Every gradient file of `gradsDir` against its case (the same file name) in `casesDir`, each under its gradientPolicy. */
export function compareGradientFolder(casesDir: string, gradsDir: string, tol = 1e-5): GradFolderResult {
  const out: GradFolderResult = { compared: [], skipped: [] };
  // The oracle run in shards writes index.<i>.json beside index.json.
  for (const f of caseFileNames(gradsDir).filter((n) => !/^index\.\d+\.json$/.test(n))) {
    const c = loadCase(join(casesDir, f));
    const policy = gradientPolicy(c);
    if (policy === null) {
      out.skipped.push(c['name'] as string);
      continue;
    }
    const g = loadGradCase(join(gradsDir, f));
    out.compared.push({ result: compareGradients(c, g, policy, tol), directions: g.directions.length });
  }
  return out;
}
