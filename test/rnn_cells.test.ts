// RNN(cell): the same numbers as the built-in layers, stacks, custom and
// plain-object cells, return states, specs, Keras configs, Bidirectional,
// memory, and the errors (each with its code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, getMask, Input, Model, Sequential, Embedding, Bidirectional, RNN, LSTM, GRU, SimpleRNN, LSTMCell, GRUCell, SimpleRNNCell, StackedRNNCells,
  modelFromKerasConfig, modelToKerasConfig, type AbstractRNNCell, type CellCallArgs, type CellOutput, type SymbolicTensor,
} from '../src/index.js';
import { MinimalRNNCell, PeepholeLSTMCell } from '../examples/custom_cells.js';
import { assertClose, expectCode, normals, randomizeWeights, rng } from './rnn_helpers.js';

const x = () => tf.tensor3d(normals(rng(5), 3 * 5 * 2), [3, 5, 2]);
const mask = () => tf.tensor2d([[true, true, true, false, false], [false, false, true, true, true], [true, false, true, false, true]], [3, 5], 'bool');
const arr = (t: tf.Tensor | tf.Tensor[]) => (Array.isArray(t) ? t : [t]).map((y) => y.arraySync());

test('RNN(LSTMCell / GRUCell / SimpleRNNCell) gives the numbers of LSTM / GRU / SimpleRNN with the same weights', () => {
  const pairs: [() => AbstractRNNCell, (o: object) => LSTM | GRU | SimpleRNN][] = [
    [() => new LSTMCell({ units: 3 }), (o) => new LSTM({ units: 3, ...o })],
    [() => new GRUCell({ units: 3 }), (o) => new GRU({ units: 3, ...o })],
    [() => new GRUCell({ units: 3, resetAfter: false }), (o) => new GRU({ units: 3, resetAfter: false, ...o })],
    [() => new SimpleRNNCell({ units: 3 }), (o) => new SimpleRNN({ units: 3, ...o })],
  ];
  for (const [cell, layer] of pairs) {
    for (const o of [{ returnSequences: true }, { returnState: true, goBackwards: true }, { returnSequences: true, zeroOutputForMask: true, returnState: true }]) {
      const a = new RNN({ cell: cell(), ...o });
      const b = layer(o);
      tf.tidy(() => {
        a.apply(x(), { mask: mask() });
        b.apply(x(), { mask: mask() });
        randomizeWeights(a, 7);
        b.setWeights(a.getWeights());
        const h0 = (b.stateCount === 2 ? [2, 2] : [1]).map(() => tf.tensor2d(normals(rng(9), 9), [3, 3]));
        assertClose(arr(a.apply(x(), { mask: mask() })), arr(b.apply(x(), { mask: mask() })), 1e-6, `${b.className} ${JSON.stringify(o)}`);
        assertClose(arr(a.apply(x(), { mask: mask(), initialState: h0 })), arr(b.apply(x(), { mask: mask(), initialState: h0 })), 1e-6, `${b.className} with initialState`);
      });
      a.dispose();
      b.dispose();
    }
  }
});

test('a stack runs cell by cell with the numbers of the step-by-step stack (a subclass that overrides call runs per step)', () => {
  class StepStack extends StackedRNNCells {
    override call(xt: tf.Tensor, states: tf.Tensor[], args?: CellCallArgs): CellOutput {
      return super.call(xt, states, args);
    }
  }
  const cells = () => [new SimpleRNNCell({ units: 3 }), new LSTMCell({ units: 2 }), new PeepholeLSTMCell({ units: 2 })];
  for (const o of [{ returnSequences: true, returnState: true }, { goBackwards: true, returnState: true }, { returnSequences: true, zeroOutputForMask: true }]) {
    const fast = new RNN({ cell: cells(), ...o });
    const slow = new RNN({ cell: new StepStack({ cells: cells() }), ...o });
    tf.tidy(() => {
      fast.apply(x());
      slow.apply(x());
      randomizeWeights(fast, 3);
      slow.setWeights(fast.getWeights());
      assertClose(arr(fast.apply(x(), { mask: mask() })), arr(slow.apply(x(), { mask: mask() })), 2e-5, JSON.stringify(o));
    });
    fast.dispose();
    slow.dispose();
  }
});

test('weight paths, state sizes, output specs and masks of RNN over a stack', () => {
  const cell = new StackedRNNCells({ cells: [new GRUCell({ units: 3 }), new LSTMCell({ units: 2 })] });
  const inp = Input({ shape: [null, 4] });
  const rnn = new RNN({ cell, returnSequences: true, returnState: true, name: 'rnn' });
  const outs = rnn.apply(inp) as SymbolicTensor[];
  assert.deepEqual(outs.map((o) => o.shape), [[null, null, 2], [null, 3], [null, 2], [null, 2]]);
  assert.deepEqual(rnn.stateSize, [3, [2, 2]]);
  assert.deepEqual(rnn.weights.map((w) => w.path), [
    'rnn/stacked_rnn_cells/gru_cell/kernel', 'rnn/stacked_rnn_cells/gru_cell/recurrent_kernel', 'rnn/stacked_rnn_cells/gru_cell/bias',
    'rnn/stacked_rnn_cells/lstm_cell/kernel', 'rnn/stacked_rnn_cells/lstm_cell/recurrent_kernel', 'rnn/stacked_rnn_cells/lstm_cell/bias',
  ].map((p) => p.replace('stacked_rnn_cells', cell.name).replace('gru_cell', cell.cells[0]!.name).replace('lstm_cell', cell.cells[1]!.name)));
  tf.tidy(() => {
    const y = rnn.apply(tf.ones([3, 5, 4]), { mask: mask() }) as tf.Tensor[];
    assert.deepEqual(y.map((t) => t.shape), [[3, 5, 2], [3, 3], [3, 2], [3, 2]]);
    assert.deepEqual(getMask(y[0]!)!.arraySync(), mask().arraySync().map((r) => r.map(Number)));
    assert.deepEqual(y.slice(1).map((t) => getMask(t)), [null, null, null]);
  });
  rnn.dispose();
});

test('a plain object with stateSize and call(x, states) runs as a cell', () => {
  const w = tf.variable(tf.tensor2d([[0.5], [-0.25]]));
  const cell = { stateSize: 1, call: (xt: tf.Tensor, [h]: tf.Tensor[]): CellOutput => { const y = tf.tanh(tf.add(tf.matMul(xt, w), h!)); return [y, y]; } };
  const rnn = new RNN({ cell, returnSequences: true });
  tf.tidy(() => {
    const y = rnn.apply(x(), { mask: mask() }) as tf.Tensor;
    assert.deepEqual(y.shape, [3, 5, 1]);
    const rows = y.arraySync() as number[][][];
    assert.deepEqual(rows[0]![4], rows[0]![2], 'a masked step repeats the previous output');
    assert.deepEqual(rows[1]![0], [0], 'before the first valid step the output is the zero initial state');
  });
  w.dispose();
});

test('Keras config: RNN nests its cell (StackedRNNCells nests a list), and a model rebuilt from it gives the same numbers', () => {
  const inp = Input({ shape: [5], dtype: 'int32' });
  const e = new Embedding({ inputDim: 9, outputDim: 3, maskZero: true }).apply(inp) as SymbolicTensor;
  const y = new RNN({ cell: [new SimpleRNNCell({ units: 3 }), new LSTMCell({ units: 2, unitForgetBias: false }), new GRUCell({ units: 2, resetAfter: false })], goBackwards: true }).apply(e) as SymbolicTensor;
  const model = new Model({ inputs: inp, outputs: y });
  randomizeWeights(model, 11);
  const cfg = modelToKerasConfig(model) as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  const rnnCfg = cfg.config.layers.find((l) => l.class_name === 'RNN')!.config;
  assert.equal(rnnCfg['go_backwards'], true);
  assert.equal(rnnCfg['stateful'], false);
  const cellCfg = rnnCfg['cell'] as { class_name: string; config: { cells: { class_name: string; config: Record<string, unknown> }[] } };
  assert.equal(cellCfg.class_name, 'StackedRNNCells');
  assert.deepEqual(cellCfg.config.cells.map((c) => c.class_name), ['SimpleRNNCell', 'LSTMCell', 'GRUCell']);
  assert.equal(cellCfg.config.cells[1]!.config['unit_forget_bias'], false);
  assert.equal(cellCfg.config.cells[2]!.config['reset_after'], false);
  assert.equal(cellCfg.config.cells[0]!.config['recurrent_dropout'], 0);
  assert.ok(!('recurrent_activation' in cellCfg.config.cells[0]!.config), 'SimpleRNNCell has no recurrent_activation');
  const again = modelFromKerasConfig(cfg, model.getWeights());
  tf.tidy(() => {
    const ids = tf.tensor2d([[1, 2, 3, 0, 0], [0, 0, 4, 5, 6], [7, 0, 8, 0, 0]], [3, 5], 'int32');
    assertClose((again.apply(ids) as tf.Tensor).arraySync(), (model.apply(ids) as tf.Tensor).arraySync(), 1e-6, 'rebuilt model');
  });
  model.dispose();
  again.dispose();
});

test('Bidirectional(RNN(cell)) copies the cell for the backward direction', () => {
  const bi = new Bidirectional({ layer: new RNN({ cell: new MinimalRNNCell({ units: 2 }), returnSequences: true }) });
  tf.tidy(() => {
    const y = bi.apply(x(), { mask: mask() }) as tf.Tensor;
    assert.deepEqual(y.shape, [3, 5, 4]);
    const rows = y.arraySync() as number[][][];
    assert.deepEqual(rows[0]![4], [0, 0, 0, 0], 'Bidirectional forces zeroOutputForMask with returnSequences');
  });
  assert.deepEqual(bi.weights.map((w) => w.path.replace(/_\d+/g, '')), [
    'bidirectional/forward_rnn/minimal_rnn_cell/kernel', 'bidirectional/forward_rnn/minimal_rnn_cell/recurrent_kernel',
    'bidirectional/backward_rnn/minimal_rnn_cell/kernel', 'bidirectional/backward_rnn/minimal_rnn_cell/recurrent_kernel',
  ]);
  assert.notEqual(bi.weights[0]!.variable, bi.weights[2]!.variable);
  bi.dispose();
});

test('calls leak no tensor (built-in stack and custom cell, with gradients)', () => {
  for (const cell of [[new LSTMCell({ units: 2 }), new GRUCell({ units: 2 })], new PeepholeLSTMCell({ units: 2 })]) {
    const rnn = new RNN({ cell, returnSequences: true, returnState: true });
    tf.dispose(rnn.apply(x()) as tf.Tensor[]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const xs = x();
      const m = mask();
      const g = tf.grad((xx: tf.Tensor) => tf.sum((rnn.apply(xx, { mask: m }) as tf.Tensor[])[0]!))(xs);
      tf.dispose([xs, m, g]);
    }
    assert.equal(tf.memory().numTensors, before);
    rnn.dispose();
  }
});

test('errors: stateful without a batch size, cells that are not cells, a cell applied alone, wrong initial states, a cell that breaks its stateSize', () => {
  expectCode(() => new RNN({ cell: new LSTMCell({ units: 2 }), stateful: 1 as never }), 'INVALID_ARGUMENT', 'stateful');
  // stateful needs the batch size (test/keras_stateful.test.ts has the rest).
  const cfg = { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'InputLayer', config: { batch_shape: [null, 3, 1] } }, { class_name: 'RNN', config: { name: 'rnn', stateful: true, cell: { class_name: 'GRUCell', config: { units: 2 } } } }] } };
  expectCode(() => modelFromKerasConfig(cfg), 'INVALID_CONFIG', "RNN 'rnn'", 'fixed batch size');
  expectCode(() => new RNN({ cell: new LSTM({ units: 2 }) as never }), 'INVALID_ARGUMENT', 'recurrent cell', 'LSTM');
  expectCode(() => new RNN({ cell: { call: () => null } as never }), 'INVALID_ARGUMENT', 'stateSize');
  expectCode(() => new StackedRNNCells({ cells: [] }), 'INVALID_ARGUMENT', 'non-empty list');
  expectCode(() => new LSTMCell({ units: 2 }).apply(), 'INVALID_ARGUMENT', 'new RNN({ cell })');
  const rnn = new RNN({ cell: [new LSTMCell({ units: 2 }), new GRUCell({ units: 3 })] });
  expectCode(() => rnn.apply(x(), { initialState: [tf.zeros([3, 2])] }), 'INVALID_ARGUMENT', 'initialState', '[2,2,3]');
  expectCode(() => rnn.apply(x(), { initialState: [tf.zeros([3, 2]), tf.zeros([3, 2]), tf.zeros([3, 2])] }), 'INPUT_SHAPE_MISMATCH', 'initialState[2]');
  const liar = { stateSize: 3, call: (xt: tf.Tensor, [h]: tf.Tensor[]): CellOutput => [tf.zeros([xt.shape[0]!, 2]), [h!]] };
  expectCode(() => new RNN({ cell: liar }).apply(x()), 'INPUT_SHAPE_MISMATCH', 'step output must have shape [3, 3]');
  rnn.dispose();
});

test('Sequential with RNN(cell) builds from specs and summarises; unroll is accepted', () => {
  const m = new Sequential({ layers: [Input({ shape: [null], dtype: 'int32' }), new Embedding({ inputDim: 5, outputDim: 2, maskZero: true }), new RNN({ cell: new GRUCell({ units: 4 }), unroll: true })] });
  assert.deepEqual(m.outputs[0]!.shape, [null, 4]);
  assert.equal(m.countParams(), 5 * 2 + 2 * 12 + 4 * 12 + 2 * 12);
  assert.match(m.summary(() => {}), /rnn\S* \(RNN\) +\(None, 4\) +96 +consumes/);
  m.dispose();
});

test('cell dropout acts inside RNN in training only (one mask per sequence), with the seed', () => {
  const mk = () => new RNN({ cell: [new LSTMCell({ units: 3, dropout: 0.5, recurrentDropout: 0.3, seed: 4 }), new GRUCell({ units: 2, dropout: 0.2, seed: 5 })], returnSequences: true });
  const a = mk();
  const b = mk();
  tf.tidy(() => {
    a.apply(x());
    b.apply(x());
    randomizeWeights(a, 2);
    b.setWeights(a.getWeights());
    const inference = (a.apply(x(), { mask: mask() }) as tf.Tensor).arraySync();
    const plain = new RNN({ cell: [new LSTMCell({ units: 3 }), new GRUCell({ units: 2 })], returnSequences: true });
    plain.apply(x());
    plain.setWeights(a.getWeights());
    assertClose(inference, (plain.apply(x(), { mask: mask() }) as tf.Tensor).arraySync(), 1e-6, 'no dropout at inference');
    const train = (a.apply(x(), { mask: mask(), training: true }) as tf.Tensor).arraySync() as number[][][];
    assert.ok(train.flat(2).every(Number.isFinite));
    assert.notDeepEqual(train, inference, 'dropout changes the training outputs');
    assertClose(train, (b.apply(x(), { mask: mask(), training: true }) as tf.Tensor).arraySync(), 1e-6, 'seeded masks repeat');
    plain.dispose();
  });
  a.dispose();
  b.dispose();
});
