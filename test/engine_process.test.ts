import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('an uncaught error after ready() exits with code 1 and a readable message, not the wasm glue source', () => {
  const program = fileURLToPath(new URL('./fixtures/programs/uncaught.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', program], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr.slice(0, 400));
  assert.ok(!r.stderr.includes('var Module='), 'stderr shows the minified wasm glue');
  assert.match(r.stderr, /Dense: units must be a positive integer/);
  assert.ok(r.stderr.length < 5000, `stderr is ${r.stderr.length} bytes`);
});
