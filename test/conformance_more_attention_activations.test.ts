// Runs the conformance runner on the Keras 3.15.1 "more" cases of the
// attention, activation, regularization, Dot and merge families (a copy of
// those files of ../shared/conformance/keras-3.15.1-more) and fails on any
// failed or skipped case. Departures 18-20 (docs/keras.md) are checked inside the runner
// against answers computed from the cases (test/conformance/departures_attnact.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runConformance, summarize } from './conformance/runner.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-more', import.meta.url));
const FAMILIES: [string, number][] = [
  ['gqa_', 14], ['additive_attention_', 6], ['activations_', 12], ['regularization_', 7], ['reversible_embedding_', 3],
  ['dot_', 3], ['merge_rank_', 17], ['softmax_', 4], ['nonmasking_einsumdense_', 1],
];

test('Keras 3.15.1 more cases (attention, activations, regularization, Dot, merges): 0 failed, 0 skipped', async () => {
  const results = await runConformance(dir, { only: FAMILIES.map(([p]) => p) });
  console.log(summarize(results));
  for (const [prefix, n] of FAMILIES) assert.equal(results.filter((r) => r.name.startsWith(prefix)).length, n, `${prefix} cases`);
  assert.deepEqual(results.filter((r) => r.status !== 'pass').map((r) => `${r.status.toUpperCase()} ${r.name}: ${r.message}`), []);
});
