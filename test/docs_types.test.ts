// Every ```ts block in README.md and docs/*.md type-checks (strict), with
// 'masque' resolved to src/index.ts: a documented example that would not
// compile in a user's TypeScript project fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docFiles, extractSnippets } from './docs_snippets.js';

const root = fileURLToPath(new URL('..', import.meta.url));

test('every TypeScript example in the docs type-checks', () => {
  const dir = join(root, 'test', '.docs_types_tmp');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const where = new Map<string, string>();
  try {
    let n = 0;
    for (const file of docFiles(root)) {
      for (const s of extractSnippets(file)) {
        const name = `snippet_${++n}.ts`;
        where.set(name, `${relative(root, file)}:${s.line}`);
        // Each snippet is a module of its own (top-level await, no shared names).
        writeFileSync(join(dir, name), `${s.code.replace(/from 'masque'/g, "from '../../src/index.js'")}\nexport {};\n`);
      }
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '../..', noUnusedLocals: false }, include: ['./*.ts'] }),
    );
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', cwd: root });
    const errors = (r.stdout + r.stderr)
      .split('\n')
      .filter((l) => /error TS/.test(l))
      .map((l) => l.replace(/test\/\.docs_types_tmp\/(snippet_\d+\.ts)/, (_m, f: string) => `${where.get(f) ?? f} (${f})`));
    assert.deepEqual(errors, [], errors.join('\n'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(n > 20, `only ${n} snippets found`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
