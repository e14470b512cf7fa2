import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { MasqueError } from '../errors.js';
import { readKerasArchive, writeKerasArchive, pythonJsonDumps, kerasDateSaved, type H5Tree } from './keras_archive.js';
import { containerGroupNames, getH5Group } from './h5_weights.js';
import { readZip, writeZip } from './zip.js';
import { readKerasFile, writeKerasFile } from './keras_file_node.js';

const FIXTURES = new URL('../../test/fixtures/keras-3.15.1/', import.meta.url);
const CASES = [
  'bidirectional_lstm_concat_sequences_post',
  'embedding_mask_zero',
  'lstm_post_padding_last_state',
  'masking_guide_tiled',
  'mha_self_attention_mask_zero',
  'stacked_embedding_lstm_lstm_dense',
];
type Obj = Record<string, any>;
const kerasBytes = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.keras`, FIXTURES)));
const caseJson = (name: string): Obj => JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8'));

/**
 * Sub-objects holding each layer class's variables, in `model.weights` order
 * (the h5 file lists groups alphabetically, so this order must come from here).
 */
const SUBPATHS: Record<string, string[]> = {
  InputLayer: [],
  Masking: [],
  Embedding: [''], // 0 = embeddings
  Dense: [''], // 0 = kernel, 1 = bias
  LSTM: ['cell'], // cell/vars 0 = kernel, 1 = recurrent_kernel, 2 = bias
  Bidirectional: ['forward_layer/cell', 'backward_layer/cell'],
  MultiHeadAttention: ['query_dense', 'key_dense', 'value_dense', 'output_dense'], // each 0 = kernel, 1 = bias
};

/** Layers as Keras's saving walks them: Sequential's `layers` leave out the InputLayer. */
function savedLayers(config: Obj): Obj[] {
  const layers: Obj[] = config.config.layers;
  return config.class_name === 'Sequential' ? layers.filter((l) => l.class_name !== 'InputLayer') : layers;
}

function stripShared(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripShared);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'shared_object_id').map(([k, x]) => [k, stripShared(x)]));
}

async function rejects(p: Promise<unknown>, code: string, ...parts: RegExp[]): Promise<MasqueError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MasqueError, `expected MasqueError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const re of parts) assert.match(err.message, re);
    return err;
  }
  assert.fail('expected a rejection');
}

/** Structure of an HDF5 file as jsfive (an independent pure-JS reader) sees it. */
async function jsfiveDump(h5: Uint8Array): Promise<Obj> {
  const mod = 'jsfive';
  const hdf5: any = await import(mod);
  const f = new hdf5.File(h5.buffer.slice(h5.byteOffset, h5.byteOffset + h5.byteLength), 'x.h5');
  const walk = (g: any): Obj => {
    const out: Obj = { attrs: { ...g.attrs }, children: {} };
    for (const k of [...g.keys].sort()) {
      const c = g.get(k);
      out.children[k] = c instanceof hdf5.Group
        ? walk(c)
        : { shape: c.shape, dtype: c.dtype, attrs: { ...c.attrs }, value: Array.from(c.value as ArrayLike<number>) };
    }
    return out;
  };
  return walk(f);
}

describe('readKerasArchive on the six Keras 3.15.1 files', () => {
  for (const name of CASES) {
    test(name, async () => {
      const want = caseJson(name);
      const a = await readKerasArchive(kerasBytes(name));
      // config.json is model.to_json() plus `shared_object_id` on objects used more than once.
      assert.deepEqual(stripShared(a.config), want.config);
      assert.equal(a.metadata['keras_version'], '3.15.1');
      assert.match(String(a.metadata['date_saved']), /^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
      assert.equal(a.otherFiles, undefined);
      // Root: the model's own (empty) vars group, named after the model.
      assert.deepEqual(a.weights.varsAttrs, { name: want.config.config.name });
      assert.deepEqual(a.weights.vars, []);
      const layers = savedLayers(want.config);
      const groups = containerGroupNames(layers.map((l) => l.class_name));
      const layersTree = a.weights.groups['layers']!;
      assert.deepEqual(Object.keys(layersTree.groups).sort(), [...groups].sort());
      const flat: { name: string[]; shape: number[]; data: Float32Array }[] = [];
      layers.forEach((layer, i) => {
        const g = layersTree.groups[groups[i]!]!;
        assert.deepEqual(g.varsAttrs, { name: layer.config.name }, `layers/${groups[i]} vars name`);
        const subs = SUBPATHS[layer.class_name];
        assert.ok(subs, `no SUBPATHS entry for ${layer.class_name}`);
        if (subs.length === 0) assert.deepEqual(g, { groups: {}, vars: [], varsAttrs: { name: layer.config.name } });
        for (const sub of subs) {
          const chain = [g];
          let t: H5Tree = g;
          for (const part of sub.split('/').filter(Boolean)) chain.push((t = t.groups[part]!));
          const names = chain.map((c) => String(c.varsAttrs!['name']));
          for (const v of t.vars) {
            assert.equal(v.dtype, 'float32');
            flat.push({ name: names, shape: v.shape, data: v.data as Float32Array });
          }
        }
      });
      assert.equal(flat.length, want.weights.length);
      flat.forEach((got, i) => {
        const w = want.weights[i];
        // The Keras weight path is made of the same object names: "sequential/lstm/lstm_cell/kernel".
        const path = String(w.name).split('/');
        for (const n of got.name) assert.ok(path.includes(n), `${w.name} should contain ${n}`);
        assert.deepEqual(got.shape, w.shape, w.name);
        assert.deepEqual(Array.from(got.data), Array.from(Float32Array.from(w.data)), w.name);
      });
    });
  }
});

describe('writeKerasArchive', () => {
  for (const name of CASES) {
    test(`round trip of ${name}: Masque and jsfive read what Keras wrote`, async () => {
      const original = kerasBytes(name);
      const a = await readKerasArchive(original);
      const written = await writeKerasArchive(a);
      // Zip: same members in the same order, stored uncompressed.
      const infos: { name: string; compression: number }[] = [];
      const files = unzipSync(written, { filter: (f) => (infos.push({ name: f.name, compression: f.compression }), true) });
      assert.deepEqual(infos, [
        { name: 'metadata.json', compression: 0 },
        { name: 'config.json', compression: 0 },
        { name: 'model.weights.h5', compression: 0 },
      ]);
      const orig = unzipSync(original);
      assert.deepEqual(files['metadata.json'], orig['metadata.json']);
      // Same JSON text, except that integral floats ("0.0") come back as ints ("0") after JSON.parse.
      const dec = (b: Uint8Array) => new TextDecoder().decode(b).replace(/(\d)\.0(?=[,}\]])/g, '$1');
      assert.equal(dec(files['config.json']!), dec(orig['config.json']!));
      // Masque reads its own file back identically.
      const back = await readKerasArchive(written);
      assert.deepEqual(back, a);
      // An independent reader sees the same groups, attributes, datasets and values as in Keras's file.
      const h5 = files['model.weights.h5']!;
      assert.deepEqual(await jsfiveDump(h5), await jsfiveDump(orig['model.weights.h5']!));
      assert.equal(h5[8], orig['model.weights.h5']![8], 'HDF5 superblock version');
    });
  }

  test('default metadata and otherFiles', async () => {
    const w = await writeKerasArchive({ config: { a: 'é' }, weights: { groups: {}, vars: [], varsAttrs: { name: 'm' } }, otherFiles: { 'assets/x.txt': new Uint8Array([1, 2]) } });
    const a = await readKerasArchive(w);
    assert.equal(a.metadata['keras_version'], '3.15.1');
    assert.match(String(a.metadata['date_saved']), /^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
    assert.deepEqual(a.config, { a: 'é' });
    assert.deepEqual(a.otherFiles, { 'assets/x.txt': new Uint8Array([1, 2]) });
    assert.equal(new TextDecoder().decode(readZip(w).get('config.json')), '{"a": "\\u00e9"}');
  });

  test('pythonJsonDumps matches json.dumps spacing and escapes; kerasDateSaved format', () => {
    assert.equal(pythonJsonDumps({ a: [1, 2.5, null, true], b: { c: 'x\n"' }, d: [] }), '{"a": [1, 2.5, null, true], "b": {"c": "x\\n\\""}, "d": []}');
    assert.equal(pythonJsonDumps('\u007f😀'), '"\\u007f\\ud83d\\ude00"');
    assert.equal(kerasDateSaved(new Date(2024, 0, 2, 3, 4, 5)), '2024-01-02@03:04:05');
  });

  test('readKerasFile / writeKerasFile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'masque-keras-'));
    try {
      const a = await readKerasFile(new URL('embedding_mask_zero.keras', FIXTURES).pathname);
      const p = join(dir, 'm.keras');
      await writeKerasFile(p, a);
      assert.deepEqual(await readKerasFile(p), a);
      await assert.rejects(writeKerasFile(join(dir, 'm.zip'), a), (e: MasqueError) => e.code === 'INVALID_ARGUMENT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readKerasArchive errors', () => {
  const real = kerasBytes('lstm_post_padding_last_state');
  const enc = new TextEncoder();
  const h5 = unzipSync(real)['model.weights.h5']!;

  test('not a zip', async () => {
    await rejects(readKerasArchive(new Uint8Array(0)), 'CORRUPT_FILE', /\.keras file/, /ZIP archive/, /empty file/);
    await rejects(readKerasArchive(enc.encode('hello world')), 'CORRUPT_FILE', /expected a ZIP archive/, /68 65 6c 6c/);
    await rejects(readKerasArchive(h5), 'CORRUPT_FILE', /ZIP archive/, /89 48 44 46/);
  });

  test('zip truncated at many offsets', async () => {
    for (const cut of [2, 4, 30, 100, 1000, 5000, real.length >> 1, real.length - 200, real.length - 22, real.length - 1]) {
      await rejects(readKerasArchive(real.slice(0, cut)), 'CORRUPT_FILE', /\.keras file/, /expected/, /received/);
    }
  });

  test('damaged member fails its CRC', async () => {
    const bad = real.slice();
    const at = bad.length >> 1; // inside model.weights.h5
    bad[at] = bad[at]! ^ 0xff;
    await rejects(readKerasArchive(bad), 'CORRUPT_FILE', /model\.weights\.h5/, /CRC-32/);
  });

  test('missing members', async () => {
    const meta = enc.encode('{}');
    await rejects(readKerasArchive(writeZip([{ name: 'metadata.json', data: meta }, { name: 'model.weights.h5', data: h5 }])), 'CORRUPT_FILE', /"config\.json"/, /"metadata\.json", "model\.weights\.h5"/);
    await rejects(readKerasArchive(writeZip([{ name: 'config.json', data: meta }])), 'CORRUPT_FILE', /"model\.weights\.h5"/, /"config\.json"/);
    await rejects(readKerasArchive(writeZip([{ name: 'config.json', data: meta }, { name: 'model.weights.npz', data: meta }])), 'UNSUPPORTED_FILE', /npz/);
  });

  test('config.json or metadata.json not valid JSON', async () => {
    await rejects(readKerasArchive(writeZip([{ name: 'config.json', data: enc.encode('{"a": ') }, { name: 'model.weights.h5', data: h5 }])), 'CORRUPT_FILE', /"config\.json"/, /valid JSON/, /\{\\"a\\": /);
    await rejects(readKerasArchive(writeZip([{ name: 'config.json', data: new Uint8Array([0xff, 0xfe]) }, { name: 'model.weights.h5', data: h5 }])), 'CORRUPT_FILE', /UTF-8/);
    await rejects(readKerasArchive(writeZip([{ name: 'metadata.json', data: enc.encode('[1]') }, { name: 'config.json', data: enc.encode('{}') }, { name: 'model.weights.h5', data: h5 }])), 'CORRUPT_FILE', /"metadata\.json"/, /JSON object/);
  });

  test('model.weights.h5 not HDF5 or truncated', async () => {
    const zipWith = (w: Uint8Array) => writeZip([{ name: 'config.json', data: enc.encode('{}') }, { name: 'model.weights.h5', data: w }]);
    await rejects(readKerasArchive(zipWith(enc.encode('not hdf5 at all'))), 'CORRUPT_FILE', /model\.weights\.h5/, /HDF5/, /6e 6f 74 20/);
    for (const cut of [8, 100, 1000, 4000, h5.length - 100, h5.length - 1]) {
      await rejects(readKerasArchive(zipWith(h5.slice(0, cut))), 'CORRUPT_FILE', /model\.weights\.h5/, /expected a (complete|readable) HDF5 file/, new RegExp(`${cut} bytes|fails`));
    }
  });

  test('getH5Group walks paths', async () => {
    const a = await readKerasArchive(real);
    assert.equal(getH5Group(a.weights, 'layers/lstm/cell')!.vars.length, 3);
    assert.equal(getH5Group(a.weights, 'layers/nope'), undefined);
  });
});
