/**
 * What SimpleRNN, LSTM and GRU share: options, input and initial-state
 * checks, dropout masks, the call into the masked recurrence
 * (`ops/rnn`), and Keras 3.15.1's output masks.
 *
 * Masks: a masked step carries every state over; its output repeats the
 * previous output (zeros with `zeroOutputForMask`). With `returnSequences`
 * the output mask is the input mask, otherwise null; state outputs carry no
 * mask. Unlike Keras, a call with `initialState` still uses the mask.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import type { ActivationSpec } from '../../ops/activations.js';
import { getActivation } from '../../ops/activations.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { rnnSequence } from '../../ops/rnn/index.js';
import { RNNCell, type CellSpec, type RNNKind } from './rnn_cell.js';

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
}

/** Call arguments of a recurrent layer. */
export interface RNNCallArgs extends CallArgs {
  /** Initial states, [batch, units] each (LSTM: [h, c]). Masked steps still carry them over. */
  initialState?: tf.Tensor | tf.Tensor[] | null;
}

type Filled<A extends RNNArgs> = A & Required<Omit<RNNArgs, keyof BaseLayerArgs | 'seed'>>;

/** Base class of the recurrent layers; subclasses give the kind and defaults. */
export abstract class RNNLayer<A extends RNNArgs = RNNArgs> extends Layer<RNNCallArgs, boolean> {
  readonly args: Filled<A>;
  readonly cell: RNNCell;
  private dropoutCalls = 0;

  protected constructor(args: A, className: string, kind: RNNKind, extra: Partial<CellSpec> & { recurrentActivation?: ActivationSpec }) {
    super(args, className);
    const where = `${className}${args.name ? ` '${args.name}'` : ''}`;
    if (args === null || typeof args !== 'object' || !Number.isInteger(args.units) || args.units < 1) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: units must be a positive integer; received ${describe(args?.units)}.`);
    }
    for (const k of ['dropout', 'recurrentDropout'] as const) {
      const v = args[k];
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) {
        throw new MasqueError('INVALID_ARGUMENT', `${where}: ${k} must be a number in [0, 1]; received ${describe(v)}.`);
      }
    }
    this.args = {
      activation: 'tanh',
      useBias: true,
      kernelInitializer: 'glorotUniform',
      recurrentInitializer: 'orthogonal',
      biasInitializer: 'zeros',
      returnSequences: false,
      returnState: false,
      goBackwards: false,
      zeroOutputForMask: false,
      dropout: 0,
      recurrentDropout: 0,
      unroll: false,
      seed: null,
      ...args,
    } as Filled<A>;
    const a = this.args;
    getActivation(a.activation, `${className} '${this.name}' activation`);
    if (extra.recurrentActivation !== undefined) getActivation(extra.recurrentActivation, `${className} '${this.name}' recurrentActivation`);
    this.cell = this.trackLayer(
      new RNNCell(
        {
          kind,
          units: a.units,
          activation: a.activation,
          recurrentActivation: extra.recurrentActivation === undefined ? 'sigmoid' : extra.recurrentActivation,
          useBias: a.useBias,
          kernelInitializer: a.kernelInitializer,
          recurrentInitializer: a.recurrentInitializer,
          biasInitializer: a.biasInitializer,
          unitForgetBias: extra.unitForgetBias ?? false,
          resetAfter: extra.resetAfter ?? false,
        },
        this.trainable,
      ),
      'cell',
    );
    this.supportsMasking = true;
  }

  get units(): number {
    return this.args.units;
  }
  get returnSequences(): boolean {
    return this.args.returnSequences;
  }
  get returnState(): boolean {
    return this.args.returnState;
  }
  get goBackwards(): boolean {
    return this.args.goBackwards;
  }
  /** Number of states (LSTM 2, GRU and SimpleRNN 1). */
  get stateCount(): number {
    return this.cell.stateSize.length;
  }

  /** A new, unbuilt layer of the same class with these options changed (Bidirectional uses it). */
  withOptions(overrides: Partial<A>): this {
    const Ctor = this.constructor as new (a: A) => this;
    return new Ctor({ ...this.getConfig(), ...overrides } as A);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (shape.length !== 3 || typeof shape[2] !== 'number') {
      throw new MasqueError(
        'INPUT_SHAPE_MISMATCH',
        `${this.className} '${this.name}': expected an input of shape [batch, time, features] with known features; received ${formatShape(shape)}.`,
      );
    }
    if (!this.cell.built) {
      this.cell.build([shape[0]!, shape[2]]);
      this.cell.built = true;
    }
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: RNNCallArgs): tf.Tensor | tf.Tensor[] {
    const x0 = this.checkInput(inputs);
    const x = x0.dtype === 'float32' ? x0 : tf.cast(x0, 'float32');
    const mask = this.checkMask(args.mask, x);
    const batch = x.shape[0]!;
    const initialStates = this.initialStates(args.initialState, batch);
    const training = args.training === true;
    const dropout = training && this.args.dropout > 0 && this.args.dropout < 1;
    const recDropout = training && this.args.recurrentDropout > 0 && this.args.recurrentDropout < 1;
    const r = rnnSequence({
      ...this.cell.opWeights(),
      inputs: x,
      mask,
      initialStates,
      goBackwards: this.args.goBackwards,
      zeroOutputForMask: this.args.zeroOutputForMask,
      returnSequences: this.args.returnSequences,
      inputDropoutMask: dropout ? this.dropoutMask([batch, x.shape[2]!], this.args.dropout) : null,
      recurrentDropoutMask: recDropout ? this.dropoutMask([batch, this.units], this.args.recurrentDropout) : null,
      implementation: 'auto',
    });
    return this.args.returnState ? [r.output, ...r.states] : r.output;
  }

  /** Output mask: the input mask with `returnSequences`, else null; states carry none. */
  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask: MaskArg | undefined): MaskArg {
    const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    const out = this.args.returnSequences ? m : null;
    return this.args.returnState ? [out, ...this.cell.stateSize.map(() => null)] : out;
  }

  override getConfig(): A {
    return { ...super.getConfig(), ...this.args, name: this.name } as A;
  }

  private get where(): string {
    return `${this.className} '${this.name}'`;
  }

  private checkInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (Array.isArray(inputs)) {
      throw new MasqueError(
        'INVALID_INPUT',
        `${this.where}: expected one sequence tensor [batch, time, features]; received a list of ${inputs.length} tensors. Pass initial states as { initialState: [...] }.`,
      );
    }
    const f = this.cell.kernel.shape[0]!;
    if (inputs.rank !== 3 || inputs.shape[2] !== f) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: expected an input of shape [batch, time, ${f}]; received ${formatShape(inputs.shape)}.`);
    }
    if (inputs.shape[1] === 0) {
      // Keras fails too (its loop takes the last output of an empty sequence).
      throw new MasqueError(
        'INPUT_SHAPE_MISMATCH',
        `${this.where}: expected at least one time step; received ${formatShape(inputs.shape)}. A batch padded to length 0 has no last output (Keras raises as well); pad to length >= 1 and mask the empty rows, which then output their initial state (or zeros).`,
      );
    }
    return inputs;
  }

  private checkMask(maskArg: MaskArg | undefined, x: tf.Tensor): tf.Tensor | null {
    const mask = Array.isArray(maskArg) ? (maskArg[0] ?? null) : (maskArg ?? null);
    if (mask === null) return null;
    if (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[1]) {
      throw new MasqueError(
        'MASK_SHAPE_MISMATCH',
        `${this.where}: expected a mask of shape [batch, time] = ${formatShape(x.shape.slice(0, 2))}; received ${describe(mask)}.`,
      );
    }
    return mask.dtype === 'bool' ? mask : tf.cast(mask, 'bool');
  }

  private initialStates(given: RNNCallArgs['initialState'], batch: number): tf.Tensor[] {
    const sizes = this.cell.stateSize;
    const names = sizes.length === 2 ? ' (h, c)' : ' (h)';
    if (given === undefined || given === null) return sizes.map((u) => tf.zeros([batch, u]));
    const list = Array.isArray(given) ? given : [given];
    if (list.length !== sizes.length || list.some((s) => !(s instanceof tf.Tensor))) {
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `${this.where}: initialState must be ${sizes.length} tensor(s) of shape [batch, ${this.units}]${names}; received ${describe(list)}.`,
      );
    }
    return list.map((s, i) => {
      if (s.rank !== 2 || s.shape[0] !== batch || s.shape[1] !== sizes[i]) {
        throw new MasqueError(
          'INPUT_SHAPE_MISMATCH',
          `${this.where}: initialState[${i}] must have shape [batch, units] = ${formatShape([batch, sizes[i]!])}; received ${formatShape(s.shape)}.`,
        );
      }
      return s.dtype === 'float32' ? s : tf.cast(s, 'float32');
    });
  }

  /** Keras's dropout mask: ones dropped with probability `rate`, scaled by 1 / (1 - rate). */
  private dropoutMask(shape: number[], rate: number): tf.Tensor {
    const seed = this.args.seed === null || this.args.seed === undefined ? undefined : this.args.seed + this.dropoutCalls++;
    const keep = tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', seed), rate);
    return tf.div(tf.cast(keep, 'float32'), 1 - rate);
  }
}
