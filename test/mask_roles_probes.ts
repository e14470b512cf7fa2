// Symbolic calls of every layer class Masque exports, for the mask table of
// docs/api.md (test/mask_roles_table.test.ts): each probe builds a layer,
// calls it on symbolic inputs (masked ones, except where the layer makes the
// mask from data), and reads what the call did with the mask from the graph
// node, as model.summary() does (models/summary.ts: maskRole), telling a mask
// passed on unchanged from one the layer computed.
import * as M from '../src/index.js';
import { Input, Masking, Embedding, Dense, LSTM, GRU, GRUCell, LSTMCell, Model, Sequential, MasqueError, type SymbolicTensor, type Layer } from '../src/index.js';
import { maskRole } from '../src/models/summary.js';
import { collectSymbolic } from '../src/engine/symbolic.js';
import { NotEqual } from '../src/layers/ops/comparison.js';

/** What a layer does with masks: the roles of the table. */
export type Role = 'makes' | 'passes' | 'transforms' | 'consumes' | 'cannot' | 'none';
export const ROLES: readonly Role[] = ['makes', 'passes', 'transforms', 'consumes', 'cannot', 'none'];

type Sym = SymbolicTensor;
type AnyLayer = Layer<never, boolean>;
const seq = (d = 4): Sym => new Masking().apply(Input({ shape: [null, d] })) as Sym;
const fixedSeq = (t = 6, d = 4): Sym => new Masking().apply(Input({ shape: [t, d] })) as Sym;
const ids = (): Sym => Input({ shape: [null], dtype: 'int32' });
/** Frames [batch, time, 5, 2] carrying a [batch, time] mask: Embedding(maskZero) rows reshaped step by step. */
const frames = (): Sym =>
  new M.TimeDistributed({ layer: new M.Reshape({ targetShape: [5, 2] }) }).apply(new Embedding({ inputDim: 9, outputDim: 10, maskZero: true }).apply(ids()) as Sym) as Sym;
/** An explicit [batch, time] mask made from ids (Keras's `ids != 0` op). */
const idsMask = (): Sym => new NotEqual().apply([ids(), 0] as never) as Sym;

export interface Probe {
  /** The exported class the probe instantiates. */
  cls: string;
  /** What the probe shows (for messages). */
  about: string;
  run: () => { layer: AnyLayer; out: Sym | Sym[] };
}

const call = (layer: AnyLayer, inputs: Sym | Sym[], args?: object): { layer: AnyLayer; out: Sym | Sym[] } => {
  // `mask: 'ids'` stands for an explicit mask made from ids.
  const a = args !== undefined && (args as { mask?: unknown }).mask === 'ids' ? { ...args, mask: idsMask() } : args;
  return { layer, out: (layer as unknown as { apply(x: Sym | Sym[], a?: object): Sym | Sym[] }).apply(inputs, a) };
};
const L = M as unknown as Record<string, new (a?: object) => AnyLayer>;
const on = (cls: string, args: object | undefined, inputs: () => Sym | Sym[], about = 'on a masked sequence', callArgs?: object): Probe => ({
  cls,
  about,
  run: () => call(new L[cls]!(args), inputs(), callArgs),
});

/** A subclass of Layer as a user writes one: no mask support declared. */
class PlainCustom extends M.Layer {
  static override readonly className = 'PlainCustom';
  call(x: M.tf.Tensor): M.tf.Tensor {
    return x;
  }
}

export const PROBES: Probe[] = [
  { cls: 'Layer', about: 'a subclass that declares nothing', run: () => call(new PlainCustom() as unknown as AnyLayer, seq()) },
  on('Masking', {}, () => Input({ shape: [null, 4] }), 'on an unmasked sequence'),
  on('Embedding', { inputDim: 9, outputDim: 3, maskZero: true }, ids, 'maskZero, on ids'),
  on('ReversibleEmbedding', { inputDim: 9, outputDim: 3, maskZero: true }, ids, 'maskZero, on ids'),
  on('ReversibleEmbedding', { inputDim: 9, outputDim: 4 }, seq, 'reverse call on a masked sequence', { reverse: true }),
  on('Dense', { units: 3 }, seq),
  on('EinsumDense', { equation: 'abc,cd->abd', outputShape: [null, 3] }, seq),
  on('Activation', { activation: 'tanh' }, seq),
  on('ReLU', {}, seq),
  on('ELU', {}, seq),
  on('LeakyReLU', {}, seq),
  on('PReLU', { sharedAxes: [1] }, seq),
  on('Softmax', {}, () => new Masking().apply(Input({ shape: [6] })) as Sym, 'on a masked [batch, time] input'),
  on('Identity', {}, seq),
  on('Dropout', { rate: 0.5 }, seq),
  on('GaussianNoise', { stddev: 0.1 }, seq),
  on('GaussianDropout', { rate: 0.5 }, seq),
  on('AlphaDropout', { rate: 0.5 }, seq),
  on('SpatialDropout1D', { rate: 0.5 }, seq),
  on('ActivityRegularization', { l1: 0.1 }, seq),
  on('Lambda', { fn: (x: M.tf.Tensor) => x }, seq, 'without a mask function'),
  on('Lambda', { fn: (x: M.tf.Tensor) => x, mask: (_x: unknown, m: unknown) => m }, seq, 'with a mask function'),
  on('Flatten', {}, fixedSeq),
  on('Reshape', { targetShape: [24] }, fixedSeq),
  on('LayerNormalization', {}, seq),
  on('BatchNormalization', {}, seq),
  on('GroupNormalization', { groups: 2 }, seq),
  on('UnitNormalization', {}, seq),
  on('RMSNormalization', {}, seq),
  on('Normalization', { mean: 0, variance: 1 }, seq),
  on('Rescaling', { scale: 2 }, seq),
  on('ConvLSTM1D', { filters: 2, kernelSize: 2, returnSequences: true }, frames, 'returnSequences, on masked [batch, time, length, channels] frames'),
  on('ConvLSTM1D', { filters: 2, kernelSize: 2 }, frames, 'last output, on masked frames'),
  on('SimpleRNN', { units: 3, returnSequences: true }, seq, 'returnSequences'),
  on('SimpleRNN', { units: 3 }, seq, 'last output'),
  on('LSTM', { units: 3, returnSequences: true }, seq, 'returnSequences'),
  on('LSTM', { units: 3 }, seq, 'last output'),
  on('GRU', { units: 3, returnSequences: true }, seq, 'returnSequences'),
  on('GRU', { units: 3 }, seq, 'last output'),
  { cls: 'RNN', about: 'returnSequences', run: () => call(new M.RNN({ cell: new GRUCell({ units: 3 }), returnSequences: true }) as unknown as AnyLayer, seq()) },
  { cls: 'RNN', about: 'last output', run: () => call(new M.RNN({ cell: new LSTMCell({ units: 3 }) }) as unknown as AnyLayer, seq()) },
  {
    cls: 'Bidirectional',
    about: 'returnSequences',
    run: () => call(new M.Bidirectional({ layer: new LSTM({ units: 3, returnSequences: true }) }) as unknown as AnyLayer, seq()),
  },
  { cls: 'Bidirectional', about: 'last output', run: () => call(new M.Bidirectional({ layer: new GRU({ units: 3 }) }) as unknown as AnyLayer, seq()) },
  { cls: 'TimeDistributed', about: 'of Dense', run: () => call(new M.TimeDistributed({ layer: new Dense({ units: 2 }) }) as unknown as AnyLayer, seq()) },
  {
    cls: 'TimeDistributed',
    about: 'of Embedding(maskZero) on [batch, sentences, words] ids',
    run: () => call(new M.TimeDistributed({ layer: new Embedding({ inputDim: 9, outputDim: 2, maskZero: true }) }) as unknown as AnyLayer, Input({ shape: [null, 5], dtype: 'int32' })),
  },
  {
    cls: 'TimeDistributed',
    about: 'of LSTM (last output) on masked [batch, sentences, words, features]',
    run: () => call(new M.TimeDistributed({ layer: new LSTM({ units: 2 }) }) as unknown as AnyLayer, new Masking().apply(Input({ shape: [null, 5, 4] })) as Sym),
  },
  on('Attention', {}, () => [seq(), seq()], 'on [query, value]'),
  on('AdditiveAttention', {}, () => [seq(), seq()], 'on [query, value]'),
  on('MultiHeadAttention', { numHeads: 2, keyDim: 2 }, () => [seq(), seq()], 'on [query, value]'),
  on('GroupQueryAttention', { headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1 }, () => [seq(), seq()], 'on [query, value]'),
  on('GlobalAveragePooling1D', {}, seq),
  on('GlobalMaxPooling1D', {}, seq),
  on('AveragePooling1D', { poolSize: 2 }, fixedSeq),
  on('MaxPooling1D', { poolSize: 2 }, fixedSeq),
  on('Conv1D', { filters: 2, kernelSize: 2 }, fixedSeq),
  on('Cropping1D', { cropping: [1, 1] }, fixedSeq),
  on('ZeroPadding1D', { padding: 1 }, fixedSeq),
  on('Permute', { dims: [2, 1] }, fixedSeq),
  on('UpSampling1D', { size: 2 }, fixedSeq),
  on('Conv1DTranspose', { filters: 2, kernelSize: 2 }, fixedSeq),
  on('DepthwiseConv1D', { kernelSize: 2 }, fixedSeq),
  on('SeparableConv1D', { filters: 2, kernelSize: 2 }, fixedSeq),
  on('AdaptiveAveragePooling1D', { outputSize: 2 }, fixedSeq),
  on('AdaptiveMaxPooling1D', { outputSize: 2 }, fixedSeq),
  on('RepeatVector', { n: 3 }, () => new Masking().apply(Input({ shape: [4] })) as Sym, 'on a masked [batch, features] input'),
  on('Discretization', { binBoundaries: [0, 1] }, fixedSeq),
  on('CategoryEncoding', { numTokens: 3, outputMode: 'one_hot' }, fixedSeq),
  ...['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum'].map((c) => on(c, {}, () => [seq(), seq()], 'on two masked sequences')),
  on('Concatenate', {}, () => [seq(), Input({ shape: [null, 4] })], 'on a masked and an unmasked sequence'),
  on('Dot', { axes: 2 }, () => [seq(), seq()], 'on two masked sequences'),
  on('TextVectorization', { vocabulary: ['a'] }, () => Input({ shape: [], dtype: 'string' }), 'on strings with an explicit mask', { mask: 'ids' }),
  on('StringLookup', { vocabulary: ['a'] }, () => Input({ shape: [null], dtype: 'string' }), 'on tokens with an explicit mask', { mask: 'ids' }),
  on('Hashing', { numBins: 4 }, () => Input({ shape: [null], dtype: 'string' }), 'on tokens with an explicit mask', { mask: 'ids' }),
  on('IntegerLookup', { vocabulary: [1, 2] }, ids, 'on ids with an explicit mask', { mask: 'ids' }),
  {
    cls: 'Model',
    about: 'a functional model (Dense) as a layer',
    run: () => {
      const i = Input({ shape: [null, 4] });
      return call(new Model({ inputs: i, outputs: new Dense({ units: 2 }).apply(i) as Sym }) as unknown as AnyLayer, seq());
    },
  },
  {
    cls: 'Model',
    about: 'a functional model (LSTM, last output) as a layer',
    run: () => {
      const i = Input({ shape: [null, 4] });
      return call(new Model({ inputs: i, outputs: new LSTM({ units: 2 }).apply(i) as Sym }) as unknown as AnyLayer, seq());
    },
  },
  {
    cls: 'Sequential',
    about: 'a Sequential (Dense) as a layer',
    run: () => call(new Sequential({ layers: [Input({ shape: [null, 4] }), new Dense({ units: 2 })] }) as unknown as AnyLayer, seq()),
  },
  {
    cls: 'Sequential',
    about: 'a Sequential (LSTM) as a layer',
    run: () => call(new Sequential({ layers: [Input({ shape: [null, 4] }), new LSTM({ units: 2 })] }) as unknown as AnyLayer, seq()),
  },
];

/** Cells are not called on sequences: an RNN (or the layer that owns them) runs them step by step and handles the mask. */
export const NOT_PROBED: Record<string, string> = {
  InputLayer: 'a model input: it has no mask (a model called with an explicit mask attaches it here)',
  RNNLayer: 'the base of SimpleRNN, LSTM and GRU (probed there)',
  AbstractRNNCell: 'a cell runs inside RNN, which handles the mask',
  RNNCell: 'a cell runs inside RNN, which handles the mask',
  SimpleRNNCell: 'a cell runs inside RNN, which handles the mask',
  LSTMCell: 'a cell runs inside RNN, which handles the mask',
  GRUCell: 'a cell runs inside RNN, which handles the mask',
  StackedRNNCells: 'a cell runs inside RNN, which handles the mask',
};

/** What one symbolic call did with the mask, under the default policy ('error'). */
export function observe(probe: Probe): Role {
  let result: { layer: AnyLayer; out: Sym | Sym[] };
  try {
    result = probe.run();
  } catch (e) {
    if (e instanceof MasqueError && e.code === 'MASK_NOT_SUPPORTED') return 'cannot';
    throw e;
  }
  const outs = collectSymbolic(result.out);
  const node = outs[0]!.node!;
  const role = maskRole(node);
  if (role === 'drops') return 'cannot';
  if (role === 'consumes') return 'consumes';
  if (role === '-') return 'none';
  // 'makes' or 'passes' in the summary's terms: the output carries a mask. Made from data when no input had one,
  // passed on when every output mask is an input's own mask spec, else computed from the inputs' masks.
  const inMasks = collectSymbolic([node.inputs, node.args]).map((s) => s.mask).filter((m) => m !== null);
  if (inMasks.length === 0) return 'makes';
  return outs.every((o) => o.mask === null || inMasks.includes(o.mask)) ? 'passes' : 'transforms';
}
