#!/usr/bin/env node
// `npm run web`: builds the mask-visualizer page (web/) with the browser
// bundle into dist/web/ and serves it on http://localhost:PORT/ (default
// 8080; `--port N` or PORT=N to change). The demo's saved model, when it
// exists, is served from models/ (models/sentiment.keras and
// models/sentiment_vocab.json); otherwise the page uses its bundled model.
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb } from './build_browser.mjs';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const arg = process.argv.indexOf('--port');
const port = Number(arg >= 0 ? process.argv[arg + 1] : (process.env.PORT ?? 8080));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.map': 'application/json' };

const built = await buildWeb();
const mounts = [['/models/', join(root, 'models')], ['/', built.outdir]];

const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  const [prefix, dir] = mounts.find(([p]) => path.startsWith(p));
  let file = normalize(join(dir, path.slice(prefix.length)));
  if (!file.startsWith(normalize(dir) + sep) && file !== normalize(dir)) file = '';
  if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!file || !existsSync(file)) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file));
});
server.on('error', (err) => {
  console.error(`masque web: cannot listen on port ${port}: ${err.message}. Use --port N or PORT=N.`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  const model = existsSync(join(root, 'models', 'sentiment.keras')) ? 'models/sentiment.keras' : 'the bundled model (run the demo to train one)';
  console.log(`masque web: serving the mask visualizer at http://localhost:${port}/ (model: ${model}); Ctrl+C to stop`);
});
