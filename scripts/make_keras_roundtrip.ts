// Writes the Masque side of the Keras round-trip fixtures: for each model of
// test/keras_roundtrip_models.ts, <name>.keras (saved by Masque) and
// <name>.inputs.json (the inputs, and Masque's outputs and masks for
// reference). scripts/keras_roundtrip_oracle.py then loads each file in Keras.
//   npx tsx scripts/make_keras_roundtrip.ts [OUT_DIR] [name ...]
// (OUT_DIR defaults to test/fixtures/keras-roundtrip; see its README.)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf, ready, getMask, setWarningHandler, saveModelToBytes } from '../src/index.js';
import { ROUND_TRIP_NAMES, buildRoundTripModel } from '../test/keras_roundtrip_models.js';

await ready();
setWarningHandler(() => {});
const [outArg, ...only] = process.argv.slice(2);
const out = outArg ?? 'test/fixtures/keras-roundtrip';
mkdirSync(out, { recursive: true });

const arr = (t: tf.Tensor) => ({
  shape: t.shape,
  dtype: t.dtype,
  data: Array.from(t.dataSync() as ArrayLike<number>, (v) => (t.dtype === 'bool' ? Boolean(v) : v)),
});

for (const name of ROUND_TRIP_NAMES) {
  if (only.length > 0 && !only.includes(name)) continue;
  const { about, model, inputs } = buildRoundTripModel(name);
  const y = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
  const ys = Array.isArray(y) ? y : [y];
  // Keras's metadata.json holds the save date; a fixed one keeps the fixture files reproducible.
  const bytes = await saveModelToBytes(model);
  writeFileSync(join(out, `${name}.keras`), bytes);
  writeFileSync(
    join(out, `${name}.inputs.json`),
    JSON.stringify({ name, about, inputs: inputs.map(arr), masque_outputs: ys.map(arr), masque_output_masks: ys.map((t) => (getMask(t) ? arr(getMask(t)!) : null)) }),
  );
  console.log(`${name}: ${ys.length} output(s)`);
  tf.dispose([...ys, ...inputs]);
  model.dispose();
}
