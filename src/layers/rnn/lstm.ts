/**
 * LSTM with Keras 3.15.1's masking (see rnn_base.ts). Gates are stacked in
 * Keras's order i, f, c, o; weights live in the `lstm_cell` sub-layer
 * (`lstm/lstm_cell/kernel`, `recurrent_kernel`, `bias`), so Keras weights
 * load unchanged. States are [h, c].
 */
import { opt, type OptionsOf } from '../../engine/options.js';
import type { ActivationSpec } from '../../ops/activations.js';
import { RNNLayer, RNN_OPTIONS, type RNNArgs, type RNNOwn } from './rnn_base.js';

export interface LSTMArgs extends RNNArgs {
  /** Activation of the gates (default 'sigmoid'). */
  recurrentActivation?: ActivationSpec;
  /** Initialise the forget-gate bias to ones (default true). */
  unitForgetBias?: boolean;
}

export class LSTM<S extends boolean = false> extends RNNLayer<LSTMArgs, S> {
  static override readonly className = 'LSTM';
  static override readonly options = {
    ...RNN_OPTIONS,
    recurrentActivation: opt.activation<ActivationSpec>('sigmoid'),
    unitForgetBias: opt.bool(true),
  } satisfies OptionsOf<RNNOwn<LSTMArgs>>;

  constructor(args: LSTMArgs & { returnState?: S }) {
    super(args, 'lstm');
  }
}
