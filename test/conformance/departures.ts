/**
 * Checks for Masque's deliberate departures from Keras (conformance README,
 * "Deliberate departures"). Each departure says which cases it covers and
 * checks Masque's documented behaviour for them, comparing everything else
 * with Keras as usual.
 */
import { MasqueError, tf } from '../../src/index.js';
import type { Case, CaseArray } from './cases.js';
import { decodeNumbers } from './cases.js';
import { buildCaseModel, checkModelCase, fail, type CaseResult } from './runner.js';
import { attentionDepartures } from './departures_attention.js';
import { float64Departures } from './departures_float64.js';
import { normDepartures } from './departures_norm.js';
import { attnactDepartures } from './departures_attnact.js';

export interface Departure {
  id: string;
  appliesTo(c: Case): boolean;
  run(c: Case): CaseResult | Promise<CaseResult>;
}

const name = (c: Case): string => String(c['name']);
const layerEntries = (c: Case): Case[] => (c['layer_outputs'] ?? []) as Case[];

/** Departure 1: a layer without mask support raises by default; under 'warn' Masque matches Keras. */
const nonMasking: Departure = {
  id: 'mask-not-supported-raises',
  appliesTo: (c) => name(c).startsWith('nonmasking_'),
  run(c) {
    try {
      const m = buildCaseModel(c);
      m.dispose();
      return fail(name(c), 'departure 1: building the model under the default policy should raise MASK_NOT_SUPPORTED, but it did not');
    } catch (e) {
      if (e instanceof MasqueError && e.code === 'UNKNOWN_LAYER_CLASS') throw e;
      if (!(e instanceof MasqueError) || e.code !== 'MASK_NOT_SUPPORTED') return fail(name(c), `departure 1: expected MASK_NOT_SUPPORTED, got ${String(e)}`);
    }
    return checkModelCase(c, { maskPolicy: 'warn' });
  },
};

/** Max over valid steps of a [B, T, ...] array with a [B, T] mask; a row with no valid step gives 0. */
export function maskedMax(x: CaseArray, mask: CaseArray | null, keepdims: boolean): CaseArray {
  const [b, t] = x.shape as [number, number];
  const inner = x.shape.slice(2).reduce((p, q) => p * q, 1);
  const v = decodeNumbers(x);
  const m = mask ? mask.data : null;
  const out: number[] = [];
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < inner; k++) {
      let best = -Infinity;
      for (let s = 0; s < t; s++) if (!m || m[i * t + s]) best = Math.max(best, v[(i * t + s) * inner + k]!);
      out.push(best === -Infinity ? 0 : best);
    }
  }
  return { shape: keepdims ? [b, 1, ...x.shape.slice(2)] : [b, ...x.shape.slice(2)], dtype: 'float32', data: out };
}

/** Departure 2: GlobalMaxPooling1D takes the max over valid steps only. */
const gmpMasked: Departure = {
  id: 'gmp-uses-mask',
  appliesTo: (c) => name(c).startsWith('gmp1d_'),
  run(c) {
    const entries = layerEntries(c);
    const idx = entries.findIndex((e) => e['class'] === 'GlobalMaxPooling1D');
    if (idx < 1) return fail(name(c), 'departure 2: cannot find GlobalMaxPooling1D and its input in layer_outputs');
    const gmpName = entries[idx]!['layer'];
    const src = entries[idx - 1]!;
    const keepdims = (entries[idx]!['outputs'][0] as CaseArray).shape.length === (src['outputs'][0] as CaseArray).shape.length;
    const expected = maskedMax(src['outputs'][0], src['masks'][0] ?? null, keepdims);
    const last = idx === entries.length - 1;
    return checkModelCase(c, {
      expectOutput: (i, want) => (last && i === 0 ? expected : want),
      expectLayer: (e) => (e['layer'] === gmpName ? { ...e, outputs: [expected], masks: [null] } : idx < entries.indexOf(e) ? null : e),
    });
  },
};

/** Departure 3: a fully masked row gives 0 from GlobalAveragePooling1D, never NaN. */
const gapNoNaN: Departure = {
  id: 'gap-fully-masked-zero',
  appliesTo: (c) => name(c).startsWith('gap1d_') && JSON.stringify(c['outputs']).includes('"NaN"'),
  run(c) {
    const zeroNaN = (a: CaseArray): CaseArray => ({ ...a, data: a.data.map((v) => (v === 'NaN' ? 0 : v)) });
    return checkModelCase(c, {
      expectOutput: (_i, want) => zeroNaN(want),
      expectLayer: (e) => ({ ...e, outputs: (e['outputs'] as CaseArray[]).map(zeroNaN) }),
    });
  },
};

/**
 * Keras's Softmax raises when a [B, T] mask meets a [B, T, D] input (rule
 * 22); Masque raises MASK_SHAPE_MISMATCH. The fallback for error cases
 * (`call_error_type`): an error case that a departure answers with a result
 * (the one-channel BatchNormalization) is routed to it first.
 */
const softmaxError: Departure = {
  id: 'softmax-mask-error',
  appliesTo: (c) => c['call_error_type'] !== undefined && !normDepartures.some((d) => d.appliesTo(c)),
  run(c) {
    try {
      const m = buildCaseModel(c);
      try {
        const xs = (c['inputs'] as CaseArray[]).map((a) => tf.tensor(Array.from(decodeNumbers(a)), a.shape));
        m.apply(xs.length === 1 ? xs[0]! : xs);
      } finally {
        m.dispose();
      }
    } catch (e) {
      if (e instanceof MasqueError && e.code === 'UNKNOWN_LAYER_CLASS') throw e;
      if (e instanceof MasqueError && e.code === 'MASK_SHAPE_MISMATCH') return { name: name(c), status: 'pass', maxDiff: 0, message: '' };
      return fail(name(c), `expected MASK_SHAPE_MISMATCH like Keras's ${String(c['call_error_type'])}, got ${String(e)}`);
    }
    return fail(name(c), `Keras raised ${String(c['call_error_type'])}: ${String(c['call_error_message'])}; Masque did not raise`);
  },
};

// Departures 7 and 8 come before the attention ones: their layer-by-layer check applies departures 3 and 4 too.
// The normalization departures come before them: their layer-by-layer check keeps the float64 references of 7 and 8.
export const departures: Departure[] = [nonMasking, gmpMasked, gapNoNaN, ...normDepartures, softmaxError, ...float64Departures, ...attentionDepartures, ...attnactDepartures];
