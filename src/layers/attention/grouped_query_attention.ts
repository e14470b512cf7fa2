/**
 * GroupQueryAttention (Keras's `keras.layers.GroupQueryAttention`, the
 * class GroupedQueryAttention): `numQueryHeads` query heads share
 * `numKeyValueHeads` key/value heads (1: multi-query attention; equal:
 * multi-head attention). Masks as Keras's: the effective mask is
 * `attentionMask & query[:, :, None] & value[:, None, :] & key[:, None, :]
 * & causal & window`; by default masked logits are replaced by a huge
 * negative number (a fully masked query row attends uniformly to all S
 * keys), while with `returnAttentionScores` or `dropout > 0` the Softmax
 * path zeroes masked weights. Output mask = query mask; the scores carry the
 * combined [B, 1, T, S] mask. Like Keras (and unlike Keras's
 * MultiHeadAttention) it leaves its inputs' masks in place.
 *
 * Masque departure (docs/keras.md): an explicit `queryMask` is also the
 * output mask; Keras uses it in the computation but attaches the query
 * tensor's own mask. Padded batches are packed (ops/packed_attention_ops.ts)
 * so they cost their real tokens.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer, type MaskedOutputs, type SaveTree, type SymbolicArgs } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import type { BaseLayerArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { GROUP_COST, MultiHeadAttention, type MultiHeadAttentionCallArgs } from './multi_head_attention.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import type { ConstraintSpec, RegularizerSpec } from '../../engine/regularizers.js';
import { checkBatchSizes } from '../../engine/specs.js';
import { MasqueError, formatShape } from '../../errors.js';
import { softmaxReplaceMasked, softmaxZeroMasked } from '../../ops/attention_ops.js';
import { groupedCombine, groupedLogits, repeatHeads } from '../../ops/grouped_attention_ops.js';
import { maskValues, packedAttention, planPackedAttention } from '../../ops/packed_attention_ops.js';
import { EinsumDense } from './einsum_dense.js';
import { attentionInputs, outputAndScoresSpecs, runAttention, withAttentionSubLayers, type AttentionPaths } from './attention_specs.js';

export interface GroupQueryAttentionArgs extends BaseLayerArgs {
  headDim: number;
  numQueryHeads: number;
  /** Must divide numQueryHeads. */
  numKeyValueHeads: number;
  /** Dropout rate on the attention weights (training only; > 0 selects the Softmax path, as in Keras). */
  dropout?: number;
  useBias?: boolean;
  /** Gated attention: a sigmoid projection of the query multiplies each head's output. */
  useGate?: boolean;
  /** Each query attends only keys within `slidingWindow - 1` positions. */
  slidingWindow?: number | null;
  /** Keras's flash-attention switch (not in Keras configs); Masque computes attention one way, so only null or false. */
  flashAttention?: false | null;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerSpec | null;
  biasRegularizer?: RegularizerSpec | null;
  kernelConstraint?: ConstraintSpec | null;
  biasConstraint?: ConstraintSpec | null;
  seed?: number | null;
}

/** The call arguments are MultiHeadAttention's (value/key in place of the list, the three masks, attentionMask, useCausalMask, returnAttentionScores). */
export type GroupQueryAttentionCallArgs = MultiHeadAttentionCallArgs;

type Own = Omit<GroupQueryAttentionArgs, keyof BaseLayerArgs>;

export class GroupQueryAttention extends Layer<GroupQueryAttentionCallArgs, boolean> {
  static override readonly className = 'GroupQueryAttention';
  static readonly callArgNames: readonly string[] = MultiHeadAttention.callArgNames;
  /** Keras's Python class: default names (`grouped_query_attention`) and `.keras` groups come from it. */
  static readonly pythonClassName = 'GroupedQueryAttention';
  static override readonly options = {
    headDim: opt.int({ min: 1 }),
    numQueryHeads: opt.int({ min: 1 }),
    numKeyValueHeads: opt.int({ min: 1 }),
    useBias: opt.bool(true),
    useGate: opt.bool(false),
    slidingWindow: opt.nullableInt({ min: 1, default: null }),
    dropout: opt.number({ min: 0, max: 1, maxOpen: true, default: 0 }),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
    kernelRegularizer: opt.regularizer<RegularizerSpec | null>(),
    biasRegularizer: opt.regularizer<RegularizerSpec | null>(),
    kernelConstraint: opt.constraint<ConstraintSpec | null>(),
    biasConstraint: opt.constraint<ConstraintSpec | null>(),
    seed: opt.seed(),
    flashAttention: opt.oneOf([null, false] as const, null, { kerasKind: 'none' }),
  } satisfies OptionsOf<Own>;
  /** Keys Keras's config holds that Masque fixes (null), written on export so the config has Keras's keys. */
  static readonly kerasExtras = { activity_regularizer: null };
  declare readonly args: Filled<Own>;
  queryDense!: EinsumDense;
  keyDense!: EinsumDense;
  gateDense: EinsumDense | null = null;
  valueDense!: EinsumDense;
  outputDense!: EinsumDense;

  constructor(args: GroupQueryAttentionArgs) {
    super(args);
    if (this.args.numQueryHeads % this.args.numKeyValueHeads !== 0) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.where}: numQueryHeads (${this.args.numQueryHeads}) must be divisible by numKeyValueHeads (${this.args.numKeyValueHeads}).`);
    }
    this.supportsMasking = true;
  }

  private get where(): string {
    return `GroupQueryAttention '${this.name}'`;
  }

  /** How many query heads share one key/value head. */
  private get repeats(): number {
    return this.args.numQueryHeads / this.args.numKeyValueHeads;
  }

  override apply(inputs: SymbolicTensor | SymbolicTensor[], args?: SymbolicArgs<GroupQueryAttentionCallArgs>): SymbolicTensor | SymbolicTensor[];
  override apply(inputs: tf.Tensor | tf.Tensor[], args?: GroupQueryAttentionCallArgs): tf.Tensor | tf.Tensor[];
  override apply(inputs: unknown, args?: unknown): unknown {
    const { list, rest } = attentionInputs(inputs, args, this.where);
    return super.apply(list as never, rest as never);
  }

  /** Checks query, value and key shapes (Keras: query and value share the feature size; value and key the length); returns them. */
  private checkShapes(shapes: Shape[]): [Shape, Shape, Shape] {
    const [q, v] = shapes as [Shape, Shape];
    const k = shapes[2] ?? v;
    for (const [what, s] of [['query', q], ['value', v], ['key', k]] as const) {
      if (s.length !== 3 || typeof s[2] !== 'number') throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: ${what} must have shape [batch, time, features] with known features; received ${formatShape(s)}.`);
    }
    if (q[2] !== v[2]) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: the last dimension of query and value must be equal; received query ${formatShape(q)} and value ${formatShape(v)}.`);
    if (v[1] !== null && k[1] !== null && v[1] !== k[1]) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: value and key must have the same length; received value ${formatShape(v)} and key ${formatShape(k)}.`);
    checkBatchSizes([q, v, k], this.where);
    if (this.built) {
      for (const [what, s, dense] of [['query', q, this.queryDense], ['value', v, this.valueDense], ['key', k, this.keyDense]] as const) {
        const want = dense.args.inputDims[0];
        if (s[2] !== want) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: the ${what} must have ${want} features (as when the layer was built); received ${formatShape(s)}.`);
      }
    }
    return [q, v, k];
  }

  override build(inputShape: Shape | Shape[]): void {
    const [q, v, k] = this.checkShapes(inputShape as Shape[]);
    const { headDim: h, numQueryHeads: u, numKeyValueHeads: kv, useBias, kernelInitializer, biasInitializer, kernelRegularizer, biasRegularizer, kernelConstraint, biasConstraint } = this.args;
    const common = { useBias, kernelInitializer, biasInitializer, kernelRegularizer, biasRegularizer, kernelConstraint, biasConstraint };
    // Keras saves the projections under the private attributes that hold them.
    const make = (name: string, saveName: string, inputDims: number[], outputDims: number[], activation: string | null = null) => {
      const l = this.trackLayer(new EinsumDense({ name, inputDims, outputDims, activation, ...common }), saveName);
      l.build();
      return l;
    };
    this.queryDense = make('query', '_query_dense', [q[2] as number], [u, h]);
    this.keyDense = make('key', '_key_dense', [k[2] as number], [kv, h]);
    if (this.args.useGate) this.gateDense = make('gate', '_gate_dense', [q[2] as number], [u, h], 'sigmoid');
    this.valueDense = make('value', '_value_dense', [v[2] as number], [kv, h]);
    this.outputDense = make('attention_output', '_output_dense', [u, h], [q[2] as number]);
  }

  /** Keras also saves its weightless Softmax and Dropout sub-layers, as empty groups. */
  override saveTree(): SaveTree {
    return withAttentionSubLayers(super.saveTree());
  }

  /** Returns the output (and the scores) with their masks: the query mask, and the combined [B, 1, T, S] mask on the scores. */
  call(inputs: tf.Tensor[], args: GroupQueryAttentionCallArgs): MaskedOutputs {
    const paths: AttentionPaths = {
      packable: this.gateDense === null,
      dropout: this.args.dropout,
      slidingWindow: this.args.slidingWindow,
      packed: (q, v, k, qm, kv, causal, window) => this.packed(q, v, k, qm, kv, causal, window),
      dense: (q, v, k, mask4, zeroPath, training) => this.dense(q, v, k, mask4, zeroPath, training),
    };
    return runAttention(paths, inputs, args, this.where);
  }

  /** Output [batch, T, query features] with the query mask; with returnAttentionScores also the scores [batch, numQueryHeads, T, S]. */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<GroupQueryAttentionCallArgs>): TensorSpec | TensorSpec[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const [q] = this.checkShapes(list.map((x) => x.shape));
    return outputAndScoresSpecs(list, args, [q[0]!, q[1]!, q[2]!], this.args.numQueryHeads, this.args.slidingWindow !== null, this.where);
  }

  /** Keras's computation on whole tensors; `zeroPath` selects the Softmax-layer path. */
  private dense(query: tf.Tensor, value: tf.Tensor, key: tf.Tensor, mask4: tf.Tensor | null, zeroPath: boolean, training: boolean): { output: tf.Tensor; scores: tf.Tensor } {
    const scale = 1 / Math.sqrt(this.args.headDim);
    const logits = groupedLogits(this.queryDense.project(query), this.keyDense.project(key), scale, zeroPath);
    const probs = zeroPath ? softmaxZeroMasked(logits, mask4) : softmaxReplaceMasked(logits, mask4);
    const dropped = training && this.args.dropout > 0 ? tf.dropout(probs, this.args.dropout, undefined, this.args.seed ?? undefined) : probs;
    let o = groupedCombine(dropped, this.valueDense.project(value));
    if (this.gateDense) o = tf.mul(o, this.gateDense.project(query));
    return { output: this.outputDense.project(o), scores: probs };
  }

  /** The default path with padding masks, packed so its cost follows the real tokens; null when packing saves nothing. */
  private packed(query: tf.Tensor, value: tf.Tensor, key: tf.Tensor, qm: tf.Tensor | null, kv: tf.Tensor | null, causal: boolean, window: number | null): tf.Tensor | null {
    const [b, t, dq] = query.shape as [number, number, number];
    const [, s, dv] = value.shape as [number, number, number];
    const { numQueryHeads: u, numKeyValueHeads: nkv, headDim: h } = this.args;
    const costs = { pair: u * (2 * h + 4), token: (dq * u * h + (key.shape[2]! + dv) * nkv * h + u * h * dq) / 2, group: GROUP_COST };
    const plan = planPackedAttention({ b, t, s, qValid: maskValues(qm), kValid: maskValues(kv), causal, slidingWindow: window, noKey: 'fallback', costs });
    if (plan === null) return null;
    const scale = 1 / Math.sqrt(h);
    const attend = (qc: tf.Tensor, [vc, kc]: tf.Tensor[], mask: tf.Tensor) => {
      const logits = groupedLogits(this.queryDense.project(qc), this.keyDense.project(kc ?? vc!), scale, false);
      const probs = softmaxReplaceMasked(logits, tf.expandDims(mask, 1));
      return this.outputDense.project(groupedCombine(probs, this.valueDense.project(vc!)));
    };
    // A query with nothing to attend attends uniformly to all S keys (Keras): the mean value, projected.
    const fallback = (mean: tf.Tensor | null) => this.outputDense.project(repeatHeads(this.valueDense.project(mean!), this.repeats));
    return packedAttention(plan, query, key === value ? [value] : [value, key], attend, fallback, value);
  }
}

/** Keras's documentation name of the class (`keras.layers.GroupQueryAttention` is the exported one). */
export const GroupedQueryAttention = GroupQueryAttention;
