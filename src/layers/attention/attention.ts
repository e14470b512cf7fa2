/**
 * Attention (Luong-style dot-product, or Bahdanau-style 'concat' scores),
 * with Keras's masking (conformance README, rule 17): inputs [query, value]
 * or [query, value, key], masks [queryMask, valueMask]. Value-masked scores
 * become `scores - 1e9` in float32 (a fully masked value row gets uniform
 * weights); query-masked output rows are zeroed but their scores are still
 * computed. Output mask = query mask; the scores output has none.
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { causalMask, finiteAtMaskedChecked, select, subtractMaskedScores } from '../../ops/attention_ops.js';
import { maskValues, packedAttention, planPackedAttention } from '../../ops/packed_attention_ops.js';

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

export class Attention extends Layer<AttentionCallArgs, boolean> {
  readonly args: AttentionArgs;
  scale: tf.Variable | null = null;
  concatScoreWeight: tf.Variable | null = null;

  constructor(args: AttentionArgs = {}) {
    super(args, 'Attention');
    const where = `Attention '${this.name}'`;
    const mode = args.scoreMode ?? 'dot';
    if (mode !== 'dot' && mode !== 'concat') throw new MasqueError('INVALID_ARGUMENT', `${where}: scoreMode must be 'dot' or 'concat'; received ${describe(args.scoreMode)}.`);
    const rate = args.dropout ?? 0;
    if (typeof rate !== 'number' || rate < 0 || rate >= 1) throw new MasqueError('INVALID_ARGUMENT', `${where}: dropout must be in [0, 1); received ${describe(args.dropout)}.`);
    this.args = { useScale: false, scoreMode: 'dot', dropout: 0, seed: null, ...args };
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const where = `Attention '${this.name}'`;
    if (!Array.isArray(inputShape[0]) || inputShape.length < 2 || inputShape.length > 3) {
      throw new MasqueError('INVALID_INPUT', `${where} must be called on a list [query, value] or [query, value, key]; received input shape ${describe(inputShape)}.`);
    }
    const [q, v] = inputShape as Shape[];
    const k = (inputShape as Shape[])[2] ?? v!;
    if (q!.length !== 3 || v!.length !== 3 || k.length !== 3 || q![2] !== k[2]) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: query, value and key must be [batch, time, dim] with query and key sharing dim; received ${formatShape(q!)}, ${formatShape(v!)}, ${formatShape(k)}.`);
    }
    if (this.args.useScale) this.scale = this.addWeight('scale', [], { initializer: 'ones' });
    if (this.args.scoreMode === 'concat') this.concatScoreWeight = this.addWeight('concat_score_weight', [], { initializer: 'ones' });
  }

  /** Scores [..., Tq, Tv] for query [..., Tq, d] and key [..., Tv, d]. */
  private scores(q: tf.Tensor, k: tf.Tensor): tf.Tensor {
    if (this.args.scoreMode === 'dot') {
      const s = tf.matMul(q, k, false, true);
      return this.scale ? tf.mul(s, this.scale) : s;
    }
    let sum = tf.add(tf.expandDims(q, -2), tf.expandDims(k, -3));
    if (this.scale) sum = tf.mul(this.scale, sum);
    return tf.mul(this.concatScoreWeight!, tf.sum(tf.tanh(sum), -1));
  }

  /** Masked softmax of the scores and the weighted sum of the values. */
  private weigh(scores: tf.Tensor, value: tf.Tensor, mask: tf.Tensor | null, training: boolean): { out: tf.Tensor; weights: tf.Tensor } {
    const weights = tf.softmax(subtractMaskedScores(scores, mask), -1);
    const rate = this.args.dropout!;
    const w = training && rate > 0 ? tf.dropout(weights, rate, undefined, this.args.seed ?? undefined) : weights;
    return { out: tf.matMul(w, value), weights };
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: AttentionCallArgs): tf.Tensor | tf.Tensor[] {
    return this.callAndMask(inputs, args).outputs;
  }

  protected override callAndMask(inputs: tf.Tensor | tf.Tensor[], args: AttentionCallArgs): { outputs: tf.Tensor | tf.Tensor[]; masks: MaskArg } {
    const where = `Attention '${this.name}'`;
    if (!Array.isArray(inputs) || inputs.length < 2 || inputs.length > 3) {
      throw new MasqueError('INVALID_INPUT', `${where} must be called on a list [query, value] or [query, value, key]; received ${describe(inputs)}.`);
    }
    const masks = Array.isArray(args.mask) ? args.mask : [args.mask ?? null];
    const qm = masks[0] ?? null;
    const vm = masks[1] ?? null;
    for (const [m, x, what] of [[qm, inputs[0]!, 'query'], [vm, inputs[1]!, 'value']] as const) {
      if (m !== null && m.rank !== 2) throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}: the ${what} mask must be [batch, time] ${formatShape(x.shape.slice(0, 2))}; received ${formatShape(m.shape)}.`);
    }
    const q = finiteAtMaskedChecked(inputs[0]!, qm);
    const v = inputs[1] === inputs[0] && vm === qm ? q : finiteAtMaskedChecked(inputs[1]!, vm);
    const k = inputs[2] ? finiteAtMaskedChecked(inputs[2], vm) : v;
    const causal = args.useCausalMask === true;
    const training = args.training === true;
    const [b, tq] = q.shape as [number, number];
    const tv = v.shape[1]!;
    let result: tf.Tensor | null = null;
    let weights: tf.Tensor | null = null;
    if (!args.returnAttentionScores && !(training && this.args.dropout! > 0) && (qm !== null || vm !== null)) {
      const d = q.shape[2]!;
      const costs = { pair: (this.args.scoreMode === 'dot' ? d : 3 * d) + v.shape[2]! + 4, token: d, group: GROUP_COST };
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
    if (args.returnAttentionScores) return { outputs: [result, weights!], masks: [qm, null] };
    return { outputs: result, masks: qm };
  }

  override getConfig(): AttentionArgs {
    return { ...super.getConfig(), ...this.args, name: this.name };
  }
}
