/**
 * Bidirectional: runs a recurrent layer forwards and a copy backwards, then
 * merges them, as Keras 3.15.1 does:
 * - the sub-layers are `forward_<name>` and `backward_<name>` (weights
 *   `bidirectional/forward_lstm/lstm_cell/kernel`, forward first);
 * - both run with `zeroOutputForMask = returnSequences`, so masked steps of
 *   a returned sequence are exact zeros in both halves (the copies are made
 *   with that option; a given backwardLayer is not changed: the value is
 *   passed to it at call time);
 * - its options, once made, name the directions' layers as Keras's config
 *   does: `layer` is the forward copy and `backwardLayer` the backward layer;
 * - the backward sequence is flipped back into input order before merging;
 * - `returnState` appends the forward states, then the backward states;
 * - `mergeMode: null` returns the two outputs; with `returnSequences` each
 *   carries the input mask, otherwise outputs carry no mask.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, MaskArg, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { RECURRENT_CALL_ARGS, RNNLayer, type RNNArgs, type RNNCallArgs } from './rnn_base.js';
import { RNN } from './rnn.js';
import { ConvLSTM1D } from './conv_lstm1d.js';

/** A layer Bidirectional can run in both directions: SimpleRNN, LSTM, GRU, RNN(cell) or ConvLSTM1D. */
export type RecurrentLayer = RNNLayer | RNN | ConvLSTM1D;
import { concatReversed, reverseSteps } from '../../ops/sequence_ops.js';
import { rnnSequences, rnnSequencesConcatReversed } from '../../ops/rnn/index.js';

export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul';

export interface BidirectionalArgs extends BaseLayerArgs {
  /** The forward layer's template (SimpleRNN, LSTM, GRU, RNN or ConvLSTM1D); Bidirectional runs a fresh copy of it (and a reversed copy, unless backwardLayer is given). */
  layer: RecurrentLayer;
  /** How the two directions are combined (default 'concat'); null returns both outputs. */
  mergeMode?: MergeMode | null;
  /** A layer to use as is for the backward direction (it must have `goBackwards: true`). */
  backwardLayer?: RecurrentLayer | null;
}

type Own = Omit<BidirectionalArgs, keyof BaseLayerArgs>;

function describeLayer(l: unknown): string {
  return l instanceof Layer ? `${l.className} '${l.name}'` : describe(l);
}

function rnnLayer(v: unknown, w: string, n: string): RecurrentLayer {
  if (v instanceof RNNLayer || v instanceof RNN || v instanceof ConvLSTM1D) return v as RecurrentLayer;
  throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a SimpleRNN, LSTM, GRU, RNN or ConvLSTM1D layer; received ${describeLayer(v)}.`);
}

function removePrefix(s: string, p: string): string {
  return s.startsWith(p) ? s.slice(p.length) : s;
}

export class Bidirectional extends Layer<RNNCallArgs, boolean> {
  static override readonly className = 'Bidirectional';
  /** The call arguments it takes (Layer.apply refuses others). */
  static readonly callArgNames = RECURRENT_CALL_ARGS;
  static override readonly options = {
    layer: opt.custom<RecurrentLayer>(rnnLayer, { kerasKind: 'layer' }),
    mergeMode: opt.oneOf<MergeMode | null>(['concat', 'sum', 'ave', 'mul', null], 'concat'),
    backwardLayer: opt.custom<RecurrentLayer | null>((v, w, n) => (v === null ? null : rnnLayer(v, w, n)), { default: null, kerasKind: 'layer' }),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  readonly forwardLayer: RecurrentLayer;
  readonly backwardLayer: RecurrentLayer;

  /** `new Bidirectional({ layer, mergeMode })`, or as in Keras `new Bidirectional(layer, { mergeMode })`. */
  constructor(args: BidirectionalArgs);
  constructor(layer: RNNLayer, options?: Omit<BidirectionalArgs, 'layer'>);
  constructor(args: BidirectionalArgs | RNNLayer, options?: Omit<BidirectionalArgs, 'layer'>) {
    super(args instanceof Layer ? { ...options, layer: args } : args);
    const layer = this.args.layer;
    const seq = layer.returnSequences;
    // As Keras: the forward layer is a fresh copy, a given backward layer is used as is.
    const fwd = layer.withOptions({ name: `forward_${removePrefix(layer.name, 'forward_')}`, zeroOutputForMask: seq } as Partial<RNNArgs>);
    const bwd =
      this.args.backwardLayer ??
      layer.withOptions({ name: `backward_${removePrefix(layer.name, 'backward_')}`, goBackwards: !layer.goBackwards, zeroOutputForMask: seq } as Partial<RNNArgs>);
    if (fwd.goBackwards === bwd.goBackwards) {
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `Bidirectional '${this.name}': the forward and backward layers must have different goBackwards; both have goBackwards=${fwd.goBackwards}.`,
      );
    }
    for (const k of ['returnSequences', 'returnState', 'stateful'] as const) {
      if (fwd[k] !== bwd[k]) {
        throw new MasqueError('INVALID_ARGUMENT', `Bidirectional '${this.name}': the forward and backward layers must have the same ${k}; received ${fwd[k]} and ${bwd[k]}.`);
      }
    }
    this.forwardLayer = this.trackLayer(fwd, 'forward_layer');
    this.backwardLayer = this.trackLayer(bwd, 'backward_layer');
    // As Keras's config: `layer` is the forward copy and `backwardLayer` the backward layer.
    (this as unknown as { args: Filled<Own> }).args = { ...this.args, layer: fwd, backwardLayer: bwd };
    this.supportsMasking = true;
  }

  get mergeMode(): MergeMode | null {
    return this.args.mergeMode;
  }
  get returnSequences(): boolean {
    return this.forwardLayer.returnSequences;
  }
  get returnState(): boolean {
    return this.forwardLayer.returnState;
  }
  /** True when both directions carry their states from call to call (Keras's `stateful`, which they share). */
  get stateful(): boolean {
    return this.forwardLayer.stateful;
  }

  /**
   * Both directions' carried states back to zero, or to the given tensors
   * (the forward layer's states, then the backward layer's), as Keras's
   * `reset_state()`; it raises unless the layers are stateful, as Keras's does.
   */
  resetStates(states?: tf.Tensor | tf.Tensor[] | null): void {
    if (!this.stateful) throw new MasqueError('INVALID_ARGUMENT', `Bidirectional '${this.name}': resetStates needs stateful layers (stateful: true on the wrapped layer); these carry no states between calls.`);
    const { fwdState, bwdState } = this.splitStates(states, 'resetStates: states');
    this.forwardLayer.resetStates(fwdState);
    this.backwardLayer.resetStates(bwdState);
  }

  /** Keras 3's name of `resetStates`. */
  resetState(states?: tf.Tensor | tf.Tensor[] | null): void {
    this.resetStates(states);
  }

  /** Copies of the carried states, the forward layer's then the backward layer's (yours to dispose); null unless stateful and built. */
  getStates(): tf.Tensor[] | null {
    const f = this.forwardLayer.getStates();
    const b = this.backwardLayer.getStates();
    if (f === null || b === null) {
      f?.forEach((t) => t.dispose());
      b?.forEach((t) => t.dispose());
      return null;
    }
    return [...f, ...b];
  }

  override build(inputShape: Shape | Shape[]): void {
    for (const l of [this.forwardLayer, this.backwardLayer]) {
      if (!l.built) {
        l.build(inputShape);
        l.built = true;
      }
    }
  }

  call(x: tf.Tensor, args: RNNCallArgs): tf.Tensor | tf.Tensor[] {
    const { fwdState, bwdState } = this.splitStates(args.initialState);
    // Keras forces zero_output_for_mask = return_sequences on both directions.
    const common = { mask: args.mask, training: args.training, zeroOutputForMask: this.returnSequences };
    const f = this.forwardLayer;
    const b = this.backwardLayer;
    let yf: tf.Tensor | tf.Tensor[];
    let yb: tf.Tensor | tf.Tensor[];
    if (f instanceof RNNLayer && b instanceof RNNLayer && this.returnSequences && this.mergeMode === 'concat') {
      // Both directions and the merge in one op (in inference the kernels' rows go straight into the merged output).
      const r = rnnSequencesConcatReversed([f.sequenceArgs(x, { ...common, initialState: fwdState }), b.sequenceArgs(x, { ...common, initialState: bwdState })]);
      f.noteFinalStates(r.states[0]!);
      b.noteFinalStates(r.states[1]!);
      const states = this.returnState ? [...r.states[0]!, ...r.states[1]!] : [];
      return states.length === 0 ? r.output : [r.output, ...states];
    }
    if (f instanceof RNNLayer && b instanceof RNNLayer) {
      // Both directions' recurrences in one op: their kernel calls run at once, one per thread, where that pays.
      const [rf, rb] = rnnSequences([f.sequenceArgs(x, { ...common, initialState: fwdState }), b.sequenceArgs(x, { ...common, initialState: bwdState })]);
      yf = f.outputsOf(rf!);
      yb = b.outputsOf(rb!);
    } else {
      // RNN(cell): each direction runs its own loop.
      yf = f.call(x, { ...common, initialState: fwdState });
      yb = b.call(x, { ...common, initialState: bwdState });
    }
    const y = Array.isArray(yf) ? yf[0]! : yf;
    const yBack = Array.isArray(yb) ? yb[0]! : yb;
    const states = this.returnState ? [...(yf as tf.Tensor[]).slice(1), ...(yb as tf.Tensor[]).slice(1)] : [];
    // The backward sequence goes back into input order: for 'concat' in the same copy that merges.
    if (this.mergeMode !== null && this.mergeMode !== 'concat') this.mergedUnits(y.shape[y.rank - 1]!, yBack.shape[yBack.rank - 1]!);
    // ConvLSTM1D's frames [batch, time, length, filters] go through the plain tfjs ops.
    const frames = y.rank === 4;
    const out =
      this.returnSequences && this.mergeMode === 'concat'
        ? [frames ? tf.concat([y, tf.reverse(yBack, 1)], -1) : concatReversed(y, yBack)]
        : this.merge(y, this.returnSequences ? (frames ? tf.reverse(yBack, 1) : reverseSteps(yBack)) : yBack);
    return out.length === 1 && states.length === 0 ? out[0]! : [...out, ...states];
  }

  private merge(y: tf.Tensor, yRev: tf.Tensor): tf.Tensor[] {
    switch (this.mergeMode) {
      case 'concat':
        return [tf.concat([y, yRev], -1)];
      case 'sum':
        return [tf.add(y, yRev)];
      case 'ave':
        return [tf.div(tf.add(y, yRev), 2)];
      case 'mul':
        return [tf.mul(y, yRev)];
      default:
        return [y, yRev];
    }
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): MaskArg {
    const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    const outMask = this.returnSequences ? m : null;
    const outs = this.mergeMode === null ? [outMask, outMask] : [outMask];
    if (!this.returnState) return outs.length === 1 ? outs[0]! : outs;
    const nStates = this.forwardLayer.stateCount + this.backwardLayer.stateCount;
    return [...outs, ...new Array<null>(nStates).fill(null)];
  }

  /** The directions' specs merged as `call` merges them; the outputs carry the input mask with `returnSequences`. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<RNNCallArgs>): TensorSpec | TensorSpec[] {
    const { fwdState, bwdState } = this.splitStates(args.initialState);
    const run = (l: RecurrentLayer, initialState: TensorSpec[] | null): TensorSpec[] => {
      const r = l.computeOutputSpec(inputs, { ...args, initialState });
      return Array.isArray(r) ? r : [r];
    };
    const [yf, ...sf] = run(this.forwardLayer, fwdState) as [TensorSpec, ...TensorSpec[]];
    const [yb, ...sb] = run(this.backwardLayer, bwdState) as [TensorSpec, ...TensorSpec[]];
    let out: TensorSpec[];
    if (this.mergeMode === null) {
      out = [yf, yb];
    } else if (this.mergeMode === 'concat') {
      const last = (s: TensorSpec) => s.shape[s.shape.length - 1]!;
      out = [{ ...yf, shape: [...yf.shape.slice(0, -1), last(yf) + last(yb)] }];
    } else {
      // Keras merges with broadcasting: a 1-unit direction spreads over the other one's units.
      const last = (sp: TensorSpec) => sp.shape[sp.shape.length - 1]!;
      out = [{ ...yf, shape: [...yf.shape.slice(0, -1), this.mergedUnits(last(yf), last(yb))] }];
    }
    const states = this.returnState ? [...sf, ...sb] : [];
    return out.length === 1 && states.length === 0 ? out[0]! : [...out, ...states];
  }

  /** The width of 'sum', 'ave' or 'mul' of directions with `f` and `b` units (equal, or one of them 1, as numpy broadcasts). */
  private mergedUnits(f: number, b: number): number {
    if (f === b || b === 1) return f;
    if (f === 1) return b;
    throw new MasqueError(
      'INVALID_ARGUMENT',
      `Bidirectional '${this.name}': mergeMode '${this.mergeMode}' needs directions of the same width (or one of width 1); the forward layer gives ${f} units and the backward layer ${b}. Use mergeMode 'concat' or null, or give both layers the same units.`,
    );
  }

  private splitStates<T>(given: T | T[] | null | undefined, what = 'initialState'): { fwdState: T[] | null; bwdState: T[] | null } {
    if (given === undefined || given === null) return { fwdState: null, bwdState: null };
    const list = Array.isArray(given) ? given : [given];
    const nf = this.forwardLayer.stateCount;
    const nb = this.backwardLayer.stateCount;
    if (list.length !== nf + nb) {
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `Bidirectional '${this.name}': ${what} must hold ${nf + nb} tensors (${nf} forward states, then ${nb} backward); received ${list.length}.`,
      );
    }
    return { fwdState: list.slice(0, nf), bwdState: list.slice(nf) };
  }
}
