/**
 * MultiHeadAttention with Keras's masking (conformance README, rules 14-16):
 * the effective mask is `attentionMask & query[:, :, None] & value[:, None, :]
 * & key[:, None, :] & causal`; by default masked logits are replaced by a
 * huge negative number (a fully masked query row attends uniformly to all S
 * keys), while with `returnAttentionScores` or `dropout > 0` Keras's Softmax
 * layer zeroes masked weights. Output mask = query mask; the scores carry the
 * [B, 1, T, S] combined mask.
 *
 * Masque departures (README departure 4): an explicit `queryMask` is
 * honoured, and the masks on the input tensors are never cleared, so
 * `Add([x, mha(x, x)])` keeps its mask. Padded batches cost about what their
 * real tokens cost (see ops/packed_attention_ops.ts).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer, type SaveTree, type SymbolicArgs } from '../../engine/layer.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { validateMask } from '../../engine/masks.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { broadcastFast, checkAttentionMask, combineAttentionMask, finiteAtMaskedChecked, softmaxReplaceMasked, softmaxZeroMasked } from '../../ops/attention_ops.js';
import { allValid, maskValues, packedAttention, planPackedAttention } from '../../ops/packed_attention_ops.js';
import { EinsumDense } from './einsum_dense.js';

export interface MultiHeadAttentionArgs extends BaseLayerArgs {
  numHeads: number;
  keyDim: number;
  /** Size of each value head (default: keyDim). */
  valueDim?: number | null;
  /** Dropout rate on the attention weights (training only; > 0 selects Keras's Softmax-layer path). */
  dropout?: number;
  useBias?: boolean;
  /** Output feature shape (default: the query's last dimension). */
  outputShape?: number | number[] | null;
  /** Only attention over the time axis (1) is supported. */
  attentionAxes?: number | number[] | null;
  /** Gated attention (a sigmoid projection of the query multiplies each head's output). */
  useGate?: boolean;
  /** Each query attends only keys within `slidingWindow - 1` positions. */
  slidingWindow?: number | null;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  seed?: number | null;
}

export interface MultiHeadAttentionCallArgs extends CallArgs {
  /** Value (and key) may also be given here instead of in the inputs list. */
  value?: tf.Tensor;
  key?: tf.Tensor;
  /** [B, T] bool; overrides the query's own mask (Keras ignores this argument). */
  queryMask?: tf.Tensor | null;
  /** [B, S] bool; overrides the value's own mask. */
  valueMask?: tf.Tensor | null;
  /** [B, S] bool; overrides the key's own mask. */
  keyMask?: tf.Tensor | null;
  /** `[B, T, S]`: which keys each query may attend (true = may). */
  attentionMask?: tf.Tensor | null;
  useCausalMask?: boolean;
  returnAttentionScores?: boolean;
}

/** Fixed cost of one packed group, in multiply-adds (about 40 tfjs ops; measured by bench/attention_bench.ts). */
const GROUP_COST = 4e5;

export class MultiHeadAttention extends Layer<MultiHeadAttentionCallArgs, boolean> {
  readonly args: MultiHeadAttentionArgs;
  queryDense!: EinsumDense;
  keyDense!: EinsumDense;
  gateDense: EinsumDense | null = null;
  valueDense!: EinsumDense;
  outputDense!: EinsumDense;
  private readonly valueDim: number;
  private outDims: number[] = [];

  constructor(args: MultiHeadAttentionArgs) {
    super(args, 'MultiHeadAttention');
    const where = `MultiHeadAttention '${this.name}'`;
    for (const k of ['numHeads', 'keyDim'] as const) {
      if (!Number.isInteger(args[k]) || args[k] < 1) throw new MasqueError('INVALID_ARGUMENT', `${where}: ${k} must be a positive integer; received ${describe(args[k])}.`);
    }
    if (args.valueDim != null && (!Number.isInteger(args.valueDim) || args.valueDim < 1)) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: valueDim must be a positive integer or null; received ${describe(args.valueDim)}.`);
    }
    const rate = args.dropout ?? 0;
    if (typeof rate !== 'number' || rate < 0 || rate >= 1) throw new MasqueError('INVALID_ARGUMENT', `${where}: dropout must be in [0, 1); received ${describe(args.dropout)}.`);
    const sw = args.slidingWindow ?? null;
    if (sw !== null && (!Number.isInteger(sw) || sw < 1)) throw new MasqueError('INVALID_ARGUMENT', `${where}: slidingWindow must be a positive integer or null; received ${describe(sw)}.`);
    const axes = args.attentionAxes ?? null;
    const axisList = axes === null ? [] : Array.isArray(axes) ? axes : [axes];
    if (axisList.length > 1 || axisList.some((a) => a !== 1 && a !== -2)) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: only attention over the time axis is supported (attentionAxes null or [1]); received ${describe(axes)}.`);
    }
    const os = args.outputShape ?? null;
    const osList = os === null ? null : Array.isArray(os) ? os : [os];
    if (osList !== null && (osList.length === 0 || osList.some((d) => !Number.isInteger(d) || d < 1))) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: outputShape must be a positive integer or a list of them; received ${describe(os)}.`);
    }
    this.args = { valueDim: null, dropout: 0, useBias: true, outputShape: null, attentionAxes: null, useGate: false, slidingWindow: null, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros', seed: null, ...args };
    this.valueDim = args.valueDim ?? args.keyDim;
    this.supportsMasking = true;
  }

  override apply(inputs: SymbolicTensor | SymbolicTensor[], args?: SymbolicArgs<MultiHeadAttentionCallArgs>): SymbolicTensor | SymbolicTensor[];
  override apply(inputs: tf.Tensor | tf.Tensor[], args?: MultiHeadAttentionCallArgs): tf.Tensor | tf.Tensor[];
  override apply(inputs: unknown, args: Record<string, unknown> = {}): unknown {
    // Accept mha.apply(query, { value, key }) as well as mha.apply([query, value, key]).
    const { value, key, ...rest } = args;
    const list = Array.isArray(inputs) ? [...(inputs as unknown[])] : [inputs];
    if (value !== undefined) {
      if (list.length !== 1) throw new MasqueError('INVALID_INPUT', `MultiHeadAttention '${this.name}': value was given both in the inputs list and as an argument.`);
      list.push(value);
    }
    if (key !== undefined) {
      if (list.length !== 2) throw new MasqueError('INVALID_INPUT', `MultiHeadAttention '${this.name}': key was given both in the inputs list and as an argument, or without a value.`);
      list.push(key);
    }
    if (list.length < 2 || list.length > 3) {
      throw new MasqueError('INVALID_INPUT', `MultiHeadAttention '${this.name}' expects [query, value] or [query, value, key]; received ${list.length} input(s).`);
    }
    return super.apply(list as never, rest as never);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = inputShape as Shape[];
    const [q, v] = shapes as [Shape, Shape];
    const k = shapes[2] ?? v;
    const where = `MultiHeadAttention '${this.name}'`;
    for (const [what, s] of [['query', q], ['value', v], ['key', k]] as const) {
      if (s.length !== 3 || typeof s[2] !== 'number') {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: ${what} must have shape [batch, time, features] with known features; received ${formatShape(s)}.`);
      }
    }
    if (v[1] !== null && k[1] !== null && v[1] !== k[1]) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: value and key must have the same length; received value ${formatShape(v)} and key ${formatShape(k)}.`);
    }
    const { numHeads: n, keyDim: hk, useBias, kernelInitializer, biasInitializer } = this.args;
    const common = { useBias: useBias!, kernelInitializer, biasInitializer };
    const os = this.args.outputShape;
    this.outDims = os == null ? [q[2] as number] : Array.isArray(os) ? os : [os];
    // Keras saves each projection under the attribute that holds it: the public
    // properties query_dense, key_dense, value_dense, output_dense, and the
    // private _gate_dense (saving_lib visits public names first).
    const make = (name: string, saveName: string, inputDims: number[], outputDims: number[], activation: string | null = null) => {
      const l = this.trackLayer(new EinsumDense({ name, inputDims, outputDims, activation, ...common }), saveName);
      l.build();
      return l;
    };
    this.queryDense = make('query', 'query_dense', [q[2] as number], [n, hk]);
    this.keyDense = make('key', 'key_dense', [k[2] as number], [n, hk]);
    if (this.args.useGate) this.gateDense = make('gate', '_gate_dense', [q[2] as number], [n, this.valueDim], 'sigmoid');
    this.valueDense = make('value', 'value_dense', [v[2] as number], [n, this.valueDim]);
    this.outputDense = make('attention_output', 'output_dense', [n, this.valueDim], this.outDims);
  }

  /** Keras also saves its weightless Softmax and Dropout sub-layers, as empty groups. */
  override saveTree(): SaveTree {
    const tree = super.saveTree();
    const empty = (name: string): SaveTree => ({ name, vars: [], groups: {} });
    return { ...tree, groups: { ...tree.groups, _dropout_layer: empty('dropout'), _softmax: empty('softmax') } };
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: MultiHeadAttentionCallArgs): tf.Tensor | tf.Tensor[] {
    return this.callAndMask(inputs, args).outputs;
  }

  protected override callAndMask(inputs: tf.Tensor | tf.Tensor[], args: MultiHeadAttentionCallArgs): { outputs: tf.Tensor | tf.Tensor[]; masks: MaskArg } {
    const list = inputs as tf.Tensor[];
    const [query, value] = list as [tf.Tensor, tf.Tensor];
    const key = list[2] ?? value;
    const where = `MultiHeadAttention '${this.name}'`;
    const auto = Array.isArray(args.mask) ? args.mask : [args.mask ?? null];
    const pick = (named: tf.Tensor | null | undefined, i: number, x: tf.Tensor, what: string): tf.Tensor | null => {
      const m = named !== undefined ? named : (auto[i] ?? null);
      if (m !== null) {
        validateMask(m, x, `${where}, ${what}`);
        if (m.rank !== 2) throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}, ${what}: expected a [batch, time] mask ${formatShape(x.shape.slice(0, 2))}; received ${formatShape(m.shape)}.`);
      }
      return m;
    };
    const qm = pick(args.queryMask, 0, query, 'queryMask');
    const vm = pick(args.valueMask, 1, value, 'valueMask');
    const km = pick(args.keyMask, 2, key, 'keyMask');
    const [b, t] = query.shape as [number, number];
    const s = value.shape[1]!;
    if (args.attentionMask) checkAttentionMask(args.attentionMask, b, t, s, where);
    const kv = vm && km ? tf.logicalAnd(vm, km) : (vm ?? km);
    const q = finiteAtMaskedChecked(query, qm);
    const v = value === query && kv === qm ? q : finiteAtMaskedChecked(value, kv);
    const k = key === value ? v : finiteAtMaskedChecked(key, kv);
    const causal = args.useCausalMask === true;
    const window = this.args.slidingWindow ?? null;
    const zeroPath = args.returnAttentionScores === true || this.args.dropout! > 0;
    const parts = { queryMask: qm, valueMask: vm, keyMask: km, attentionMask: args.attentionMask ?? null, causal, slidingWindow: window, t, s };
    let output: tf.Tensor | null = null;
    if (!zeroPath && !this.gateDense && !args.attentionMask && (qm !== null || kv !== null)) output = this.packed(q, v, k, qm, kv, causal, window);
    let scores: tf.Tensor | null = null;
    let scoresMask: tf.Tensor | null = null;
    if (output === null) {
      // On the default path an all-true padding mask changes nothing: drop it (and its [B, T, S] mask work).
      if (!zeroPath && allValid(qm) && allValid(vm) && allValid(km)) Object.assign(parts, { queryMask: null, valueMask: null, keyMask: null });
      const combined = combineAttentionMask(parts);
      const mask4 = combined === null ? null : broadcastFast(tf.expandDims(combined, 1), [b, 1, t, s]);
      ({ output, scores } = this.dense(q, v, k, mask4, zeroPath, args.training === true));
      scoresMask = mask4;
    }
    if (args.returnAttentionScores) return { outputs: [output, scores!], masks: [qm, scoresMask] };
    return { outputs: output, masks: qm };
  }

  /** Keras's computation on whole tensors; `zeroPath` selects the Softmax-layer path. */
  private dense(query: tf.Tensor, value: tf.Tensor, key: tf.Tensor, mask4: tf.Tensor | null, zeroPath: boolean, training: boolean): { output: tf.Tensor; scores: tf.Tensor } {
    const scale = 1 / Math.sqrt(this.args.keyDim);
    const heads = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1, 3]);
    const qh = heads(this.queryDense.project(query));
    const kh = heads(this.keyDense.project(key));
    const vh = heads(this.valueDense.project(value));
    let probs: tf.Tensor;
    if (zeroPath) {
      probs = softmaxZeroMasked(tf.matMul(tf.mul(qh, scale), kh, false, true), mask4);
    } else {
      probs = softmaxReplaceMasked(tf.mul(tf.matMul(qh, kh, false, true), scale), mask4);
    }
    const dropped = training && this.args.dropout! > 0 ? tf.dropout(probs, this.args.dropout!, undefined, this.args.seed ?? undefined) : probs;
    let o = heads(tf.matMul(dropped, vh));
    if (this.gateDense) o = tf.mul(o, this.gateDense.project(query));
    return { output: this.outputDense.project(o), scores: probs };
  }

  /** The default path with padding masks, packed so its cost follows the real tokens; null when packing saves nothing. */
  private packed(query: tf.Tensor, value: tf.Tensor, key: tf.Tensor, qm: tf.Tensor | null, kv: tf.Tensor | null, causal: boolean, window: number | null): tf.Tensor | null {
    const [b, t, dq] = query.shape as [number, number, number];
    const [, s, dv] = value.shape as [number, number, number];
    const n = this.args.numHeads;
    const hk = this.args.keyDim;
    const hv = this.valueDim;
    const out = this.outDims.reduce((x, y) => x * y, 1);
    const costs = { pair: n * (hk + hv + 4), token: n * (dq * hk + key.shape[2]! * hk + dv * hv + hv * out) / 2, group: GROUP_COST };
    const plan = planPackedAttention({ b, t, s, qValid: maskValues(qm), kValid: maskValues(kv), causal, slidingWindow: window, noKey: 'fallback', costs });
    if (plan === null) return null;
    const scale = 1 / Math.sqrt(hk);
    const heads = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1, 3]);
    const attend = (qc: tf.Tensor, [vc, kc]: tf.Tensor[], mask: tf.Tensor) => {
      const qh = heads(this.queryDense.project(qc));
      const kh = heads(this.keyDense.project(kc!));
      const vh = heads(this.valueDense.project(vc!));
      const probs = softmaxReplaceMasked(tf.mul(tf.matMul(qh, kh, false, true), scale), tf.expandDims(mask, 1));
      return this.outputDense.project(heads(tf.matMul(probs, vh)));
    };
    // A query with nothing to attend attends uniformly to all S keys (Keras).
    const fallback = () => this.outputDense.project(this.valueDense.project(tf.mean(value, 1)));
    return packedAttention(plan, query, key === value ? [value] : [value, key], (qc, ks, m) => attend(qc, [ks[0]!, ks[1] ?? ks[0]!], m), fallback);
  }

  override getConfig(): MultiHeadAttentionArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
