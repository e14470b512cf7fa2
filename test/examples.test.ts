// Every seed example prints what the seed notes print.
import { test } from 'node:test';
import assert from 'node:assert/strict';

async function run(path: string): Promise<string[]> {
  const lines: string[] = [];
  const mod = (await import(path)) as { main: (log: (s: string) => void) => Promise<void> };
  await mod.main((s) => lines.push(s));
  return lines;
}

test('seed 001 example 1: masked mean pool', async () => {
  assert.deepEqual(await run('../examples/seed_masked_mean_pool.ts'), ['[[10, 10], [15, 15], [20, 20], [25, 25]]']);
});

test('seed 001 example 2: flatten with mask + masked sum, both methods, and the error for an unflattened mask', async () => {
  const lines = await run('../examples/seed_flatten_masked_sum.ts');
  assert.deepEqual(lines.slice(0, 2), ['method 1: [3, 6, 9, 12]', 'method 2: [3, 6, 9, 12]']);
  // Reported on the model's shapes (null = unknown), naming the layer that made the mask, not on tracing sizes.
  assert.match(lines[2]!, /the mask of shape \[null, 4\] \(the mask made by 'flatten_keep_step_mask' \(FlattenKeepStepMask\)\) does not match the input of shape \[null, 12\]/);
});

test('seed 002: TemporalSplit splits the mask', async () => {
  assert.deepEqual(await run('../examples/seed_temporal_split.ts'), [
    'first half mask:  [[true, true, true], [true, true, true], [true, true, true]]',
    'second half mask: [[false, false, false], [true, true, false], [true, true, true]]',
  ]);
});

test('seed 002: CustomEmbedding with computeMask', async () => {
  assert.deepEqual(await run('../examples/seed_custom_embedding.ts'), [
    'output shape: [2, 5, 32]',
    'mask: [[true, true, true, false, false], [true, true, false, false, false]]',
    'pooled shape: [2, 32], mask after pooling: null',
  ]);
});

test('seed 002: padSequences output and the masks of Embedding and Masking (the Keras guide)', async () => {
  const mask = '[[true, true, true, false, false, false], [true, true, true, true, true, false], [true, true, true, true, true, true]]';
  assert.deepEqual(await run('../examples/seed_guide_masks.ts'), [
    'padded: [[711, 632, 71, 0, 0, 0], [73, 9, 3215, 55, 927, 0], [83, 91, 1, 645, 1253, 927]]',
    'lengths: [3, 5, 6]',
    `Embedding mask: ${mask}`,
    `Masking mask:   ${mask}`,
  ]);
});
