/**
 * Recurrent cells: what `RNN` runs at each step (Keras's cell protocol).
 *
 * A cell has `stateSize` (a number, or a list with one size per state),
 * optionally `outputSize` (else the first state size), optionally
 * `build(stepShape)`, and `call(x, states, { training })` which takes one
 * step, `x` [batch, features] and the states (a list of [batch, size]
 * tensors, in `stateSize` order), and returns `[output, newStates]`.
 *
 * `AbstractRNNCell` is the base class of every cell, built-in
 * (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells) and custom: it is a
 * Layer, so a cell creates its weights with `addWeight` in `build` and they
 * live under the RNN's path (`rnn/minimal_rnn_cell/kernel`). A plain object
 * with the protocol is accepted too (`asCell` wraps it); it owns no weights.
 */
import type { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { CallArgs, Shape } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { toSnakeCase } from '../../names.js';

/** A state size: one state of that size, or one size per state (nested per cell for StackedRNNCells). */
export type StateSize = number | readonly StateSize[];

/** What a cell's `call` receives besides the step input and the states. */
export interface CellCallArgs {
  training: boolean;
}

/** What a cell's `call` returns: the step output and the new states (one tensor for a single state). */
export type CellOutput = [output: tf.Tensor, newStates: tf.Tensor | tf.Tensor[]];

/** The cell protocol (Keras's): anything `RNN` and `StackedRNNCells` can run. */
export interface RecurrentCell {
  readonly stateSize: StateSize;
  readonly outputSize?: number | null;
  build?(stepShape: Shape): void;
  call(x: tf.Tensor, states: tf.Tensor[], args: CellCallArgs): CellOutput;
}

/**
 * Base class of recurrent cells. Subclasses declare `stateSize` (and
 * `outputSize` when the output is not the first state), create weights in
 * `build(stepShape)` and implement `call(x, states, { training })`, which
 * returns `[output, newStates]`. A cell runs over a sequence inside
 * `new RNN({ cell })`; `cell.call(x, states)` takes one step by hand.
 */
export abstract class AbstractRNNCell extends Layer<CallArgs, true> implements RecurrentCell {
  abstract readonly stateSize: StateSize;

  /**
   * One step: `x` [batch, features], `states` one [batch, size] tensor per
   * state; returns `[output, newStates]`. (Typed loosely here so that
   * subclasses can declare the cell protocol in place of Layer's `call`.)
   */
  abstract override call(x: tf.Tensor, states?: unknown, args?: unknown): any;

  /** Cells run inside RNN, not through `apply`. */
  override apply(): never {
    throw new MasqueError(
      'INVALID_ARGUMENT',
      `${this.className} '${this.name}' is a recurrent cell: run it over a sequence with new RNN({ cell }), or take one step with cell.call(x, states).`,
    );
  }

  /**
   * A fresh, unbuilt copy (Bidirectional's backward direction). The default
   * calls the class's constructor with the options this cell was given;
   * override it when the constructor takes something else.
   */
  cloneCell(): AbstractRNNCell {
    const Ctor = this.constructor as new (a: object) => AbstractRNNCell;
    return new Ctor({ ...(this.args as object) });
  }
}

/**
 * A cell as the Layer it is (its `call` has the cell protocol, which
 * TypeScript does not see as Layer's): for `trackLayer` and weight lists.
 */
export function cellLayer(c: AbstractRNNCell): Layer<CallArgs, boolean> {
  return c as unknown as Layer<CallArgs, boolean>;
}

/** The flat list of state sizes (`[2, [3, 3]]` -> `[2, 3, 3]`). */
export function flatStateSizes(s: StateSize): number[] {
  return typeof s === 'number' ? [s] : s.flatMap((x) => flatStateSizes(x));
}

/** Checks a cell's stateSize: a positive integer or a non-empty (nested) list of them. */
export function checkStateSize(v: unknown, where: string): StateSize {
  const ok = (x: unknown): boolean => (Number.isInteger(x) && (x as number) >= 1) || (Array.isArray(x) && x.length > 0 && x.every(ok));
  if (!ok(v)) throw new MasqueError('INVALID_ARGUMENT', `${where}: stateSize must be a positive integer or a list of them; received ${describe(v)}.`);
  return v as StateSize;
}

/** The size of a cell's output: `outputSize`, else its first state size. */
export function cellOutputSize(cell: RecurrentCell, where: string): number {
  const o = cell.outputSize;
  if (o !== undefined && o !== null) {
    if (!Number.isInteger(o) || o < 1) throw new MasqueError('INVALID_ARGUMENT', `${where}: outputSize must be a positive integer; received ${describe(o)}.`);
    return o;
  }
  return flatStateSizes(checkStateSize(cell.stateSize, where))[0]!;
}

/** A plain object with the cell protocol, run as a cell (it owns no weights). */
class PlainCell extends AbstractRNNCell {
  constructor(readonly inner: RecurrentCell) {
    const cls = (Object.getPrototypeOf(inner) as { constructor?: { name?: string } } | null)?.constructor?.name;
    const className = cls && cls !== 'Object' ? cls : 'Cell';
    const name = (inner as { name?: unknown }).name;
    super({ name: typeof name === 'string' ? name : undefined }, className);
  }
  get stateSize(): StateSize {
    return this.inner.stateSize;
  }
  get outputSize(): number | null | undefined {
    return this.inner.outputSize;
  }
  override build(stepShape: Shape): void {
    this.inner.build?.(stepShape);
  }
  call(x: tf.Tensor, states: tf.Tensor[], args: CellCallArgs): CellOutput {
    return this.inner.call(x, states, args);
  }
  override cloneCell(): AbstractRNNCell {
    throw new MasqueError('INVALID_ARGUMENT', `the cell ${this.className} is a plain object, which Masque cannot copy; pass the backward layer to Bidirectional as backwardLayer, or extend AbstractRNNCell.`);
  }
}

/** `v` as a cell: an AbstractRNNCell as is, a plain object with the protocol wrapped; anything else raises naming `where`. */
export function asCell(v: unknown, where: string): AbstractRNNCell {
  if (v instanceof AbstractRNNCell) return v;
  if (v instanceof Layer) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: expected a recurrent cell (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells or a subclass of AbstractRNNCell); received the layer ${v.className} '${v.name}'.`);
  }
  const o = v as Partial<RecurrentCell> | null;
  if (o === null || typeof o !== 'object' || typeof o.call !== 'function' || !('stateSize' in o)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: a cell must have stateSize and call(x, states) returning [output, newStates]; received ${describe(v)}.`);
  }
  checkStateSize(o.stateSize, where);
  return new PlainCell(o as RecurrentCell);
}

/** The snake_case name of a cell's class (`.keras` group names of cell lists: `lstm_cell`). */
export function cellGroupName(cell: AbstractRNNCell): string {
  return toSnakeCase(cell.className);
}
