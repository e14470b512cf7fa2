// Masque -> Keras config -> Masque gives the same model: every shipped model
// case whose layers Masque has passes again when its config is replaced by
// the one Masque exports.
import { asPyFloat } from '../src/engine/py_float.js';
import { pythonJsonDumps } from '../src/io/keras_archive.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasqueError, setWarningHandler } from '../src/index.js';
import { exportModel } from '../src/io/keras_export.js';
import { caseFileNames, loadCase } from './conformance/cases.js';
import { buildCaseModel, runCase } from './conformance/runner.js';

type Obj = Record<string, unknown>;
const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1', import.meta.url));

test('exported Keras configs rebuild the same models', async () => {
  const restore = setWarningHandler(() => {});
  let checked = 0;
  let modelCases = 0;
  try {
    for (const f of caseFileNames(dir)) {
      const c = loadCase(join(dir, f));
      if (c['kind'] !== 'model' || c['call_error_type'] !== undefined) continue;
      modelCases++;
      // Every layer class of the fixtures exists, so every model case must export.
      const m = buildCaseModel(c, 'warn');
      const exported: unknown = JSON.parse(JSON.stringify(exportModel(m)));
      m.dispose();
      const { loss: _loss, ...rest } = c;
      const r = await runCase({ ...rest, config: exported });
      assert.equal(r.status, 'pass', `${f}: ${r.message}`);
      checked++;
    }
  } finally {
    setWarningHandler(restore);
  }
  assert.ok(modelCases > 100, `found only ${modelCases} model cases`);
  assert.equal(checked, modelCases);
});

test('Keras operations and MultiHeadAttention export their calls as Keras records them', () => {
  const restore = setWarningHandler(() => {});
  const classes = new Set(['NotEqual', 'Equal', 'Any', 'All', 'MultiHeadAttention']);
  const seen = new Set<string>();
  try {
    for (const f of caseFileNames(dir)) {
      const c = loadCase(join(dir, f));
      if (c['kind'] !== 'model' || c['call_error_type'] !== undefined) continue;
      const kerasLayers = ((c['config'] as Obj)['config'] as Obj)['layers'] as Obj[] | undefined;
      const wanted = (kerasLayers ?? []).filter((l) => classes.has(String(l['class_name'])));
      if (wanted.length === 0) continue;
      const m = buildCaseModel(c, 'warn');
      const ours = ((exportModel(m) as Obj)['config'] as Obj)['layers'] as Obj[];
      m.dispose();
      for (const k of wanted) {
        const o = ours.find((l) => l['name'] === k['name'])!;
        // As Python reads the text: a float Keras wrote 0.0 must be written 0.0 (float marks and PyFloat both print so).
        const floats = (v: unknown): unknown => asPyFloat(v) ?? (Array.isArray(v) ? v.map(floats) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([a, b]) => [a, floats(b)])) : v);
        const args = (e: Obj) => pythonJsonDumps(floats((e['inbound_nodes'] as Obj[]).map((n) => n['args'])));
        assert.equal(args(o), args(k), `${f}: ${String(k['name'])} call arguments`);
        if (k['class_name'] !== 'MultiHeadAttention') {
          for (const key of ['module', 'class_name', 'registered_name', 'config']) assert.deepEqual(o[key], k[key], `${f}: ${String(k['name'])} ${key}`);
        }
        seen.add(String(k['class_name']));
      }
    }
  } finally {
    setWarningHandler(restore);
  }
  assert.ok(seen.has('NotEqual') && seen.has('Any') && seen.has('MultiHeadAttention'), `checked ${[...seen].join(', ')}`);
});
