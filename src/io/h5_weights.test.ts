import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import h5wasm from 'h5wasm';
import { MasqueError } from '../errors.js';
import { readWeightsH5, writeWeightsH5, containerGroupNames, type H5Tree } from './h5_weights.js';
import { toSnakeCase } from '../names.js';

function sample(): H5Tree {
  return {
    groups: {
      layers: {
        groups: {
          masking: { groups: {}, vars: [], varsAttrs: { name: 'masking' } },
          lstm: {
            groups: {
              cell: {
                groups: {},
                varsAttrs: { name: 'lstm_cell' },
                vars: [
                  { shape: [2, 3], dtype: 'float32', data: new Float32Array([1.5, -2, 3e-8, NaN, Infinity, -0]) },
                  { shape: [], dtype: 'int64', data: new BigInt64Array([-(2n ** 40n)]) },
                  { shape: [0, 3], dtype: 'float32', data: new Float32Array(0) },
                ],
              },
            },
            vars: [],
            varsAttrs: { name: 'lstm_é' },
          },
        },
        vars: [],
      },
      optimizer: {
        groups: {},
        varsAttrs: { name: 'adam' },
        vars: [
          { shape: [2], dtype: 'float64', data: new Float64Array([0.1, 1e300]) },
          { shape: [3], dtype: 'int32', data: new Int32Array([1, -2, 2147483647]) },
          { shape: [1], dtype: 'int8', data: new Int8Array([-128]) },
          { shape: [1], dtype: 'int16', data: new Int16Array([-300]) },
          { shape: [2], dtype: 'uint8', data: new Uint8Array([0, 255]) },
          { shape: [1], dtype: 'uint16', data: new Uint16Array([65535]) },
          { shape: [1], dtype: 'uint32', data: new Uint32Array([4294967295]) },
          { shape: [1], dtype: 'uint64', data: new BigUint64Array([2n ** 63n]) },
        ],
      },
    },
    vars: [],
    varsAttrs: { name: 'sequential' },
  };
}

async function fsFiles(): Promise<string[]> {
  const { FS } = await h5wasm.ready;
  return FS.readdir('/').filter((f: string) => f.startsWith('masque_'));
}

async function rejects(p: Promise<unknown>, code: string, ...parts: RegExp[]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MasqueError, String(err));
    assert.equal(err.code, code, err.message);
    for (const re of parts) assert.match(err.message, re);
    return true;
  });
}

/** Builds an HDF5 file directly with h5wasm (for layouts Masque never writes). */
async function rawH5(build: (f: InstanceType<typeof h5wasm.File>) => void): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  const f = new h5wasm.File('/raw_test.h5', 'w');
  build(f);
  f.close();
  const bytes = FS.readFile('/raw_test.h5');
  FS.unlink('/raw_test.h5');
  return bytes;
}

describe('writeWeightsH5 / readWeightsH5', () => {
  test('round trip of every dtype, scalars, empty arrays and empty vars groups', async () => {
    const bytes = await writeWeightsH5(sample());
    assert.deepEqual(Array.from(bytes.subarray(0, 9)), [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0], 'HDF5 superblock v0, like h5py');
    const back = await readWeightsH5(bytes);
    assert.deepEqual(back, sample());
    assert.ok(Object.is((back.groups['layers']!.groups['lstm']!.groups['cell']!.vars[0]!.data as Float32Array)[5], -0));
    // A group without vars and attributes gets no `vars` group.
    assert.equal('varsAttrs' in back.groups['layers']!, false);
    assert.deepEqual(await fsFiles(), []);
  });

  test('jsfive reads the same values and attributes', async () => {
    const mod = 'jsfive';
    const hdf5: any = await import(mod);
    const bytes = await writeWeightsH5(sample());
    const f = new hdf5.File(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), 'w.h5');
    assert.deepEqual([...f.keys].sort(), ['layers', 'optimizer', 'vars']);
    assert.deepEqual(f.get('vars').attrs, { name: 'sequential' });
    assert.deepEqual(f.get('layers/lstm/vars').attrs, { name: 'lstm_é' });
    assert.deepEqual(f.get('layers/masking/vars').keys, []);
    const k = f.get('layers/lstm/cell/vars/0');
    assert.deepEqual(k.shape, [2, 3]);
    assert.equal(k.dtype, '<f4');
    assert.deepEqual(Array.from(k.value as number[]).slice(0, 3), [1.5, -2, Math.fround(3e-8)]);
    assert.deepEqual(Array.from(f.get('optimizer/vars/1').value as number[]), [1, -2, 2147483647]);
    assert.equal(f.get('optimizer/vars/1').dtype, '<i4');
  });

  test('variables saved by name (a tf-idf lookup\'s idf_weights) beside numbered ones round-trip, and jsfive sees them where Keras puts them', async () => {
    const tree: H5Tree = {
      groups: {
        tv: {
          groups: {},
          vars: [{ shape: [2], dtype: 'float32', data: new Float32Array([1, 2]) }],
          varsAttrs: { name: 'tv' },
          named: { idf_weights: { shape: [3], dtype: 'float32', data: new Float32Array([0.5, 0.25, 0]) } },
        },
        bare: { groups: {}, vars: [], named: { w: { shape: [], dtype: 'float64', data: new Float64Array([7]) } } },
      },
      vars: [],
    };
    const bytes = await writeWeightsH5(tree);
    const back = await readWeightsH5(bytes);
    assert.deepEqual(back.groups['tv'], tree.groups['tv']);
    assert.deepEqual(back.groups['bare']!.named, tree.groups['bare']!.named);
    assert.deepEqual(back.groups['bare']!.vars, []);
    const mod = 'jsfive';
    const hdf5: any = await import(mod);
    const f = new hdf5.File(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), 'w.h5');
    assert.deepEqual([...f.get('tv/vars').keys].sort(), ['0', 'idf_weights']);
    assert.deepEqual(Array.from(f.get('tv/vars/idf_weights').value as number[]), [0.5, 0.25, 0]);
    for (const name of ['', '3', 'a/b']) {
      await rejects(writeWeightsH5({ groups: {}, vars: [], named: { [name]: { shape: [1], dtype: 'float32', data: new Float32Array(1) } } }), 'INVALID_ARGUMENT', /named variables/, new RegExp(JSON.stringify(name).replace(/\//g, '\\/')));
    }
    assert.deepEqual(await fsFiles(), []);
  });

  test('invalid trees are rejected before anything is written', async () => {
    const bad = (v: unknown) => ({ groups: {}, vars: [v] }) as H5Tree;
    await rejects(writeWeightsH5(bad({ shape: [2, 2], dtype: 'float32', data: new Float32Array(3) })), 'INVALID_ARGUMENT', /vars\/0/, /4 values/, /received 3/);
    await rejects(writeWeightsH5(bad({ shape: [2], dtype: 'float32', data: new Float64Array(2) })), 'INVALID_ARGUMENT', /Float32Array/, /Float64Array/);
    await rejects(writeWeightsH5(bad({ shape: [2], dtype: 'bfloat16', data: new Uint16Array(2) })), 'INVALID_ARGUMENT', /dtype/, /"bfloat16"/);
    await rejects(writeWeightsH5({ groups: { vars: { groups: {}, vars: [] } }, vars: [] }), 'INVALID_ARGUMENT', /"vars"/);
    await rejects(writeWeightsH5({ groups: { 'a/b': { groups: {}, vars: [] } }, vars: [] }), 'INVALID_ARGUMENT', /"a\/b"/);
    assert.deepEqual(await fsFiles(), []);
  });

  test('not HDF5, truncated HDF5: CORRUPT_FILE, nothing printed, nothing leaked', async () => {
    const good = await writeWeightsH5(sample());
    const printed: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => (printed.push(String(chunk)), (orig as any)(chunk, ...rest))) as typeof process.stderr.write;
    try {
      await rejects(readWeightsH5(new Uint8Array(0)), 'CORRUPT_FILE', /model\.weights\.h5/, /empty file/);
      await rejects(readWeightsH5(new TextEncoder().encode('PK\u0003\u0004 zip not hdf5')), 'CORRUPT_FILE', /HDF5/, /50 4b 03 04/);
      for (const cut of [8, 50, 500, 2000, good.length >> 1, good.length - 1]) {
        await rejects(readWeightsH5(good.slice(0, cut), 'w.h5'), 'CORRUPT_FILE', /^w\.h5: expected a (complete|readable) HDF5 file/, new RegExp(`received (${cut} bytes|one that fails)`));
      }
    } finally {
      process.stderr.write = orig;
    }
    assert.equal(printed.filter((s) => s.includes('HDF5-DIAG')).length, 0, printed.join(''));
    assert.deepEqual(await fsFiles(), []);
    // The library still works after the failures.
    assert.deepEqual(await readWeightsH5(good), sample());
  });

  test('layouts that are not Keras 3 weights files', async () => {
    const loose = await rawH5((f) => f.create_group('layers').create_dataset({ name: 'w', data: new Float32Array([1]) }));
    await rejects(readWeightsH5(loose), 'CORRUPT_FILE', /only groups outside "vars"/, /a dataset at "\/layers\/w"/);
    const gap = await rawH5((f) => {
      const v = f.create_group('vars');
      v.create_dataset({ name: '0', data: new Float32Array([1]) });
      v.create_dataset({ name: '2', data: new Float32Array([1]) });
    });
    await rejects(readWeightsH5(gap), 'CORRUPT_FILE', /named 0\.\.1/, /\["0","2"\]/);
    const bf16 = await rawH5((f) => {
      const d = f.create_group('vars').create_dataset({ name: '0', data: new Uint16Array([1]) });
      d.create_attribute('dtype', 'bfloat16');
    });
    await rejects(readWeightsH5(bf16), 'UNSUPPORTED_FILE', /bfloat16/);
    assert.deepEqual(await fsFiles(), []);
  });
});

describe('Keras group naming', () => {
  test('toSnakeCase follows keras.src.utils.naming.to_snake_case', () => {
    const cases: [string, string][] = [
      ['LSTM', 'lstm'], ['GRU', 'gru'], ['Dense', 'dense'], ['InputLayer', 'input_layer'],
      ['MultiHeadAttention', 'multi_head_attention'], ['GlobalAveragePooling1D', 'global_average_pooling1d'],
      ['Bidirectional', 'bidirectional'], ['LSTMCell', 'lstm_cell'], ['SimpleRNN', 'simple_rnn'], ['Conv1D', 'conv1d'],
    ];
    for (const [c, want] of cases) assert.equal(toSnakeCase(c), want, c);
  });

  test('containerGroupNames numbers repeats from _1', () => {
    assert.deepEqual(containerGroupNames(['Embedding', 'LSTM', 'LSTM', 'Dense', 'LSTM']), ['embedding', 'lstm', 'lstm_1', 'dense', 'lstm_2']);
  });
});
