/**
 * Shared pieces of the Chromium tests: a static file server on 127.0.0.1
 * (node:http) and a headless Chromium driven by playwright-core. The
 * Chromium is, in this order: the binary named by MASQUE_CHROMIUM; the one
 * that `npm ci` installs (the devDependency @sparticuz/chromium, unpacked
 * once into the temp folder); Debian's /usr/bin/chromium. A missing
 * Chromium is a test failure with a clear message, never a skip.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package, the last resort. */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const NPM_CHROMIUM = '@sparticuz/chromium';

/** Which Chromium the tests use and where it came from. */
export interface ChromiumBinary {
  path: string;
  source: 'MASQUE_CHROMIUM' | typeof NPM_CHROMIUM | 'system';
}

const HERE = dirname(fileURLToPath(import.meta.url));
let found: Promise<ChromiumBinary> | undefined;

/**
 * Finds (and on first use unpacks) the Chromium the tests run; rejects with
 * a message that says what to do when there is none.
 */
export function findChromium(): Promise<ChromiumBinary> {
  return (found ??= locate());
}

async function locate(): Promise<ChromiumBinary> {
  const env = process.env['MASQUE_CHROMIUM'];
  if (env !== undefined && env !== '') {
    if (!existsSync(env)) throw new Error(`MASQUE_CHROMIUM is ${env}, which does not exist; unset it to use the Chromium that npm ci installs (${NPM_CHROMIUM}).`);
    return { path: env, source: 'MASQUE_CHROMIUM' };
  }
  const pkg = npmChromiumPackage();
  if (pkg !== null) return { path: await unpackNpmChromium(pkg), source: NPM_CHROMIUM };
  if (existsSync(SYSTEM_CHROMIUM)) return { path: SYSTEM_CHROMIUM, source: 'system' };
  throw new Error(
    `No Chromium for the browser tests: ${NPM_CHROMIUM} (a devDependency) is not installed` +
      (process.arch === 'x64' ? '' : ` or does not fit this ${process.arch} machine (it ships an x64 binary)`) +
      `, and ${SYSTEM_CHROMIUM} does not exist. Run \`npm ci\` (with devDependencies), ` +
      `or set MASQUE_CHROMIUM to a Chromium binary.`,
  );
}

/** The installed @sparticuz/chromium's folder and version, or null when it is absent or does not fit this machine. */
function npmChromiumPackage(): { dir: string; version: string } | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return null;
  let dir: string;
  try {
    // Its "exports" hide package.json: resolve the entry point and walk up.
    dir = dirname(createRequire(import.meta.url).resolve(NPM_CHROMIUM));
  } catch {
    return null;
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version: string };
    if (name === NPM_CHROMIUM) return { dir, version };
  }
  return null;
}

/**
 * Unpacks the package's brotli-compressed Chromium, SwiftShader and fonts
 * into <tmp>/masque-chromium-<version>/ and returns the binary's path. The
 * package's own executablePath() unpacks into the temp folder's top level
 * and trusts whatever is there already; here it runs in a child process
 * whose TMPDIR is a fresh staging folder, which is then renamed into place,
 * so a test process never sees a half-written binary, concurrent test files
 * can race safely, and another version's files are never picked up.
 */
async function unpackNpmChromium(pkg: { dir: string; version: string }): Promise<string> {
  const target = join(tmpdir(), `masque-chromium-${pkg.version}`);
  const complete = (dir: string): boolean => ['chromium', 'libGLESv2.so', join('al2023', 'lib', 'libnss3.so')].every((f) => existsSync(join(dir, f)));
  if (complete(target)) return join(target, 'chromium');
  const staging = mkdtempSync(`${target}.unpacking-`);
  try {
    const script = `const c = (await import(${JSON.stringify(NPM_CHROMIUM)})).default; process.stdout.write(await c.executablePath());`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: HERE,
      // The Lambda runtime name makes the package also unpack al2023.tar.br (NSS, NSPR, expat: the
      // libraries Chromium needs beyond glibc) into <staging>/al2023/lib, used when the system lacks them.
      env: { ...process.env, TMPDIR: staging, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' },
      timeout: 120_000,
    });
    if (stdout !== join(staging, 'chromium') || !complete(staging)) {
      throw new Error(`it reported ${JSON.stringify(stdout)} and left ${staging} without chromium, libGLESv2.so or al2023/lib/libnss3.so`);
    }
    try {
      renameSync(staging, target);
    } catch {
      // Another test process unpacked the same version first: use its copy.
      // A damaged copy (say, half deleted) is replaced.
      if (!complete(target)) {
        rmSync(target, { recursive: true, force: true });
        renameSync(staging, target);
      }
    }
    return join(target, 'chromium');
  } catch (e) {
    throw new Error(`Could not unpack the Chromium of ${NPM_CHROMIUM} ${pkg.version} (${pkg.dir}) into ${target}: ${(e as Error).message}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

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
 * Flags for every launch. Started as root, Chromium needs --no-sandbox. The
 * network flags keep it from calling out at start (this network refuses
 * such connections). Playwright gives each launch a fresh --user-data-dir
 * of its own (it refuses one in `args`) and adds --headless.
 */
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/**
 * WebGL through ANGLE on SwiftShader (a CPU Vulkan device), which works
 * without a GPU: the graphics flags of @sparticuz/chromium's `args`
 * (--in-process-gpu aside). Its other flags are not used: --single-process
 * and --no-zygote are for Lambda's sandbox, and --disable-web-security and
 * --allow-running-insecure-content would change what the pages are tested
 * under.
 */
export const CHROMIUM_ARGS = [...BASE_ARGS, '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];
/** Flags that leave a page without any WebGL context. */
export const NO_GL_ARGS = [...BASE_ARGS, '--disable-gpu', '--disable-software-rasterizer'];

/**
 * The environment Chromium starts in: unchanged when it starts as it is;
 * when the system lacks a library it links (a machine with only Node may
 * have no NSS), the libraries unpacked beside the npm Chromium come first
 * on LD_LIBRARY_PATH.
 */
export function chromiumEnv(path: string, run: (env: NodeJS.ProcessEnv) => string = (env) => probeVersion(path, env)): NodeJS.ProcessEnv | undefined {
  const bundled = join(dirname(path), 'al2023', 'lib');
  const problem = run(process.env);
  if (problem === '' || !/error while loading shared libraries/.test(problem) || !existsSync(bundled)) return undefined;
  const env = { ...process.env, LD_LIBRARY_PATH: [bundled, process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':') };
  const still = run(env);
  if (still !== '') throw new Error(`Chromium (${path}) cannot load its libraries, even with ${bundled} first on LD_LIBRARY_PATH: ${still}`);
  return env;
}

/** '' when `chromium --version` runs in env, else what went wrong. */
function probeVersion(path: string, env: NodeJS.ProcessEnv): string {
  try {
    execFileSync(path, ['--version'], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    return '';
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return `${err.stderr?.toString() ?? ''} ${err.message}`.trim();
  }
}

let launchEnv: NodeJS.ProcessEnv | undefined | null = null;

/** Launches headless Chromium; throws a clear error (failing the test) when there is none. */
export async function launchChromium(args: string[] = CHROMIUM_ARGS): Promise<Browser> {
  const { path, source } = await findChromium();
  if (launchEnv === null) launchEnv = chromiumEnv(path);
  try {
    return await chromium.launch({ executablePath: path, headless: true, args, ...(launchEnv ? { env: launchEnv } : {}) });
  } catch (e) {
    throw new Error(`Chromium (${path}, from ${source}) did not start: ${(e as Error).message}`);
  }
}

/** Reads a JSON file. */
export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
