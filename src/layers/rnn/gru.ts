/**
 * GRU with Keras 3.15.1's masking (see rnn_base.ts). Gates are stacked in
 * Keras's order z, r, h and `h = z * h_prev + (1 - z) * h_cand`. With
 * `resetAfter` (the default) the bias is [2, 3U] = [input bias, recurrent
 * bias] and the reset gate multiplies `h @ R_h + b_rh`; without it the bias
 * is [3U] and the candidate uses `(r * h) @ R_h`. Weights live in the
 * `gru_cell` sub-layer (`gru/gru_cell/kernel`).
 */
import type { ActivationSpec } from '../../ops/activations.js';
import { RNNLayer, type RNNArgs } from './rnn_base.js';

export interface GRUArgs extends RNNArgs {
  /** Activation of the gates (default 'sigmoid'). */
  recurrentActivation?: ActivationSpec;
  /** Apply the reset gate after the recurrent matmul (default true, as Keras 3 and cuDNN). */
  resetAfter?: boolean;
}

export class GRU extends RNNLayer<GRUArgs> {
  constructor(args: GRUArgs) {
    const full = { recurrentActivation: 'sigmoid', resetAfter: true, ...args };
    super(full, 'GRU', 'gru', { recurrentActivation: full.recurrentActivation, resetAfter: full.resetAfter });
  }
}
