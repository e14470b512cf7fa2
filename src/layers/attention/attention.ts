/**
 * Attention (Luong-style dot-product, or Bahdanau-style 'concat' scores),
 * with Keras's masking (conformance README, rule 17): inputs [query, value]
 * or [query, value, key], masks [queryMask, valueMask]. Value-masked scores
 * become `scores - 1e9` in float32 (a fully masked value row gets uniform
 * weights); query-masked output rows are zeroed but their scores are still
 * computed. Output mask = query mask; the scores output has none.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer, type SymbolicArgs, withMasks, type MaskedOutputs } from '../../engine/layer.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs, MaskSpec, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { checkBatchSizes } from '../../engine/specs.js';
import type { SymbolicTensor } from '../../engine/symbolic.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { causalMask, finiteAtMaskedChecked, select, subtractMaskedScores } from '../../ops/attention_ops.js';
import { maskValues, packedAttention, planPackedAttention } from '../../ops/packed_attention_ops.js';
import { matMul } from '../../ops/matmul.js';

export interface AttentionArgs extends BaseLayerArgs {
  /** Learn a scalar that scales the scores. */
  useScale?: boolean;
  /** 'dot' (query . key) or 'concat' (sum(tanh(query + key))). */
  scoreMode?: 'dot' | 'concat';
  /** Dropout rate on the attention weights (training only). */
  dropout?: number;
  seed?: number | null;
}

export interface AttentionCallArgs extends CallArgs {
  returnAttentionScores?: boolean;
  /** Query i attends only keys j <= i. */
  useCausalMask?: boolean;
}

const GROUP_COST = 2e5;

type Own = Omit<AttentionArgs, keyof BaseLayerArgs>;

export class Attention extends Layer<AttentionCallArgs, boolean> {
  static override readonly className: string = 'Attention';
  /** The call arguments it takes (Layer.apply refuses others). */
  static readonly callArgNames: readonly string[] = ['training', 'mask', 'returnAttentionScores', 'useCausalMask'];
  static override readonly options: OptionTable = {
    useScale: opt.bool(false),
    scoreMode: opt.oneOf(['dot', 'concat'] as const, 'dot'),
    dropout: opt.number({ min: 0, max: 1, maxOpen: true, default: 0 }),
    seed: opt.seed(),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  scale: tf.Variable | null = null;
  concatScoreWeight: tf.Variable | null = null;

  /** One output, or `[output, scores]` with `returnAttentionScores: true`. */
  override apply(inputs: SymbolicTensor[], args: SymbolicArgs<AttentionCallArgs> & { returnAttentionScores: true }): SymbolicTensor[];
  override apply(inputs: SymbolicTensor[], args?: SymbolicArgs<AttentionCallArgs> & { returnAttentionScores?: false }): SymbolicTensor;
  override apply(inputs: SymbolicTensor | SymbolicTensor[], args?: SymbolicArgs<AttentionCallArgs>): SymbolicTensor | SymbolicTensor[];
  override apply(inputs: tf.Tensor[], args: AttentionCallArgs & { returnAttentionScores: true }): tf.Tensor[];
  override apply(inputs: tf.Tensor[], args?: AttentionCallArgs & { returnAttentionScores?: false }): tf.Tensor;
  override apply(inputs: tf.Tensor | tf.Tensor[], args?: AttentionCallArgs): tf.Tensor | tf.Tensor[];
  override apply(inputs: unknown, args?: unknown): unknown {
    return super.apply(inputs as never, args as never);
  }

  constructor(args: AttentionArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  protected get where(): string {
    return `${this.className} '${this.name}'`;
  }

  /** Checks the inputs: [query, value] or [query, value, key], each [batch, time, dim], query and key sharing dim. */
  protected checkShapes(shapes: Shape[] | Shape): void {
    if (!Array.isArray(shapes[0]) || shapes.length < 2 || shapes.length > 3) {
      throw new MasqueError('INVALID_INPUT', `${this.where} must be called on a list [query, value] or [query, value, key]; received input shape ${describe(shapes)}.`);
    }
    const [q, v] = shapes as [Shape, Shape];
    const k = (shapes as Shape[])[2] ?? v;
    if (q.length !== 3 || v.length !== 3 || k.length !== 3 || q[2] !== k[2]) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: query, value and key must be [batch, time, dim] with query and key sharing dim; received ${formatShape(q)}, ${formatShape(v)}, ${formatShape(k)}.`);
    }
    if (v[1] !== null && k[1] !== null && v[1] !== k[1]) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: value and key must have the same length; received value ${formatShape(v)} and key ${formatShape(k)}.`);
    }
    checkBatchSizes([q, v, k], this.where);
  }

  /** The query and value masks, which must be [batch, time]. */
  private checkMasks<M extends { shape: Shape }>(mask: M | null | undefined | (M | null | undefined)[], shapes: Shape[]): [M | null, M | null] {
    const masks = Array.isArray(mask) ? mask : [mask ?? null];
    const qm = masks[0] ?? null;
    const vm = masks[1] ?? null;
    for (const [m, x, what] of [[qm, shapes[0]!, 'query'], [vm, shapes[1]!, 'value']] as const) {
      if (m !== null && m.shape.length !== 2) throw new MasqueError('MASK_SHAPE_MISMATCH', `${this.where}: the ${what} mask must be [batch, time] ${formatShape(x.slice(0, 2))}; received ${formatShape(m.shape)}.`);
    }
    return [qm, vm];
  }

  override build(inputShape: Shape | Shape[]): void {
    this.checkShapes(inputShape);
    if (this.args.useScale) this.scale = this.addWeight('scale', [], { initializer: 'ones' });
    if (this.args.scoreMode === 'concat') this.concatScoreWeight = this.addWeight('concat_score_weight', [], { initializer: 'ones' });
  }

  /** Multiply-adds of one (query, key) score for feature size `d` (the packing cost model). */
  protected scoreCost(d: number): number {
    return this.args.scoreMode === 'dot' ? d : 3 * d;
  }

  /** Scores [..., Tq, Tv] for query [..., Tq, d] and key [..., Tv, d]. */
  protected scores(q: tf.Tensor, k: tf.Tensor): tf.Tensor {
    if (this.args.scoreMode === 'dot') {
      const s = matMul(q, k, false, true);
      return this.scale ? tf.mul(s, this.scale) : s;
    }
    let sum = tf.add(tf.expandDims(q, -2), tf.expandDims(k, -3));
    if (this.scale) sum = tf.mul(this.scale, sum);
    return tf.mul(this.concatScoreWeight!, tf.sum(tf.tanh(sum), -1));
  }

  /** Masked softmax of the scores and the weighted sum of the values. */
  private weigh(scores: tf.Tensor, value: tf.Tensor, mask: tf.Tensor | null, training: boolean): { out: tf.Tensor; weights: tf.Tensor } {
    const weights = tf.softmax(subtractMaskedScores(scores, mask), -1);
    const rate = this.args.dropout;
    const w = training && rate > 0 ? tf.dropout(weights, rate, undefined, this.args.seed ?? undefined) : weights;
    return { out: matMul(w, value), weights };
  }

  /** Returns the output (and the scores) with the query mask (the scores carry none). */
  call(inputs: tf.Tensor[], args: AttentionCallArgs): MaskedOutputs {
    if (!Array.isArray(inputs) || inputs.length < 2 || inputs.length > 3) {
      throw new MasqueError('INVALID_INPUT', `${this.where} must be called on a list [query, value] or [query, value, key]; received ${describe(inputs)}.`);
    }
    const [qm, vm] = this.checkMasks(args.mask, inputs.map((x) => x.shape));
    const q = finiteAtMaskedChecked(inputs[0]!, qm);
    const v = inputs[1] === inputs[0] && vm === qm ? q : finiteAtMaskedChecked(inputs[1]!, vm);
    const k = inputs[2] ? finiteAtMaskedChecked(inputs[2], vm) : v;
    const causal = args.useCausalMask === true;
    const training = args.training === true;
    const [b, tq] = q.shape as [number, number];
    const tv = v.shape[1]!;
    let result: tf.Tensor | null = null;
    let weights: tf.Tensor | null = null;
    if (!args.returnAttentionScores && !(training && this.args.dropout > 0) && (qm !== null || vm !== null)) {
      const d = q.shape[2]!;
      const costs = { pair: this.scoreCost(d) + v.shape[2]! + 4, token: d, group: GROUP_COST };
      const plan = planPackedAttention({ b, t: tq, s: tv, qValid: maskValues(qm), kValid: maskValues(vm), causal, slidingWindow: null, noKey: 'full', costs });
      if (plan !== null) {
        const attend = (qc: tf.Tensor, [vc, kc]: tf.Tensor[], mask: tf.Tensor) => this.weigh(this.scores(qc, kc ?? vc!), vc!, mask, false).out;
        result = packedAttention(plan, q, k === v ? [v] : [v, k], attend, () => tf.zeros([b, v.shape[2]!]));
      }
    }
    if (result === null) {
      let mask: tf.Tensor | null = vm === null ? null : tf.expandDims(vm, 1);
      if (causal) {
        const c = tf.expandDims(causalMask(tq, tv), 0);
        mask = mask === null ? c : tf.logicalAnd(mask, c);
      }
      ({ out: result, weights } = this.weigh(this.scores(q, k), v, mask, training));
      if (qm !== null) result = select(tf.expandDims(qm, -1), result, 0);
    }
    if (args.returnAttentionScores) return withMasks([result, weights!], [qm, null]);
    return withMasks(result, qm);
  }

  /** Output [batch, Tq, value dim] with the query mask; with returnAttentionScores also the scores [batch, Tq, Tv] (no mask). */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<AttentionCallArgs>): TensorSpec | TensorSpec[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    this.checkShapes(Array.isArray(inputs) ? list.map((s) => s.shape) : list[0]!.shape);
    const [q, v] = list as [TensorSpec, TensorSpec];
    const [qm] = this.checkMasks<MaskSpec>(args.mask, [q.shape, v.shape]);
    const out: TensorSpec = { shape: [q.shape[0]!, q.shape[1]!, v.shape[2]!], dtype: 'float32', mask: qm };
    if (!args.returnAttentionScores) return out;
    return [out, { shape: [q.shape[0]!, q.shape[1]!, v.shape[1]!], dtype: 'float32', mask: null }];
  }
}
