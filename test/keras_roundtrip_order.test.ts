// Keras's operation order (models/graph_order.ts) on small graphs, and the
// parts of the export that decide what Keras re-traces: op names that never
// collide with layer names, the build configs of multi-argument builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kerasGraphOrder } from '../src/models/graph_order.js';
import { Input, Model, Embedding, LSTM, GRU, Dense, Concatenate, GlobalAveragePooling1D, MultiHeadAttention, SymbolicTensor } from '../src/index.js';
import { modelToKerasConfig } from '../src/index.js';

type Obj = Record<string, unknown>;

/** A graph of named nodes; each node's operation is its name unless `ops` says otherwise. */
function order(parents: Record<string, string[]>, outputs: string[], inputs: string[] = [], ops: Record<string, string> = {}): string[] {
  return kerasGraphOrder(outputs, inputs, { operation: (n: string) => ops[n] ?? n, parents: (n: string) => parents[n] ?? [] }).operations;
}

test('deepest first; ties in the order a walk from the outputs first meets them', () => {
  // F(D(B(A)), E(C(A), B)): A is 3 deep, B and C 2, D and E 1.
  const parents = { F: ['D', 'E'], D: ['B'], E: ['C', 'B'], B: ['A'], C: ['A'] };
  assert.deepEqual(order(parents, ['F']), ['A', 'B', 'C', 'D', 'E', 'F']);
  // Argument order decides the walk: E before D.
  assert.deepEqual(order({ ...parents, F: ['E', 'D'] }, ['F']), ['A', 'C', 'B', 'E', 'D', 'F']);
});

test('an input the outputs do not use comes at depth 0, before the outputs\' ops', () => {
  assert.deepEqual(order({ B: ['A'] }, ['B'], ['A', 'U']), ['A', 'U', 'B']);
});

test('a shared operation takes the largest depth of its calls', () => {
  // S is called on A (S1, feeding the output directly) and on T(S1) (S2): S sits at S1's depth, deeper than T.
  const parents = { OUT: ['S2', 'S1'], S2: ['T'], T: ['S1'], S1: ['A'] };
  assert.deepEqual(order(parents, ['OUT'], ['A'], { S1: 'S', S2: 'S' }), ['A', 'S', 'T', 'OUT']);
});

test('a Concatenate layer named "concatenate" gets a mask op named "concatenate_1"', () => {
  const a = Input({ shape: [null], dtype: 'int32', name: 'a' });
  const e = new Embedding({ inputDim: 5, outputDim: 2, maskZero: true, name: 'e' }).apply(a) as SymbolicTensor;
  const cat = new Concatenate({ name: 'concatenate' }).apply([e, e]) as SymbolicTensor;
  const out = new GlobalAveragePooling1D({ name: 'gap' }).apply(cat) as SymbolicTensor;
  const layers = ((modelToKerasConfig(new Model({ inputs: a, outputs: out })) as Obj)['config'] as Obj)['layers'] as Obj[];
  const names = layers.map((l) => `${String(l['class_name'])}:${String(l['name'])}`);
  assert.ok(names.includes('Concatenate:concatenate') && names.includes('Concatenate:concatenate_1'), names.join(' '));
  assert.equal(new Set(layers.map((l) => l['name'])).size, layers.length);
  const gap = layers.find((l) => l['name'] === 'gap')!;
  const mask = ((gap['inbound_nodes'] as Obj[])[0]!['kwargs'] as Obj)['mask'] as Obj;
  assert.deepEqual((mask['config'] as Obj)['keras_history'], ['any', 0, 0]);
});

test('build configs of multi-argument builds: MultiHeadAttention and RNNs with initial states', () => {
  const q = Input({ shape: [null, 4], name: 'q' });
  const v = Input({ shape: [null, 3], name: 'v' });
  const s = Input({ shape: [2], name: 's' });
  const a = new MultiHeadAttention({ numHeads: 1, keyDim: 2, name: 'mha' }).apply([q, v]) as SymbolicTensor;
  const b = new MultiHeadAttention({ numHeads: 1, keyDim: 2, name: 'mha_k' }).apply([q, v, v]) as SymbolicTensor;
  const r = new LSTM({ units: 2, name: 'lstm' }).apply(q, { initialState: [s, s] }) as SymbolicTensor;
  const g = new GRU({ units: 2, name: 'gru' }).apply(q) as SymbolicTensor;
  const d = new Dense({ units: 1, name: 'd' }).apply(g) as SymbolicTensor;
  const layers = ((modelToKerasConfig(new Model({ inputs: [q, v, s], outputs: [a, b, r, d] })) as Obj)['config'] as Obj)['layers'] as Obj[];
  const build = (n: string) => layers.find((l) => l['name'] === n)!['build_config'];
  assert.deepEqual(build('mha'), { shapes_dict: { query_shape: [null, null, 4], value_shape: [null, null, 3] } });
  assert.deepEqual(build('mha_k'), { shapes_dict: { query_shape: [null, null, 4], value_shape: [null, null, 3], key_shape: [null, null, 3] } });
  assert.deepEqual(build('lstm'), { shapes_dict: { sequences_shape: [null, null, 4], initial_state_shape: [[null, 2], [null, 2]] } });
  assert.deepEqual(build('gru'), { input_shape: [null, null, 4] });
  // An RNN called on one float tensor records training=False and its (absent) mask, as Keras does.
  assert.deepEqual((layers.find((l) => l['name'] === 'gru')!['inbound_nodes'] as Obj[])[0]!['kwargs'], { training: false, mask: null });
});
