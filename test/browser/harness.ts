/**
 * Shared pieces of the Chromium tests: a static file server on 127.0.0.1
 * (node:http) and a headless Chromium from Debian's package, driven by
 * playwright-core. A missing Chromium is a test failure with a clear
 * message, never a skip.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env['MASQUE_CHROMIUM'] ?? '/usr/bin/chromium';

/** Where the browser tests write screenshots and measurements (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../.browser_tmp/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.keras': 'application/octet-stream',
  '.png': 'image/png',
};

export interface StaticServer {
  url: string;
  /** Number of requests served, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Serves `mounts` (URL prefix -> folder) on a free port of 127.0.0.1. The
 * longest matching prefix wins; '/' maps a folder's index.html.
 */
export async function serveStatic(mounts: Record<string, string>, port = 0): Promise<StaticServer> {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const prefix = prefixes.find((p) => path.startsWith(p));
    let file = prefix === undefined ? null : normalize(join(mounts[prefix]!, path.slice(prefix.length)));
    if (file !== null && !file.startsWith(normalize(mounts[prefix!]!) + sep) && file !== normalize(mounts[prefix!]!)) file = null;
    if (file !== null && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (file === null || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: p } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${p}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Chromium's flags: WebGL through ANGLE on SwiftShader (a CPU Vulkan
 * device), which works without a GPU. Headless Chromium 156 picks
 * SwiftShader by itself on this machine; the flags make it explicit.
 */
export const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--ignore-gpu-blocklist'];
/** Flags that leave a page without any WebGL context. */
export const NO_GL_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-software-rasterizer'];

/** Launches headless Chromium; throws a clear error (failing the test) when it is not installed. */
export async function launchChromium(args: string[] = CHROMIUM_ARGS): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser tests need Debian's chromium package. ` +
        `Run .ci/browser-deps (as root: apt-get install chromium), or set MASQUE_CHROMIUM to a Chromium binary.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args,
  });
}

/** Reads a JSON file. */
export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
