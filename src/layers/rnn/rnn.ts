/**
 * RNN: runs a recurrent cell over a sequence, with Keras 3.15.1's masking
 * (the rules of SimpleRNN, LSTM and GRU, see rnn_base.ts and docs/rnn.md).
 * `new RNN({ cell: new LSTMCell({ units: 4 }) })` gives the numbers of
 * `new LSTM({ units: 4 })` with the same weights; a list of cells is a
 * StackedRNNCells, as in Keras.
 *
 * - Built-in cells run through the fused kernel (`rnnSequence`); a stack
 *   runs cell by cell over the whole sequence, which is exactly equivalent
 *   (ops/rnn/chain.ts); a custom cell runs in a per-step tfjs loop
 *   (ops/rnn/step_loop.ts).
 * - Masks: a masked step carries every state; its output repeats the
 *   previous output (the last cell's), or is zero with `zeroOutputForMask`.
 *   With `returnSequences` the output mask is the input mask, otherwise
 *   null; state outputs carry none. A call with `initialState` still uses
 *   the mask (departure 5).
 * - `returnState` appends the final states, flat: each cell's states in
 *   `stateSize` order, first cell first (Keras nests them per cell).
 * - `unroll` is accepted and changes no number; `stateful: true` carries
 *   each call's final states (all cells', flat) into the next call, as in
 *   Keras (engine/carried_states.ts).
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask } from '../../engine/specs.js';
import type { BaseLayerArgs, MaskArg, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError } from '../../errors.js';
import { rnnChain, type ChainStage } from '../../ops/rnn/chain.js';
import { AbstractRNNCell, asCell, cellLayer, cellOutputSize, flatStateSizes, type CellOutput, type RecurrentCell } from './abstract_rnn_cell.js';
import { RNNCell } from './rnn_cell.js';
import { StackedRNNCells } from './stacked_rnn_cells.js';
import { RECURRENT_CALL_ARGS, RECURRENT_OUTPUT_OPTIONS, type RNNCallArgs, type RecurrentOutputArgs } from './rnn_base.js';
import { StatefulRecurrentLayer } from './stateful_layer.js';
import { checkMaskShape, checkSequenceInput, checkStateShapes, initialStates, isSpec, sequenceFeatures, sequenceMask } from './rnn_checks.js';

type CellLike = AbstractRNNCell | RecurrentCell;

/** Options of RNN (Keras names, camelCase). */
export interface GenericRNNArgs extends BaseLayerArgs, RecurrentOutputArgs {
  /** The cell, or a list of cells (run as StackedRNNCells). */
  cell: CellLike | CellLike[];
}

type Own = Omit<GenericRNNArgs, keyof BaseLayerArgs>;

function checkCell(v: unknown, where: string, name: string): AbstractRNNCell {
  return Array.isArray(v) ? new StackedRNNCells({ cells: v as CellLike[] }) : asCell(v, `${where}: ${name}`);
}

/** The cells an RNN runs one after another: a stack's cells (recursively), or the cell itself. */
function leafCells(cell: AbstractRNNCell): AbstractRNNCell[] {
  const plainStack = cell instanceof StackedRNNCells && cell.call === StackedRNNCells.prototype.call;
  return plainStack ? cell.cells.flatMap(leafCells) : [cell];
}

/** The flat index of the state that starts the output: a stack's last cell's first state (Keras: `states[-1][0]`), else the first. */
function outputStateIndex(cell: AbstractRNNCell): number {
  if (!(cell instanceof StackedRNNCells)) return 0;
  const last = cell.cells[cell.cells.length - 1]!;
  return flatStateSizes(cell.stateSize).length - flatStateSizes(last.stateSize).length;
}

/** True for a built-in cell whose step is the fused kernel's (a subclass that overrides `call` runs its own). */
function isFusedCell(cell: AbstractRNNCell): cell is RNNCell {
  return cell instanceof RNNCell && cell.call === RNNCell.prototype.call;
}

export class RNN extends StatefulRecurrentLayer<boolean> {
  static override readonly className = 'RNN';
  /** The call arguments it takes (Layer.apply refuses others). */
  static readonly callArgNames = RECURRENT_CALL_ARGS;
  static override readonly options = {
    cell: opt.custom<AbstractRNNCell>(checkCell, { kerasKind: 'layer' }),
    ...RECURRENT_OUTPUT_OPTIONS,
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Omit<Own, 'cell'>> & { readonly cell: AbstractRNNCell };
  private features: number | null = null;
  constructor(args: GenericRNNArgs) {
    super(args);
    this.trackLayer(cellLayer(this.cell), 'cell');
    this.supportsMasking = true;
    this.initStateful(this.args.stateful, () => this.stateSizes.map((u) => [u]));
  }

  get cell(): AbstractRNNCell {
    return this.args.cell;
  }
  /** Keras's state_size of the cell (nested per cell for StackedRNNCells). */
  get stateSize(): RecurrentCell['stateSize'] {
    return this.cell.stateSize;
  }
  /** The size of each state tensor, flat (the order of `initialState` and of the returned states). */
  get stateSizes(): number[] {
    return flatStateSizes(this.cell.stateSize);
  }
  /** Number of state tensors. */
  get stateCount(): number {
    return this.stateSizes.length;
  }
  /** The size of the output's last axis. */
  get outputSize(): number {
    return cellOutputSize(this.cell, this.where);
  }

  /** A new, unbuilt RNN with a fresh copy of the cell and these options changed (Bidirectional uses it). */
  withOptions(overrides: Partial<GenericRNNArgs>): this {
    const Ctor = this.constructor as new (a: GenericRNNArgs) => this;
    return new Ctor({ ...(this.getConfig() as unknown as GenericRNNArgs), cell: this.cell.cloneCell(), ...overrides });
  }

  private get where(): string {
    return `${this.className} '${this.name}'`;
  }

  override build(inputShape: Shape | Shape[]): void {
    const f = sequenceFeatures(inputShape, this.where);
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    this.carried?.build(shape[0]);
    this.cell.maybeBuild([shape[0] ?? null, f]);
    this.features = f;
  }

  call(x: tf.Tensor, args: RNNCallArgs): tf.Tensor | tf.Tensor[] {
    checkSequenceInput(x as tf.Tensor | tf.Tensor[], this.features!, this.where);
    const xf = (x.dtype === 'float32' ? x : tf.cast(x, 'float32')) as tf.Tensor3D;
    const mask = sequenceMask(args.mask, xf, this.where);
    const batch = xf.shape[0];
    const given = this.carried === null ? args.initialState : this.carried.initial(batch, args.initialState);
    const states = initialStates(given, this.stateSizes, batch, this.where);
    const training = args.training === true;
    let features = xf.shape[2];
    let k = 0;
    const stages = leafCells(this.cell).map((c): ChainStage => {
      const own = states.slice(k, k + flatStateSizes(c.stateSize).length);
      k += own.length;
      const inFeatures = features;
      features = cellOutputSize(c, this.where);
      if (isFusedCell(c)) return { fused: { ...c.opWeights(), initialStates: own, ...c.dropoutMasks(batch, inFeatures, training) } };
      const where = `${c.className} '${c.name}' of ${this.where}`;
      const step = (xt: tf.Tensor2D, st: tf.Tensor[]) => c.call(xt, st, { training }) as CellOutput as [tf.Tensor, tf.Tensor[]];
      return { step, initialStates: own, outputSize: features, outputStateIndex: outputStateIndex(c), where };
    });
    const r = rnnChain({
      inputs: xf,
      mask,
      goBackwards: this.goBackwards,
      zeroOutputForMask: args.zeroOutputForMask ?? this.args.zeroOutputForMask,
      returnSequences: this.returnSequences,
      stages,
    });
    this.carried?.update(r.states.flat());
    return this.returnState ? [r.output, ...r.states.flat()] : r.output;
  }

  /** Output mask: the input mask with `returnSequences`, else null; states carry none. */
  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask: MaskArg | undefined): MaskArg {
    const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    const out = this.returnSequences ? m : null;
    return this.returnState ? [out, ...this.stateSizes.map(() => null)] : out;
  }

  /** [batch, time, outputSize] with `returnSequences` (carrying the input mask), else [batch, outputSize]; then the states. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<RNNCallArgs>): TensorSpec | TensorSpec[] {
    const x = checkSequenceInput(inputs, this.features!, this.where);
    const mask = firstMask(args.mask);
    if (mask !== null) checkMaskShape(mask.shape, x.shape, this.where);
    const [b, t] = x.shape;
    checkStateShapes(args.initialState, this.stateSizes, b!, isSpec, this.where);
    const u = this.outputSize;
    const out: TensorSpec = this.returnSequences ? { shape: [b!, t!, u], dtype: 'float32', mask } : { shape: [b!, u], dtype: 'float32', mask: null };
    if (!this.returnState) return out;
    return [out, ...this.stateSizes.map((n): TensorSpec => ({ shape: [b!, n], dtype: 'float32', mask: null }))];
  }
}
