/**
 * What SimpleRNN, LSTM and GRU share: options, input and initial-state
 * checks, dropout masks, the call into the masked recurrence
 * (`ops/rnn`), and Keras 3.15.1's output masks.
 *
 * Masks: a masked step carries every state over; its output repeats the
 * previous output (zeros with `zeroOutputForMask`). With `returnSequences`
 * the output mask is the input mask, otherwise null; state outputs carry no
 * mask. Unlike Keras, a call with `initialState` still uses the mask.
 *
 * `stateful: true` carries each call's final states into the next call
 * (engine/carried_states.ts), as Keras does.
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { rnnSequence, type RnnCellKind, type RnnSequenceArgs, type RnnSequenceResult } from '../../ops/rnn/index.js';
import { RNNCell } from './rnn_cell.js';
import { cellLayer } from './abstract_rnn_cell.js';
import { StatefulRecurrentLayer } from './stateful_layer.js';
import { checkMaskShape, checkSequenceInput, checkStateShapes, initialStates as makeInitialStates, isSpec, sequenceFeatures, sequenceMask } from './rnn_checks.js';

/** Options shared by SimpleRNN, LSTM and GRU (Keras names, camelCase). */
export interface RNNArgs extends BaseLayerArgs {
  units: number;
  activation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  recurrentInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  zeroOutputForMask?: boolean;
  /** Fraction of the input features dropped (training only; one mask per sequence). */
  dropout?: number;
  /** Fraction of the recurrent state dropped (training only; one mask per sequence). */
  recurrentDropout?: number;
  /** Accepted for Keras compatibility; the numbers are the same either way. */
  unroll?: boolean;
  /** Seed for the dropout masks. */
  seed?: number | null;
  /**
   * Carry each call's final states into the next call, row by row, until
   * `resetStates()` (Keras's `stateful`). Needs a fixed batch size: an
   * Input with `batchSize`.
   */
  stateful?: boolean;
}

/** The output and state options of RNN(cell) and ConvLSTM1D (Keras's RNN base arguments). */
export interface RecurrentOutputArgs {
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  /** Masked steps output zeros instead of repeating the previous output. */
  zeroOutputForMask?: boolean;
  /** Accepted for Keras compatibility; the numbers are the same either way. */
  unroll?: boolean;
  /** Carry each call's final states into the next call until `resetStates()` (needs a fixed batch size: an Input with `batchSize`). */
  stateful?: boolean;
}

/** The option table of RecurrentOutputArgs, in Keras's config order (RNN's base arguments). */
export const RECURRENT_OUTPUT_OPTIONS = {
  returnSequences: opt.bool(false),
  returnState: opt.bool(false),
  goBackwards: opt.bool(false),
  stateful: opt.bool(false),
  unroll: opt.bool(false),
  zeroOutputForMask: opt.bool(false),
} satisfies OptionsOf<RecurrentOutputArgs>;

/** The call arguments every recurrent layer (and Bidirectional) takes; Layer.apply refuses others. */
export const RECURRENT_CALL_ARGS: readonly string[] = ['training', 'mask', 'initialState', 'zeroOutputForMask'];

/** Call arguments of a recurrent layer. */
export interface RNNCallArgs extends CallArgs {
  /** Initial states, [batch, units] each (LSTM: [h, c]). Masked steps still carry them over. */
  initialState?: tf.Tensor | tf.Tensor[] | null;
  /**
   * @internal Overrides the layer's `zeroOutputForMask` for this call
   * (Bidirectional forces `returnSequences` on both directions, as Keras
   * does, without changing the layers' options).
   */
  zeroOutputForMask?: boolean;
}

/** The options of a recurrent layer `A`, besides the base ones. */
export type RNNOwn<A extends RNNArgs = RNNArgs> = Omit<A, keyof BaseLayerArgs>;

/** The option table of SimpleRNN; LSTM and GRU add theirs. */
export const RNN_OPTIONS = {
  units: opt.int({ min: 1 }),
  activation: opt.activation<ActivationSpec>('tanh'),
  useBias: opt.bool(true),
  kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
  recurrentInitializer: opt.initializer<InitializerSpec>('orthogonal'),
  biasInitializer: opt.initializer<InitializerSpec>('zeros'),
  ...RECURRENT_OUTPUT_OPTIONS,
  dropout: opt.number({ min: 0, max: 1, default: 0 }),
  recurrentDropout: opt.number({ min: 0, max: 1, default: 0 }),
  seed: opt.seed(),
} satisfies OptionsOf<RNNOwn>;

/** Extra cell options some kinds have (LSTM: recurrentActivation, unitForgetBias; GRU: recurrentActivation, resetAfter). */
interface CellExtras {
  recurrentActivation?: ActivationSpec;
  unitForgetBias?: boolean;
  resetAfter?: boolean;
}

/**
 * Base class of the recurrent layers; subclasses give the kind and their
 * option table. `S` is `returnState` as the types know it: `new LSTM({ units })`
 * returns one tensor from `apply`, `new LSTM({ units, returnState: true })` a
 * list (output, then the states).
 */
export abstract class RNNLayer<A extends RNNArgs = RNNArgs, S extends boolean = boolean> extends StatefulRecurrentLayer<S> {
  static override readonly options = RNN_OPTIONS;
  /** The call arguments it takes (Layer.apply refuses others). */
  static readonly callArgNames = RECURRENT_CALL_ARGS;
  declare readonly args: Filled<RNNOwn<A>>;
  readonly cell: RNNCell;
  private dropoutCalls = 0;

  protected constructor(args: A, kind: RnnCellKind) {
    super(args);
    const a = this.args as Filled<RNNOwn> & CellExtras;
    getActivation(a.activation, `${this.where} activation`);
    if (a.recurrentActivation !== undefined) getActivation(a.recurrentActivation, `${this.where} recurrentActivation`);
    this.cell = RNNCell.forKind(kind, {
      name: `${kind}_cell`,
      trainable: this.trainable,
      units: a.units,
      activation: a.activation,
      // SimpleRNN has none; null (linear) is a valid choice for LSTM and GRU.
      recurrentActivation: a.recurrentActivation,
      useBias: a.useBias,
      kernelInitializer: a.kernelInitializer,
      recurrentInitializer: a.recurrentInitializer,
      biasInitializer: a.biasInitializer,
      unitForgetBias: a.unitForgetBias,
      resetAfter: a.resetAfter,
    });
    this.trackLayer(cellLayer(this.cell), 'cell');
    this.supportsMasking = true;
    this.initStateful(a.stateful, () => this.cell.stateSizes.map((u) => [u]));
  }

  private get own(): Filled<RNNOwn> {
    return this.args as Filled<RNNOwn>;
  }
  get units(): number {
    return this.own.units;
  }
  /** Number of states (LSTM 2, GRU and SimpleRNN 1). */
  get stateCount(): number {
    return this.cell.stateSizes.length;
  }

  /** A new, unbuilt layer of the same class with these options changed (Bidirectional uses it). */
  withOptions(overrides: Partial<A>): this {
    const Ctor = this.constructor as new (a: A) => this;
    return new Ctor({ ...this.getConfig(), ...overrides } as unknown as A);
  }

  override build(inputShape: Shape | Shape[]): void {
    const f = sequenceFeatures(inputShape, this.where);
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    this.carried?.build(shape[0]);
    this.cell.maybeBuild([shape[0]!, f]);
  }

  call(x: tf.Tensor, args: RNNCallArgs): tf.Tensor | tf.Tensor[] {
    return this.outputsOf(rnnSequence(this.sequenceArgs(x, args)));
  }

  /**
   * @internal The arguments of this layer's recurrence for a call (inputs
   * checked, dropout masks drawn). Bidirectional runs both directions'
   * recurrences together (`rnnSequences`) and takes each one's outputs with
   * `outputsOf`.
   */
  sequenceArgs(x: tf.Tensor, args: RNNCallArgs): RnnSequenceArgs {
    this.checkInput(x as tf.Tensor | tf.Tensor[]);
    const a = this.own;
    const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const mask = sequenceMask(args.mask, xf, this.where);
    const batch = xf.shape[0]!;
    const given = this.carried === null ? args.initialState : this.carried.initial(batch, args.initialState);
    const initialStates = makeInitialStates(given, this.cell.stateSizes, batch, this.where, this.stateNames);
    const training = args.training === true;
    const dropout = training && a.dropout > 0 && a.dropout < 1;
    const recDropout = training && a.recurrentDropout > 0 && a.recurrentDropout < 1;
    return {
      ...this.cell.opWeights(),
      inputs: xf,
      mask,
      initialStates,
      goBackwards: a.goBackwards,
      zeroOutputForMask: args.zeroOutputForMask ?? a.zeroOutputForMask,
      returnSequences: a.returnSequences,
      inputDropoutMask: dropout ? this.dropoutMask([batch, xf.shape[2]!], a.dropout) : null,
      recurrentDropoutMask: recDropout ? this.dropoutMask([batch, this.units], a.recurrentDropout) : null,
      implementation: 'auto',
    };
  }

  /**
   * @internal The layer's outputs from its recurrence's result: the output,
   * then the states with `returnState`; a stateful layer keeps the final
   * states for its next call (`noteFinalStates`).
   */
  outputsOf(r: RnnSequenceResult): tf.Tensor | tf.Tensor[] {
    this.noteFinalStates(r.states);
    return this.own.returnState ? [r.output, ...r.states] : r.output;
  }

  /** @internal A call's final states: a stateful layer starts its next call from them. */
  noteFinalStates(states: tf.Tensor[]): void {
    this.carried?.update(states);
  }

  /** Output mask: the input mask with `returnSequences`, else null; states carry none. */
  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): MaskArg {
    const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    const out = this.returnSequences ? m : null;
    return this.returnState ? [out, ...this.cell.stateSizes.map(() => null)] : out;
  }

  /** [batch, time, units] with `returnSequences` (carrying the input mask), else [batch, units]; then the states. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<RNNCallArgs>): TensorSpec | TensorSpec[] {
    const x = this.checkInput(inputs);
    const mask = firstMask(args.mask);
    if (mask !== null) checkMaskShape(mask.shape, x.shape, this.where);
    const [b, t] = x.shape;
    checkStateShapes(args.initialState, this.cell.stateSizes, b!, isSpec, this.where, this.stateNames);
    const out: TensorSpec = this.returnSequences ? { shape: [b!, t!, this.units], dtype: 'float32', mask } : { shape: [b!, this.units], dtype: 'float32', mask: null };
    if (!this.returnState) return out;
    return [out, ...this.cell.stateSizes.map((u): TensorSpec => ({ shape: [b!, u], dtype: 'float32', mask: null }))];
  }

  private get where(): string {
    return `${this.className} '${this.name}'`;
  }

  /** Checks one sequence input [batch, time, features] (a tensor or a spec). */
  private checkInput<T extends { shape: Shape }>(inputs: T | T[]): T {
    return checkSequenceInput(inputs, this.cell.kernel.shape[0]!, this.where);
  }

  private get stateNames(): string {
    return this.stateCount === 2 ? ' (h, c)' : ' (h)';
  }

  /** Keras's dropout mask: ones dropped with probability `rate`, scaled by 1 / (1 - rate). */
  private dropoutMask(shape: number[], rate: number): tf.Tensor {
    const seed = this.own.seed === null ? undefined : this.own.seed + this.dropoutCalls++;
    const keep = tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', seed), rate);
    return tf.div(tf.cast(keep, 'float32'), 1 - rate);
  }
}
