// `npm run build` emits dist/ with index.js and declarations, and another
// project that links the package can `import { ... } from 'masque'`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the built package imports as "masque" from another folder', () => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--dist'], { cwd: root, stdio: 'pipe' });
  assert.ok(existsSync(join(root, 'dist', 'index.js')));
  assert.ok(existsSync(join(root, 'dist', 'index.d.ts')));
  const app = mkdtempSync(join(tmpdir(), 'masque-app-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(root, join(app, 'node_modules', 'masque'), 'dir');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(app, 'main.js'),
    [
      "import { ready, padSequences, Embedding, getMask, tf } from 'masque';",
      'await ready();',
      "const x = padSequences([[1, 2], [3]], { padding: 'post' });",
      'const y = new Embedding({ inputDim: 5, outputDim: 2, maskZero: true }).apply(x);',
      'console.log(tf.getBackend(), JSON.stringify(getMask(y).arraySync()));',
    ].join('\n'),
  );
  const out = execFileSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8' });
  assert.equal(out.trim(), 'wasm [[1,1],[1,0]]');
});
