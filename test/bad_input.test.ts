/**
 * The bad-input suite (test/bad_input/suite.ts), short: a few hundred random
 * malformed inputs per part of the public API. `npm run fuzz:bad-input`
 * runs a long one. Every outcome must be a result or a MasqueError with a
 * code; the backend must survive; the tensor count must not grow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBadInputSuite } from './bad_input/suite.js';

test('bad input: results or coded MasqueErrors only, no crash, no dead backend, no leak', async () => {
  const t = await runBadInputSuite(150, 20261206);
  const errors = [...t.errors.values()].reduce((a, b) => a + b, 0);
  assert.deepEqual(t.bad, [], t.bad.slice(0, 10).join('\n'));
  assert.ok(t.results > 100 && errors > 500, `too few cases ran: ${t.results} results, ${errors} errors`);
  // Each kind of refusal the API has shows up (the suite reaches every part).
  for (const code of ['INVALID_ARGUMENT', 'INVALID_SEQUENCES', 'INVALID_INPUT', 'INPUT_SHAPE_MISMATCH', 'MASK_SHAPE_MISMATCH', 'CORRUPT_FILE', 'INVALID_CONFIG']) {
    assert.ok((t.errors.get(code) ?? 0) > 0, `no ${code} seen`);
  }
});
