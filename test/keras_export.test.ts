// Masque -> Keras config -> Masque gives the same model: every shipped model
// case whose layers Masque has passes again when its config is replaced by
// the one Masque exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasqueError, setWarningHandler } from '../src/index.js';
import { exportModel } from '../src/io/keras_export.js';
import { loadCase } from './conformance/cases.js';
import { buildCaseModel, runCase } from './conformance/runner.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1', import.meta.url));

test('exported Keras configs rebuild the same models', async () => {
  const restore = setWarningHandler(() => {});
  let checked = 0;
  try {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json') && x !== 'index.json')) {
      const c = loadCase(join(dir, f));
      if (c['kind'] !== 'model' || c['call_error_type'] !== undefined) continue;
      let exported: unknown;
      try {
        const m = buildCaseModel(c, 'warn');
        exported = JSON.parse(JSON.stringify(exportModel(m)));
        m.dispose();
      } catch (e) {
        if (e instanceof MasqueError && e.code === 'UNKNOWN_LAYER_CLASS') continue;
        throw e;
      }
      const { loss: _loss, ...rest } = c;
      const r = await runCase({ ...rest, config: exported });
      assert.equal(r.status, 'pass', `${f}: ${r.message}`);
      checked++;
    }
  } finally {
    setWarningHandler(restore);
  }
  assert.ok(checked >= 10, `checked ${checked} cases`);
});
