/**
 * The weight-holding cell of SimpleRNN, LSTM and GRU, tracked under its layer
 * as in Keras (`lstm/lstm_cell/kernel`, `recurrent_kernel`, `bias`). Gate
 * order is Keras's: i, f, c, o for LSTM and z, r, h for GRU. Calling a cell
 * runs one step: `cell.call([x, ...states])` returns `[h, ...newStates]`.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { CallArgs, Shape } from '../../engine/types.js';
import { getInitializer, type InitializerSpec } from '../../engine/initializers.js';
import type { ActivationSpec } from '../../ops/activations.js';
import { MasqueError, formatShape } from '../../errors.js';
import { rnnSequence, type RnnSequenceArgs } from '../../ops/rnn/index.js';

export type RNNKind = 'lstm' | 'gru' | 'simple_rnn';

/** Everything a cell needs to know; filled from the layer's options. */
export interface CellSpec {
  kind: RNNKind;
  units: number;
  activation: ActivationSpec;
  recurrentActivation: ActivationSpec;
  useBias: boolean;
  kernelInitializer: InitializerSpec;
  recurrentInitializer: InitializerSpec;
  biasInitializer: InitializerSpec;
  /** LSTM: the bias initializer gives ones to the forget gate. */
  unitForgetBias: boolean;
  /** GRU: reset gate after the recurrent matmul (bias [2, 3U]). */
  resetAfter: boolean;
}

const GATES: Record<RNNKind, number> = { lstm: 4, gru: 3, simple_rnn: 1 };
const CELL_CLASS: Record<RNNKind, string> = { lstm: 'LSTMCell', gru: 'GRUCell', simple_rnn: 'SimpleRNNCell' };

/** The cell of an RNN layer: weights plus a one-step call. */
export class RNNCell extends Layer<CallArgs, true> {
  readonly spec: CellSpec;
  kernel!: tf.Variable;
  recurrentKernel!: tf.Variable;
  bias: tf.Variable | null = null;

  constructor(spec: CellSpec, trainable = true) {
    super({ name: `${spec.kind}_cell`, trainable }, CELL_CLASS[spec.kind]);
    this.spec = spec;
  }

  /** Number of gates stacked in the kernel's columns (LSTM 4, GRU 3, SimpleRNN 1). */
  get gates(): number {
    return GATES[this.spec.kind];
  }

  /** Sizes of the states: LSTM [h, c], others [h]. */
  get stateSize(): number[] {
    return this.spec.kind === 'lstm' ? [this.spec.units, this.spec.units] : [this.spec.units];
  }

  /** `inputShape` is one step: [batch, features]. */
  override build(inputShape: Shape): void {
    const f = inputShape[inputShape.length - 1];
    if (typeof f !== 'number') {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.path}': the feature dimension must be known; received step shape ${formatShape(inputShape)}.`);
    }
    const { units, kind } = this.spec;
    const g = this.gates;
    this.kernel = this.addWeight('kernel', [f, g * units], { initializer: this.spec.kernelInitializer });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [units, g * units], { initializer: this.spec.recurrentInitializer });
    if (!this.spec.useBias) return;
    if (kind === 'lstm' && this.spec.unitForgetBias) {
      const init = getInitializer(this.spec.biasInitializer, `${this.path}.bias`);
      const forgetOnes = (_s: number[], d: tf.DataType): tf.Tensor =>
        tf.tidy(() => tf.concat([init([units], d), tf.ones([units], d), init([2 * units], d)]));
      this.bias = this.addWeight('bias', [4 * units], { initializer: forgetOnes });
    } else {
      const shape = kind === 'gru' && this.spec.resetAfter ? [2, 3 * units] : [g * units];
      this.bias = this.addWeight('bias', shape, { initializer: this.spec.biasInitializer });
    }
  }

  /** One step: `inputs` is [x [B, F], ...states [B, U]]; returns [h, ...newStates]. */
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [x, ...states] = Array.isArray(inputs) ? inputs : [inputs];
    if (x === undefined || x.rank !== 2) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.path}': expected a step input of shape [batch, features]; received ${x ? formatShape(x.shape) : 'nothing'}.`);
    }
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

  /** The weight and activation part of the `rnnSequence` arguments. */
  opWeights(): Pick<RnnSequenceArgs, 'kind' | 'kernel' | 'recurrentKernel' | 'bias' | 'resetAfter' | 'activation' | 'recurrentActivation'> {
    return {
      kind: this.spec.kind,
      kernel: this.kernel,
      recurrentKernel: this.recurrentKernel,
      bias: this.bias,
      resetAfter: this.spec.resetAfter,
      activation: this.spec.activation,
      recurrentActivation: this.spec.recurrentActivation,
    };
  }
}
