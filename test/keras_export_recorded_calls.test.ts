// Keras's own configs of the golden cases (keras-3.15.1 and the issue-14
// cases of keras-3.15.1-more), imported into Masque and exported again,
// give Keras's structure back: the same
// entries in the same order, the same recorded calls (the `mask` and
// `training=False` arguments Keras wrote), the same op nodes and build
// configs (test/keras_config_structure.ts), a key given to an attention
// layer as a keyword given so again. One difference is Masque's on purpose
// and is normalized away: Masque lists a model's outputs flat (Keras nests
// an RNN's states per cell; it reads both the same way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Input, Embedding, LSTM, Dense, Dropout, TimeDistributed, Model, modelFromKerasConfig, modelToKerasConfig, setWarningHandler, type SymbolicTensor } from '../src/index.js';
import { caseFileNames, loadCase } from './conformance/cases.js';
import { structure } from './keras_config_structure.js';
import { NotEqual } from '../src/layers/ops/comparison.js';

type Obj = Record<string, unknown>;
const dirs = ['keras-3.15.1', 'keras-3.15.1-more', 'keras-3.15.1-seqshape'].map((d) => fileURLToPath(new URL(`./fixtures/${d}`, import.meta.url)));

/** Flat output_layers (Masque's outputs are flat). */
function normalized(config: unknown): unknown {
  const c = structuredClone(config) as { config: Obj };
  const flat = (v: unknown): unknown[] => (Array.isArray(v) && typeof v[0] === 'string' ? [v] : Array.isArray(v) ? v.flatMap(flat) : [v]);
  if (Array.isArray(c.config['output_layers']) && typeof c.config['output_layers'][0] !== 'string') c.config['output_layers'] = flat(c.config['output_layers']);
  return c;
}

test('Keras configs of the golden cases export again with the calls, masks and ops Keras recorded', () => {
  const restore = setWarningHandler(() => {});
  let functional = 0;
  try {
    for (const f of dirs.flatMap((d) => caseFileNames(d).map((x) => join(d, x)))) {
      const c = loadCase(f);
      if (c['kind'] !== undefined && c['kind'] !== 'model') continue;
      const config = c['config'] as { class_name?: string } | undefined;
      if (config === undefined || c['call_error_type'] !== undefined) continue;
      const model = modelFromKerasConfig(config, undefined, { maskPolicy: 'ignore' });
      const ours = normalized(structure(modelToKerasConfig(model)));
      model.dispose();
      assert.deepEqual(ours, normalized(structure(config)), f);
      if (config.class_name === 'Functional') functional++;
    }
  } finally {
    setWarningHandler(restore);
  }
  assert.ok(functional >= 60, `found only ${functional} functional cases`);
});

test('training=False is recorded where Keras recorded it, and not for a mask the user gives', () => {
  const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
  const e = new Embedding({ inputDim: 5, outputDim: 3, maskZero: true, name: 'embedding' }).apply(ids) as SymbolicTensor;
  const seq = new LSTM({ units: 2, returnSequences: true, name: 'implicit' }).apply(e) as SymbolicTensor;
  const given = new NotEqual({ name: 'given_mask' }).apply([ids, 0] as never) as SymbolicTensor;
  const out = new LSTM({ units: 2, name: 'explicit' }).apply(seq, { mask: given }) as SymbolicTensor;
  const model = new Model({ inputs: ids, outputs: out });
  const kwargsOf = (cfg: unknown, name: string): string[] =>
    Object.keys(((cfg as { config: { layers: Obj[] } }).config.layers.find((l) => (l['config'] as Obj)['name'] === name)!['inbound_nodes'] as { kwargs: Obj }[])[0]!.kwargs);
  const exported = modelToKerasConfig(model);
  // Keras fills the mask itself and records training=False with it; a mask the user gives is recorded alone.
  assert.deepEqual(kwargsOf(exported, 'implicit'), ['training', 'mask']);
  assert.deepEqual(kwargsOf(exported, 'explicit'), ['mask']);
  // Imported (Masque's import drops training=False from the call) and exported again: the same calls.
  const back = modelFromKerasConfig(exported);
  const again = modelToKerasConfig(back);
  assert.deepEqual(kwargsOf(again, 'implicit'), ['training', 'mask']);
  assert.deepEqual(kwargsOf(again, 'explicit'), ['mask']);
  model.dispose();
  back.dispose();
});

test('a layer Keras builds at init has no build config inside TimeDistributed either', () => {
  const x = Input({ shape: [null, 3], name: 'x' });
  const d = new TimeDistributed({ layer: new Dropout({ rate: 0.5, name: 'dropout' }), name: 'td_dropout' }).apply(x) as SymbolicTensor;
  const y = new TimeDistributed({ layer: new Dense({ units: 2, name: 'dense' }), name: 'td_dense' }).apply(d) as SymbolicTensor;
  const model = new Model({ inputs: x, outputs: y });
  const inner = (name: string): Obj =>
    ((modelToKerasConfig(model) as { config: { layers: Obj[] } }).config.layers.find((l) => (l['config'] as Obj)['name'] === name)!['config'] as Obj)['layer'] as Obj;
  assert.equal(inner('td_dropout')['build_config'], undefined);
  assert.deepEqual(inner('td_dense')['build_config'], { input_shape: [null, 3] });
  model.dispose();
});
