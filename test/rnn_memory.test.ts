// Tensor memory stays flat over repeated predict and gradient calls through
// the recurrent layers and their wrappers; the errors they raise name what
// was expected and what was received.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Bidirectional, Dense, Embedding, GRU, Input, LSTM, Model, SimpleRNN, TimeDistributed, type SymbolicTensor } from '../src/index.js';
import { expectCode, randomizeWeights } from './rnn_helpers.js';

function model(): Model {
  const ids = Input({ shape: [null], dtype: 'int32' });
  let x = new Embedding({ inputDim: 20, outputDim: 4, maskZero: true }).apply(ids);
  x = new Bidirectional({ layer: new LSTM({ units: 3, returnSequences: true }) }).apply(x) as SymbolicTensor;
  x = new TimeDistributed({ layer: new Dense({ units: 3 }) }).apply(x);
  x = new GRU({ units: 2, returnSequences: true }).apply(x) as SymbolicTensor;
  x = new SimpleRNN({ units: 2, dropout: 0.3, recurrentDropout: 0.3 }).apply(x) as SymbolicTensor;
  return new Model({ inputs: ids, outputs: new Dense({ units: 1 }).apply(x) });
}

test('tf.memory().numTensors is flat over repeated predict and gradient calls', () => {
  const m = model();
  randomizeWeights(m, 2);
  const x = tf.tensor2d([[3, 4, 5, 0, 0], [0, 0, 6, 7, 8], [9, 0, 1, 2, 0]], undefined, 'int32');
  const vars = m.trainableWeights.filter((w) => !w.path.startsWith('embedding')).map((w) => w.variable);
  const step = (): void => {
    (m.predict(x) as tf.Tensor).dispose();
    const { value, grads } = tf.variableGrads(() => tf.sum(m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 4; i++) step();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  m.dispose();
});

test('direct calls with initialState, returnState and explicit masks do not leak', () => {
  const lstm = new LSTM({ units: 2, returnSequences: true, returnState: true });
  const x = tf.ones([2, 3, 2]);
  const mask = tf.tensor2d([[true, true, false], [true, false, false]], undefined, 'bool');
  const h = [tf.ones([2, 2]), tf.zeros([2, 2])];
  tf.dispose(lstm.apply(x, { mask, initialState: h }) as tf.Tensor[]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose(lstm.apply(x, { mask, initialState: h }) as tf.Tensor[]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, mask, ...h]);
  lstm.dispose();
});

test('errors: wrong input rank, wrong features, bad initial states and masks name expected and received', () => {
  const lstm = new LSTM({ units: 2, name: 'enc' });
  expectCode(() => lstm.apply(tf.zeros([2, 3])), 'INPUT_SHAPE_MISMATCH', "LSTM 'enc'", '[batch, time, features]', '[2, 3]');
  tf.dispose(lstm.apply(tf.zeros([2, 3, 4])) as tf.Tensor);
  expectCode(() => lstm.apply(tf.zeros([2, 3])), 'INPUT_SHAPE_MISMATCH', "LSTM 'enc'", '[batch, time, 4]', '[2, 3]');
  expectCode(() => lstm.apply(tf.zeros([2, 3, 5])), 'INPUT_SHAPE_MISMATCH', '[batch, time, 4]', '[2, 3, 5]');
  expectCode(() => lstm.apply(tf.zeros([2, 3, 4]), { initialState: [tf.zeros([2, 2])] }), 'INVALID_ARGUMENT', 'initialState', '2 tensor(s)', '(h, c)');
  expectCode(() => lstm.apply(tf.zeros([2, 3, 4]), { initialState: [tf.zeros([2, 3]), tf.zeros([2, 2])] }), 'INPUT_SHAPE_MISMATCH', 'initialState[0]', '[2, 2]', '[2, 3]');
  expectCode(() => lstm.apply(tf.zeros([2, 3, 4]), { initialState: [tf.zeros([1, 2]), tf.zeros([2, 2])] }), 'INPUT_SHAPE_MISMATCH', 'initialState[0]', '[2, 2]', '[1, 2]');
  expectCode(() => lstm.apply(tf.zeros([2, 3, 4]), { mask: tf.ones([2, 4], 'bool') }), 'MASK_SHAPE_MISMATCH', '[2, 4]');
  expectCode(() => lstm.apply([tf.zeros([2, 3, 4]), tf.zeros([2, 2])]), 'INVALID_INPUT', 'initialState');
  expectCode(() => new GRU({ units: 0 }), 'INVALID_ARGUMENT', 'units', 'positive integer', '0');
  expectCode(() => new SimpleRNN({ units: 2, dropout: 1.5 }), 'INVALID_ARGUMENT', 'dropout', '1.5');
  expectCode(() => new LSTM({ units: 2, activation: 'nope' }), 'UNKNOWN_NAME', 'nope');
  expectCode(() => new Bidirectional({ layer: new Dense({ units: 2 }) as never }), 'INVALID_ARGUMENT', 'SimpleRNN, LSTM, GRU, RNN or ConvLSTM1D', 'Dense');
  expectCode(() => new Bidirectional({ layer: new LSTM({ units: 2 }), mergeMode: 'max' as never }), 'INVALID_ARGUMENT', 'mergeMode', '"max"');
  expectCode(
    () => new Bidirectional({ layer: new LSTM({ units: 2 }), backwardLayer: new LSTM({ units: 2 }) }),
    'INVALID_ARGUMENT',
    'goBackwards',
  );
  expectCode(
    () => new Bidirectional({ layer: new LSTM({ units: 2, returnSequences: true }), backwardLayer: new LSTM({ units: 2, goBackwards: true }) }),
    'INVALID_ARGUMENT',
    'returnSequences',
  );
  const bi = new Bidirectional({ layer: new GRU({ units: 2 }) });
  expectCode(() => bi.apply(tf.zeros([1, 2, 3]), { initialState: [tf.zeros([1, 2])] }), 'INVALID_ARGUMENT', '2 tensors', 'received 1');
  // A batch padded to length 0 has no last output; Keras raises too (numpy backend: outputs[-1] of an empty scan).
  expectCode(() => lstm.apply(tf.zeros([2, 0, 4])), 'INPUT_SHAPE_MISMATCH', "LSTM 'enc'", 'at least one time step', '[2, 0, 4]');
  expectCode(() => bi.apply(tf.zeros([1, 0, 3])), 'INPUT_SHAPE_MISMATCH', 'at least one time step', '[1, 0, 3]');
  const td = new TimeDistributed({ layer: new Dense({ units: 2 }), name: 'td' });
  expectCode(() => td.apply(tf.zeros([2, 3])), 'INPUT_SHAPE_MISMATCH', "TimeDistributed 'td'", 'rank 3', '[2, 3]');
  lstm.dispose();
  bi.dispose();
});
