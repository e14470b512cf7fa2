// Departures 7 (unroll ignores zero_output_for_mask) and 8 (LayerNormalization
// variance) in the conformance runner: cases with such a layer are checked
// layer by layer, the flagged layers against float64 references
// (test/conformance/reference64.ts). Fixtures: the fuzz repro cases (a copy
// of ../shared/conformance/keras-3.15.1-fuzz-repro) and
// keras-3.15.1-float64, made by
//   /work/oracle/py /work/oracle/tools/gen_float64_cases.py --out <dir>
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, attachMask, getMask } from '../src/index.js';
import { caseFileNames, compare, decodeNumbers, loadCase, type Case, type CaseArray } from './conformance/cases.js';
import { buildCaseModel, runCase, runConformance } from './conformance/runner.js';
import { departures } from './conformance/departures.js';
import { checkFloat64Departures, departureOf, reference64 } from './conformance/departures_float64.js';
import { checkLayerByLayer } from './conformance/layerwise.js';
import { activation, erf } from './conformance/reference64.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const repro = (name: string): Case => loadCase(join(fixtures, 'keras-3.15.1-fuzz-repro', `${name}.json`));
const caseFiles = (folder: string): string[] => caseFileNames(join(fixtures, folder));
const departureId = (c: Case): string | undefined => departures.find((d) => d.appliesTo(c))?.id;

/** Layers of `c` that fall under departure 7 or 8. */
const flagged = (c: Case): string[] =>
  (c['config']['config']['layers'] as { class_name: string; config: Case }[]).filter((l) => departureOf(l) !== null).map((l) => String(l.config['name']));

/** A tensor holding `a`, with the mask of `like` (so only the values differ from Masque's). */
function keeping(like: tf.Tensor, a: CaseArray): tf.Tensor {
  const t = tf.tensor(Array.from(decodeNumbers(a)), a.shape, 'float32');
  const m = getMask(like);
  if (m !== null) attachMask(t, tf.clone(m));
  return t;
}

test('the repro cases of departures 7 and 8 pass through the runner, routed to their departures', async () => {
  const results = await runConformance(join(fixtures, 'keras-3.15.1-fuzz-repro'));
  console.log(results.map((r) => `${r.status} ${r.name} ${r.message}`).join('\n'));
  for (const [name, id] of [
    ['repro_unroll_zero_output_for_mask', 'unroll-zero-output-for-mask'],
    ['repro_layernorm_low_variance', 'layernorm-variance'],
    // A multi-axis LayerNormalization on a row of two adjacent float32 values: x - mean is a fraction of an ulp.
    ['repro_layernorm_multi_axis_constant_row', 'layernorm-variance'],
    // Masking(0.0) after departure 7's zeros: the model's output mask differs from Keras's by that departure.
    ['repro_unroll_zero_output_then_masking', 'unroll-zero-output-for-mask'],
  ] as const) {
    assert.equal(departureId(repro(name)), id);
    const r = results.find((x) => x.name === name);
    assert.equal(r?.status, 'pass', `${name}: ${r?.message}`);
  }
});

test('the check fails when Masque reproduces Keras defect at a flagged layer', async () => {
  const cases = [
    repro('repro_unroll_zero_output_for_mask'),
    repro('repro_layernorm_low_variance'),
    repro('repro_layernorm_multi_axis_constant_row'),
    repro('repro_unroll_zero_output_then_masking'),
  ];
  for (const f of caseFiles('keras-3.15.1-float64').filter((n) => n.startsWith('f64_unroll_') || n.startsWith('f64_ln_flat') || n.startsWith('f64_ln_time'))) {
    cases.push(loadCase(join(fixtures, 'keras-3.15.1-float64', f)));
  }
  for (const c of cases) {
    const names = flagged(c);
    assert.ok(names.length > 0, String(c['name']));
    const r = checkFloat64Departures(c, { substitute: (layer, outs, keras) => (names.includes(layer) ? outs.map((o, i) => keeping(o, keras[i]!)) : outs) });
    assert.equal(r.status, 'fail', `${String(c['name'])}: Keras's own numbers should fail the float64 check`);
    assert.match(r.message, /float64 reference, departure [78]/);
  }
});

test("the repro cases' hand references pass the float64 check in place of Masque's outputs", () => {
  for (const name of ['repro_unroll_zero_output_for_mask', 'repro_layernorm_low_variance']) {
    const c = repro(name);
    const hand = (c['hand_reference'] as Case)['outputs'] as CaseArray[];
    const layer = flagged(c)[0]!;
    const r = checkFloat64Departures(c, { substitute: (l, outs) => (l === layer ? outs.map((o, i) => keeping(o, hand[i]!)) : outs) });
    assert.equal(r.status, 'pass', `${name}: ${r.message}`);
  }
});

test('the float64 references match Keras wherever Keras is right (every RNN, Bidirectional and LayerNormalization layer)', () => {
  // Keras's outputs stand in for Masque's at every layer except the defective ones, so the references are compared with Keras.
  let layers = 0;
  for (const folder of ['keras-3.15.1', 'keras-3.15.1-float64']) {
    for (const f of caseFiles(folder)) {
      const c = loadCase(join(fixtures, folder, f));
      if (c['kind'] !== 'model' || c['call_kwargs'] !== undefined || c['call_error_type'] !== undefined || String(c['name']).startsWith('nonmasking_')) continue;
      if (!/"class_name":"(SimpleRNN|LSTM|GRU|Bidirectional|LayerNormalization)"/.test(JSON.stringify(c['config']))) continue;
      const defective = flagged(c).filter((l) => isDefective(c, l));
      const r = checkLayerByLayer(c, {
        substitute: (l, outs, keras) => (defective.includes(l) ? outs : outs.map((o, i) => keeping(o, keras[i]!))),
        reference: (l, call) => {
          const ref = reference64(c, l, call, true);
          if (ref !== null && !defective.includes(l)) layers++;
          return ref;
        },
      });
      assert.equal(r.status, 'pass', `${folder}/${f}: ${r.message}`);
    }
  }
  assert.ok(layers >= 130, `only ${layers} layers compared`);
});

/** Keras's numbers are wrong at this flagged layer (departure 7 layers; departure 8 only on the flat-row fixtures). */
function isDefective(c: Case, layer: string): boolean {
  const l = (c['config']['config']['layers'] as { class_name: string; config: Case }[]).find((x) => x.config['name'] === layer)!;
  return departureOf(l) === 'unroll' || /flat/.test(String(c['name']));
}

test('the float64 fixture set passes through the runner; defective layers are routed to departures 7 and 8', async () => {
  const dir = join(fixtures, 'keras-3.15.1-float64');
  const results = await runConformance(dir);
  const bad = results.filter((r) => r.status !== 'pass').map((r) => `${r.status} ${r.name}: ${r.message}`);
  assert.deepEqual(bad, []);
  for (const f of caseFiles('keras-3.15.1-float64')) {
    const c = loadCase(join(dir, f));
    const want = f.startsWith('f64_unroll_') ? 'unroll-zero-output-for-mask' : f.startsWith('f64_ln_') ? 'layernorm-variance' : undefined;
    assert.equal(departureId(c), want, f);
  }
  assert.equal((await runCase(loadCase(join(dir, 'f64_unroll_lstm_sequences.json')))).message, "float64 at 'lstm_2'");
});

test('float64 activations follow Keras 3.15.1', () => {
  const row = (name: string, v: number[]) => {
    const r = Float64Array.from(v);
    activation(name)(r);
    return Array.from(r);
  };
  assert.deepEqual(row('hard_sigmoid', [-3, 0, 1.5, 3]), [0, 0.5, 0.75, 1]);
  assert.deepEqual(row('leaky_relu', [-1, 2]), [-0.2, 2]);
  assert.deepEqual(row('relu6', [-1, 7, 3]), [0, 6, 3]);
  assert.ok(Math.abs(erf(0.5) - 0.5204998778130465) < 1e-15 && Math.abs(erf(3) - 0.9999779095030014) < 1e-15 && Math.abs(erf(-4) + 0.9999999845827421) < 1e-15);
  const sm = row('softmax', [1, 2, 3]);
  assert.ok(Math.abs(sm.reduce((p, q) => p + q) - 1) < 1e-15);
  assert.throws(() => activation('mish'), /unknown activation/);
});

// Departure 22: Bidirectional(SimpleRNN(returnState), backwardLayer: LSTM) in Keras 3.15.1 returns
// [y, y_rev, h_fwd, h_bwd, c_bwd] when called, but a functional model has only 4 outputs (the
// forward layer's state structure, twice), so Keras drops the backward cell state. Masque returns 5.
test('departure 22: Bidirectional with different cells returns every state, as Keras called eagerly does', async () => {
  const c = repro('repro_bidirectional_states_simplernn_lstm');
  assert.equal(departureId(c), 'bidirectional-every-state');
  assert.deepEqual(flagged(c), ['bidirectional']);
  const r = await runCase(c);
  assert.equal(r.status, 'pass', r.message);
  assert.equal(r.message, "float64 at 'bidirectional'");

  // Keras's own eager call of the same layer: 5 tensors, the first 4 are the model's outputs.
  const eager = c['keras_eager_outputs'] as CaseArray[];
  assert.equal(eager.length, 5);
  assert.equal((c['outputs'] as CaseArray[]).length, 4);
  const model = buildCaseModel(c);
  try {
    tf.tidy(() => {
      const x = tf.tensor(Array.from(decodeNumbers((c['inputs'] as CaseArray[])[0]!)), (c['inputs'] as CaseArray[])[0]!.shape, 'float32');
      const masked = model.getLayer('masking').apply(x) as tf.Tensor;
      const outs = model.getLayer('bidirectional').apply(masked) as tf.Tensor[];
      assert.equal(outs.length, 5);
      outs.forEach((o, i) => {
        const d = compare(o, eager[i]!, 1e-5, `output ${i}`);
        assert.ok(d.ok, d.message);
      });
      assert.deepEqual(outs.map((o) => o.shape), eager.map((e) => e.shape));
    });
  } finally {
    model.dispose();
  }
});

test("departure 22: Keras's functional structure (4 outputs) fails the check", () => {
  const c = repro('repro_bidirectional_states_simplernn_lstm');
  const r = checkFloat64Departures(c, { substitute: (layer, outs, keras) => (layer === 'bidirectional' ? keras.map((k, i) => keeping(outs[i]!, k)) : outs) });
  assert.equal(r.status, 'fail');
  assert.match(r.message, /4 outputs, the float64 reference, departure 22: Bidirectional returns every state of both directions has 5/);
});

test("the float64 reference merges directions of different widths with Keras's broadcasting", async () => {
  // Bidirectional(GRU(4, unroll), backwardLayer: GRU(1), mergeMode 'sum'): [B, T, 4] + [B, T, 1].
  const c = repro('repro_bidirectional_merge_broadcast_units');
  assert.equal(departureId(c), 'unroll-zero-output-for-mask');
  const r = await runCase(c);
  assert.equal(r.status, 'pass', r.message);
  assert.equal(r.message, "float64 at 'bidirectional'");
  // The reference itself: finite, 4 wide, and equal to Keras where Keras is right (no masked step in row 0).
  const x = (c['layer_outputs'] as Case[]).find((e) => e['layer'] === 'masking')!;
  const t = tf.tensor(Array.from(decodeNumbers(x['outputs'][0])), x['outputs'][0].shape, 'float32');
  const m = tf.tensor(x['masks'][0].data.map(Number), x['masks'][0].shape, 'bool');
  attachMask(t, m);
  const ref = reference64(c, 'bidirectional', { inputs: [t], args: {} })!;
  tf.dispose([t, m]);
  const out = ref.outputs[0]!;
  assert.deepEqual(out.shape, [4, 5, 4]);
  assert.ok(out.data.every(Number.isFinite));
  const keras = decodeNumbers((c['layer_outputs'] as Case[]).find((e) => e['layer'] === 'bidirectional')!['outputs'][0]);
  for (let i = 0; i < 5 * 4; i++) assert.ok(Math.abs(out.data[i]! - keras[i]!) < 1e-5, `row 0, element ${i}: ${out.data[i]} vs ${keras[i]}`);
});

test("departure 7 reaches a downstream Masking(0.0): Masque masks the steps where Keras's unrolled loop repeated an output; the Masking layer itself matches Keras given Keras's inputs", () => {
  const c = repro('repro_unroll_zero_output_then_masking');
  // End to end, the output mask is Masque's own (zeros at the masked steps, so Masking masks them), not Keras's.
  const model = buildCaseModel(c);
  try {
    const ids = (c['inputs'] as CaseArray[])[0]!;
    const x = tf.tensor(Array.from(decodeNumbers(ids)), ids.shape, 'int32');
    const y = model.apply(x) as tf.Tensor;
    const got = Array.from(getMask(y)!.dataSync(), (v) => v !== 0);
    const want = Array.from(decodeNumbers((c['output_masks'] as CaseArray[])[0]!), (v) => v !== 0);
    const valid = Array.from(decodeNumbers(ids), (v) => v !== 0);
    // Keras keeps every step of rows with a valid step; Masque keeps exactly the valid steps.
    assert.deepEqual(got, valid);
    assert.ok(got.some((v, i) => v !== want[i]), "the case should tell Masque's mask from Keras's");
    tf.dispose([x, y]);
  } finally {
    model.dispose();
  }
  // Layer by layer, a Masking layer that made Keras's mask wrong would still fail.
  const r = checkLayerByLayer(c, {
    reference: (layer, call) => reference64(c, layer, call),
    substitute: (layer, outs) => (layer === 'masking' ? outs.map((o) => { const t = tf.clone(o); attachMask(t, tf.onesLike(getMask(o)!)); return t; }) : outs),
  });
  assert.equal(r.status, 'fail');
  assert.match(r.message, /layer 'masking' mask 0/);
});
