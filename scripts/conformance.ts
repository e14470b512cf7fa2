/**
 * npm run conformance -- [<dir>] [--only prefix1,prefix2] [--verbose]
 * Runs every case in <dir> (default: the shipped Keras 3.15.1 cases) and
 * prints one line per failing (and skipped) case, then "N passed, M failed".
 * Exits 1 when a case fails or when no case matched.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ready } from '../src/index.js';
import { runConformance, summarize } from '../test/conformance/runner.js';

const USAGE = 'usage: npm run conformance -- [<folder of cases>] [--only prefix1,prefix2] [--verbose]';

function fail(message: string): never {
  console.error(`conformance: ${message}\n${USAGE}`);
  process.exit(2);
}

let only: string[] | undefined;
let verbose = false;
let dir: string | undefined;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--only' || a.startsWith('--only=')) {
    const value = a === '--only' ? args[++i] : a.slice('--only='.length);
    if (!value) fail('--only needs a comma-separated list of case-name prefixes.');
    only = value.split(',').filter(Boolean);
  } else if (a === '--verbose') {
    verbose = true;
  } else if (a === '--help' || a === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith('-')) {
    fail(`unknown option ${a}.`);
  } else if (dir === undefined) {
    dir = a;
  } else {
    fail(`expected one folder, received ${dir} and ${a}.`);
  }
}
const folder = resolve(dir ?? 'test/fixtures/keras-3.15.1');
if (!existsSync(folder) || !statSync(folder).isDirectory()) fail(`${folder} is not a folder of case files.`);

await ready();
const results = await runConformance(folder, { only });
for (const r of results) {
  if (r.status === 'fail') console.log(`FAIL ${r.name}: ${r.message}`);
  else if (r.status === 'skip') console.log(`SKIP ${r.name}: ${r.message}`);
  else if (verbose) console.log(`ok   ${r.name} (max diff ${r.maxDiff.toExponential(2)})`);
}
console.log(summarize(results));
if (results.length === 0) {
  console.error(`conformance: no case in ${folder}${only ? ` matches --only ${only.join(',')}` : ''}.`);
  process.exit(1);
}
process.exit(results.some((r) => r.status === 'fail') ? 1 : 0);
