// Every ```ts block in README.md and docs/*.md runs here. When a ```text
// block follows it, the snippet's console output must equal that block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { docFiles, extractSnippets } from './docs_snippets.js';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = join(root, 'test', '.docs_tmp');

const files = docFiles(root);
const masque = pathToFileURL(join(root, 'src', 'index.ts')).href;

let n = 0;
for (const file of files) {
  for (const s of extractSnippets(file)) {
    const id = ++n;
    test(`${file.slice(root.length)}:${s.line} runs${s.expected !== null ? ' and prints what the docs show' : ''}`, async () => {
      mkdirSync(tmp, { recursive: true });
      const path = join(tmp, `snippet_${id}.ts`);
      writeFileSync(path, s.code.replace(/from 'masque'/g, `from '${masque}'`));
      const lines: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
      try {
        await import(pathToFileURL(path).href);
      } finally {
        console.log = log;
        rmSync(path);
      }
      if (s.expected !== null) assert.equal(lines.join('\n').trimEnd(), s.expected);
    });
  }
}
