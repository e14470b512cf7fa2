/**
 * Departure checks owned by the attention, pooling and merge layers.
 *
 * Departure 4: MultiHeadAttention never clears the masks of its input
 * tensors. Keras does (rule 16), so a residual Add after it loses its mask,
 * and of two MHA layers reading one tensor the one that runs second attends
 * without masks. Expected values come from the case's layer_outputs, which
 * Keras computed with sub-models and so show each layer as if alone; masks
 * that Keras lost are recomputed with Keras's own rules (a merge ORs its
 * inputs' masks when all have one; pass-through layers keep theirs).
 *
 * Departure 3 outside the gap1d_ family: a GlobalAveragePooling1D row with
 * no valid step gives 0, not NaN (e.g. functional_masking_two_paths).
 */
import type { Case, CaseArray } from './cases.js';
import { checkModelCase } from './runner.js';
import type { Departure } from './departures.js';

const name = (c: Case): string => String(c['name']);
type Mask = CaseArray | null;
type History = [string, number, number];

const MERGE_OR = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum']);
const PASS_THROUGH = new Set(['LayerNormalization', 'Dense', 'Dropout', 'Activation', 'ReLU', 'GaussianNoise', 'Softmax', 'Masking']);

/** The Keras tensors a layer's first call read, in positional order. */
function inboundTensors(layer: Case): History[] {
  const node = (layer['inbound_nodes'] as Case[] | undefined)?.[0];
  const out: History[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const o = v as Case;
      if (o['class_name'] === '__keras_tensor__') out.push(o['config']['keras_history'] as History);
    }
  };
  walk(node?.['args'] ?? []);
  return out;
}

function orMasks(ms: CaseArray[]): CaseArray {
  return { ...ms[0]!, data: ms[0]!.data.map((_, i) => ms.some((m) => m.data[i] === true)) };
}

/** Each layer's output masks under Masque's rule (masks are never cleared by MHA). */
function derivedMasks(c: Case): Map<string, Mask[]> {
  const entries = new Map(((c['layer_outputs'] ?? []) as Case[]).map((e) => [String(e['layer']), e]));
  const masks = new Map<string, Mask[]>();
  for (const layer of c['config']['config']['layers'] as Case[]) {
    const lname = String(layer['config']['name']);
    const entry = entries.get(lname);
    if (layer['class_name'] === 'InputLayer' || entry === undefined) {
      masks.set(lname, [null]);
      continue;
    }
    const given = (entry['masks'] as Mask[]).map((m) => m ?? null);
    const ins = inboundTensors(layer).map(([l, , k]) => masks.get(l)?.[k] ?? null);
    if (given[0] === null && MERGE_OR.has(String(layer['class_name'])) && ins.length > 0 && ins.every((m) => m !== null)) {
      given[0] = orMasks(ins as CaseArray[]);
    } else if (given[0] === null && PASS_THROUGH.has(String(layer['class_name'])) && ins[0]) {
      given[0] = ins[0];
    }
    masks.set(lname, given);
  }
  return masks;
}

export interface Expected {
  outputs: CaseArray[];
  masks: Mask[];
  layerMasks: Map<string, Mask[]>;
}

export function expectedFor(c: Case): Expected | null {
  const cfg = c['config']?.['config'];
  if (c['model_class'] !== 'Functional' || !Array.isArray(cfg?.['layers'])) return null;
  const entries = new Map(((c['layer_outputs'] ?? []) as Case[]).map((e) => [String(e['layer']), e]));
  const layerMasks = derivedMasks(c);
  const spec = cfg['output_layers'] as History | History[];
  const outs = (typeof spec[0] === 'string' ? [spec] : spec) as History[];
  const outputs: CaseArray[] = [];
  const masks: Mask[] = [];
  for (const [i, [l, , k]] of outs.entries()) {
    const e = entries.get(l);
    outputs.push(e ? (e['outputs'] as CaseArray[])[k]! : (c['outputs'] as CaseArray[])[i]!);
    masks.push(layerMasks.get(l)?.[k] ?? null);
  }
  return { outputs, masks, layerMasks };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function differs(c: Case, e: Expected): boolean {
  if (!same(e.outputs, c['outputs']) || !same(e.masks, c['output_masks'])) return true;
  return ((c['layer_outputs'] ?? []) as Case[]).some((x) => !same(e.layerMasks.get(String(x['layer'])), x['masks']));
}

const hasClass = (c: Case, cls: string): boolean => JSON.stringify(c['config'] ?? {}).includes(`"class_name":"${cls}"`);

/** Departure 4: MultiHeadAttention keeps its inputs' masks. */
const mhaKeepsMasks: Departure = {
  id: 'mha-keeps-input-masks',
  appliesTo: (c) => hasClass(c, 'MultiHeadAttention') && c['call_kwargs'] === undefined && (() => {
    const e = expectedFor(c);
    return e !== null && differs(c, e);
  })(),
  run(c) {
    const e = expectedFor(c)!;
    return checkModelCase(c, {
      expectOutput: (i) => e.outputs[i]!,
      expectMask: (i) => e.masks[i] ?? null,
      expectLayer: (entry) => ({ ...entry, masks: e.layerMasks.get(String(entry['layer'])) ?? entry['masks'] }),
    });
  },
};

/** Departure 3 in other families: GlobalAveragePooling1D gives 0 for a row with no valid step. */
const gapNoNaNElsewhere: Departure = {
  id: 'gap-fully-masked-zero-other-families',
  appliesTo: (c) => !name(c).startsWith('gap1d_') && hasClass(c, 'GlobalAveragePooling1D') && JSON.stringify(c['outputs']).includes('"NaN"'),
  run(c) {
    const zeroNaN = (a: CaseArray): CaseArray => ({ ...a, data: a.data.map((v) => (v === 'NaN' ? 0 : v)) });
    return checkModelCase(c, {
      expectOutput: (_i, want) => zeroNaN(want),
      expectLayer: (e) => ({ ...e, outputs: (e['outputs'] as CaseArray[]).map(zeroNaN) }),
    });
  },
};

export const attentionDepartures: Departure[] = [mhaKeepsMasks, gapNoNaNElsewhere];
