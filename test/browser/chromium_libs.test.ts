// The npm Chromium on a machine without NSS: the libraries unpacked beside
// it (al2023/lib) are enough to start it, and the harness puts them on
// LD_LIBRARY_PATH only when the system cannot load Chromium's libraries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromiumEnv, findChromium } from './harness.js';

test('the npm Chromium starts with only its bundled NSS, NSPR and expat, and the harness uses them only when the system lacks them', async () => {
  const { path, source } = await findChromium();
  if (source !== '@sparticuz/chromium') return; // MASQUE_CHROMIUM or a system Chromium brings its own libraries
  const bundled = join(dirname(path), 'al2023', 'lib');
  for (const lib of ['libnss3.so', 'libnspr4.so', 'libexpat.so.1']) assert.ok(existsSync(join(bundled, lib)), `${lib} unpacked in ${bundled}`);
  // Only the bundled folder ahead of the system's: Chromium starts.
  const version = execFileSync(path, ['--version'], { env: { ...process.env, LD_LIBRARY_PATH: bundled } }).toString();
  assert.match(version, /Chromium \d+/);

  // The decision: nothing changes when Chromium starts as it is ...
  assert.equal(chromiumEnv(path, () => ''), undefined);
  // ... and a missing library puts the bundled folder first, then checks again.
  const seen: (string | undefined)[] = [];
  const env = chromiumEnv(path, (e) => {
    seen.push(e['LD_LIBRARY_PATH']);
    return e['LD_LIBRARY_PATH']?.startsWith(bundled) ? '' : 'chromium: error while loading shared libraries: libnss3.so: cannot open shared object file';
  });
  assert.ok(env?.['LD_LIBRARY_PATH']?.startsWith(bundled));
  assert.equal(seen.length, 2);
  // Another failure is not papered over.
  assert.throws(() => chromiumEnv(path, () => 'chromium: error while loading shared libraries: libfoo.so'), /cannot load its libraries/);
});
