// The models of the Keras round-trip fixtures (test/fixtures/keras-roundtrip):
// one or more per layer family, Sequential and functional, two inputs,
// attention, nesting, shared layers, and same-class layers at different
// depths (whose weight groups Keras names by its own graph order). Every
// layer is named, so the files are the same whichever process builds them;
// scripts/keras_roundtrip_native.py builds the same architectures in Keras.
import {
  tf, Input, Model, Sequential, SymbolicTensor, Embedding, Masking, Dense, Activation, ReLU, Dropout, GaussianNoise, Flatten, Reshape,
  LayerNormalization, SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed, Attention, MultiHeadAttention, GlobalAveragePooling1D,
  GlobalMaxPooling1D, AveragePooling1D, MaxPooling1D, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, Softmax,
  Conv1D, Cropping1D, ZeroPadding1D, RNN, SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells, BatchNormalization, GroupNormalization,
  UnitNormalization, RMSNormalization, Normalization, Rescaling, GroupQueryAttention, AdditiveAttention, ELU, LeakyReLU, PReLU, Identity,
  GaussianDropout, AlphaDropout, SpatialDropout1D, ActivityRegularization, ReversibleEmbedding, EinsumDense,
} from '../src/index.js';
import { NotEqual } from '../src/layers/ops/comparison.js';
import { LogicalAnd } from '../src/layers/ops/logical.js';

type S = SymbolicTensor;
const one = (v: S | S[]): S => v as S;
const many = (v: S | S[]): S[] => v as S[];

export interface RoundTripModel {
  name: string;
  about: string;
  model: Model;
  inputs: tf.Tensor[];
}

/** Token ids [4, 6]: post padding, pre padding, holes, full. */
export function tokens(): tf.Tensor {
  return tf.tensor2d([[5, 3, 8, 2, 0, 0], [0, 0, 7, 1, 4, 9], [6, 0, 2, 0, 0, 0], [1, 2, 3, 4, 5, 6]], [4, 6], 'int32');
}

/** Second token ids [4, 6], padded differently. */
export function tokens2(): tf.Tensor {
  return tf.tensor2d([[2, 2, 0, 0, 0, 0], [9, 8, 7, 6, 5, 4], [0, 0, 0, 3, 1, 0], [4, 0, 0, 0, 0, 7]], [4, 6], 'int32');
}

/** Deterministic values in [-1, 1) (a linear congruential generator). */
function values(seed: number, n: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Float sequences [4, 6, d] whose padded steps are all zeros (rows as in tokens()). */
export function floats(d = 3, seed = 7): tf.Tensor {
  const valid = [[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]];
  const v = values(seed, 4 * 6 * d);
  for (let b = 0; b < 4; b++) for (let t = 0; t < 6; t++) if (!valid[b]![t]) for (let k = 0; k < d; k++) v[(b * 6 + t) * d + k] = 0;
  return tf.tensor3d(v, [4, 6, d]);
}

/**
 * Sets every weight from a seeded generator, in the order of the sorted
 * weight paths (independent of any layer order). Variances (BatchNormalization's
 * moving variance, an adapted Normalization's variance) take absolute values,
 * and integer weights (an adapted Normalization's count) a count from 1 to 10.
 */
export function setDeterministicWeights(model: Model, seed: number): void {
  const weights = [...model.weights].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  weights.forEach((w, i) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const v = values(seed * 1000 + i + 1, n, 0.6);
    if (w.variable.dtype === 'int32') {
      w.variable.assign(tf.tensor(Array.from(v, (x) => Math.floor(Math.abs(x) * 15) + 1), w.shape, 'int32'));
      return;
    }
    if (/variance$/.test(w.path)) for (let k = 0; k < n; k++) v[k] = Math.abs(v[k]!);
    w.variable.assign(tf.tensor(v, w.shape));
  });
}

const builders: [string, string, () => { model: Model; inputs: tf.Tensor[] }][] = [
  [
    'seq_embedding_bilstm_dense',
    'Sequential: Embedding(maskZero) -> Bidirectional(LSTM) -> Dense',
    () => ({
      model: new Sequential({
        name: 'seq_bilstm',
        layers: [
          Input({ shape: [null], dtype: 'int32', name: 'ids' }),
          new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'emb' }),
          new Bidirectional({ layer: new LSTM({ units: 3, name: 'lstm' }), name: 'bidi' }),
          new Dense({ units: 2, name: 'head' }),
        ],
      }),
      inputs: [tokens()],
    }),
  ],
  [
    'seq_masking_gru_timedistributed',
    'Sequential: Masking -> GRU(returnSequences) -> TimeDistributed(Dense)',
    () => ({
      model: new Sequential({
        name: 'seq_gru_td',
        layers: [
          Input({ shape: [null, 3], name: 'seq_in' }),
          new Masking({ name: 'masking' }),
          new GRU({ units: 4, returnSequences: true, name: 'gru' }),
          new TimeDistributed({ layer: new Dense({ units: 2, activation: 'tanh', name: 'td_dense' }), name: 'td' }),
        ],
      }),
      inputs: [floats()],
    }),
  ],
  [
    'fn_core_chain',
    'core layers on a masked sequence: Masking, Dense, Activation, ReLU, Dropout, GaussianNoise, LayerNormalization, SimpleRNN, GAP, Softmax',
    () => {
      const x = Input({ shape: [null, 3], name: 'x' });
      let h = one(new Masking({ maskValue: 0, name: 'masking' }).apply(x));
      h = one(new Dense({ units: 4, name: 'dense' }).apply(h));
      h = one(new Activation({ activation: 'tanh', name: 'activation' }).apply(h));
      h = one(new ReLU({ name: 're_lu' }).apply(h));
      h = one(new Dropout({ rate: 0.3, name: 'dropout' }).apply(h));
      h = one(new GaussianNoise({ stddev: 0.1, name: 'gaussian_noise' }).apply(h));
      h = one(new LayerNormalization({ name: 'layer_normalization' }).apply(h));
      const seq = one(new SimpleRNN({ units: 3, returnSequences: true, name: 'simple_rnn' }).apply(h));
      const g = one(new GlobalAveragePooling1D({ name: 'gap' }).apply(seq));
      const p = one(new Softmax({ name: 'softmax' }).apply(g));
      return { model: new Model({ inputs: x, outputs: [p, seq], name: 'core_chain' }), inputs: [floats()] };
    },
  ],
  [
    'fn_rnn_family',
    'SimpleRNN(goBackwards), LSTM(returnState), GRU(resetAfter false), Bidirectional(GRU, mergeMode null), TimeDistributed',
    () => {
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const e = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(ids));
      const s = one(new SimpleRNN({ units: 4, returnSequences: true, goBackwards: true, name: 'simple_rnn' }).apply(e));
      const [seq, h, c] = many(new LSTM({ units: 3, returnSequences: true, returnState: true, name: 'lstm' }).apply(s)) as [S, S, S];
      const last = one(new GRU({ units: 3, resetAfter: false, name: 'gru' }).apply(seq));
      const [fw, bw] = many(new Bidirectional({ layer: new GRU({ units: 2, returnSequences: true, name: 'gru_b' }), mergeMode: null, name: 'bidirectional' }).apply(seq)) as [S, S];
      const td = one(new TimeDistributed({ layer: new Dense({ units: 2, name: 'td_dense' }), name: 'time_distributed' }).apply(fw));
      const hc = one(new Add({ name: 'add_states' }).apply([h, c]));
      return { model: new Model({ inputs: ids, outputs: [last, td, bw, hc], name: 'rnn_family' }), inputs: [tokens()] };
    },
  ],
  [
    'fn_initial_state',
    'LSTM and GRU called with initial states computed from a second input',
    () => {
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const ctx = Input({ shape: [5], name: 'ctx' });
      const e = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(ids));
      const h0 = one(new Dense({ units: 3, activation: 'tanh', name: 'init_h' }).apply(ctx));
      const c0 = one(new Dense({ units: 3, name: 'init_c' }).apply(ctx));
      const seq = one(new LSTM({ units: 3, returnSequences: true, name: 'lstm' }).apply(e, { initialState: [h0, c0] }));
      const g = one(new GRU({ units: 3, name: 'gru' }).apply(seq, { initialState: [h0] }));
      return { model: new Model({ inputs: [ids, ctx], outputs: [g, seq], name: 'initial_state' }), inputs: [tokens(), tf.tensor2d(values(11, 20), [4, 5])] };
    },
  ],
  [
    'fn_attention_concatenate',
    'two inputs: Masking -> LSTM, Embedding, Attention, a Concatenate layer named "concatenate" -> GAP -> Dense',
    () => {
      const fin = Input({ shape: [null, 3], name: 'floats' });
      const tin = Input({ shape: [null], dtype: 'int32', name: 'tokens' });
      const s = one(new LSTM({ units: 4, returnSequences: true, name: 'lstm' }).apply(one(new Masking({ name: 'masking' }).apply(fin))));
      const e = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(tin));
      const att = one(new Attention({ useScale: true, name: 'attention' }).apply([s, e]));
      const cat = one(new Concatenate({ name: 'concatenate' }).apply([s, att]));
      const o = one(new Dense({ units: 3, name: 'dense' }).apply(one(new GlobalAveragePooling1D({ name: 'global_average_pooling1d' }).apply(cat))));
      return { model: new Model({ inputs: [fin, tin], outputs: [o, cat], name: 'attention_concat' }), inputs: [floats(), tokens()] };
    },
  ],
  [
    'fn_mha_preln',
    'pre-LN self-attention: Embedding -> LayerNormalization -> MultiHeadAttention -> Add -> GAP -> Dense',
    () => {
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const x = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(ids));
      const h = one(new LayerNormalization({ name: 'layer_normalization' }).apply(x));
      const a = one(new MultiHeadAttention({ numHeads: 2, keyDim: 2, name: 'mha' }).apply([h, h]));
      const r = one(new Add({ name: 'add' }).apply([x, a]));
      const o = one(new Dense({ units: 2, name: 'dense' }).apply(one(new GlobalAveragePooling1D({ name: 'gap' }).apply(r))));
      return { model: new Model({ inputs: ids, outputs: [o, r], name: 'mha_preln' }), inputs: [tokens()] };
    },
  ],
  [
    'fn_mha_cross_key',
    'cross-attention with a separate key: MultiHeadAttention(query, value, key) -> GAP',
    () => {
      const q = Input({ shape: [null], dtype: 'int32', name: 'q_ids' });
      const v = Input({ shape: [null], dtype: 'int32', name: 'v_ids' });
      const qe = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'q_emb' }).apply(q));
      const ve = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'v_emb' }).apply(v));
      const qd = one(new Dense({ units: 4, name: 'q_proj' }).apply(qe));
      const kd = one(new Dense({ units: 4, name: 'k_proj' }).apply(ve));
      const vd = one(new Dense({ units: 4, name: 'v_proj' }).apply(ve));
      const a = one(new MultiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 2, name: 'cross_mha' }).apply([qd, vd, kd]));
      const g = one(new GlobalAveragePooling1D({ name: 'gap' }).apply(a));
      return { model: new Model({ inputs: [q, v], outputs: g, name: 'mha_cross' }), inputs: [tokens(), tokens2()] };
    },
  ],
  [
    'fn_conv_pooling_reshaping',
    'unmasked: ZeroPadding1D, Conv1D, Cropping1D, MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D, Flatten, Reshape',
    () => {
      const x = Input({ shape: [6, 3], name: 'x' });
      let h = one(new ZeroPadding1D({ padding: 1, name: 'zero_padding1d' }).apply(x));
      h = one(new Conv1D({ filters: 4, kernelSize: 3, activation: 'relu', name: 'conv1d' }).apply(h));
      h = one(new Cropping1D({ cropping: [1, 1], name: 'cropping1d' }).apply(h));
      h = one(new MaxPooling1D({ poolSize: 2, name: 'max_pooling1d' }).apply(h));
      const p = one(new AveragePooling1D({ poolSize: 2, strides: 1, padding: 'same', name: 'average_pooling1d' }).apply(h));
      const gmax = one(new GlobalMaxPooling1D({ name: 'global_max_pooling1d' }).apply(p));
      const f = one(new Flatten({ name: 'flatten' }).apply(p));
      const r = one(new Reshape({ targetShape: [2, 2], name: 'reshape' }).apply(one(new Dense({ units: 4, name: 'dense' }).apply(f))));
      return { model: new Model({ inputs: x, outputs: [gmax, r], name: 'conv_pooling' }), inputs: [floats()] };
    },
  ],
  [
    'fn_merging',
    'every merge on masked and unmasked inputs; Concatenate on the time axis feeding an LSTM; Dot',
    () => {
      const a_ids = Input({ shape: [6], dtype: 'int32', name: 'a_ids' });
      const b_ids = Input({ shape: [6], dtype: 'int32', name: 'b_ids' });
      const c_in = Input({ shape: [6, 4], name: 'c_in' });
      const a = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'emb_a' }).apply(a_ids));
      const b = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'emb_b' }).apply(b_ids));
      const c = one(new Dense({ units: 4, name: 'c_dense' }).apply(c_in));
      const add = one(new Add({ name: 'add' }).apply([a, b]));
      const sub = one(new Subtract({ name: 'subtract' }).apply([a, b]));
      const mul = one(new Multiply({ name: 'multiply' }).apply([a, b, c]));
      const avg = one(new Average({ name: 'average' }).apply([add, sub]));
      const mx = one(new Maximum({ name: 'maximum' }).apply([avg, c]));
      const mn = one(new Minimum({ name: 'minimum' }).apply([a, b, add]));
      const time = one(new Concatenate({ axis: 1, name: 'concat_time' }).apply([mn, c]));
      const feat = one(new Concatenate({ axis: -1, name: 'concat_features' }).apply([avg, b]));
      const lstm = one(new LSTM({ units: 3, name: 'lstm_time' }).apply(time));
      const g1 = one(new GlobalAveragePooling1D({ name: 'gap_feat' }).apply(feat));
      const g2 = one(new GlobalAveragePooling1D({ name: 'gap_mul' }).apply(mul));
      const dot = one(new Dot({ axes: 2, name: 'dot' }).apply([c, mx]));
      return { model: new Model({ inputs: [a_ids, b_ids, c_in], outputs: [lstm, g1, g2, mx, dot], name: 'merging' }), inputs: [tokens(), tokens2(), floats(4, 3)] };
    },
  ],
  [
    'fn_ops_explicit_masks',
    'Keras ops as layers making explicit masks: NotEqual, LogicalAnd -> LSTM(mask), GRU(mask)',
    () => {
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const ids2 = Input({ shape: [null], dtype: 'int32', name: 'ids2' });
      const e = one(new Embedding({ inputDim: 10, outputDim: 4, name: 'embedding' }).apply(ids));
      const m1 = one(new NotEqual({ name: 'ids_not_pad' }).apply([ids, 0]));
      const m2 = one(new NotEqual({ name: 'ids2_not_pad' }).apply([ids2, 0]));
      const both = one(new LogicalAnd({ name: 'both_valid' }).apply([m1, m2]));
      const seq = one(new LSTM({ units: 3, returnSequences: true, name: 'lstm' }).apply(e, { mask: m1 }));
      const last = one(new GRU({ units: 2, name: 'gru' }).apply(seq, { mask: both }));
      const g = one(new GlobalAveragePooling1D({ name: 'gap' }).apply(seq));
      return { model: new Model({ inputs: [ids, ids2], outputs: [last, g], name: 'ops_masks' }), inputs: [tokens(), tokens2()] };
    },
  ],
  [
    'fn_nested_functional',
    'a functional model (LSTM -> Dense) nested in a functional model after a masking Embedding',
    () => {
      const inner_in = Input({ shape: [null, 4], name: 'inner_in' });
      const inner_seq = one(new LSTM({ units: 3, returnSequences: true, name: 'inner_lstm' }).apply(inner_in));
      const inner = new Model({ inputs: inner_in, outputs: one(new Dense({ units: 2, name: 'inner_dense' }).apply(inner_seq)), name: 'inner' });
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const e = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(ids));
      const y = one(inner.apply(e));
      const o = one(new Dense({ units: 2, name: 'dense' }).apply(one(new GlobalAveragePooling1D({ name: 'gap' }).apply(y))));
      return { model: new Model({ inputs: ids, outputs: [o, y], name: 'nested_functional' }), inputs: [tokens()] };
    },
  ],
  [
    'fn_nested_sequential',
    'a Sequential (GRU -> Dense) nested in a functional model after Masking, then an LSTM',
    () => {
      const inner = new Sequential({ name: 'inner_seq', layers: [Input({ shape: [null, 3], name: 'inner_in' }), new GRU({ units: 4, returnSequences: true, name: 'inner_gru' }), new Dense({ units: 3, name: 'inner_dense' })] });
      const x = Input({ shape: [null, 3], name: 'x' });
      const m = one(new Masking({ name: 'masking' }).apply(x));
      const y = one(inner.apply(m));
      const o = one(new LSTM({ units: 2, name: 'lstm' }).apply(y));
      return { model: new Model({ inputs: x, outputs: [o, y], name: 'nested_sequential' }), inputs: [floats()] };
    },
  ],
  [
    'seq_nested_functional',
    'a functional model nested in a Sequential: Embedding -> (LSTM -> Dense) -> GAP',
    () => {
      const inner_in = Input({ shape: [null, 4], name: 'inner_in' });
      const inner = new Model({ inputs: inner_in, outputs: one(new LSTM({ units: 3, returnSequences: true, name: 'inner_lstm' }).apply(inner_in)), name: 'inner_fn' });
      const model = new Sequential({
        name: 'seq_outer',
        layers: [Input({ shape: [null], dtype: 'int32', name: 'ids' }), new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }), inner, new GlobalAveragePooling1D({ name: 'gap' })],
      });
      return { model, inputs: [tokens()] };
    },
  ],
  [
    'fn_shared_layers',
    'a Dense and an LSTM shared by two branches at different depths',
    () => {
      const a_ids = Input({ shape: [null], dtype: 'int32', name: 'a_ids' });
      const b_ids = Input({ shape: [null], dtype: 'int32', name: 'b_ids' });
      const emb = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'shared_emb' });
      const proj = new Dense({ units: 4, name: 'shared_proj' });
      const lstm = new LSTM({ units: 3, returnSequences: true, name: 'shared_lstm' });
      const a = one(lstm.apply(one(emb.apply(a_ids))));
      const b = one(lstm.apply(one(proj.apply(one(proj.apply(one(emb.apply(b_ids))))))));
      const s = one(new Add({ name: 'add' }).apply([a, b]));
      const g = one(new GlobalAveragePooling1D({ name: 'gap' }).apply(s));
      return { model: new Model({ inputs: [a_ids, b_ids], outputs: [g, s], name: 'shared' }), inputs: [tokens(), tokens2()] };
    },
  ],
  [
    'fn_same_class_depths',
    'same-class layers at different depths (two Embeddings, three Denses): weight groups follow Keras\'s order',
    () => {
      const t1 = Input({ shape: [null], dtype: 'int32', name: 't1' });
      const t2 = Input({ shape: [null], dtype: 'int32', name: 't2' });
      const e1 = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'emb_shallow' }).apply(t1));
      const e2 = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'emb_deep' }).apply(t2));
      const d2 = one(new Dense({ units: 4, name: 'dense_deep' }).apply(one(new Dense({ units: 4, name: 'dense_deeper' }).apply(e2))));
      const d1 = one(new Dense({ units: 4, name: 'dense_shallow' }).apply(e1));
      const s = one(new Add({ name: 'add' }).apply([d1, d2]));
      const o = one(new GlobalAveragePooling1D({ name: 'gap' }).apply(s));
      return { model: new Model({ inputs: [t1, t2], outputs: o, name: 'same_class_depths' }), inputs: [tokens(), tokens2()] };
    },
  ],
  [
    'fn_rnn_cells',
    'RNN(cell) with SimpleRNNCell (returnSequences), LSTMCell (returnState), GRUCell (goBackwards, resetAfter false), StackedRNNCells (zeroOutputForMask), Bidirectional(RNN(GRUCell))',
    () => {
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const e = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(ids));
      const s = one(new RNN({ cell: new SimpleRNNCell({ units: 4, name: 'simple_cell' }), returnSequences: true, name: 'rnn_simple' }).apply(e));
      const [seq, h, c] = many(new RNN({ cell: new LSTMCell({ units: 3, name: 'lstm_cell' }), returnSequences: true, returnState: true, name: 'rnn_lstm' }).apply(s)) as [S, S, S];
      const g = one(new RNN({ cell: new GRUCell({ units: 3, resetAfter: false, name: 'gru_cell' }), goBackwards: true, name: 'rnn_gru' }).apply(seq));
      const stacked = new StackedRNNCells({ cells: [new LSTMCell({ units: 3, name: 'stack_lstm' }), new GRUCell({ units: 2, name: 'stack_gru' })], name: 'stacked' });
      const st = one(new RNN({ cell: stacked, returnSequences: true, zeroOutputForMask: true, name: 'rnn_stacked' }).apply(e));
      const bi = one(new Bidirectional({ layer: new RNN({ cell: new GRUCell({ units: 2, name: 'bi_cell' }), returnSequences: true, name: 'rnn_bi' }), name: 'bidirectional' }).apply(st));
      return { model: new Model({ inputs: ids, outputs: [g, bi, h, c], name: 'rnn_cells' }), inputs: [tokens()] };
    },
  ],
  [
    'fn_normalization',
    'masked: BatchNormalization, Rescaling, Normalization (given and adapted), UnitNormalization -> LSTM; unmasked: GroupNormalization, RMSNormalization',
    () => {
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const x = Input({ shape: [6, 4], name: 'x' });
      let h = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(ids));
      h = one(new BatchNormalization({ name: 'batch_normalization' }).apply(h));
      h = one(new Rescaling({ scale: 0.5, offset: 0.1, name: 'rescaling' }).apply(h));
      h = one(new Normalization({ mean: [0.1, -0.2, 0.3, 0], variance: [1, 2, 0.5, 4], name: 'normalization' }).apply(h));
      h = one(new Normalization({ name: 'normalization_adapted' }).apply(h));
      h = one(new UnitNormalization({ name: 'unit_normalization' }).apply(h));
      const seq = one(new LSTM({ units: 3, returnSequences: true, name: 'lstm' }).apply(h));
      let u = one(new GroupNormalization({ groups: 2, name: 'group_normalization' }).apply(x));
      u = one(new RMSNormalization({ name: 'rms_normalization' }).apply(u));
      return { model: new Model({ inputs: [ids, x], outputs: [seq, h, u], name: 'normalization' }), inputs: [tokens(), floats(4, 5)] };
    },
  ],
  [
    'fn_attention_gqa_additive',
    'GroupQueryAttention (gate) and AdditiveAttention on two masked sequences -> Concatenate -> GAP -> Dense',
    () => {
      const q = Input({ shape: [null], dtype: 'int32', name: 'q_ids' });
      const v = Input({ shape: [null], dtype: 'int32', name: 'v_ids' });
      const qe = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'q_emb' }).apply(q));
      const ve = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'v_emb' }).apply(v));
      const gqa = one(new GroupQueryAttention({ headDim: 2, numQueryHeads: 4, numKeyValueHeads: 2, useGate: true, name: 'gqa' }).apply([qe, ve]));
      const add = one(new AdditiveAttention({ name: 'additive_attention' }).apply([qe, ve]));
      const cat = one(new Concatenate({ name: 'concat' }).apply([gqa, add]));
      const o = one(new Dense({ units: 2, name: 'dense' }).apply(one(new GlobalAveragePooling1D({ name: 'gap' }).apply(cat))));
      return { model: new Model({ inputs: [q, v], outputs: [o, gqa, add], name: 'gqa_additive' }), inputs: [tokens(), tokens2()] };
    },
  ],
  [
    'fn_activations_regularization',
    'ReversibleEmbedding (forward and reverse), ELU, LeakyReLU, PReLU(sharedAxes), Identity, GaussianDropout, AlphaDropout, SpatialDropout1D, ActivityRegularization, EinsumDense',
    () => {
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const emb = new ReversibleEmbedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'reversible_embedding' });
      let h = one(emb.apply(ids));
      h = one(new ELU({ alpha: 0.5, name: 'elu' }).apply(h));
      h = one(new LeakyReLU({ negativeSlope: 0.2, name: 'leaky_re_lu' }).apply(h));
      h = one(new PReLU({ sharedAxes: [1], name: 'p_re_lu' }).apply(h));
      h = one(new Identity({ name: 'identity' }).apply(h));
      h = one(new GaussianDropout({ rate: 0.2, name: 'gaussian_dropout' }).apply(h));
      h = one(new AlphaDropout({ rate: 0.1, name: 'alpha_dropout' }).apply(h));
      h = one(new SpatialDropout1D({ rate: 0.2, name: 'spatial_dropout1d' }).apply(h));
      h = one(new ActivityRegularization({ l1: 0.01, l2: 0.001, name: 'activity_regularization' }).apply(h));
      const g = one(new GlobalAveragePooling1D({ name: 'gap' }).apply(h));
      const d = one(new EinsumDense({ equation: 'ab,bc->ac', outputShape: 4, biasAxes: 'c', activation: 'tanh', name: 'einsum_dense' }).apply(g));
      const logits = one(emb.apply(d, { reverse: true }));
      return { model: new Model({ inputs: ids, outputs: [logits, h], name: 'activations_regularization' }), inputs: [tokens()] };
    },
  ],
  [
    'fn_rnn_cells_states',
    'RNN(StackedRNNCells) returning its states (Keras nests them per cell), and RNN(LSTMCell) with goBackwards called with initial states from a second input',
    () => {
      const ids = Input({ shape: [null], dtype: 'int32', name: 'ids' });
      const ctx = Input({ shape: [5], name: 'ctx' });
      const e = one(new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding' }).apply(ids));
      const stacked = new StackedRNNCells({ cells: [new LSTMCell({ units: 3, name: 'st_lstm' }), new GRUCell({ units: 2, name: 'st_gru' })], name: 'stacked' });
      const [seq, h1, c1, h2] = many(new RNN({ cell: stacked, returnSequences: true, returnState: true, name: 'rnn_stacked_states' }).apply(e)) as [S, S, S, S];
      const h0 = one(new Dense({ units: 3, activation: 'tanh', name: 'init_h' }).apply(ctx));
      const c0 = one(new Dense({ units: 3, name: 'init_c' }).apply(ctx));
      const last = one(new RNN({ cell: new LSTMCell({ units: 3, name: 'init_cell' }), goBackwards: true, name: 'rnn_init' }).apply(seq, { initialState: [h0, c0] }));
      return { model: new Model({ inputs: [ids, ctx], outputs: [last, seq, h1, c1, h2], name: 'rnn_cells_states' }), inputs: [tokens(), tf.tensor2d(values(13, 20), [4, 5])] };
    },
  ],
  [
    'fn_layer_options',
    'non-default options: BatchNormalization(renorm, center false), PReLU per step, Normalization(invert), Rescaling by a vector, GroupQueryAttention(query, value, key, causal), AdditiveAttention(key, no scale), ReversibleEmbedding(untied, soft cap), EinsumDense to two axes; activations, dropouts and GroupNormalization on a masked sequence',
    () => {
      const ids = Input({ shape: [6], dtype: 'int32', name: 'ids' });
      const x = Input({ shape: [6, 4], name: 'x' });
      let h = one(new Masking({ name: 'masking' }).apply(x));
      h = one(new BatchNormalization({ renorm: true, center: false, momentum: 0.9, epsilon: 0.01, name: 'bn_renorm' }).apply(h));
      h = one(new PReLU({ name: 'p_re_lu' }).apply(h));
      h = one(new Normalization({ mean: [0.1, -0.2, 0.3, 0], variance: [1, 2, 0.5, 4], invert: true, name: 'normalization_invert' }).apply(h));
      h = one(new Rescaling({ scale: [0.5, 1, 2, -1], offset: 0.25, name: 'rescaling' }).apply(h));
      const g = one(new GroupQueryAttention({ headDim: 3, numQueryHeads: 2, numKeyValueHeads: 1, useBias: false, name: 'gqa' }).apply([h, h, h], { useCausalMask: true }));
      const a = one(new AdditiveAttention({ useScale: false, name: 'additive_attention' }).apply([h, h, h]));
      const emb = new ReversibleEmbedding({ inputDim: 10, outputDim: 4, maskZero: true, tieWeights: false, logitSoftCap: 5, name: 'reversible_embedding' });
      const s = one(new Add({ name: 'add' }).apply([g, one(emb.apply(ids))]));
      const logits = one(emb.apply(one(new GlobalAveragePooling1D({ name: 'gap' }).apply(s)), { reverse: true }));
      const ed = one(new EinsumDense({ equation: 'abc,cde->abde', outputShape: [6, 2, 2], biasAxes: 'de', name: 'einsum_dense' }).apply(x));
      // The elementwise and dropout layers on a masked sequence, then GroupNormalization over valid steps (departure 13) -> LSTM.
      let c = one(new ELU({ alpha: 0.7, name: 'elu' }).apply(h));
      c = one(new LeakyReLU({ negativeSlope: 0.05, name: 'leaky_re_lu' }).apply(c));
      c = one(new Identity({ name: 'identity' }).apply(c));
      c = one(new GaussianDropout({ rate: 0.1, name: 'gaussian_dropout' }).apply(c));
      c = one(new AlphaDropout({ rate: 0.1, name: 'alpha_dropout' }).apply(c));
      c = one(new SpatialDropout1D({ rate: 0.1, name: 'spatial_dropout1d' }).apply(c));
      c = one(new ActivityRegularization({ l2: 0.01, name: 'activity_regularization' }).apply(c));
      c = one(new GroupNormalization({ groups: 2, name: 'group_normalization' }).apply(c));
      const seq = one(new LSTM({ units: 3, returnSequences: true, name: 'lstm' }).apply(c));
      return { model: new Model({ inputs: [ids, x], outputs: [logits, a, ed, seq], name: 'layer_options' }), inputs: [tokens(), floats(4, 9)] };
    },
  ],
  [
    'seq_cells_norm',
    'Sequential: Embedding(maskZero) -> BatchNormalization -> RNN(GRUCell, returnSequences) -> UnitNormalization -> PReLU -> RNN(StackedRNNCells) -> Dense',
    () => ({
      model: new Sequential({
        name: 'seq_cells_norm',
        layers: [
          Input({ shape: [null], dtype: 'int32', name: 'ids' }),
          new Embedding({ inputDim: 10, outputDim: 4, maskZero: true, name: 'emb' }),
          new BatchNormalization({ name: 'batch_normalization' }),
          new RNN({ cell: new GRUCell({ units: 3, name: 'gru_cell' }), returnSequences: true, name: 'rnn_gru' }),
          new UnitNormalization({ name: 'unit_normalization' }),
          new PReLU({ sharedAxes: [1], name: 'p_re_lu' }),
          new RNN({ cell: new StackedRNNCells({ cells: [new SimpleRNNCell({ units: 3, name: 'st_simple' }), new LSTMCell({ units: 2, name: 'st_lstm' })], name: 'stacked' }), name: 'rnn_stacked' }),
          new Dense({ units: 2, name: 'head' }),
        ],
      }),
      inputs: [tokens()],
    }),
  ],
];

/** Names of the fixture models, in order. */
export const ROUND_TRIP_NAMES: readonly string[] = builders.map((b) => b[0]);

/** Builds one fixture model with its deterministic weights and inputs. */
export function buildRoundTripModel(name: string): RoundTripModel {
  const i = builders.findIndex((b) => b[0] === name);
  if (i < 0) throw new Error(`no round-trip model '${name}'`);
  const [, about, build] = builders[i]!;
  const { model, inputs } = build();
  setDeterministicWeights(model, i + 1);
  return { name, about, model, inputs };
}
