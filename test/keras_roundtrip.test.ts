// Every Keras model, both ways (test/fixtures/keras-roundtrip, see its README):
// - the .keras files Masque writes today are the fixture files, byte for
//   byte in config and weights, and real Keras 3.15.1 loaded those files
//   (each in a fresh process) with Masque's outputs, masks, layer order and
//   weights;
// - Keras's own files of the same architectures load in Masque with Keras's
//   layer order, weights, outputs and masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, getMask, loadModelFromBytes, saveModelToBytes, setWarningHandler, type Model } from '../src/index.js';
import { readKerasArchive, type H5Tree } from '../src/io/keras_archive.js';
import { kerasSavedLayers } from '../src/io/keras_export.js';
import { compare, toTensor, type CaseArray } from './conformance/cases.js';
import { ROUND_TRIP_NAMES, buildRoundTripModel } from './keras_roundtrip_models.js';
import { structure } from './keras_config_structure.js';

const dir = fileURLToPath(new URL('./fixtures/keras-roundtrip', import.meta.url));
const TOL = 1e-5;

interface KerasRun {
  outputs: CaseArray[];
  output_masks: (CaseArray | null)[];
  layers: string[];
  weights: (CaseArray & { path: string })[];
}

/**
 * Cases where Masque departs from Keras on purpose (shared/conformance/README.md), so Keras's own file
 * gives other numbers in Masque for the outputs listed; the others must still be Keras's.
 */
const NATIVE_DEPARTURES: Record<string, { why: string; outputs: number[] }> = {
  // Departure 5: Keras passes no mask to an RNN called with initial states; Masque uses the input's mask.
  // (Masque's own file records the mask, so Keras computes Masque's numbers from it.)
  fn_initial_state: { why: 'an RNN called with initial states still uses its mask', outputs: [0, 1] },
  fn_rnn_cells_states: { why: 'an RNN(cell) called with initial states still uses its mask', outputs: [0] },
  // Departure 13: Keras's GroupNormalization takes its statistics over padded steps too.
  fn_layer_options: { why: 'GroupNormalization takes its statistics over valid steps', outputs: [3] },
};

/** Departures that Keras computes from Masque's own files too (the file cannot tell Keras to count valid steps only). */
const LOAD_DEPARTURES: Record<string, { why: string; outputs: number[] }> = {
  fn_layer_options: NATIVE_DEPARTURES['fn_layer_options']!,
};

const json = <T>(f: string): T => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
const bytes = (f: string): Uint8Array => new Uint8Array(readFileSync(join(dir, f)));

function inputsOf(name: string): tf.Tensor[] {
  return json<{ inputs: CaseArray[] }>(`${name}.inputs.json`).inputs.map(toTensor);
}

/** Runs `model` on the fixture inputs and checks Keras's outputs (1e-5) and masks (exactly), except the outputs in `skip`. */
function checkOutputs(model: Model, name: string, want: KerasRun, what: string, skip: number[] = []): void {
  const xs = inputsOf(name);
  const out = model.predict(xs.length === 1 ? xs[0]! : xs);
  const outs = Array.isArray(out) ? out : [out];
  assert.equal(outs.length, want.outputs.length, `${what}: number of outputs`);
  outs.forEach((t, i) => {
    if (skip.includes(i)) {
      // A departing output still equals Keras's on the row without padding (row 3 of the token ids).
      const w = want.outputs[i]!;
      const per = w.shape.slice(1).reduce((a, b) => a * b, 1);
      const row: CaseArray = { ...w, shape: [1, ...w.shape.slice(1)], data: w.data.slice(3 * per, 4 * per) };
      const r = tf.slice(t, 3, 1);
      const d = compare(r, row, TOL, `${what} output ${i}, the unpadded row`);
      r.dispose();
      assert.ok(d.ok, d.message);
      return;
    }
    const d = compare(t, want.outputs[i]!, TOL, `${what} output ${i}`);
    assert.ok(d.ok, d.message);
    const m = compare(getMask(t), want.output_masks[i] ?? null, 0, `${what} mask ${i}`);
    assert.ok(m.ok, m.message);
  });
  tf.dispose([...xs, ...outs]);
}

/**
 * Checks that `model` holds Keras's weights. Keras's paths of a reloaded
 * model leave out some enclosing layers (`forward_lstm/lstm_cell/kernel` for
 * `seq/bidi/forward_lstm/...`), so a Keras path matches the Masque path
 * that equals it, or else the first free one that ends with it (or that it ends with).
 */
function checkWeights(model: Model, want: KerasRun, what: string): void {
  const paths = model.weightPaths();
  assert.equal(paths.length, want.weights.length, `${what}: number of weights`);
  const free = new Set(paths.map((_, i) => i));
  for (const w of want.weights) {
    const fits = [...free].filter((i) => paths[i] === w.path || paths[i]!.endsWith(`/${w.path}`) || w.path.endsWith(`/${paths[i]}`));
    const exact = fits.filter((i) => paths[i] === w.path);
    // Keras's reloaded Bidirectional(RNN(cell)) names its forward cell's weights by the cell alone
    // (`bi_cell/kernel`, which also ends the backward cell's path): weights come in the same order
    // on both sides, so the first free one that fits is the one.
    const i = exact.length === 1 ? exact[0]! : fits.length >= 1 ? Math.min(...fits) : -1;
    assert.ok(i >= 0, `${what}: Keras's weight ${w.path} matches none of Masque's free weights (${paths.join(', ')})`);
    free.delete(i);
    const d = compare(model.weights[i]!.variable, w, 0, `${what} weight ${w.path}`);
    assert.ok(d.ok, d.message);
  }
}

function layerNames(model: Model): string[] {
  return model.layers.map((l) => l.name);
}

/** A weights tree as comparable plain data (groups sorted, arrays as lists). */
function plainTree(t: H5Tree): unknown {
  return {
    attrs: t.varsAttrs ?? null,
    vars: t.vars.map((v) => ({ shape: v.shape, dtype: v.dtype, data: Array.from(v.data as ArrayLike<number>) })),
    groups: Object.fromEntries(Object.keys(t.groups).sort().map((k) => [k, plainTree(t.groups[k]!)])),
  };
}

test('Masque writes the fixture files again: same config and weights', async () => {
  for (const name of ROUND_TRIP_NAMES) {
    const { model, inputs } = buildRoundTripModel(name);
    const ours = await readKerasArchive(await saveModelToBytes(model));
    const fixture = await readKerasArchive(bytes(`${name}.keras`));
    assert.deepEqual(ours.config, fixture.config, `${name}: config.json`);
    assert.deepEqual(plainTree(ours.weights), plainTree(fixture.weights), `${name}: model.weights.h5`);
    tf.dispose(inputs);
    model.dispose();
  }
});

/** Masque records a mask where Keras records none (departure 5), so there the configs are compared without op entries and mask arguments. */
const CONFIG_DEPARTURES = new Set(['fn_initial_state', 'fn_rnn_cells_states']);

function withoutMaskRecords(config: unknown): unknown {
  const c = structuredClone(config) as { config: { layers: Record<string, unknown>[] } };
  c.config.layers = c.config.layers.filter((e) => !String(e['module']).startsWith('keras.src.ops'));
  for (const e of c.config.layers) for (const n of (e['inbound_nodes'] as { kwargs: Record<string, unknown> }[]) ?? []) delete n.kwargs['mask'];
  return c;
}

test('Masque writes the configs Keras writes for the same models (op names aside)', async () => {
  for (const name of ROUND_TRIP_NAMES) {
    const ours = structure((await readKerasArchive(bytes(`${name}.keras`))).config);
    const keras = structure((await readKerasArchive(bytes(`${name}.native.keras`))).config);
    if (CONFIG_DEPARTURES.has(name)) assert.deepEqual(withoutMaskRecords(ours), withoutMaskRecords(keras), name);
    else assert.deepEqual(ours, keras, name);
  }
});

test('Keras loads Masque\'s files with Masque\'s outputs, masks, layer order and weights', () => {
  const restore = setWarningHandler(() => {});
  try {
    for (const name of ROUND_TRIP_NAMES) {
      const keras = json<KerasRun>(`${name}.keras_outputs.json`);
      const { model, inputs } = buildRoundTripModel(name);
      checkOutputs(model, name, keras, `${name} (Masque model vs Keras on Masque's file)`, LOAD_DEPARTURES[name]?.outputs);
      checkWeights(model, keras, name);
      // The order Keras gives the loaded layers is the order Masque named the weight groups in.
      const saved = kerasSavedLayers(model).map((l) => l.name);
      assert.deepEqual(saved, keras.layers, `${name}: Keras's model.layers`);
      tf.dispose(inputs);
      model.dispose();
    }
  } finally {
    setWarningHandler(restore);
  }
});

test('Masque loads its own files back with Keras\'s outputs and layer order', async () => {
  const restore = setWarningHandler(() => {});
  try {
    for (const name of ROUND_TRIP_NAMES) {
      const keras = json<KerasRun>(`${name}.keras_outputs.json`);
      const model = await loadModelFromBytes(bytes(`${name}.keras`));
      assert.deepEqual(layerNames(model), keras.layers, `${name}: layer order`);
      checkWeights(model, keras, `${name} (reloaded)`);
      checkOutputs(model, name, keras, `${name} (Masque's file reloaded)`, LOAD_DEPARTURES[name]?.outputs);
      model.dispose();
    }
  } finally {
    setWarningHandler(restore);
  }
});

test('Keras\'s own files of the same architectures load in Masque with Keras\'s layer order, weights, outputs and masks', async () => {
  const restore = setWarningHandler(() => {});
  try {
    for (const name of ROUND_TRIP_NAMES) {
      const keras = json<KerasRun>(`${name}.native_outputs.json`);
      const model = await loadModelFromBytes(bytes(`${name}.native.keras`));
      assert.deepEqual(layerNames(model), keras.layers, `${name}: layer order`);
      checkWeights(model, keras, `${name} (Keras's file)`);
      checkOutputs(model, name, keras, `${name} (Keras's file)`, NATIVE_DEPARTURES[name]?.outputs);
      model.dispose();
    }
  } finally {
    setWarningHandler(restore);
  }
});
