/**
 * GRU with Keras 3.15.1's masking (see rnn_base.ts). Gates are stacked in
 * Keras's order z, r, h and `h = z * h_prev + (1 - z) * h_cand`. With
 * `resetAfter` (the default) the bias is [2, 3U] = [input bias, recurrent
 * bias] and the reset gate multiplies `h @ R_h + b_rh`; without it the bias
 * is [3U] and the candidate uses `(r * h) @ R_h`. Weights live in the
 * `gru_cell` sub-layer (`gru/gru_cell/kernel`).
 */
import { opt, type OptionsOf } from '../../engine/options.js';
import type { ActivationSpec } from '../../ops/activations.js';
import { RNNLayer, RNN_OPTIONS, type RNNArgs, type RNNOwn } from './rnn_base.js';

export interface GRUArgs extends RNNArgs {
  /** Activation of the gates (default 'sigmoid'). */
  recurrentActivation?: ActivationSpec;
  /** Apply the reset gate after the recurrent matmul (default true, as Keras 3 and cuDNN). */
  resetAfter?: boolean;
}

export class GRU<S extends boolean = false> extends RNNLayer<GRUArgs, S> {
  static override readonly className = 'GRU';
  static override readonly options = {
    ...RNN_OPTIONS,
    recurrentActivation: opt.activation<ActivationSpec>('sigmoid'),
    resetAfter: opt.bool(true),
  } satisfies OptionsOf<RNNOwn<GRUArgs>>;

  constructor(args: GRUArgs & { returnState?: S }) {
    super(args, 'gru');
  }
}
