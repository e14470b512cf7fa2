/**
 * Files Keras writes, read by Masque, on random models: for each model case
 * of a fuzz folder with a file OUT/<name>.keras written by Keras
 * (`scripts/keras_files_from_cases.py`), `loadModel` reads the file and the
 * model runs on the case's inputs. Its outputs and masks must be the same
 * bits as those of the model Masque builds from the case's config and
 * weights (`buildCaseModel`, which the conformance runner checks against
 * Keras): reading a `.keras` file gives the model the case describes.
 *
 *   npx tsx scripts/load_keras_files.ts FUZZ_DIR OUT
 *
 * Not a test (the files come from Keras); docs/keras.md "On random models"
 * has the results.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ready, loadModel, getMask, tf } from '../src/index.js';
import { buildCaseModel, runCaseModel } from '../test/conformance/runner.js';
import { caseFileNames, loadCase } from '../test/conformance/cases.js';
import type { Model } from '../src/index.js';

await ready();
const [dir, files] = [process.argv[2], process.argv[3]];
if (dir === undefined || files === undefined) {
  console.error('usage: npx tsx scripts/load_keras_files.ts FUZZ_DIR OUT');
  process.exit(2);
}
const bits = (t: tf.Tensor | null): string => (t === null ? 'null' : `${t.dtype}[${t.shape}]:${Array.from(t.dataSync() as ArrayLike<number>).join(',')}`);
let same = 0;
let different = 0;
let failed = 0;
for (const f of caseFileNames(dir)) {
  const c = loadCase(join(dir, f));
  const path = join(files, `${c.name}.keras`);
  if (!existsSync(path)) continue;
  let loaded: Model | null = null;
  let built: Model | null = null;
  try {
    loaded = await loadModel(path);
    built = buildCaseModel(c);
    const a = runCaseModel(loaded, c);
    const b = runCaseModel(built, c);
    const bad = a.outputs.findIndex((t, i) => b.outputs[i] === undefined || bits(t) !== bits(b.outputs[i]!) || bits(getMask(t)) !== bits(getMask(b.outputs[i]!)));
    if (a.outputs.length !== b.outputs.length) {
      different++;
      console.log(`DIFFERENT ${c.name}: ${a.outputs.length} outputs from the file, ${b.outputs.length} from the config`);
    } else if (bad >= 0) {
      different++;
      console.log(`DIFFERENT ${c.name}: output ${bad} (or its mask) differs between the file and the config`);
    } else {
      same++;
    }
    tf.dispose([...a.outputs, ...a.inputs, ...b.outputs, ...b.inputs]);
  } catch (e) {
    failed++;
    console.log(`FAILED ${c.name}: ${(e as Error).message.slice(0, 400)}`);
  } finally {
    loaded?.dispose();
    built?.dispose();
  }
}
console.log(`${same} files give the config's model bit for bit, ${different} differ, ${failed} failed to load or run`);
