/**
 * Masque's gradients against Keras's on random models: for each case of
 * CASES_DIR with a file in GRADS_DIR (written by `scripts/grad_oracle.py`
 * through the Keras oracle: Keras's float64 directional derivatives of a
 * weighted sum of the valid outputs), Masque's float32 gradient of the same
 * sum, dotted with the same directions, must match within --tol (default
 * 1e-5) in the measure of `test/conformance/gradients.ts`.
 *
 *   npx tsx scripts/grad_fuzz.ts CASES_DIR GRADS_DIR [--tol 1e-5] [--verbose]
 *
 * Not a test (its cases come from the oracle); the committed subset runs in
 * test/conformance_gradients.test.ts. docs/keras.md "Gradients on random
 * models" has the results.
 */
import { ready, setWarningHandler } from '../src/index.js';
import { compareGradientFolder } from '../test/conformance/gradients.js';

await ready();
// Departure 1's cases run under 'warn': its warnings are expected here.
setWarningHandler(() => {});
const args = process.argv.slice(2);
const tolAt = args.indexOf('--tol');
const tol = tolAt >= 0 ? Number(args[tolAt + 1]) : 1e-5;
const verbose = args.includes('--verbose');
const [dir, grads] = args.filter((a, i) => !a.startsWith('--') && (tolAt < 0 || i !== tolAt + 1));
if (dir === undefined || grads === undefined || !(tol > 0)) {
  console.error('usage: npx tsx scripts/grad_fuzz.ts CASES_DIR GRADS_DIR [--tol 1e-5] [--verbose]');
  process.exit(2);
}
let pass = 0;
let fail = 0;
let unsure = 0;
let unsureCases = 0;
const { compared, skipped } = compareGradientFolder(dir, grads, tol);
if (verbose) for (const name of skipped) console.log(`SKIP ${name}: a deliberate departure applies`);
for (const { result: r } of compared) {
  const ok = r.error === undefined && r.worst <= tol;
  if (ok) pass++;
  else fail++;
  unsure += r.unsure;
  if (r.unsure > 0) unsureCases++;
  if (!ok || verbose) {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.error ?? `worst ${r.worst.toExponential(2)} (${r.detail}); oracle err ${r.oracleErr.toExponential(1)}; L diff ${r.lossDiff.toExponential(1)}${r.unsure ? `; ${r.unsure} direction(s) the oracle cannot resolve` : ''}`}`);
  }
}
console.log(`${pass} passed, ${fail} failed${skipped.length ? `, ${skipped.length} skipped (departures)` : ''}${unsure ? `; ${unsure} directions in ${unsureCases} cases not compared (the oracle's error is not below ${(tol / 10).toExponential(0)})` : ''}`);
process.exit(fail > 0 ? 1 : 0);
