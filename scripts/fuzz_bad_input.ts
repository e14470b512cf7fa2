// The long run of the bad-input suite: npm run fuzz:bad-input -- [runs per part] [seed]
import { ready } from '../src/index.js';
import { runBadInputSuite } from '../test/bad_input/suite.js';

await ready();
const runs = Number(process.argv[2] ?? 2000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const t0 = Date.now();
const t = await runBadInputSuite(runs, seed);
const errors = [...t.errors.values()].reduce((a, b) => a + b, 0);
console.log(`bad-input suite (seed ${seed}, ${runs} runs per part, ${((Date.now() - t0) / 1000).toFixed(1)} s): ${t.results} results, ${errors} MasqueErrors ${JSON.stringify(Object.fromEntries(t.errors))}, ${t.bad.length} bad outcomes`);
for (const b of t.bad.slice(0, 50)) console.log(`BAD ${b}`);
process.exit(t.bad.length === 0 ? 0 : 1);
