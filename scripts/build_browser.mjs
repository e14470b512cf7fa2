#!/usr/bin/env node
// The browser build.
//   node scripts/build_browser.mjs           dist/browser/: masque.js (ESM) + chunks + tfjs's .wasm files
//   node scripts/build_browser.mjs --web     dist/web/: the mask-visualizer page (web/), its bundled model and its own copy of the bundle
//
// masque.js bundles src/browser.ts (the public API + the WebGL backend; the
// wasm backend loads its .wasm files from the bundle's folder). The HDF5
// reader (h5wasm, ~4 MB) is split into a chunk that loads only when a .keras
// file is read. The build fails if the browser
// entry reaches a Node built-in (node:*), and Masque's Node-only modules
// (*_node.ts) are replaced by stubs that throw NODE_ONLY.
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TFJS_EXTRAS_SOURCE } from './tfjs_extras.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');

/** Imports that must never reach the browser bundle (Node built-ins). */
const NODE_BUILTIN = /^(node:|(fs|fs\/promises|path|os|child_process|worker_threads|url)$)/;
/** Masque's own Node-only modules: replaced by stubs that throw NODE_ONLY. */
const NODE_ONLY_MODULE = /_node\.(ts|js)$/;
/** What to use in a browser instead of a Node-only function. */
const BROWSER_ALTERNATIVE = {
  loadModel: 'loadModelFromBytes(new Uint8Array(await (await fetch(url)).arrayBuffer()))',
  saveModel: 'saveModelToBytes(model) and a download link',
  readKerasFile: 'loadModelFromBytes on fetched bytes',
  writeKerasFile: 'saveModelToBytes(model)',
  loadWeights: 'loadWeightsFromBytes(model, bytes) on fetched bytes',
  saveWeights: 'saveWeightsToBytes(model) and a download link',
  readTfjsModelFiles: 'loadTfjsModel(tf.io.http(url))',
};

/** A module with the same exported functions as `file`, each throwing NODE_ONLY. */
function nodeOnlyStub(file) {
  const src = readFileSync(file, 'utf8');
  const names = new Map(); // name -> async?
  for (const m of src.matchAll(/export\s+(async\s+)?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*)/g)) names.set(m[2], Boolean(m[1]));
  const errors = pathToFileURL(join(root, 'src', 'errors.ts')).pathname;
  const lines = [`import { MasqueError } from ${JSON.stringify(errors)};`];
  for (const [n, isAsync] of names) {
    const alt = BROWSER_ALTERNATIVE[n] ? ` In a browser use ${BROWSER_ALTERNATIVE[n]}.` : '';
    const msg = `${n} uses the file system and runs only in Node (${relative(root, file)}).${alt}`;
    // Async originals reject (as they would on a missing file); others throw.
    lines.push(`export ${isAsync ? 'async ' : ''}function ${n}() { throw new MasqueError('NODE_ONLY', ${JSON.stringify(msg)}); }`);
  }
  return lines.join('\n');
}

const browserPlugin = {
  name: 'masque-browser',
  setup(b) {
    // tfjs's gradients and chained ops: import them straight from tfjs-core's
    // ESM build (the Node build uses a pre-bundled copy in src/generated/).
    b.onResolve({ filter: /generated[\\/]tfjs_extras\.js$/ }, () => ({ path: 'tfjs-extras', namespace: 'masque' }));
    b.onLoad({ filter: /^tfjs-extras$/, namespace: 'masque' }, () => ({
      contents: TFJS_EXTRAS_SOURCE,
      resolveDir: root,
      loader: 'js',
    }));
    b.onLoad({ filter: NODE_ONLY_MODULE }, (args) => (args.path.includes('node_modules') ? undefined : { contents: nodeOnlyStub(args.path), loader: 'ts', resolveDir: dirname(args.path) }));
    b.onResolve({ filter: NODE_BUILTIN }, (args) => {
      if (args.importer.includes('node_modules')) return undefined;
      const from = args.importer ? relative(root, args.importer) : '(entry)';
      return { errors: [{ text: `${from} imports the Node built-in "${args.path}"; Node-only code must live in a *_node.ts module (the browser build stubs those out).` }] };
    });
  },
};

/** Bundles the library into `outdir` (masque.js + chunks/) and copies the wasm files beside it. Returns the sizes in bytes. */
export async function buildBrowser({ outdir = join(root, 'dist', 'browser'), minify = true } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: { masque: join(root, 'src', 'browser.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    minify,
    sourcemap: 'linked',
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
    plugins: [browserPlugin],
  });
  for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join(outdir, f));
  return sizes(outdir, result.metafile);
}

/** Builds the mask-visualizer page into `outdir`: index.html, style.css, main.js and the library bundle beside them. */
export async function buildWeb({ outdir = join(root, 'dist', 'web') } = {}) {
  const lib = await buildBrowser({ outdir });
  await build({
    entryPoints: [join(root, 'web', 'main.ts')],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [
      {
        // The page shares the library bundle: '../src/browser.js' becomes './masque.js'.
        name: 'masque-external',
        setup(b) {
          b.onResolve({ filter: /src[\\/](browser|index)\.js$/ }, () => ({ path: './masque.js', external: true }));
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.importer.includes(join(root, 'web')) && /[\\/]src[\\/]/.test(args.path)) {
              return { errors: [{ text: `${relative(root, args.importer)}: the page may import the library only through '../src/browser.js' (got "${args.path}").` }] };
            }
            return undefined;
          });
        },
      },
    ],
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'web', f), join(outdir, f));
  // The bundled model (web/bundled_model.ts writes it), used until the demo has saved one.
  cpSync(join(root, 'web', 'bundled'), join(outdir, 'bundled'), { recursive: true });
  return { ...lib, page: statSync(join(outdir, 'main.js')).size };
}

/**
 * Sizes in bytes: `initial` is masque.js with the chunks it imports
 * statically (what a page downloads before `ready()`), `lazy` the chunks
 * loaded by dynamic import (h5wasm, when a .keras file is read), `wasm` the
 * backend's wasm files (a browser fetches one of them).
 */
function sizes(outdir, metafile) {
  const rel = (p) => relative(outdir, join(root, p));
  const outputs = Object.fromEntries(Object.entries(metafile.outputs).filter(([p]) => p.endsWith('.js')).map(([p, o]) => [rel(p), o]));
  const initial = new Set();
  const visit = (f) => {
    if (initial.has(f)) return;
    initial.add(f);
    for (const i of outputs[f]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(rel(i.path));
  };
  visit('masque.js');
  const size = (f) => statSync(join(outdir, f)).size;
  const lazy = Object.keys(outputs).filter((f) => !initial.has(f));
  const wasm = readdirSync(outdir).filter((f) => f.endsWith('.wasm'));
  return {
    outdir,
    bundle: size('masque.js'),
    initial: [...initial].reduce((n, f) => n + size(f), 0),
    initialFiles: [...initial],
    lazy: Object.fromEntries(lazy.map((f) => [f, size(f)])),
    wasm: Object.fromEntries(wasm.map((f) => [f, size(f)])),
  };
}

const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = Date.now();
  const s = process.argv.includes('--web') ? await buildWeb() : await buildBrowser();
  console.log(`masque build:browser: ${relative(root, join(s.outdir, 'masque.js'))}: ${kb(s.initial)} minified JS before ready() (${s.initialFiles.join(', ')})`);
  const lazy = Object.values(s.lazy).reduce((a, b) => a + b, 0);
  console.log(`  ${kb(lazy)} in ${Object.keys(s.lazy).length} chunks loaded on demand (h5wasm for .keras files: ${kb(Object.entries(s.lazy).filter(([f]) => f.includes('hdf5')).reduce((a, [, n]) => a + n, 0))})`);
  for (const [f, n] of Object.entries(s.wasm)) console.log(`  ${f} ${kb(n)}`);
  if (s.page !== undefined) console.log(`  main.js (page) ${kb(s.page)}`);
  console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
