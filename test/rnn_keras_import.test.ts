// Keras import of the recurrent layers: option keys, nested layer configs,
// defaults, and the settings Masque refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, modelFromKerasConfig, Bidirectional, LSTM, GRU, TimeDistributed, type Model } from '../src/index.js';
import { expectCode } from './rnn_helpers.js';

const init = (cls: string) => ({ module: 'keras.initializers', class_name: cls, config: { seed: null }, registered_name: null });

function lstmEntry(name: string, extra: Record<string, unknown> = {}) {
  return {
    module: 'keras.layers',
    class_name: 'LSTM',
    config: {
      name, trainable: true, dtype: 'float32', return_sequences: true, return_state: false, go_backwards: false, stateful: false,
      unroll: false, zero_output_for_mask: false, units: 2, activation: 'tanh', recurrent_activation: 'hard_sigmoid', use_bias: true,
      kernel_initializer: init('GlorotUniform'), recurrent_initializer: init('Orthogonal'), bias_initializer: init('Zeros'),
      unit_forget_bias: true, kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null, activity_regularizer: null,
      kernel_constraint: null, recurrent_constraint: null, bias_constraint: null, dropout: 0.25, recurrent_dropout: 0, seed: 7, ...extra,
    },
  };
}

function sequential(layers: unknown[]): object {
  return {
    class_name: 'Sequential',
    config: { name: 'sequential', layers: [{ class_name: 'InputLayer', config: { batch_shape: [null, 5, 3], dtype: 'float32', name: 'input_layer' } }, ...layers] },
  };
}

test('LSTM, GRU and the wrappers import their Keras options, nested layers and weight paths', () => {
  const m = modelFromKerasConfig(
    sequential([
      { module: 'keras.layers', class_name: 'Bidirectional', config: { name: 'bidirectional', layer: lstmEntry('lstm') } },
      { module: 'keras.layers', class_name: 'TimeDistributed', config: { name: 'time_distributed', layer: { class_name: 'Dense', config: { name: 'dense', units: 3 } } } },
      { module: 'keras.layers', class_name: 'GRU', config: { name: 'gru', units: 2, reset_after: false, recurrent_activation: null, activation: null } },
    ]),
  ) as Model;
  // As in Keras, a Sequential's layers leave out its InputLayer.
  const [bi, td, gru] = m.layers as [Bidirectional, TimeDistributed, GRU];
  assert.ok(bi instanceof Bidirectional && td instanceof TimeDistributed && gru instanceof GRU);
  assert.equal(bi.mergeMode, 'concat', 'merge_mode missing: Keras default concat');
  const fwd = bi.forwardLayer as LSTM;
  assert.equal(fwd.name, 'forward_lstm');
  assert.equal(bi.backwardLayer.name, 'backward_lstm');
  assert.equal(fwd.getConfig().recurrentActivation, 'hard_sigmoid');
  assert.equal(fwd.getConfig().dropout, 0.25);
  assert.equal(fwd.getConfig().seed, 7);
  assert.deepEqual(fwd.getConfig().kernelInitializer, { className: 'GlorotUniform', config: { seed: null } });
  assert.equal(gru.getConfig().resetAfter, false);
  assert.equal(gru.getConfig().activation, null);
  assert.deepEqual(m.weightPaths(), [
    ...['forward_lstm', 'backward_lstm'].flatMap((d) => ['kernel', 'recurrent_kernel', 'bias'].map((w) => `sequential/bidirectional/${d}/lstm_cell/${w}`)),
    'sequential/time_distributed/dense/kernel',
    'sequential/time_distributed/dense/bias',
    'sequential/gru/gru_cell/kernel',
    'sequential/gru/gru_cell/recurrent_kernel',
    'sequential/gru/gru_cell/bias',
  ]);
  assert.deepEqual(gru.weights[2]!.shape, [6]);
  const y = m.apply(tf.ones([2, 5, 3])) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 2]);
  m.dispose();
});

test('settings Masque cannot honour are refused with the layer named', () => {
  // stateful is honoured (test/keras_stateful.test.ts) but needs the batch size, which this config leaves open.
  expectCode(() => modelFromKerasConfig(sequential([lstmEntry('lstm', { stateful: true })])), 'INVALID_CONFIG', "LSTM 'lstm'", 'stateful', 'fixed batch size');
  expectCode(
    () => modelFromKerasConfig(sequential([{ class_name: 'Bidirectional', config: { name: 'bi', layer: { class_name: 'Dense', config: { name: 'dense', units: 2 } } } }])),
    'UNSUPPORTED_CONFIG',
    "Bidirectional 'bi'",
    'Dense',
  );
  expectCode(() => modelFromKerasConfig(sequential([{ class_name: 'TimeDistributed', config: { name: 'td' } }])), 'INVALID_CONFIG', "TimeDistributed 'td'", 'layer');
});
