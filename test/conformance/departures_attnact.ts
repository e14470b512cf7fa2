/**
 * Departure checks of the attention, activation and regularization layers
 * of issue 14 (docs/keras.md, departures 18-20). Each computes Masque's
 * documented answer from the case itself, in float64: the inputs of the
 * departing layer come from the case's inputs, layer_outputs and outputs,
 * which Keras computed, so only the departing step is Masque's own.
 *
 * 18. ActivityRegularization counts valid steps only: its loss is
 *     `(l1 * sum(|y| m) + l2 * sum(y^2 m)) / batch` over the layer's
 *     output y and mask m (Keras sums every entry, padding included).
 * 19. Dot contracting a masked time axis sums over the valid steps only (a
 *     step masked in either input counts as 0 in both, before normalising).
 * 20. ReversibleEmbedding keeps masks: a reverse call's output carries its
 *     input's mask (Keras gives none).
 */
import type { Case, CaseArray } from './cases.js';
import { decodeNumbers } from './cases.js';
import { checkModelCase, fail } from './runner.js';
import type { Departure } from './departures.js';

type Mask = CaseArray | null;
type History = [string, number, number];

const name = (c: Case): string => String(c['name']);
const layersOf = (c: Case): Case[] => (c['config']?.['config']?.['layers'] ?? []) as Case[];
const entryOf = (c: Case, layer: string): Case | undefined => ((c['layer_outputs'] ?? []) as Case[]).find((e) => e['layer'] === layer);

/** The Keras tensors a node read, in order (positional arguments, then keyword tensors). */
function nodeTensors(node: Case | undefined): History[] {
  const out: History[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const o = v as Case;
      if (o['class_name'] === '__keras_tensor__') out.push(o['config']['keras_history'] as History);
      else Object.values(o).forEach(walk);
    }
  };
  walk(node?.['args'] ?? []);
  walk(node?.['kwargs'] ?? {});
  return out;
}

/** A tensor's value and mask as Keras computed them: a model input, a model output, or a layer output (layer_outputs). */
function tensorOf(c: Case, [layer, node, k]: History): { value: CaseArray; mask: Mask } | null {
  const cfg = c['config']['config'];
  const ref = (spec: unknown): History[] => (Array.isArray(spec) && typeof spec[0] === 'string' ? [spec as History] : (spec as History[]));
  const same = (h: History) => h[0] === layer && h[1] === node && h[2] === k;
  const inIdx = ref(cfg['input_layers']).findIndex(same);
  if (inIdx >= 0) return { value: (c['inputs'] as CaseArray[])[inIdx]!, mask: null };
  const outIdx = ref(cfg['output_layers']).findIndex(same);
  if (outIdx >= 0) return { value: (c['outputs'] as CaseArray[])[outIdx]!, mask: (c['output_masks'] as Mask[])[outIdx] ?? null };
  const e = entryOf(c, layer);
  if (e === undefined || node !== 0) return null;
  return { value: (e['outputs'] as CaseArray[])[k]!, mask: (e['masks'] as Mask[])[k] ?? null };
}

/** Departure 18: ActivityRegularization's loss over valid steps. */
const activityValidSteps: Departure = {
  id: 'activity-regularization-valid-steps',
  appliesTo: (c) => c['model_losses'] !== undefined && layersOf(c).some((l) => l['class_name'] === 'ActivityRegularization'),
  run(c) {
    const want: number[] = [];
    for (const l of layersOf(c).filter((x) => x['class_name'] === 'ActivityRegularization')) {
      const e = entryOf(c, String(l['config']['name']));
      if (e === undefined) return fail(name(c), `departure 18: no layer_outputs for '${String(l['config']['name'])}'`);
      const y = (e['outputs'] as CaseArray[])[0]!;
      const m = (e['masks'] as Mask[])[0] ?? null;
      const v = decodeNumbers(y);
      const [b, t] = y.shape as [number, number];
      const inner = v.length / (b * (m ? t : 1));
      let l1 = 0;
      let l2 = 0;
      v.forEach((x, i) => {
        if (m && !m.data[Math.floor(i / inner)]) return;
        l1 += Math.abs(x);
        l2 += x * x;
      });
      want.push((Number(l['config']['l1'] ?? 0) * l1 + Number(l['config']['l2'] ?? 0) * l2) / b);
    }
    return checkModelCase(c, { expectLosses: () => want });
  },
};

/** Float64 Dot of two [batch, ...] arrays over axes (a0, a1), valid steps only along a contracted axis 1. */
function dotValid(x: CaseArray, mx: Mask, y: CaseArray, my: Mask, [a0, a1]: [number, number], normalize: boolean): CaseArray {
  const [b] = x.shape as [number];
  const xs = x.shape.slice(1);
  const ys = y.shape.slice(1);
  if (xs.length !== 2 || ys.length !== 2) throw new Error('departure 19 reference: inputs must be [batch, time, features]');
  const X = decodeNumbers(x);
  const Y = decodeNumbers(y);
  const [xi, yi] = [a0 - 1, a1 - 1];
  const xo = 1 - xi;
  const yo = 1 - yi;
  const n = xs[xi]!;
  const both = a0 === 1 && a1 === 1;
  const valid = (bb: number, s: number, which: 0 | 1) => {
    const mine = which === 0 ? (a0 === 1 ? mx : null) : a1 === 1 ? my : null;
    const other = both ? (which === 0 ? my : mx) : null;
    return (!mine || mine.data[bb * n + s] === true) && (!other || other.data[bb * n + s] === true);
  };
  const at = (A: Float64Array, shape: number[], bb: number, idx: number[]) => A[bb * shape[0]! * shape[1]! + idx[0]! * shape[1]! + idx[1]!]!;
  const out: number[] = [];
  for (let bb = 0; bb < b; bb++) {
    const xv = (i: number, s: number) => (valid(bb, s, 0) ? at(X, xs, bb, xi === 0 ? [s, i] : [i, s]) : 0);
    const yv = (j: number, s: number) => (valid(bb, s, 1) ? at(Y, ys, bb, yi === 0 ? [s, j] : [j, s]) : 0);
    const norm = (f: (k: number, s: number) => number, k: number) => {
      if (!normalize) return 1;
      let ss = 0;
      for (let s = 0; s < n; s++) ss += f(k, s) ** 2;
      return Math.min(1 / Math.sqrt(ss), 1e7);
    };
    for (let i = 0; i < xs[xo]!; i++) {
      for (let j = 0; j < ys[yo]!; j++) {
        let acc = 0;
        for (let s = 0; s < n; s++) acc += xv(i, s) * yv(j, s);
        out.push(acc * norm(xv, i) * norm(yv, j));
      }
    }
  }
  return { shape: [b, xs[xo]!, ys[yo]!], dtype: 'float32', data: out };
}

const dotAxes = (l: Case): [number, number] => {
  const a = l['config']['axes'];
  const [a0, a1] = Array.isArray(a) ? a : [a, a];
  return [a0 < 0 ? a0 + 3 : a0, a1 < 0 ? a1 + 3 : a1];
};

/** Departure 19: Dot over a masked time axis counts valid steps only. */
const dotValidSteps: Departure = {
  id: 'dot-time-axis-valid-steps',
  appliesTo: (c) =>
    layersOf(c).some((l) => {
      if (l['class_name'] !== 'Dot' || !dotAxes(l).includes(1)) return false;
      return nodeTensors(l['inbound_nodes']?.[0]).some((h) => (tensorOf(c, h)?.mask ?? null) !== null);
    }),
  run(c) {
    const expected = new Map<string, CaseArray>();
    for (const l of layersOf(c).filter((x) => x['class_name'] === 'Dot')) {
      const ins = nodeTensors(l['inbound_nodes']?.[0]).map((h) => tensorOf(c, h));
      if (ins.length !== 2 || ins.some((x) => x === null)) return fail(name(c), `departure 19: cannot find the inputs of Dot '${String(l['config']['name'])}'`);
      const [p, q] = ins as [{ value: CaseArray; mask: Mask }, { value: CaseArray; mask: Mask }];
      expected.set(String(l['config']['name']), dotValid(p.value, p.mask, q.value, q.mask, dotAxes(l), l['config']['normalize'] === true));
    }
    const outs = outputLayers(c);
    return checkModelCase(c, {
      expectOutput: (i, want) => expected.get(outs[i]![0]) ?? want,
      expectLayer: (e) => (expected.has(String(e['layer'])) ? { ...e, outputs: [expected.get(String(e['layer']))!] } : e),
    });
  },
};

function outputLayers(c: Case): History[] {
  const spec = c['config']['config']['output_layers'];
  return Array.isArray(spec) && typeof spec[0] === 'string' ? [spec as History] : (spec as History[]);
}

/** Departure 20: a reverse call of ReversibleEmbedding keeps its input's mask. */
const reversibleKeepsMask: Departure = {
  id: 'reversible-embedding-reverse-mask',
  appliesTo: (c) => layersOf(c).some((l) => l['class_name'] === 'ReversibleEmbedding' && ((l['inbound_nodes'] ?? []) as Case[]).some((n) => n['kwargs']?.['reverse'] === true)),
  run(c) {
    const masks = new Map<string, Mask>();
    for (const l of layersOf(c).filter((x) => x['class_name'] === 'ReversibleEmbedding')) {
      ((l['inbound_nodes'] ?? []) as Case[]).forEach((n, k) => {
        if (n['kwargs']?.['reverse'] !== true) return;
        const input = tensorOf(c, nodeTensors(n)[0]!);
        masks.set(`${String(l['config']['name'])}/${k}`, input?.mask ?? null);
      });
    }
    const outs = outputLayers(c);
    return checkModelCase(c, {
      expectMask: (i, want) => {
        const key = `${outs[i]![0]}/${outs[i]![1]}`;
        return masks.has(key) ? masks.get(key)! : want;
      },
    });
  },
};

export const attnactDepartures: Departure[] = [activityValidSteps, dotValidSteps, reversibleKeepsMask];
