// The project type-checks (strict): src, tests, examples, bench, demo, and
// test/typing_examples.ts, which holds Keras-style code that must compile
// without casts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('npx tsc --noEmit -p . is clean', () => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', root], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, (r.stdout + r.stderr).split('\n').filter((l) => /error TS/.test(l)).slice(0, 20).join('\n'));
});
