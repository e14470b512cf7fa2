// Every ```ts block in README.md and docs/*.md runs here. When a ```text
// block follows it, the snippet's console output must equal that block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = join(root, 'test', '.docs_tmp');

interface Snippet {
  file: string;
  line: number;
  code: string;
  expected: string | null;
}

export function extractSnippets(file: string): Snippet[] {
  const text = readFileSync(file, 'utf8');
  const re = /```(\w+)[^\n]*\n([\s\S]*?)```/g;
  const blocks: { lang: string; body: string; index: number }[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) blocks.push({ lang: m[1]!, body: m[2]!, index: m.index });
  const out: Snippet[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== 'ts') return;
    const next = blocks[i + 1];
    const between = next ? text.slice(b.index + b.body.length, next.index) : '';
    const expected = next && next.lang === 'text' && between.split('\n').length <= 6 ? next.body.trimEnd() : null;
    out.push({ file, line: text.slice(0, b.index).split('\n').length, code: b.body, expected });
  });
  return out;
}

const files = [join(root, 'README.md'), ...(existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f)) : [])];
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
