/**
 * Files Masque writes, read by Keras, on random models: each model case of
 * a fuzz folder (`../shared/keras-oracle/fuzz.py --out DIR`) is built in
 * Masque from Keras's config and weights and saved with `model.save` as
 * OUT/<name>.keras, beside OUT/<name>.json with the case's inputs and
 * Keras's own outputs and masks. The oracle's loader then opens each file
 * in Keras, runs it on the inputs and prints the largest difference from
 * what Keras computed for the original model, mask by mask:
 *
 *   npx tsx scripts/fuzz_keras_files.ts DIR OUT [LIMIT] [--masked]
 *   ../shared/keras-oracle/py ../shared/keras-oracle/fuzz_tools/roundtrip_load.py OUT
 *
 * With --masked, cases called with only an explicit mask are written too,
 * their json holding the call's `call_kwargs` (roundtrip_load.py does not
 * read them; test/fixtures/keras-3.15.1-convlstm/check_masque_files.py does).
 *
 * Not a test (it needs Keras); docs/keras.md "On random models" has the
 * results.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ready } from '../src/index.js';
import { buildCaseModel } from '../test/conformance/runner.js';
import { caseFileNames, loadCase } from '../test/conformance/cases.js';

await ready();
const masked = process.argv.includes('--masked');
const args = process.argv.slice(2).filter((a) => a !== '--masked');
const [dir, out, limit] = [args[0], args[1], Number(args[2] ?? Infinity)];
if (dir === undefined || out === undefined) {
  console.error('usage: npx tsx scripts/fuzz_keras_files.ts DIR OUT [LIMIT] [--masked]');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
let made = 0;
let skipped = 0;
let failed = 0;
for (const f of caseFileNames(dir).slice(0, limit)) {
  const c = loadCase(join(dir, f));
  // Cases called with a mask or in training mode have no plain predict to compare.
  const kwargs = Object.keys(c.call_kwargs ?? {});
  if (c.kind !== 'model' || (kwargs.length > 0 && !(masked && kwargs.every((k) => k === 'mask')))) {
    skipped++;
    continue;
  }
  try {
    const m = buildCaseModel(c);
    await m.save(join(out, `${c.name}.keras`));
    writeFileSync(join(out, `${c.name}.json`), JSON.stringify({ name: c.name, inputs: c.inputs, outputs: c.outputs, output_masks: c.output_masks, weight_paths: m.weightPaths(), ...(kwargs.length > 0 ? { call_kwargs: c.call_kwargs } : {}) }));
    m.dispose();
    made++;
  } catch (e) {
    failed++;
    console.log(`not saved: ${c.name}: ${(e as Error).message}`);
  }
}
console.log(`${made} files written to ${out}, ${skipped} cases skipped (not plain model calls), ${failed} failed`);
