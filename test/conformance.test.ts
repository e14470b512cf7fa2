// Runs the conformance runner on the shipped Keras 3.15.1 cases (a copy of
// ../shared/conformance/keras-3.15.1) and fails on any failed or skipped case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runConformance, summarize } from './conformance/runner.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1', import.meta.url));

test('Keras 3.15.1 conformance cases: 0 failed, 0 skipped', async () => {
  const results = await runConformance(dir);
  const bad = results.filter((r) => r.status !== 'pass').map((r) => `${r.status.toUpperCase()} ${r.name}: ${r.message}`);
  console.log(summarize(results));
  assert.equal(results.length, 190);
  assert.deepEqual(bad, []);
});
