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
import { Layer, type MaskedOutputs, type SaveTree, type SymbolicArgs } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { checkBatchSizes } from '../../engine/specs.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { softmaxReplaceMasked, softmaxZeroMasked } from '../../ops/attention_ops.js';
import { maskValues, packedAttention, planPackedAttention, type GroupSpan } from '../../ops/packed_attention_ops.js';
import { attendPackedGroups, fusedInferenceAvailable, type RowsAt } from '../../ops/fused_attention_ops.js';
import { EinsumDense } from './einsum_dense.js';
import { attentionInputs, outputAndScoresSpecs, runAttention, withAttentionSubLayers, type AttentionPaths } from './attention_specs.js';
import { matMul } from '../../ops/matmul.js';

export interface MultiHeadAttentionArgs extends BaseLayerArgs {
  numHeads: number;
  keyDim: number;
  /** Size of each value head (default: keyDim). */
  valueDim?: number | null;
  /** Dropout rate on the attention weights (training only; > 0 selects Keras's Softmax-layer path). */
  dropout?: number;
  useBias?: boolean;
  /** Keras's flash attention switch; Masque computes attention one way, so only null or false. */
  flashAttention?: false | null;
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
  /** [B, T] bool; overrides the query's own mask and becomes the output mask (Keras ignores this argument for MultiHeadAttention and attaches the query's own mask for GroupQueryAttention). */
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
export const GROUP_COST = 4e5;

/** The same with the fused inference kernel (one WebAssembly call per group, no tfjs op). */
export const FUSED_GROUP_COST = 2e4;

type Own = Omit<MultiHeadAttentionArgs, keyof BaseLayerArgs>;

export class MultiHeadAttention extends Layer<MultiHeadAttentionCallArgs, boolean> {
  static override readonly className = 'MultiHeadAttention';
  /** The call arguments it takes besides value and key, which apply moves into the inputs (Layer.apply refuses others). */
  static readonly callArgNames: readonly string[] = ['training', 'mask', 'queryMask', 'valueMask', 'keyMask', 'attentionMask', 'useCausalMask', 'returnAttentionScores'];
  static override readonly options = {
    numHeads: opt.int({ min: 1 }),
    keyDim: opt.int({ min: 1 }),
    valueDim: opt.nullableInt({ min: 1, default: null }),
    dropout: opt.number({ min: 0, max: 1, maxOpen: true, default: 0 }),
    useBias: opt.bool(true),
    flashAttention: opt.oneOf([null, false] as const, null),
    outputShape: opt.custom<number | number[] | null>(
      (v, w, n) => {
        if (v === null || (Number.isInteger(v) && (v as number) >= 1)) return v as number | null;
        if (Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && d >= 1)) return [...(v as number[])];
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a positive integer or a list of them; received ${describe(v)}.`);
      },
      { default: null },
    ),
    attentionAxes: opt.custom<number | number[] | null>(
      (v, w, n) => {
        const list = v === null ? [] : Array.isArray(v) ? v : [v];
        if (list.length <= 1 && list.every((a) => a === 1 || a === -2)) return Array.isArray(v) ? [...(v as number[])] : (v as number | null);
        throw new MasqueError('INVALID_ARGUMENT', `${w}: only attention over the time axis is supported (${n} null or [1]); received ${describe(v)}.`);
      },
      { default: null },
    ),
    useGate: opt.bool(false),
    slidingWindow: opt.nullableInt({ min: 1, default: null }),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
    seed: opt.seed(),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  queryDense!: EinsumDense;
  keyDense!: EinsumDense;
  gateDense: EinsumDense | null = null;
  valueDense!: EinsumDense;
  outputDense!: EinsumDense;
  private readonly valueDim: number;
  private outDims: number[] = [];

  constructor(args: MultiHeadAttentionArgs) {
    super(args);
    this.valueDim = this.args.valueDim ?? this.args.keyDim;
    this.supportsMasking = true;
  }

  private get where(): string {
    return `MultiHeadAttention '${this.name}'`;
  }

  /** The output's feature axes: outputShape, or the query's last dimension. */
  private outputDims(q: Shape): number[] {
    const os = this.args.outputShape;
    return os === null ? [q[2] as number] : Array.isArray(os) ? os : [os];
  }

  /** One output, or `[output, scores]` with `returnAttentionScores: true`. */
  override apply(inputs: SymbolicTensor | SymbolicTensor[], args: SymbolicArgs<MultiHeadAttentionCallArgs> & { returnAttentionScores: true }): SymbolicTensor[];
  override apply(inputs: SymbolicTensor | SymbolicTensor[], args?: SymbolicArgs<MultiHeadAttentionCallArgs> & { returnAttentionScores?: false }): SymbolicTensor;
  override apply(inputs: SymbolicTensor | SymbolicTensor[], args?: SymbolicArgs<MultiHeadAttentionCallArgs>): SymbolicTensor | SymbolicTensor[];
  override apply(inputs: tf.Tensor | tf.Tensor[], args: MultiHeadAttentionCallArgs & { returnAttentionScores: true }): tf.Tensor[];
  override apply(inputs: tf.Tensor | tf.Tensor[], args?: MultiHeadAttentionCallArgs & { returnAttentionScores?: false }): tf.Tensor;
  override apply(inputs: tf.Tensor | tf.Tensor[], args?: MultiHeadAttentionCallArgs): tf.Tensor | tf.Tensor[];
  override apply(inputs: unknown, argsIn?: unknown): unknown {
    // Accept mha.apply(query, { value, key }) as well as mha.apply([query, value, key]).
    const { list, rest } = attentionInputs(inputs, argsIn, `MultiHeadAttention '${this.name}'`);
    return super.apply(list as never, rest as never);
  }

  /** Checks query, value and key shapes ([batch, time, features], value and key of one length); returns them. */
  private checkShapes(shapes: Shape[]): [Shape, Shape, Shape] {
    const [q, v] = shapes as [Shape, Shape];
    const k = shapes[2] ?? v;
    for (const [what, s] of [['query', q], ['value', v], ['key', k]] as const) {
      if (s.length !== 3 || typeof s[2] !== 'number') {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: ${what} must have shape [batch, time, features] with known features; received ${formatShape(s)}.`);
      }
    }
    if (v[1] !== null && k[1] !== null && v[1] !== k[1]) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: value and key must have the same length; received value ${formatShape(v)} and key ${formatShape(k)}.`);
    }
    checkBatchSizes([q, v, k], this.where);
    if (this.built) {
      // Built: the feature sizes are those the projections were made for.
      for (const [what, s, dense] of [['query', q, this.queryDense], ['value', v, this.valueDense], ['key', k, this.keyDense]] as const) {
        const want = dense.args.inputDims[0];
        if (s[2] !== want) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: the ${what} must have ${want} features (as when the layer was built); received ${formatShape(s)}.`);
      }
    }
    return [q, v, k];
  }

  override build(inputShape: Shape | Shape[]): void {
    const [q, v, k] = this.checkShapes(inputShape as Shape[]);
    const { numHeads: n, keyDim: hk, useBias, kernelInitializer, biasInitializer } = this.args;
    const common = { useBias, kernelInitializer, biasInitializer };
    this.outDims = this.outputDims(q);
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
    return withAttentionSubLayers(super.saveTree());
  }

  /** Returns the output (and the scores) with their masks: the query mask, and the combined [B, 1, T, S] mask on the scores. */
  call(inputs: tf.Tensor[], args: MultiHeadAttentionCallArgs): MaskedOutputs {
    const paths: AttentionPaths = {
      packable: this.gateDense === null,
      dropout: this.args.dropout,
      slidingWindow: this.args.slidingWindow,
      packed: (q, v, k, qm, kv, causal, window) => this.packed(q, v, k, qm, kv, causal, window),
      dense: (q, v, k, mask4, zeroPath, training) => this.dense(q, v, k, mask4, zeroPath, training),
    };
    return runAttention(paths, inputs, args, this.where);
  }

  /**
   * Output [batch, T, ...outputShape] with the query mask; with
   * returnAttentionScores also the scores [batch, heads, T, S], masked by
   * the combined [batch, 1, T, S] mask when any mask applies.
   */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<MultiHeadAttentionCallArgs>): TensorSpec | TensorSpec[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const [q, v, k] = this.checkShapes(list.map((x) => x.shape));
    return outputAndScoresSpecs(list, args, [q[0]!, q[1]!, ...this.outputDims(q)], this.args.numHeads, this.args.slidingWindow !== null, this.where);
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
      probs = softmaxZeroMasked(matMul(tf.mul(qh, scale), kh, false, true), mask4);
    } else {
      probs = softmaxReplaceMasked(tf.mul(matMul(qh, kh, false, true), scale), mask4);
    }
    const dropped = training && this.args.dropout > 0 ? tf.dropout(probs, this.args.dropout, undefined, this.args.seed ?? undefined) : probs;
    let o = heads(matMul(dropped, vh));
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
    // At inference on the wasm backend every group runs in one kernel call (attendRows), so groups are cheap and packing always pays.
    const fused = fusedInferenceAvailable();
    const costs = { pair: n * (hk + hv + 4), token: n * (dq * hk + key.shape[2]! * hk + dv * hv + hv * out) / 2, group: fused ? FUSED_GROUP_COST : GROUP_COST };
    const plan = planPackedAttention({ b, t, s, qValid: maskValues(qm), kValid: maskValues(kv), causal, slidingWindow: window, noKey: 'fallback', costs, force: fused });
    if (plan === null) return null;
    const scale = 1 / Math.sqrt(hk);
    const heads = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1, 3]);
    const attend = (qc: tf.Tensor, [vc, kc]: tf.Tensor[], mask: tf.Tensor) => {
      const qh = heads(this.queryDense.project(qc));
      const kh = heads(this.keyDense.project(kc!));
      const vh = heads(this.valueDense.project(vc!));
      const probs = softmaxReplaceMasked(tf.mul(matMul(qh, kh, false, true), scale), tf.expandDims(mask, 1));
      return this.outputDense.project(heads(matMul(probs, vh)));
    };
    // A query with nothing to attend attends uniformly to all S keys (Keras).
    const fallback = (mean: tf.Tensor | null) => this.outputDense.project(this.valueDense.project(mean!));
    const attendAll = fused ? (qAll: tf.Tensor, ks: tf.Tensor[], spans: GroupSpan[]) => this.attendRows(qAll, ks[0]!, ks[1] ?? ks[0]!, spans) : null;
    return packedAttention(plan, query, key === value ? [value] : [value, key], (qc, ks, m) => attend(qc, [ks[0]!, ks[1] ?? ks[0]!], m), fallback, value, attendAll);
  }

  /**
   * Every packed group at inference, on the gathered rows ([N, features]):
   * the projections as one product per operand (one for all three when
   * query, value and key are the same rows), the attention of all groups by
   * the fused kernel, then the output projection of all rows.
   */
  private attendRows(query: tf.Tensor, value: tf.Tensor, key: tf.Tensor, spans: GroupSpan[]): tf.Tensor {
    const { numHeads: n, keyDim: hk } = this.args;
    const hv = this.valueDim;
    const flat = (x: tf.Tensor) => tf.reshape(x, [x.shape[0]!, -1]);
    let q: RowsAt, k: RowsAt, v: RowsAt;
    if (value === query && key === query) {
      const dense = [this.queryDense, this.keyDense, this.valueDense];
      const kernel = tf.concat(dense.map((d) => tf.reshape(d.kernel, [d.kernel.shape[0]!, -1])), 1);
      let rows = matMul(query, kernel);
      if (this.args.useBias) rows = tf.add(rows, tf.concat(dense.map((d) => tf.reshape(d.bias!, [-1])), 0));
      [q, k, v] = [{ rows, col: 0 }, { rows, col: n * hk }, { rows, col: 2 * n * hk }];
    } else {
      q = { rows: flat(this.queryDense.project(query)), col: 0 };
      v = { rows: flat(this.valueDense.project(value)), col: 0 };
      k = { rows: flat(this.keyDense.project(key)), col: 0 };
    }
    const groups = spans.map(({ group: g, qRow, kRow }) => ({ count: g.rows.length, wq: g.wq, wk: g.wk, qRow, kRow, mask: g.mask }));
    const o = attendPackedGroups(q, k, v, groups, { heads: n, keyDim: hk, valueDim: hv, scale: 1 / Math.sqrt(hk) });
    return this.outputDense.project(tf.reshape(o, [o.shape[0]!, n, hv]));
  }
}

