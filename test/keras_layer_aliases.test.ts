// Keras's other names for layer classes (keras.layers.MaxPool1D is
// MaxPooling1D, ...): the same classes in Masque's exports, and accepted in
// configs as Keras's deserializer accepts them, while Masque writes the
// class's own name as Keras does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as M from '../src/index.js';
import { KERAS_LAYER_ALIASES, layerFromKerasEntry, kerasLayerConfig } from '../src/io/keras_registry.js';

const PAIRS: [string, string][] = [
  ['AvgPool1D', 'AveragePooling1D'], ['MaxPool1D', 'MaxPooling1D'], ['GlobalAvgPool1D', 'GlobalAveragePooling1D'], ['GlobalMaxPool1D', 'GlobalMaxPooling1D'],
  ['Convolution1D', 'Conv1D'], ['Convolution1DTranspose', 'Conv1DTranspose'], ['SeparableConvolution1D', 'SeparableConv1D'],
  ['GroupedQueryAttention', 'GroupQueryAttention'],
];

test('every Keras alias of a layer class is the same class, exported and read from configs under both names', () => {
  assert.deepEqual(Object.keys(KERAS_LAYER_ALIASES).sort(), PAIRS.map(([a]) => a).sort());
  const exports = M as unknown as Record<string, unknown>;
  for (const [alias, name] of PAIRS) {
    assert.equal(exports[alias], exports[name], alias);
    const config = name.startsWith('Conv') || name.startsWith('Separable') ? { name: 'x', filters: 2, kernel_size: 3 } : name === 'GroupQueryAttention' ? { name: 'x', head_dim: 2, num_query_heads: 2, num_key_value_heads: 1 } : { name: 'x' };
    const layer = layerFromKerasEntry({ class_name: alias, config }, { layerFromConfig: () => assert.fail() });
    assert.equal(layer.constructor, exports[name], alias);
    assert.equal(layer.className, name, `${alias}: saved under Keras's own class name`);
    assert.equal(kerasLayerConfig(layer, () => assert.fail())['name'], 'x');
  }
});
