#!/usr/bin/env node
// Build steps that a fresh clone needs before tests or the library can run.
//   node scripts/build.mjs            generate src/generated/ (used by tests and tsx scripts)
//   node scripts/build.mjs --dist     also compile dist/ with tsc and copy generated files
//
// src/generated/tfjs_extras.js: tfjs-core ships its gradient and chained-op
// registrations only as extensionless ES modules, which Node cannot import.
// We bundle those two entry points from the installed @tensorflow/tfjs-core
// with esbuild. The bundle registers into tfjs-core's global registries, so it
// works with the package's own Node build. Nothing here is committed.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const generated = join(root, 'src', 'generated');
mkdirSync(generated, { recursive: true });

async function tfjsExtras() {
  await build({
    stdin: {
      contents: [
        "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
        "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';",
      ].join('\n'),
      resolveDir: root,
      loader: 'js',
    },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    outfile: join(generated, 'tfjs_extras.js'),
    logLevel: 'warning',
    legalComments: 'eof',
  });
  writeFileSync(join(generated, 'tfjs_extras.d.ts'), 'export {};\n');
}

const steps = [tfjsExtras];
const t0 = Date.now();
for (const step of steps) await step();
if (process.argv.includes('--dist')) {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  mkdirSync(join(root, 'dist', 'generated'), { recursive: true });
  for (const f of readdirSync(generated)) cpSync(join(generated, f), join(root, 'dist', 'generated', f));
}
console.log(`masque build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
