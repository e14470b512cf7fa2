/**
 * SimpleRNN: `h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`,
 * with Keras 3.15.1's masking (see rnn_base.ts). Weights live in the
 * `simple_rnn_cell` sub-layer: `simple_rnn/simple_rnn_cell/kernel`.
 */
import { RNNLayer, type RNNArgs } from './rnn_base.js';

export type SimpleRNNArgs = RNNArgs;

export class SimpleRNN<S extends boolean = false> extends RNNLayer<SimpleRNNArgs, S> {
  static override readonly className = 'SimpleRNN';

  constructor(args: SimpleRNNArgs & { returnState?: S }) {
    super(args, 'simple_rnn');
  }
}
