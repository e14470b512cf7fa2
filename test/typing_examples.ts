/**
 * Keras-style code that must type-check without casts (checked by
 * test/types.test.ts, which runs tsc over the project; never executed).
 */
import { Input, LSTM, GRU, SimpleRNN, Attention, MultiHeadAttention, Embedding, Dense, Model, getMask, tf, type SymbolicTensor } from '../src/index.js';

export function keras_style_types(): void {
  const tokens = Input({ shape: [null], dtype: 'int32' });
  const e: SymbolicTensor = new Embedding({ inputDim: 5, outputDim: 4, maskZero: true }).apply(tokens);
  const seq: SymbolicTensor = new LSTM({ units: 3, returnSequences: true }).apply(e);
  const [out, h, c]: SymbolicTensor[] = new LSTM({ units: 3, returnState: true }).apply(e);
  const g: SymbolicTensor = new GRU({ units: 3 }).apply(seq);
  const s: SymbolicTensor = new SimpleRNN({ units: 3 }).apply(e);
  const att: SymbolicTensor = new Attention().apply([e, e]);
  const [att2, scores]: SymbolicTensor[] = new Attention().apply([e, e], { returnAttentionScores: true });
  const mha: SymbolicTensor = new MultiHeadAttention({ numHeads: 2, keyDim: 2 }).apply([e, e]);
  const [mha2, mhaScores]: SymbolicTensor[] = new MultiHeadAttention({ numHeads: 2, keyDim: 2 }).apply([e, e], { returnAttentionScores: true });
  const model = new Model({ inputs: tokens, outputs: new Dense({ units: 1 }).apply(g) });
  const x = tf.ones([2, 3, 4]);
  const y: tf.Tensor = new LSTM({ units: 2 }).apply(x);
  const ids = tf.tensor2d([[1, 0]], undefined, 'int32');
  const mask = new Embedding({ inputDim: 5, outputDim: 2, maskZero: true }).computeMask(ids, null);
  void [out, h, c, s, att, att2, scores, mha, mha2, mhaScores, model, getMask(y), mask];
}
