/**
 * Bidirectional: runs a recurrent layer forwards and a copy backwards, then
 * merges them, as Keras 3.15.1 does:
 * - the sub-layers are `forward_<name>` and `backward_<name>` (weights
 *   `bidirectional/forward_lstm/lstm_cell/kernel`, forward first);
 * - both are forced to `zeroOutputForMask = returnSequences`, so masked
 *   steps of a returned sequence are exact zeros in both halves;
 * - the backward sequence is flipped back into input order before merging;
 * - `returnState` appends the forward states, then the backward states;
 * - `mergeMode: null` returns the two outputs; with `returnSequences` each
 *   carries the input mask, otherwise outputs carry no mask.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, MaskArg, Shape } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { RNNLayer, type RNNArgs, type RNNCallArgs } from './rnn_base.js';

export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul';
const MERGE_MODES: readonly (MergeMode | null)[] = ['concat', 'sum', 'ave', 'mul', null];

export interface BidirectionalArgs extends BaseLayerArgs {
  /** The forward layer's template (SimpleRNN, LSTM or GRU); Bidirectional runs a fresh copy of it (and a reversed copy, unless backwardLayer is given). */
  layer: RNNLayer;
  /** How the two directions are combined (default 'concat'); null returns both outputs. */
  mergeMode?: MergeMode | null;
  /** A layer to use as is for the backward direction (it must have `goBackwards: true`). */
  backwardLayer?: RNNLayer | null;
}

function describeLayer(l: unknown): string {
  return l instanceof Layer ? `${l.className} '${l.name}'` : describe(l);
}

function removePrefix(s: string, p: string): string {
  return s.startsWith(p) ? s.slice(p.length) : s;
}

export class Bidirectional extends Layer<RNNCallArgs, boolean> {
  readonly forwardLayer: RNNLayer;
  readonly backwardLayer: RNNLayer;
  readonly mergeMode: MergeMode | null;

  constructor(args: BidirectionalArgs) {
    super(args, 'Bidirectional');
    if (!(args?.layer instanceof RNNLayer)) {
      throw new MasqueError('INVALID_ARGUMENT', `Bidirectional '${this.name}': layer must be a SimpleRNN, LSTM or GRU layer; received ${describeLayer(args?.layer)}.`);
    }
    const mode = args.mergeMode === undefined ? 'concat' : args.mergeMode;
    if (!MERGE_MODES.includes(mode)) {
      throw new MasqueError('INVALID_ARGUMENT', `Bidirectional '${this.name}': mergeMode must be one of 'concat', 'sum', 'ave', 'mul' or null; received ${describe(mode)}.`);
    }
    if (args.backwardLayer !== undefined && args.backwardLayer !== null && !(args.backwardLayer instanceof RNNLayer)) {
      throw new MasqueError('INVALID_ARGUMENT', `Bidirectional '${this.name}': backwardLayer must be a SimpleRNN, LSTM or GRU layer; received ${describeLayer(args.backwardLayer)}.`);
    }
    this.mergeMode = mode;
    const layer = args.layer;
    const seq = layer.returnSequences;
    const fwdName = `forward_${removePrefix(layer.name, 'forward_')}`;
    const fwd = layer.withOptions({ name: fwdName } as Partial<RNNArgs>);
    // As Keras: the forward layer is a fresh copy, a given backward layer is used as is.
    const bwd = args.backwardLayer
      ? args.backwardLayer
      : layer.withOptions({ name: `backward_${removePrefix(layer.name, 'backward_')}`, goBackwards: !layer.goBackwards } as Partial<RNNArgs>);
    if (fwd.goBackwards === bwd.goBackwards) {
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `Bidirectional '${this.name}': the forward and backward layers must have different goBackwards; both have goBackwards=${fwd.goBackwards}.`,
      );
    }
    for (const k of ['returnSequences', 'returnState'] as const) {
      if (fwd[k] !== bwd[k]) {
        throw new MasqueError('INVALID_ARGUMENT', `Bidirectional '${this.name}': the forward and backward layers must have the same ${k}; received ${fwd[k]} and ${bwd[k]}.`);
      }
    }
    for (const l of [fwd, bwd]) l.args.zeroOutputForMask = seq;
    this.forwardLayer = this.trackLayer(fwd, 'forward_layer');
    this.backwardLayer = this.trackLayer(bwd, 'backward_layer');
    this.supportsMasking = true;
  }

  get returnSequences(): boolean {
    return this.forwardLayer.returnSequences;
  }
  get returnState(): boolean {
    return this.forwardLayer.returnState;
  }

  override build(inputShape: Shape | Shape[]): void {
    for (const l of [this.forwardLayer, this.backwardLayer]) {
      if (!l.built) {
        l.build(inputShape);
        l.built = true;
      }
    }
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: RNNCallArgs): tf.Tensor | tf.Tensor[] {
    const { fwdState, bwdState } = this.splitStates(args.initialState);
    const common = { mask: args.mask, training: args.training };
    const yf = this.forwardLayer.call(inputs, { ...common, initialState: fwdState });
    const yb = this.backwardLayer.call(inputs, { ...common, initialState: bwdState });
    const y = Array.isArray(yf) ? yf[0]! : yf;
    let yRev = Array.isArray(yb) ? yb[0]! : yb;
    const states = this.returnState ? [...(yf as tf.Tensor[]).slice(1), ...(yb as tf.Tensor[]).slice(1)] : [];
    if (this.returnSequences) yRev = tf.reverse(yRev, 1);
    const out = this.merge(y, yRev);
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

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask: MaskArg | undefined): MaskArg {
    const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    const outMask = this.returnSequences ? m : null;
    const outs = this.mergeMode === null ? [outMask, outMask] : [outMask];
    if (!this.returnState) return outs.length === 1 ? outs[0]! : outs;
    const nStates = this.forwardLayer.stateCount + this.backwardLayer.stateCount;
    return [...outs, ...new Array<null>(nStates).fill(null)];
  }

  private splitStates(given: RNNCallArgs['initialState']): { fwdState: tf.Tensor[] | null; bwdState: tf.Tensor[] | null } {
    if (given === undefined || given === null) return { fwdState: null, bwdState: null };
    const list = Array.isArray(given) ? given : [given];
    const nf = this.forwardLayer.stateCount;
    const nb = this.backwardLayer.stateCount;
    if (list.length !== nf + nb) {
      throw new MasqueError(
        'INVALID_ARGUMENT',
        `Bidirectional '${this.name}': initialState must hold ${nf + nb} tensors (${nf} forward states, then ${nb} backward); received ${list.length}.`,
      );
    }
    return { fwdState: list.slice(0, nf), bwdState: list.slice(nf) };
  }

  override getConfig(): BidirectionalArgs {
    return { ...super.getConfig(), name: this.name, layer: this.forwardLayer, mergeMode: this.mergeMode, backwardLayer: this.backwardLayer };
  }
}
