/** The ```ts blocks of README.md and docs/*.md, with the ```text block that follows each (its expected output). */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Snippet {
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

/** Every documentation file whose ```ts blocks run in the tests. */
export function docFiles(root: string): string[] {
  return [join(root, 'README.md'), ...(existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f)) : [])];
}
