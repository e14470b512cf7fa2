/**
 * What SimpleRNN, LSTM, GRU, RNN and ConvLSTM1D share: their output options
 * (returnSequences, returnState, goBackwards), and for Keras's `stateful` the
 * states carried from call to call (engine/carried_states.ts) and the
 * methods that reset and read them. Bidirectional resets and reads both of
 * its directions through these.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { CarriedStates } from '../../engine/carried_states.js';
import { MasqueError } from '../../errors.js';
import type { RNNCallArgs } from './rnn_base.js';

export abstract class StatefulRecurrentLayer<S extends boolean = boolean> extends Layer<RNNCallArgs, S> {
  /** The states carried between calls (`stateful: true`), else null. */
  protected carried: CarriedStates | null = null;

  /** Called by the subclass's constructor: carry states of these shapes (flat, each without the batch axis) when `stateful`. */
  protected initStateful(stateful: boolean, shapes: () => number[][]): void {
    this.carried = stateful ? new CarriedStates(shapes, () => `${this.className} '${this.name}'`) : null;
  }

  /** The output options every recurrent layer holds (Keras's RNN base arguments). */
  private get outputOptions(): { returnSequences: boolean; returnState: boolean; goBackwards: boolean } {
    return this.args as { returnSequences: boolean; returnState: boolean; goBackwards: boolean };
  }
  get returnSequences(): boolean {
    return this.outputOptions.returnSequences;
  }
  get returnState(): boolean {
    return this.outputOptions.returnState;
  }
  get goBackwards(): boolean {
    return this.outputOptions.goBackwards;
  }

  /** True when the layer carries its states from call to call (Keras's `stateful`). */
  get stateful(): boolean {
    return this.carried !== null;
  }

  override carriedStates(): CarriedStates | null {
    return this.carried;
  }

  /**
   * A stateful layer's states go back to zero, or to the given tensors (one
   * per state, of its shape, in `initialState`'s order; LSTM: h, c), as
   * Keras's `reset_state()`. A layer that is not stateful carries no
   * states: nothing to reset.
   */
  resetStates(states?: tf.Tensor | tf.Tensor[] | null): void {
    if (this.carried === null) {
      if (states === undefined || states === null) return;
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `${this.className} '${this.name}': resetStates with values needs stateful: true; this layer carries no states between calls (pass initialState to a call instead).`,
      );
    }
    this.carried.reset(states);
  }

  /** Keras 3's name of `resetStates`. */
  resetState(states?: tf.Tensor | tf.Tensor[] | null): void {
    this.resetStates(states);
  }

  /** Copies of the states a stateful layer carries into its next call, flat (yours to dispose); null when it is not stateful or not built. */
  getStates(): tf.Tensor[] | null {
    return this.carried?.read() ?? null;
  }
}
