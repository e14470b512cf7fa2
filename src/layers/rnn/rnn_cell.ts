/**
 * The built-in cells SimpleRNNCell, LSTMCell and GRUCell (Keras 3.15.1):
 * weights `kernel`, `recurrent_kernel`, `bias` under the cell's path
 * (`lstm/lstm_cell/kernel`, `rnn/lstm_cell/kernel`), gates in Keras's order
 * (i, f, c, o for LSTM; z, r, h for GRU). Inside SimpleRNN, LSTM, GRU and
 * RNN they run over the whole sequence through `rnnSequence` (the fused
 * kernel); `cell.call(x, states)` takes one step: LSTMCell returns
 * `[h, [h, c]]`, the others `[h, [h]]`. `dropout` and `recurrentDropout`
 * act when the cell runs inside RNN in training (one mask per sequence).
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, Shape } from '../../engine/types.js';
import { getInitializer, type InitializerSpec } from '../../engine/initializers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { MasqueError, formatShape } from '../../errors.js';
import { releaseProjectionTables, rnnSequence, type RnnCellKind, type RnnSequenceArgs } from '../../ops/rnn/index.js';
import { GATES } from '../../ops/rnn/types.js';
import { AbstractRNNCell, type CellCallArgs, type CellOutput } from './abstract_rnn_cell.js';

/** Options of SimpleRNNCell (Keras names, camelCase). */
export interface SimpleRNNCellArgs extends BaseLayerArgs {
  units: number;
  activation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  recurrentInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  /** Fraction of the inputs dropped inside RNN in training (one mask per sequence). */
  dropout?: number;
  /** Fraction of the recurrent state dropped inside RNN in training (one mask per sequence). */
  recurrentDropout?: number;
  /** Seed for the dropout masks. */
  seed?: number | null;
}

/** Options of LSTMCell. */
export interface LSTMCellArgs extends SimpleRNNCellArgs {
  recurrentActivation?: ActivationSpec;
  /** Initialise the forget-gate bias to ones (default true). */
  unitForgetBias?: boolean;
}

/** Options of GRUCell. */
export interface GRUCellArgs extends SimpleRNNCellArgs {
  recurrentActivation?: ActivationSpec;
  /** Reset gate after the recurrent matmul; bias [2, 3U] (default true). */
  resetAfter?: boolean;
}

type Own<A> = Omit<A, keyof BaseLayerArgs>;

const CELL_OPTIONS = {
  units: opt.int({ min: 1 }),
  activation: opt.activation<ActivationSpec>('tanh'),
  useBias: opt.bool(true),
  kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
  recurrentInitializer: opt.initializer<InitializerSpec>('orthogonal'),
  biasInitializer: opt.initializer<InitializerSpec>('zeros'),
  dropout: opt.number({ min: 0, max: 1, default: 0 }),
  recurrentDropout: opt.number({ min: 0, max: 1, default: 0 }),
  seed: opt.seed(),
} satisfies OptionsOf<Own<SimpleRNNCellArgs>>;

type CellOptions = Filled<Own<SimpleRNNCellArgs>> & { recurrentActivation?: ActivationSpec; unitForgetBias?: boolean; resetAfter?: boolean };

/** The dropout masks of one call ([batch, features] and [batch, units]), or nulls. */
export interface CellDropoutMasks {
  inputDropoutMask: tf.Tensor | null;
  recurrentDropoutMask: tf.Tensor | null;
}

/** Base class of the built-in cells: weights, one step, and their part of `rnnSequence`'s arguments. */
export abstract class RNNCell extends AbstractRNNCell {
  /** The recurrence this class computes. */
  static readonly kind: RnnCellKind;
  declare readonly args: CellOptions;
  kernel!: tf.Variable;
  recurrentKernel!: tf.Variable;
  bias: tf.Variable | null = null;
  private dropoutCalls = 0;

  constructor(args: SimpleRNNCellArgs) {
    super(args);
    getActivation(this.args.activation, `${this.className} '${this.name}' activation`);
    if (this.args.recurrentActivation !== undefined) getActivation(this.args.recurrentActivation, `${this.className} '${this.name}' recurrentActivation`);
  }

  /** The cell class of a kind, with these options (SimpleRNN, LSTM and GRU make their cell with it). */
  static forKind(kind: RnnCellKind, args: LSTMCellArgs & GRUCellArgs): RNNCell {
    const { recurrentActivation, unitForgetBias, resetAfter, ...common } = args;
    if (kind === 'lstm') return new LSTMCell({ ...common, recurrentActivation, unitForgetBias });
    if (kind === 'gru') return new GRUCell({ ...common, recurrentActivation, resetAfter });
    return new SimpleRNNCell(common);
  }

  get kind(): RnnCellKind {
    return (this.constructor as typeof RNNCell).kind;
  }
  get units(): number {
    return this.args.units;
  }
  /** Number of gates stacked in the kernel's columns (LSTM 4, GRU 3, SimpleRNN 1). */
  get gates(): number {
    return GATES[this.kind];
  }
  /** Keras's state_size: LSTM [units, units] (h, c), the others units. */
  get stateSize(): number | number[] {
    return this.kind === 'lstm' ? [this.units, this.units] : this.units;
  }
  /** The state sizes as a list. */
  get stateSizes(): number[] {
    return this.kind === 'lstm' ? [this.units, this.units] : [this.units];
  }
  get outputSize(): number {
    return this.units;
  }

  /** The input projections table kept for this kernel (inference fed by an Embedding) goes with the weights. */
  protected override releaseCaches(): void {
    if (this.kernel !== undefined) releaseProjectionTables(this.kernel);
  }

  /** `stepShape` is one step: [batch, features]. */
  override build(stepShape: Shape): void {
    const f = stepShape[stepShape.length - 1];
    if (typeof f !== 'number') {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.path}': the feature dimension must be known; received step shape ${formatShape(stepShape)}.`);
    }
    const units = this.units;
    const g = this.gates;
    this.kernel = this.addWeight('kernel', [f, g * units], { initializer: this.args.kernelInitializer });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [units, g * units], { initializer: this.args.recurrentInitializer });
    if (!this.args.useBias) return;
    if (this.kind === 'lstm' && this.args.unitForgetBias === true) {
      const init = getInitializer(this.args.biasInitializer, `${this.path}.bias`);
      const forgetOnes = (_s: number[], d: tf.DataType): tf.Tensor => tf.tidy(() => tf.concat([init([units], d), tf.ones([units], d), init([2 * units], d)]));
      this.bias = this.addWeight('bias', [4 * units], { initializer: forgetOnes });
    } else {
      const shape = this.kind === 'gru' && this.args.resetAfter === true ? [2, 3 * units] : [g * units];
      this.bias = this.addWeight('bias', shape, { initializer: this.args.biasInitializer });
    }
  }

  /** One step: `x` [B, F], `states` [h] (LSTM [h, c]); returns [h, newStates]. No dropout here (see the file comment). */
  call(x: tf.Tensor, states: tf.Tensor[] = [], _args?: CellCallArgs): CellOutput {
    if (!(x instanceof tf.Tensor) || x.rank !== 2) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.path}': expected a step input of shape [batch, features]; received ${x instanceof tf.Tensor ? formatShape(x.shape) : 'no tensor'}.`);
    }
    if (!this.built) {
      this.build(x.shape);
      this.built = true;
    }
    const initial = states.length > 0 ? states : this.stateSizes.map((u) => tf.zeros([x.shape[0]!, u]));
    const r = rnnSequence({
      ...this.opWeights(),
      inputs: tf.expandDims(x, 1),
      mask: null,
      initialStates: initial,
      goBackwards: false,
      zeroOutputForMask: false,
      returnSequences: false,
      implementation: 'auto',
    });
    return [r.output, r.states];
  }

  /** The weight and activation part of the `rnnSequence` arguments. */
  opWeights(): Pick<RnnSequenceArgs, 'kind' | 'kernel' | 'recurrentKernel' | 'bias' | 'resetAfter' | 'activation' | 'recurrentActivation'> {
    return {
      kind: this.kind,
      kernel: this.kernel,
      recurrentKernel: this.recurrentKernel,
      bias: this.bias,
      resetAfter: this.args.resetAfter === true,
      activation: this.args.activation,
      recurrentActivation: this.args.recurrentActivation ?? 'sigmoid',
    };
  }

  /** Keras's dropout masks for one call over a sequence: kept with probability 1 - rate, scaled by 1 / (1 - rate). */
  dropoutMasks(batch: number, features: number, training: boolean): CellDropoutMasks {
    const make = (shape: number[], rate: number): tf.Tensor | null => {
      if (!training || !(rate > 0 && rate < 1)) return null;
      const seed = this.args.seed === null ? undefined : this.args.seed + this.dropoutCalls++;
      const keep = tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', seed), rate);
      return tf.div(tf.cast(keep, 'float32'), 1 - rate);
    };
    return { inputDropoutMask: make([batch, features], this.args.dropout), recurrentDropoutMask: make([batch, this.units], this.args.recurrentDropout) };
  }

  override cloneCell(): AbstractRNNCell {
    const Ctor = this.constructor as new (a: object) => RNNCell;
    return new Ctor(this.getConfig());
  }
}

export class SimpleRNNCell extends RNNCell {
  static override readonly className = 'SimpleRNNCell';
  static override readonly kind: RnnCellKind = 'simple_rnn';
  static override readonly options = CELL_OPTIONS;

  constructor(args: SimpleRNNCellArgs) {
    super(args);
  }
}

export class LSTMCell extends RNNCell {
  static override readonly className = 'LSTMCell';
  static override readonly kind: RnnCellKind = 'lstm';
  static override readonly options = {
    ...CELL_OPTIONS,
    recurrentActivation: opt.activation<ActivationSpec>('sigmoid'),
    unitForgetBias: opt.bool(true),
  } satisfies OptionsOf<Own<LSTMCellArgs>>;

  constructor(args: LSTMCellArgs) {
    super(args);
  }
}

export class GRUCell extends RNNCell {
  static override readonly className = 'GRUCell';
  static override readonly kind: RnnCellKind = 'gru';
  static override readonly options = {
    ...CELL_OPTIONS,
    recurrentActivation: opt.activation<ActivationSpec>('sigmoid'),
    resetAfter: opt.bool(true),
  } satisfies OptionsOf<Own<GRUCellArgs>>;

  constructor(args: GRUCellArgs) {
    super(args);
  }
}
