// .keras files: the shipped Keras files load and give the cases' outputs;
// Masque's own files load back identically; damaged files give clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { tf, loadModel, loadModelFromBytes, MasqueError, getMask, Input, Embedding, Dense, Model, MultiHeadAttention, SymbolicTensor } from '../src/index.js';
import { readKerasArchive, type H5Tree } from '../src/io/keras_archive.js';
import { compare, loadCase, toTensor, type CaseArray } from './conformance/cases.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1', import.meta.url));
const kerasFiles = readdirSync(dir).filter((f) => f.endsWith('.keras'));

test('the six shipped .keras files load and give their cases\' outputs and masks', async () => {
  assert.equal(kerasFiles.length, 6);
  for (const f of kerasFiles) {
    const c = loadCase(join(dir, f.replace(/\.keras$/, '.json')));
    const model = await loadModel(join(dir, f));
    const xs = (c['inputs'] as CaseArray[]).map(toTensor);
    const out = model.apply(xs.length === 1 ? xs[0]! : xs, { training: false });
    const outs = Array.isArray(out) ? out : [out];
    (c['outputs'] as CaseArray[]).forEach((want, i) => {
      const d = compare(outs[i]!, want, 1e-5, `${f} output ${i}`);
      assert.ok(d.ok, d.message);
      const dm = compare(getMask(outs[i]!), (c['output_masks'] as (CaseArray | null)[])[i] ?? null, 0, `${f} mask ${i}`);
      assert.ok(dm.ok, dm.message);
    });
    tf.dispose([...xs, ...outs]);
    model.dispose();
  }
});

/** Every group of a weights file as 'path: [shape] [shape] (name attr)', sorted. */
function layout(tree: H5Tree, path = ''): string[] {
  const parts = [...tree.vars.map((v) => `[${v.shape}]`), ...(tree.varsAttrs ? [`(${String(tree.varsAttrs['name'])})`] : [])];
  const own = `${path || '/'}: ${parts.join(' ')}`;
  return [own, ...Object.entries(tree.groups).flatMap(([k, g]) => layout(g, `${path}/${k}`))].sort();
}

test('Masque writes the shipped models with exactly Keras\'s weights layout', async () => {
  for (const f of kerasFiles) {
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    const model = await loadModelFromBytes(bytes);
    const keras = layout((await readKerasArchive(bytes)).weights);
    const ours = layout((await readKerasArchive(await model.toKerasBytes())).weights);
    assert.deepEqual(ours, keras, f);
    model.dispose();
  }
});

test('a model saved by Masque loads back with the same weights, outputs and masks', async () => {
  const i = Input({ shape: [null], dtype: 'int32' });
  const model = new Model({ inputs: i, outputs: new Dense({ units: 2, name: 'head' }).apply(new Embedding({ inputDim: 7, outputDim: 3, maskZero: true }).apply(i)) });
  const path = join(mkdtempSync(join(tmpdir(), 'masque-')), 'm.keras');
  await model.save(path);
  const back = await loadModel(path);
  const x = tf.tensor2d([[1, 2, 0], [3, 0, 0]], undefined, 'int32');
  const a = model.predict(x) as tf.Tensor;
  const b = back.predict(x) as tf.Tensor;
  assert.deepEqual(a.arraySync(), b.arraySync());
  assert.deepEqual(getMask(a)!.arraySync(), getMask(b)!.arraySync());
  assert.deepEqual(back.weightPaths(), model.weightPaths());
  const fromBytes = await loadModelFromBytes((await model.toKerasBytes()).buffer as ArrayBuffer);
  assert.deepEqual((fromBytes.predict(x) as tf.Tensor).arraySync(), a.arraySync());
  await assert.rejects(model.save(join(tmpdir(), 'm.h5')), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT');
});

test('truncated, corrupt and missing .keras files give clear errors', async () => {
  const bytes = readFileSync(join(dir, 'embedding_mask_zero.keras'));
  const tmp = mkdtempSync(join(tmpdir(), 'masque-'));
  for (const cut of [0, 100, Math.floor(bytes.length / 2), bytes.length - 10]) {
    const p = join(tmp, `cut${cut}.keras`);
    writeFileSync(p, bytes.subarray(0, cut));
    await assert.rejects(loadModel(p), (e: unknown) => e instanceof MasqueError && ['CORRUPT_FILE', 'UNSUPPORTED_FILE'].includes(e.code), `cut at ${cut}`);
  }
  await assert.rejects(loadModel(join(tmp, 'nope.keras')), (e: unknown) => e instanceof MasqueError && e.code === 'CORRUPT_FILE' && e.message.includes('nope.keras'));
});

test('a gated MultiHeadAttention saves its gate where Keras does (_gate_dense) and loads back', async () => {
  const x = Input({ shape: [null, 4] });
  const mha = new MultiHeadAttention({ numHeads: 2, keyDim: 3, useGate: true, name: 'mha' });
  const model = new Model({ inputs: x, outputs: mha.apply([x, x]) as SymbolicTensor });
  const bytes = await model.toKerasBytes();
  const groups = layout((await readKerasArchive(bytes)).weights).filter((l) => l.startsWith('/layers/multi_head_attention'));
  assert.deepEqual(groups, [
    '/layers/multi_head_attention: (mha)',
    '/layers/multi_head_attention/_dropout_layer: (dropout)',
    '/layers/multi_head_attention/_gate_dense: [4,2,3] [2,3] (gate)',
    '/layers/multi_head_attention/_softmax: (softmax)',
    '/layers/multi_head_attention/key_dense: [4,2,3] [2,3] (key)',
    '/layers/multi_head_attention/output_dense: [2,3,4] [4] (attention_output)',
    '/layers/multi_head_attention/query_dense: [4,2,3] [2,3] (query)',
    '/layers/multi_head_attention/value_dense: [4,2,3] [2,3] (value)',
  ].sort());
  const back = await loadModelFromBytes(bytes);
  const input = tf.randomNormal([2, 3, 4]);
  assert.deepEqual((back.predict(input) as tf.Tensor).arraySync(), (model.predict(input) as tf.Tensor).arraySync());
  model.dispose();
  back.dispose();
});
