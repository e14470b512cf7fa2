/**
 * GroupNormalization (Keras 3.15.1): the channels of `axis` split into
 * `groups` (-1: one group per channel, i.e. instance normalization); each
 * (sample, group) is normalized with the moments of its values over every
 * non-batch axis, then scaled by `gamma` and shifted by `beta` per channel.
 * The mask passes through.
 *
 * Departure: with a mask, the moments count valid positions only (Keras
 * says it supports masking but ignores the mask, so padding changes the
 * valid outputs). They normalize every position, padding included; a group
 * without a valid position gets mean 0 and variance 0.
 */
import type { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec, specLike } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { groupNormalize } from '../../ops/normalization_ops.js';
import { channelAxis, checkBuiltSizes, intAxis, oneMask } from './norm_common.js';

export interface GroupNormalizationArgs extends BaseLayerArgs {
  /** Number of groups (a divisor of the channel count), or -1 for one group per channel. */
  groups?: number;
  axis?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerSpec;
  gammaInitializer?: InitializerSpec;
}

type Own = Omit<GroupNormalizationArgs, keyof BaseLayerArgs>;

export class GroupNormalization extends Layer<CallArgs> {
  static override readonly className = 'GroupNormalization';
  static override readonly options = {
    groups: opt.custom<number>(
      (v, w, n) => {
        if (Number.isInteger(v) && ((v as number) >= 1 || v === -1)) return v as number;
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a positive integer, or -1 for one group per channel; received ${describe(v)}.`);
      },
      { default: 32 },
    ),
    axis: intAxis(-1),
    epsilon: opt.number({ min: 0, minOpen: true, default: 1e-3 }),
    center: opt.bool(true),
    scale: opt.bool(true),
    betaInitializer: opt.initializer<InitializerSpec>('zeros'),
    gammaInitializer: opt.initializer<InitializerSpec>('ones'),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  gamma: tf.Variable | null = null;
  beta: tf.Variable | null = null;
  private builtRank = 0;
  private channels = 0;
  private channel = 0;

  constructor(args: GroupNormalizationArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  /** The group count for `channels` channels (-1 resolved), or INPUT_SHAPE_MISMATCH as Keras raises it. */
  private groupsFor(channels: number, where: string): number {
    const g = this.args.groups === -1 ? channels : this.args.groups;
    if (channels < g || channels % g !== 0) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the ${channels} channels of axis ${this.args.axis} cannot be split into ${g} groups of equal size; choose groups dividing ${channels}.`);
    }
    return g;
  }

  override build(inputShape: Shape): void {
    const where = `GroupNormalization '${this.name}'`;
    this.channel = channelAxis(this.args.axis, inputShape, where);
    this.channels = inputShape[this.channel] as number;
    this.groupsFor(this.channels, where);
    this.builtRank = inputShape.length;
    if (this.args.scale) this.gamma = this.addWeight('gamma', [this.channels], { initializer: this.args.gammaInitializer });
    if (this.args.center) this.beta = this.addWeight('beta', [this.channels], { initializer: this.args.betaInitializer });
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const where = `GroupNormalization '${this.name}'`;
    const x = oneSpec(inputs, where);
    const channel = channelAxis(this.args.axis, x.shape, where, false);
    if (this.built) {
      if (x.shape.length !== this.builtRank) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: expected inputs of rank ${this.builtRank} (as when the layer was built); received input shape ${formatShape(x.shape)}.`);
      checkBuiltSizes([channel], [this.channels], x.shape, where);
    }
    return specLike(x, firstMask(args.mask));
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    const groups = this.groupsFor(this.channels, `GroupNormalization '${this.name}'`);
    return groupNormalize(x, oneMask(args.mask), { groups, axis: this.channel, epsilon: this.args.epsilon, gamma: this.gamma, beta: this.beta });
  }
}
