/**
 * StackedRNNCells: a list of cells that behaves as one cell (Keras 3.15.1).
 * At each step the first cell reads the input, each next cell reads the
 * output of the one below, and the output is the last cell's. Its state
 * size is the list of the cells' state sizes, so `RNN({ returnState })`
 * returns the states of every cell, first cell first (a cell with one state
 * gives one tensor, LSTMCell gives h and c). The states passed to `call` are
 * that list flattened.
 *
 * Weights live under the cells' names: `rnn/stacked_rnn_cells/lstm_cell/kernel`.
 * Inside RNN the stack runs cell by cell over the whole sequence, which
 * gives the same numbers (see ops/rnn/chain.ts).
 */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { SaveTree } from '../../engine/layer.js';
import type { BaseLayerArgs, Shape } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { AbstractRNNCell, asCell, cellLayer, cellGroupName, cellOutputSize, flatStateSizes, type CellCallArgs, type CellOutput, type RecurrentCell, type StateSize } from './abstract_rnn_cell.js';

export interface StackedRNNCellsArgs extends BaseLayerArgs {
  /** The cells, bottom first: built-in cells, AbstractRNNCell subclasses or objects with the cell protocol. */
  cells: (AbstractRNNCell | RecurrentCell)[];
}

type Own = Omit<StackedRNNCellsArgs, keyof BaseLayerArgs>;

function checkCells(v: unknown, where: string, name: string): AbstractRNNCell[] {
  if (!Array.isArray(v) || v.length === 0) throw new MasqueError('INVALID_ARGUMENT', `${where}: ${name} must be a non-empty list of cells; received ${describe(v)}.`);
  return v.map((c, i) => asCell(c, `${where}: ${name}[${i}]`));
}

export class StackedRNNCells extends AbstractRNNCell {
  static override readonly className = 'StackedRNNCells';
  static override readonly options = {
    cells: opt.custom<AbstractRNNCell[]>(checkCells, { kerasKind: 'layers' }),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<{ cells: AbstractRNNCell[] }>;

  constructor(args: StackedRNNCellsArgs) {
    super(args);
    for (const c of this.cells) this.trackLayer(cellLayer(c));
  }

  get cells(): AbstractRNNCell[] {
    return this.args.cells;
  }

  /** One entry per cell: its state size. */
  get stateSize(): StateSize[] {
    return this.cells.map((c) => c.stateSize);
  }

  /** The last cell's output size. */
  get outputSize(): number {
    return cellOutputSize(this.cells[this.cells.length - 1]!, this.where);
  }

  private get where(): string {
    return `StackedRNNCells '${this.name}'`;
  }

  /** Builds each cell for the output of the one below. */
  override build(stepShape: Shape): void {
    let shape = stepShape;
    for (const c of this.cells) {
      c.maybeBuild(shape);
      shape = [shape[0] ?? null, cellOutputSize(c, this.where)];
    }
  }

  /** One step through every cell; `states` is the flat list of all cells' states. */
  call(x: tf.Tensor, states: tf.Tensor[], args: CellCallArgs = { training: false }): CellOutput {
    let k = 0;
    let input = x;
    const next: tf.Tensor[] = [];
    for (const c of this.cells) {
      const n = flatStateSizes(c.stateSize).length;
      const own = states.slice(k, k + n);
      k += n;
      c.maybeBuild(input.shape);
      const [out, ns] = c.call(input, own, args) as CellOutput;
      input = out;
      next.push(...(Array.isArray(ns) ? ns : [ns]));
    }
    return [input, next];
  }

  /** As Keras saves a list of layers: a `cells` group holding one group per cell, named after its class. */
  override saveTree(): SaveTree {
    const groups: Record<string, SaveTree> = {};
    for (const c of this.cells) {
      const base = cellGroupName(c);
      let name = base;
      for (let i = 1; name in groups; i++) name = `${base}_${i}`;
      groups[name] = c.saveTree();
    }
    return { name: this.name, vars: [], groups: { cells: { name: 'cells', vars: [], groups } } };
  }

  override cloneCell(): AbstractRNNCell {
    return new StackedRNNCells({ name: this.name, trainable: this.trainable, cells: this.cells.map((c) => c.cloneCell()) });
  }
}
