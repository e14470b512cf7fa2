// The conformance runner itself: malformed case files, and training-mode
// cases (call_kwargs {training: true}, weights_after_call,
// layer_outputs_training). The training fixtures were made by
//   /work/oracle/py /work/oracle/tools/gen_training_cases.py --out <dir>
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCase, type Case } from './conformance/cases.js';
import { runCase, runConformance, summarize } from './conformance/runner.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const training = (name: string): Case => loadCase(join(fixtures, 'keras-3.15.1-training', `${name}.json`));
const clone = (c: Case): Case => JSON.parse(JSON.stringify(c)) as Case;

test('a case file that does not parse, or whose tolerance is not a positive finite number, fails by name and the run goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'masque-conformance-'));
  try {
    const good = readFileSync(join(fixtures, 'keras-3.15.1', 'masking_mask_value_minus1.json'), 'utf8');
    writeFileSync(join(dir, 'a_good.json'), good);
    writeFileSync(join(dir, 'b_broken.json'), good.slice(0, 200));
    writeFileSync(join(dir, 'c_bad_tolerance.json'), JSON.stringify({ ...JSON.parse(good), name: 'c_bad_tolerance', tolerance: '1e-5' }));
    writeFileSync(join(dir, 'index.json'), '{ not read');
    const results = await runConformance(dir);
    assert.equal(summarize(results), '1 passed, 2 failed');
    const [a, b, c] = results;
    assert.equal(a!.status, 'pass');
    assert.equal(b!.name, 'b_broken');
    assert.match(b!.message, /cannot read case file b_broken\.json: .*JSON/);
    assert.equal(c!.name, 'c_bad_tolerance');
    assert.equal(c!.message, 'case file c_bad_tolerance.json: tolerance must be a positive finite number, received "1e-5"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runCase rejects a bad tolerance too (null, zero, negative, infinite)', async () => {
  const base = loadCase(join(fixtures, 'keras-3.15.1', 'masking_mask_value_minus1.json'));
  for (const tolerance of [null, 0, -1e-5, 'Infinity']) {
    const r = await runCase({ ...base, tolerance });
    assert.equal(r.status, 'fail');
    assert.equal(r.message, `case 'masking_mask_value_minus1': tolerance must be a positive finite number, received ${JSON.stringify(tolerance)}`);
  }
  const { tolerance: _t, ...noTolerance } = base;
  assert.equal((await runCase(noTolerance)).status, 'pass');
});

test('training-mode cases: outputs, weights_after_call and training-mode layer_outputs are compared', async () => {
  const results = await runConformance(join(fixtures, 'keras-3.15.1-training'));
  assert.deepEqual(results.map((r) => `${r.status} ${r.name} ${r.message}`.trim()), [
    'pass training_dropout0_noise0_lstm',
    'pass training_frozen_dense_functional',
    'pass training_frozen_lstm_sequential',
  ]);
  // weights_after_call is read by path (Functional paths, and Sequential paths with the model prefix).
  for (const [name, weight] of [['training_frozen_dense_functional', 'dense/kernel'], ['training_frozen_lstm_sequential', 'sequential/lstm/lstm_cell/bias']] as const) {
    const c = clone(training(name));
    const w = (c['weights_after_call'] as Case[]).find((x) => x['name'] === weight)!;
    w['data'][0] = Number(w['data'][0]) + 0.01;
    const r = await runCase(c);
    assert.equal(r.status, 'fail');
    assert.match(r.message, new RegExp(`weight '${weight}' after the call: max relative difference`));
    w['name'] = 'nowhere/kernel';
    assert.match((await runCase(c)).message, /weights_after_call: no weight 'nowhere\/kernel' in the model/);
  }
  // The layer outputs are compared in training mode.
  const c = clone(training('training_dropout0_noise0_lstm'));
  (c['layer_outputs'] as Case[]).find((e) => e['layer'] === 'lstm')!['outputs'][0]['data'][0] += 0.01;
  assert.match((await runCase(c)).message, /layer 'lstm' output 0: max relative difference/);
});

test('training: true reaches the layers (GaussianNoise(0.5) adds noise only in training mode)', async () => {
  const c = clone(training('training_dropout0_noise0_lstm'));
  const noise = (c['config']['config']['layers'] as Case[]).find((l) => l['class_name'] === 'GaussianNoise')!;
  noise['config']['stddev'] = 0.5;
  const r = await runCase(c);
  assert.equal(r.status, 'fail');
  assert.match(r.message, /output 0: max relative difference/);
  // The same model at inference (the case's outputs are those of the identity) passes.
  delete c['call_kwargs'];
  delete c['layer_outputs_training'];
  delete c['weights_after_call'];
  assert.equal((await runCase(c)).status, 'pass');
});

test('layer_outputs made at inference are not compared with a training-mode call', async () => {
  const c = clone(training('training_dropout0_noise0_lstm'));
  (c['layer_outputs'] as Case[]).find((e) => e['layer'] === 'lstm')!['outputs'][0]['data'][0] += 0.01;
  delete c['layer_outputs_training'];
  assert.equal((await runCase(c)).status, 'pass');
});
