/**
 * npm run conformance -- <dir> [--only prefix1,prefix2] [--verbose]
 * Runs every case in <dir> (default: the shipped Keras 3.15.1 cases) and
 * prints one line per failing (and skipped) case, then "N passed, M failed".
 */
import { resolve } from 'node:path';
import { ready } from '../src/index.js';
import { runConformance, summarize } from '../test/conformance/runner.js';

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1]?.split(',').filter(Boolean) : undefined;
const verbose = args.includes('--verbose');
const dir = args.find((a, i) => !a.startsWith('--') && (onlyIdx < 0 || i !== onlyIdx + 1)) ?? 'test/fixtures/keras-3.15.1';

await ready();
const results = await runConformance(resolve(dir), { only });
for (const r of results) {
  if (r.status === 'fail') console.log(`FAIL ${r.name}: ${r.message}`);
  else if (r.status === 'skip') console.log(`SKIP ${r.name}: ${r.message}`);
  else if (verbose) console.log(`ok   ${r.name} (max diff ${r.maxDiff.toExponential(2)})`);
}
console.log(summarize(results));
process.exit(results.some((r) => r.status === 'fail') ? 1 : 0);
