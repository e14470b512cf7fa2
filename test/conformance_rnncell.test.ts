// Runs the conformance runner on the recurrent-cell cases: the `rnncell_*`
// files of ../shared/conformance/keras-3.15.1-more (RNN over SimpleRNNCell,
// LSTMCell, GRUCell, StackedRNNCells; copied to fixtures/keras-3.15.1-more)
// and the custom-cell cases made by scripts/gen_rnncell_custom.py
// (fixtures/keras-3.15.1-rnncell-custom). No case may fail or be skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { registerKerasLayers } from '../src/index.js';
import { MinimalRNNCell, PeepholeLSTMCell, ProjectedRNNCell } from '../examples/custom_cells.js';
import { checkModelCase, runConformance, summarize } from './conformance/runner.js';
import { loadCase } from './conformance/cases.js';

const more = fileURLToPath(new URL('./fixtures/keras-3.15.1-more', import.meta.url));
const custom = fileURLToPath(new URL('./fixtures/keras-3.15.1-rnncell-custom', import.meta.url));

async function expectAllPass(dir: string, only: string[] | undefined, count: number): Promise<void> {
  const results = await runConformance(dir, only ? { only } : {});
  const bad = results.filter((r) => r.status !== 'pass').map((r) => `${r.status.toUpperCase()} ${r.name}: ${r.message}`);
  console.log(summarize(results));
  assert.equal(results.length, count);
  assert.deepEqual(bad, []);
}

test('Keras 3.15.1 RNN(cell) cases (built-in cells, stacks, Bidirectional): 0 failed, 0 skipped', async () => {
  await expectAllPass(more, ['rnncell_'], 47);
});

test('Keras 3.15.1 RNN over custom cells (alone, stacked with built-in cells, in Bidirectional): 0 failed, 0 skipped', async () => {
  await expectAllPass(custom, undefined, 26);
});

test('the custom-cell cases also load from their Keras configs once the cells are registered', () => {
  registerKerasLayers({
    MinimalRNNCell: { create: (c) => new MinimalRNNCell({ units: c['units'] as number, name: c['name'] as string }) },
    PeepholeLSTMCell: { create: (c) => new PeepholeLSTMCell({ units: c['units'] as number, name: c['name'] as string }) },
    ProjectedRNNCell: { create: (c) => new ProjectedRNNCell({ units: c['units'] as number, outputUnits: c['outputUnits'] as number, name: c['name'] as string }) },
  });
  const files = readdirSync(custom).filter((f) => f.startsWith('rnncell_') && f.endsWith('.json'));
  assert.equal(files.length, 26);
  for (const f of files) {
    const c = loadCase(join(custom, f));
    const r = checkModelCase({ ...c, kind: 'model' });
    assert.equal(r.status, 'pass', `${f}: ${r.message}`);
  }
});
