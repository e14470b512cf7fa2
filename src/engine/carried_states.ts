/**
 * Keras's `stateful=True` for a recurrent layer: the final states of one
 * call are the initial states of the next (row i of a batch continues row i
 * of the batch before), until `resetStates()`.
 *
 * As in Keras 3.15.1 (keras/src/layers/rnn/rnn.py):
 * - the batch size must be known when the layer is built (an Input with
 *   `batchSize`), and every call must have that batch size;
 * - the states start at zero, and `resetStates()` sets them to zero again;
 * - every call updates them (predict, evaluate and fit alike, and each batch
 *   of one `predict`), also a call given `initialState`, which starts from
 *   the given states instead;
 * - masked steps carry the state over, so a row's carried state is its state
 *   after its last valid step (a fully masked row keeps the state it had);
 * - no gradient flows into the carried states from a later step (they enter
 *   the next call as constants, as Keras's state variables do).
 *
 * The states are held as tensors that the layer owns (`tf.keep`): a call
 * starts from copies of them, so an error in the call, or a gradient
 * computed later, never finds them disposed.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';

export class CarriedStates {
  private values: tf.Tensor[] | null = null;
  private batch: number | null = null;

  /** `shapes()`: each state's shape without the batch axis, flat ([units] for SimpleRNN, LSTM, GRU; [length', filters] for ConvLSTM1D); `where()`: the layer, for messages. */
  constructor(
    private readonly shapes: () => number[][],
    private readonly where: () => string,
  ) {}

  /** At build: fixes the batch size (it must be known) and starts from zero states. */
  build(batch: number | null | undefined): void {
    if (typeof batch !== 'number') {
      throw new MasqueError(
        'INVALID_CONFIG',
        `${this.where()}: stateful: true needs a fixed batch size (each row carries its states to the same row of the next batch), as in Keras; the input's batch size is unknown. Give the model's Input a batchSize, e.g. Input({ shape: [null, features], batchSize: 32 }), or the first layer of a Sequential batchSize.`,
      );
    }
    this.batch = batch;
    this.set(this.shapes().map((s) => tf.zeros([batch, ...s])));
  }

  /** Checks a call's batch size against the fixed one. */
  private checkBatch(batch: number): void {
    if (this.batch !== null && batch !== this.batch) {
      throw new MasqueError(
        'INPUT_SHAPE_MISMATCH',
        `${this.where()}: the layer is stateful with batch size ${this.batch} (each row carries its states to the same row of the next batch); received a batch of ${batch}. Split the data into batches of exactly ${this.batch} rows (pad the last batch with masked rows), or use a layer without stateful.`,
      );
    }
  }

  /**
   * The initial states of a call of `batch` rows (checked against the fixed
   * size): the `given` ones (a call's initialState), else copies of the
   * carried states, which the caller frees with the call's tensors.
   */
  initial<T>(batch: number, given: T | null | undefined): T | tf.Tensor[] {
    this.checkBatch(batch);
    if (given !== undefined && given !== null) return given;
    if (this.values === null) this.build(batch);
    return this.values!.map((t) => tf.clone(t));
  }

  /** After a call: keeps copies of its final states (flat, in `shapes()` order) for the next call. */
  update(states: tf.Tensor[]): void {
    this.set(states.map((t) => tf.clone(t)));
  }

  /** Zeros, or the given states (each [batch, size]). */
  reset(given?: tf.Tensor | tf.Tensor[] | null): void {
    if (this.batch === null) {
      if (given === undefined || given === null) return;
      throw new MasqueError('NOT_BUILT', `${this.where()}: resetStates with values needs the layer built (its batch size fixed); call it once, or build it, first.`);
    }
    const shapes = this.shapes().map((s) => [this.batch!, ...s]);
    if (given === undefined || given === null) {
      this.set(shapes.map((s) => tf.zeros(s)));
      return;
    }
    const list = Array.isArray(given) ? given : [given];
    if (list.length !== shapes.length || !list.every((t) => t instanceof tf.Tensor)) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.where()}: resetStates takes ${shapes.length} tensor(s) of shapes ${shapes.map((s) => formatShape(s)).join(', ')}; received ${describe(list)}.`);
    }
    list.forEach((t, i) => {
      if (t.isDisposed) throw new MasqueError('INVALID_ARGUMENT', `${this.where()}: resetStates: state ${i} has been disposed.`);
      if (t.rank !== shapes[i]!.length || t.shape.some((d, k) => d !== shapes[i]![k])) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where()}: resetStates: state ${i} must have shape ${formatShape(shapes[i]!)}; received ${formatShape(t.shape)}.`);
      }
    });
    this.set(list.map((t) => tf.tidy(() => (t.dtype === 'float32' ? tf.clone(t) : tf.cast(t, 'float32')))));
  }

  /** Copies of the carried states (the caller owns them), or null before the first build. */
  read(): tf.Tensor[] | null {
    return this.values === null ? null : this.values.map((t) => tf.clone(t));
  }

  /** Frees the carried states (the layer is disposed); they start from zero again if it is used. */
  dispose(): void {
    this.values?.forEach((t) => t.dispose());
    this.values = null;
  }

  private set(next: tf.Tensor[]): void {
    for (const t of next) tf.keep(t);
    const old = this.values;
    this.values = next;
    old?.forEach((t) => t.dispose());
  }
}
