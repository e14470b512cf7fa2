/**
 * The normalization departures (docs/keras.md), checked against float64
 * references (reference64_norm.ts) computed from the case's weights and the
 * inputs Keras gave each layer:
 *
 * - GroupNormalization takes its moments over valid positions only (Keras
 *   ignores the mask). Flagged: every GroupNormalization.
 * - UnitNormalization over a masked axis (time) sums over valid positions
 *   only (Keras counts the padding). Flagged: a UnitNormalization whose axis
 *   is not just -1; the reference is used when the call's mask varies along
 *   a normalized axis, Keras's numbers otherwise.
 * - BatchNormalization in training with one channel and a mask: Keras
 *   raises IndexError (`call_error_type`); Masque's output and moving
 *   statistics must equal the float64 reference of Keras's formulas.
 *
 * Cases with flagged GroupNormalization or UnitNormalization layers are
 * checked layer by layer (layerwise.ts); unroll and LayerNormalization
 * layers in the same case keep their own float64 references.
 */
import { tf, getMask, Model, type SymbolicTensor } from '../../src/index.js';
import { compare, decodeNumbers, scoped, toTensor, type Case, type CaseArray } from './cases.js';
import { checkLayerByLayer, type LayerCall, type LayerwiseOptions } from './layerwise.js';
import { reference64 } from './departures_float64.js';
import { batchNormTraining64, groupNorm64, unitNorm64 } from './reference64_norm.js';
import type { Arr64 } from './reference64.js';
import type { Departure } from './departures.js';
import { buildCaseModel, fail, layerOutputsComparable, resetCaseWeights, runCaseModel, type CaseResult } from './runner.js';

interface LayerConfig {
  class_name: string;
  config: Case;
}

const layerList = (c: Case): LayerConfig[] => (c['config']?.['config']?.['layers'] ?? []) as LayerConfig[];
const arr64 = (a: CaseArray): Arr64 => ({ shape: a.shape, data: decodeNumbers(a) });

/** Whether a layer config falls under a normalization departure (GroupNormalization; UnitNormalization beyond the last axis). */
export function normDepartureOf(l: LayerConfig): 'groupnorm' | 'unitnorm' | null {
  if (l.class_name === 'GroupNormalization') return 'groupnorm';
  if (l.class_name === 'UnitNormalization') return [l.config['axis'] ?? -1].flat().every((a) => a === -1) ? null : 'unitnorm';
  return null;
}

/** The case's weight of `layer` named `leaf` (`gamma`), or null. */
function weightOf(c: Case, layer: string, leaf: string): Arr64 | null {
  const model = String(c['config']?.['config']?.['name'] ?? '');
  const names = [`${model}/${layer}/${leaf}`, `${layer}/${leaf}`];
  const w = (c['weights'] as (CaseArray & { name: string })[]).find((x) => names.includes(x.name));
  return w === undefined ? null : arr64(w);
}

/** The mask a layer call used (explicit, else the input's), as booleans with its shape. */
function callMask(call: LayerCall): { mask: boolean[] | null; shape: number[] } {
  const explicit = call.args['mask'];
  const m = explicit !== undefined && explicit !== null ? (Array.isArray(explicit) ? (explicit[0] as tf.Tensor | null) : (explicit as tf.Tensor)) : getMask(call.inputs[0]!);
  return m === null ? { mask: null, shape: [] } : { mask: Array.from(m.dataSync() as ArrayLike<number>, (v) => v !== 0), shape: m.shape };
}

const tensor64 = (t: tf.Tensor): Arr64 => ({ shape: t.shape.slice(), data: Float64Array.from(t.dataSync() as ArrayLike<number>) });

/** The float64 outputs of a flagged normalization layer for this call (null: compare with Keras), else the unroll / LayerNormalization references. */
export function normReference(c: Case, layerName: string, call: LayerCall): { outputs: Arr64[]; label: string } | null {
  const l = layerList(c).find((x) => x.config['name'] === layerName);
  const kind = l === undefined ? null : normDepartureOf(l);
  if (l === undefined || kind === null) return reference64(c, layerName, call);
  const x = tensor64(call.inputs[0]!);
  const { mask, shape } = callMask(call);
  if (kind === 'groupnorm') {
    const k = l.config;
    const spec = { groups: Number(k['groups']), axis: Number(k['axis'] ?? -1), epsilon: Number(k['epsilon'] ?? 1e-3) };
    const y = groupNorm64(spec, x, mask, shape, weightOf(c, layerName, 'gamma'), weightOf(c, layerName, 'beta'));
    return { outputs: [y], label: 'float64 reference, GroupNormalization moments over valid positions' };
  }
  const axes = [l.config['axis'] ?? -1].flat().map((a) => (Number(a) < 0 ? Number(a) + x.shape.length : Number(a)));
  if (mask === null || !axes.some((a) => a < shape.length && shape[a]! > 1)) return null;
  return { outputs: [unitNorm64(axes, x, mask, shape)], label: 'float64 reference, UnitNormalization over valid positions' };
}

/** The layer-by-layer check with the normalization references (options for tests). */
export function checkNormDepartures(c: Case, extra: Partial<LayerwiseOptions> = {}): CaseResult {
  return checkLayerByLayer(c, { reference: (layer, call) => normReference(c, layer, call), ...extra });
}

export const groupUnitNorm: Departure = {
  id: 'norm-valid-moments',
  appliesTo: (c) => c['kind'] === 'model' && layerOutputsComparable(c) && layerList(c).some((l) => normDepartureOf(l) !== null),
  run: (c) => checkNormDepartures(c),
};

/** The training-mode single-channel BatchNormalization that Keras cannot run: checked against batchNormTraining64. */
export const batchNormSingleChannel: Departure = {
  id: 'batchnorm-single-channel',
  appliesTo: (c) => c['call_error_type'] !== undefined && c['call_kwargs']?.['training'] === true && layerList(c).some((l) => l.class_name === 'BatchNormalization'),
  run(c) {
    const name = String(c['name']);
    const tol = (c['tolerance'] as number | undefined) ?? 1e-5;
    return scoped(() => {
      const model = buildCaseModel(c);
      try {
        const node = model.graphNodes.find((n) => n.layer.className === 'BatchNormalization');
        if (node === undefined || model.outputs.length !== 1 || node.outputs[0] !== model.outputs[0]) return fail(name, 'BatchNormalization departure: the case model must end with its one BatchNormalization');
        const bnInput = node.inputs as SymbolicTensor;
        const before = new Model({ inputs: model.inputs[0]!, outputs: bnInput }).apply((c['inputs'] as CaseArray[]).map(toTensor)[0]!, { training: true }) as tf.Tensor;
        const m = getMask(before);
        const k = layerList(c).find((l) => l.class_name === 'BatchNormalization')!.config;
        const layer = String(k['name']);
        const ref = batchNormTraining64(
          { axis: Number(k['axis'] ?? -1), momentum: Number(k['momentum'] ?? 0.99), epsilon: Number(k['epsilon'] ?? 1e-3) },
          tensor64(before),
          m === null ? null : Array.from(m.dataSync() as ArrayLike<number>, (v) => v !== 0),
          m?.shape ?? [],
          { gamma: weightOf(c, layer, 'gamma'), beta: weightOf(c, layer, 'beta'), movingMean: weightOf(c, layer, 'moving_mean')!, movingVariance: weightOf(c, layer, 'moving_variance')! },
        );
        resetCaseWeights(model, c);
        const out = runCaseModel(model, c).outputs[0]!;
        const checks: [tf.Tensor | null, CaseArray | null, string][] = [
          [out, { shape: ref.y.shape, dtype: 'float32', data: Array.from(ref.y.data) }, 'output 0 (float64 reference, BatchNormalization on one channel)'],
          [getMask(out), m === null ? null : { shape: m.shape, dtype: 'bool', data: Array.from(m.dataSync() as ArrayLike<number>, (v) => v !== 0) }, 'output mask 0'],
        ];
        for (const [leaf, want] of [['moving_mean', ref.movingMean], ['moving_variance', ref.movingVariance]] as const) {
          const w = model.weights.find((x) => x.owner === node.layer && x.name === leaf)!;
          checks.push([w.variable, { shape: w.shape, dtype: 'float32', data: Array.from(want) }, `weight '${leaf}' after the call (float64 reference)`]);
        }
        let maxDiff = 0;
        for (const [got, want, what] of checks) {
          const d = compare(got, want, what.startsWith('output mask') ? 0 : tol, what);
          if (!d.ok) return fail(name, d.message, d.maxDiff);
          maxDiff = Math.max(maxDiff, d.maxDiff);
        }
        return { name, status: 'pass', maxDiff, message: 'float64 reference (Keras raises here)' };
      } finally {
        model.dispose();
      }
    });
  },
};

export const normDepartures: Departure[] = [batchNormSingleChannel, groupUnitNorm];
