/**
 * The `custom` cases: the seed notes' custom layers (examples/seed_layers.ts)
 * in the models the case files describe, and the custom recurrent cells
 * (examples/custom_cells.ts, cases with a `spec`: custom_cells_case.ts).
 * Sizes come from the case's data.
 */
import { tf, Input, Masking, Embedding, Model, getMask } from '../../src/index.js';
import { MaskedMeanPool, FlattenWithMask, MaskedSum, TemporalSplit } from '../../examples/seed_layers.js';
import { compare, toTensor, type Case, type CaseArray } from './cases.js';
import { scoped } from './cases.js';
import type { CaseResult } from './runner.js';
import { customCellModel } from './custom_cells_case.js';

type Builder = (x: tf.Tensor, c: Case) => Model;

const maxId = (x: tf.Tensor): number => Math.max(0, ...Array.from(x.dataSync()));
const outDim = (c: Case): number => {
  const s = (c['outputs'] as CaseArray[])[0]!.shape;
  return s[s.length - 1]!;
};

const BUILDERS: Record<string, Builder> = {
  custom_masked_mean_pool: (x) => {
    const a = Input({ shape: x.shape.slice(1) });
    return new Model({ inputs: a, outputs: new MaskedMeanPool().apply(new Masking().apply(a)) });
  },
  custom_flatten_mask_masked_sum: (x, c) => {
    const a = Input({ shape: x.shape.slice(1), dtype: 'int32' });
    const dim = outDim(c) / x.shape[1]!;
    const emb = new Embedding({ inputDim: maxId(x) + 1, outputDim: dim, maskZero: true, embeddingsInitializer: 'ones' }).apply(a);
    const flat = new FlattenWithMask().apply(emb);
    return new Model({ inputs: a, outputs: [flat, new MaskedSum().apply(flat)] });
  },
  custom_temporal_split: (x, c) => {
    const a = Input({ shape: [null], dtype: 'int32' });
    const emb = new Embedding({ inputDim: maxId(x) + 1, outputDim: outDim(c), maskZero: true, embeddingsInitializer: 'ones' }).apply(a);
    return new Model({ inputs: a, outputs: new TemporalSplit().apply(emb) });
  },
};

export function runCustomCase(c: Case): CaseResult {
  const name = String(c['name']);
  // Custom recurrent cells (rnncell_custom_*): rebuilt from the case's spec, with its weights.
  const build = BUILDERS[name] ?? (c['spec'] !== undefined ? (_x: tf.Tensor, cc: Case) => customCellModel(cc)! : undefined);
  if (build === undefined) return { name, status: 'fail', maxDiff: Infinity, message: `no TypeScript version of the custom case '${name}' (known: ${Object.keys(BUILDERS).join(', ')})` };
  return scoped(() => {
    const x = toTensor((c['inputs'] as CaseArray[])[0]!);
    const model = build(x, c);
    try {
      const out = model.apply(x, { training: false });
      const outs = Array.isArray(out) ? out : [out];
      const want = c['outputs'] as CaseArray[];
      const masks = c['output_masks'] as (CaseArray | null)[];
      if (outs.length !== want.length) return { name, status: 'fail' as const, maxDiff: Infinity, message: `got ${outs.length} outputs, expected ${want.length}` };
      let maxDiff = 0;
      for (let i = 0; i < outs.length; i++) {
        for (const d of [compare(outs[i]!, want[i]!, c['tolerance'] ?? 1e-5, `output ${i}`), compare(getMask(outs[i]!), masks[i] ?? null, 0, `mask ${i}`)]) {
          if (!d.ok) return { name, status: 'fail' as const, maxDiff: d.maxDiff, message: d.message };
          maxDiff = Math.max(maxDiff, d.maxDiff);
        }
      }
      const brief = c['expected_from_brief'] as unknown;
      if (brief !== undefined) {
        const idx = (c['expected_output_index'] as number | undefined) ?? 0;
        const got = Array.from(outs[idx]!.dataSync());
        const flat = (brief as unknown[]).flat(Infinity) as number[];
        if (flat.some((v, i) => Math.abs(v - got[i]!) > 1e-5)) return { name, status: 'fail' as const, maxDiff: Infinity, message: `expected the seed's ${JSON.stringify(brief)}, got ${JSON.stringify(got)}` };
      }
      return { name, status: 'pass' as const, maxDiff, message: '' };
    } finally {
      model.dispose();
    }
  });
}
