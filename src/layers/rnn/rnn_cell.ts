/**
 * The weight-holding cell of SimpleRNN, LSTM and GRU, tracked under its layer
 * as in Keras (`lstm/lstm_cell/kernel`, `recurrent_kernel`, `bias`). Gate
 * order is Keras's: i, f, c, o for LSTM and z, r, h for GRU. Calling a cell
 * runs one step: `cell.call([x, ...states])` returns `[h, ...newStates]`.
 * `RNNCell.forKind(args)` makes the cell class of a kind (LSTMCell, GRUCell,
 * SimpleRNNCell).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { getInitializer, type InitializerSpec } from '../../engine/initializers.js';
import type { ActivationSpec } from '../../ops/activations.js';
import { MasqueError, formatShape } from '../../errors.js';
import { rnnSequence, type RnnCellKind, type RnnSequenceArgs } from '../../ops/rnn/index.js';
import { GATES } from '../../ops/rnn/types.js';

/** Everything a cell needs to know; filled from the layer's options. */
export interface RNNCellArgs extends BaseLayerArgs {
  kind: RnnCellKind;
  units: number;
  activation?: ActivationSpec;
  recurrentActivation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  recurrentInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  /** LSTM: the bias initializer gives ones to the forget gate. */
  unitForgetBias?: boolean;
  /** GRU: reset gate after the recurrent matmul (bias [2, 3U]). */
  resetAfter?: boolean;
}

type Own = Omit<RNNCellArgs, keyof BaseLayerArgs>;

/** The cell of an RNN layer: weights plus a one-step call. */
export abstract class RNNCell extends Layer<CallArgs, true> {
  static override readonly options = {
    // The layer class says the kind; Keras cell configs have no such key.
    kind: opt.oneOf(['lstm', 'gru', 'simple_rnn'] as const, undefined, { kerasKind: 'none' }),
    units: opt.int({ min: 1 }),
    activation: opt.activation<ActivationSpec>('tanh'),
    recurrentActivation: opt.activation<ActivationSpec>('sigmoid'),
    useBias: opt.bool(true),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    recurrentInitializer: opt.initializer<InitializerSpec>('orthogonal'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
    unitForgetBias: opt.bool(false),
    resetAfter: opt.bool(false),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  kernel!: tf.Variable;
  recurrentKernel!: tf.Variable;
  bias: tf.Variable | null = null;

  /** A cell of the class for `args.kind`, named `<kind>_cell` unless a name is given. */
  static forKind(args: RNNCellArgs): RNNCell {
    const Cell = args.kind === 'lstm' ? LSTMCell : args.kind === 'gru' ? GRUCell : SimpleRNNCell;
    return new Cell({ name: `${args.kind}_cell`, ...args });
  }

  /** Number of gates stacked in the kernel's columns (LSTM 4, GRU 3, SimpleRNN 1). */
  get gates(): number {
    return GATES[this.args.kind];
  }

  /** Sizes of the states: LSTM [h, c], others [h]. */
  get stateSize(): number[] {
    return this.args.kind === 'lstm' ? [this.args.units, this.args.units] : [this.args.units];
  }

  /** `inputShape` is one step: [batch, features]. */
  override build(inputShape: Shape): void {
    const f = inputShape[inputShape.length - 1];
    if (typeof f !== 'number') {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.path}': the feature dimension must be known; received step shape ${formatShape(inputShape)}.`);
    }
    const { units, kind } = this.args;
    const g = this.gates;
    this.kernel = this.addWeight('kernel', [f, g * units], { initializer: this.args.kernelInitializer });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [units, g * units], { initializer: this.args.recurrentInitializer });
    if (!this.args.useBias) return;
    if (kind === 'lstm' && this.args.unitForgetBias) {
      const init = getInitializer(this.args.biasInitializer, `${this.path}.bias`);
      const forgetOnes = (_s: number[], d: tf.DataType): tf.Tensor =>
        tf.tidy(() => tf.concat([init([units], d), tf.ones([units], d), init([2 * units], d)]));
      this.bias = this.addWeight('bias', [4 * units], { initializer: forgetOnes });
    } else {
      const shape = kind === 'gru' && this.args.resetAfter ? [2, 3 * units] : [g * units];
      this.bias = this.addWeight('bias', shape, { initializer: this.args.biasInitializer });
    }
  }

  private stepShapeError(shape: Shape | null): MasqueError {
    return new MasqueError(
      'INPUT_SHAPE_MISMATCH',
      `${this.className} '${this.path}': expected a step input of shape [batch, features]; received ${shape ? formatShape(shape) : 'nothing'}.`,
    );
  }

  /** One step: `inputs` is [x [B, F], ...states [B, U]]; returns [h, ...newStates]. */
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [x, ...states] = Array.isArray(inputs) ? inputs : [inputs];
    if (x === undefined || x.rank !== 2) throw this.stepShapeError(x ? x.shape : null);
    const initial = states.length > 0 ? states : this.stateSize.map((u) => tf.zeros([x.shape[0]!, u]));
    const r = rnnSequence({
      ...this.opWeights(),
      inputs: tf.expandDims(x, 1),
      mask: null,
      initialStates: initial,
      goBackwards: false,
      zeroOutputForMask: false,
      returnSequences: false,
      inputDropoutMask: null,
      recurrentDropoutMask: null,
      implementation: 'auto',
    });
    return [r.output, ...r.states];
  }

  /** [h, ...states], each [batch, units]; no masks. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec[] {
    const [x] = Array.isArray(inputs) ? inputs : [inputs];
    if (x === undefined || x.shape.length !== 2) throw this.stepShapeError(x ? x.shape : null);
    const b = x.shape[0]!;
    return [this.args.units, ...this.stateSize].map((u) => ({ shape: [b, u], dtype: 'float32', mask: null }));
  }

  /** The weight and activation part of the `rnnSequence` arguments. */
  opWeights(): Pick<RnnSequenceArgs, 'kind' | 'kernel' | 'recurrentKernel' | 'bias' | 'resetAfter' | 'activation' | 'recurrentActivation'> {
    return {
      kind: this.args.kind,
      kernel: this.kernel,
      recurrentKernel: this.recurrentKernel,
      bias: this.bias,
      resetAfter: this.args.resetAfter,
      activation: this.args.activation,
      recurrentActivation: this.args.recurrentActivation,
    };
  }
}

export class LSTMCell extends RNNCell {
  static override readonly className = 'LSTMCell';
}

export class GRUCell extends RNNCell {
  static override readonly className = 'GRUCell';
}

export class SimpleRNNCell extends RNNCell {
  static override readonly className = 'SimpleRNNCell';
}
