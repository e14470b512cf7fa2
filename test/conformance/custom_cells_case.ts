/**
 * The custom-cell cases (`rnncell_custom_*`, made by
 * scripts/gen_rnncell_custom.py): RNN over the TypeScript twins of the
 * Python cells (examples/custom_cells.ts) and built-in cells, rebuilt from
 * the case's `spec` with Keras's layer names, weights set by Keras path.
 */
import { Input, Masking, Embedding, Model, Sequential, RNN, Bidirectional, LSTMCell, GRUCell, SimpleRNNCell, StackedRNNCells, setKerasWeights, type AbstractRNNCell, type NamedWeight, type SymbolicTensor } from '../../src/index.js';
import { MinimalRNNCell, PeepholeLSTMCell, ProjectedRNNCell } from '../../examples/custom_cells.js';
import type { Case } from './cases.js';

interface CellSpec {
  class: string;
  name: string;
  units?: number;
  output_units?: number;
  reset_after?: boolean;
  cells?: CellSpec[];
}

interface RnnSpec {
  name: string;
  return_sequences: boolean;
  return_state: boolean;
  go_backwards: boolean;
  zero_output_for_mask: boolean;
  unroll: boolean;
}

interface ModelSpec {
  model: 'sequential' | 'functional';
  model_name: string;
  source: 'masking' | 'embedding';
  source_name: string;
  input_shape: number[];
  embedding: { input_dim: number; output_dim: number } | null;
  rnn: RnnSpec;
  bidirectional: { name: string; merge_mode: 'concat' | 'sum' | 'ave' | 'mul' | null } | null;
  cell: CellSpec;
}

function makeCell(s: CellSpec): AbstractRNNCell {
  const units = s.units!;
  switch (s.class) {
    case 'StackedRNNCells':
      return new StackedRNNCells({ name: s.name, cells: s.cells!.map(makeCell) });
    case 'MinimalRNNCell':
      return new MinimalRNNCell({ units, name: s.name });
    case 'PeepholeLSTMCell':
      return new PeepholeLSTMCell({ units, name: s.name });
    case 'ProjectedRNNCell':
      return new ProjectedRNNCell({ units, outputUnits: s.output_units!, name: s.name });
    case 'LSTMCell':
      return new LSTMCell({ units, name: s.name });
    case 'GRUCell':
      return new GRUCell({ units, name: s.name, ...(s.reset_after !== undefined ? { resetAfter: s.reset_after } : {}) });
    case 'SimpleRNNCell':
      return new SimpleRNNCell({ units, name: s.name });
    default:
      throw new Error(`custom cell case: unknown cell class ${s.class}`);
  }
}

/** The case's model with its weights, or null when the case has no `spec` (not a custom-cell case). */
export function customCellModel(c: Case): Model | null {
  const spec = c['spec'] as ModelSpec | undefined;
  if (spec === undefined) return null;
  const r = spec.rnn;
  const rnn = new RNN({
    name: r.name,
    cell: makeCell(spec.cell),
    returnSequences: r.return_sequences,
    returnState: r.return_state,
    goBackwards: r.go_backwards,
    zeroOutputForMask: r.zero_output_for_mask,
    unroll: r.unroll,
  });
  const top = spec.bidirectional === null ? rnn : new Bidirectional({ name: spec.bidirectional.name, layer: rnn, mergeMode: spec.bidirectional.merge_mode });
  const emb = spec.embedding;
  const source = emb === null ? new Masking({ name: spec.source_name }) : new Embedding({ name: spec.source_name, inputDim: emb.input_dim, outputDim: emb.output_dim, maskZero: true });
  const input = Input({ shape: spec.input_shape, dtype: emb === null ? 'float32' : 'int32' });
  const model =
    spec.model === 'sequential'
      ? new Sequential({ name: spec.model_name, layers: [input, source, top] })
      : new Model({ name: spec.model_name, inputs: input, outputs: top.apply(source.apply(input) as SymbolicTensor) as SymbolicTensor | SymbolicTensor[] });
  setKerasWeights(model, c['weights'] as NamedWeight[]);
  return model;
}
