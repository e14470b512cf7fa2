#!/usr/bin/env node
// Checks the shape of src/ (docs/architecture.md):
// - every import between src/ folders follows the allowed arrows below (so
//   no folder cycle can form), and no cycle exists between folders;
// - tfjs internals are read only in src/runtime/internals.ts.
//   npm run check:imports        prints the violations, exits 1 if any
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which folders each src/ folder may import from ('.' is a file directly in src/, such as errors.ts). */
export const ALLOWED = {
  runtime: ['.', 'generated'],
  ops: ['.', 'generated', 'runtime'],
  engine: ['.', 'runtime'],
  data: ['.', 'runtime', 'ops', 'engine'],
  layers: ['.', 'runtime', 'ops', 'engine'],
  training: ['.', 'runtime', 'ops', 'engine', 'data'],
  models: ['.', 'runtime', 'ops', 'engine', 'data', 'training'],
  io: ['.', 'runtime', 'ops', 'engine', 'data', 'layers', 'models', 'training'],
};
/** Files directly in src/ that may import only these folders (errors.ts and names.ts are imported by all, so they import nothing; option_keys.ts imports errors.ts). */
const ROOT_FILES = { 'errors.ts': [], 'names.ts': [], 'option_keys.ts': ['.'] };
/** The one file that may read tfjs internals. */
export const SEAM = 'src/runtime/internals.ts';
/** What reading tfjs internals looks like. */
export const INTERNALS = [
  /\btf\.engine\(\)/,
  /\btf\.backend\(\)/,
  /\bdataIdMap\b/,
  /\bmakeOutput\b/,
  /\bHEAPU8\b/,
  /\bregisterKernel\(/,
  /\bactiveTape\b/,
  /\bmakeTensorFromTensorInfo\b/,
  /\btypedArrayFromHeap\b/,
  /['"]@tensorflow\/tfjs-core\/dist\//,
];

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'generated') walk(p, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The src/ folder a path belongs to ('.' for files directly in src/), or null outside src/. */
function folderOf(root, file) {
  const rel = relative(join(root, 'src'), file);
  if (rel.startsWith('..')) return null;
  const parts = rel.split(sep);
  return parts.length === 1 ? '.' : parts[0];
}

/** Every violation in the tree at `root` (a list of strings; empty when the tree is clean). */
export function checkTree(root) {
  const problems = [];
  const edges = new Map();
  for (const file of walk(join(root, 'src'), [])) {
    const rel = relative(root, file).split(sep).join('/');
    const from = folderOf(root, file);
    const text = readFileSync(file, 'utf8');
    const isTest = file.endsWith('.test.ts');
    if (rel !== SEAM) {
      for (const re of INTERNALS) {
        if (re.test(text)) problems.push(`${rel}: reads tfjs internals (${re.source}); only ${SEAM} may`);
      }
    }
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith('.')) continue;
      const to = folderOf(root, normalize(join(dirname(file), spec)));
      if (to === null || to === from) continue;
      // Tests may import what they test from anywhere below their own folder's consumers.
      if (isTest) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from).add(to);
      const allowed = from === '.' ? ROOT_FILES[rel.slice(4)] : ALLOWED[from];
      if (allowed !== undefined && !allowed.includes(to)) problems.push(`${rel}: imports ${spec} (${from} -> ${to}), which the layering does not allow`);
      if (allowed === undefined && from !== '.') problems.push(`${rel}: folder src/${from} is not in the layering table (scripts/check_imports.mjs)`);
    }
  }
  // Folder cycles (the table forbids them; this names one if it is ever edited wrongly).
  const state = new Map();
  const visit = (f, path) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      problems.push(`import cycle between src/ folders: ${[...path.slice(path.indexOf(f)), f].join(' -> ')}`);
      return;
    }
    state.set(f, 'open');
    for (const g of edges.get(f) ?? []) if (g !== '.') visit(g, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of edges.keys()) if (f !== '.') visit(f, []);
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkTree(root);
  for (const p of problems) console.error(p);
  console.log(problems.length === 0 ? 'check:imports: the layering holds, tfjs internals are read only in the seam' : `check:imports: ${problems.length} problem(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}
