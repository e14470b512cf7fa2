/**
 * PReLU: `relu(x) - alpha * relu(-x)` with a learned `alpha` of the input's
 * shape without its batch axis, shared (size 1) along `sharedAxes`; passes
 * the mask through. Without `sharedAxes: [1]` a sequence gets one alpha per
 * time step, so its output depends on where a token sits (pre- or
 * post-padding moves it), as in Keras; share the time axis for
 * padding-invariant sequences. NaN or Inf at masked steps is read as 0, so
 * it cannot reach alpha's gradient.
 */
import type { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, CallArgs, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import type { InitializerSpec } from '../../engine/initializers.js';
import { getConstraint, getRegularizer, type ConstraintSpec, type RegularizerSpec } from '../../engine/regularizers.js';
import { firstMask, oneSpec, specLike } from '../../engine/specs.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { prelu } from '../../ops/activation_ops.js';
import { Elementwise, firstMaskOf } from '../core/activation.js';
import { finiteAtMaskedChecked } from '../../ops/attention_ops.js';

export interface PReLUArgs extends BaseLayerArgs {
  /** Initial alpha (default zeros). */
  alphaInitializer?: InitializerSpec;
  alphaRegularizer?: RegularizerSpec | null;
  alphaConstraint?: ConstraintSpec | null;
  /** Axes (1 = time for a sequence) along which one alpha is shared: an axis or a list (Keras stores a list). */
  sharedAxes?: number | number[] | null;
}

type Own = Omit<PReLUArgs, keyof BaseLayerArgs>;

export class PReLU extends Elementwise {
  static override readonly className = 'PReLU';
  static override readonly options = {
    alphaInitializer: opt.initializer<InitializerSpec>('zeros'),
    alphaRegularizer: opt.regularizer<RegularizerSpec | null>(),
    alphaConstraint: opt.constraint<ConstraintSpec | null>(),
    sharedAxes: opt.custom<number | number[] | null>(
      (v, w, n) => {
        if (v === null) return null;
        const list = Number.isInteger(v) ? [v as number] : v;
        if (Array.isArray(list) && list.every((a) => Number.isInteger(a) && a >= 1)) return [...(list as number[])];
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be null, an axis >= 1, or a list of them (the batch axis 0 cannot be shared); received ${describe(v)}.`);
      },
      { default: null },
    ),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;
  alpha!: tf.Variable;

  constructor(args: PReLUArgs = {}) {
    super(args);
    getRegularizer(this.args.alphaRegularizer, `PReLU '${this.name}', alphaRegularizer`);
    getConstraint(this.args.alphaConstraint, `PReLU '${this.name}', alphaConstraint`);
    this.supportsMasking = true;
  }

  /** The shared axes as a list (the option is normalised to one). */
  private get shared(): number[] {
    return (this.args.sharedAxes ?? []) as number[];
  }

  /** The alpha shape for an input shape: the input without its batch axis, 1 along the shared axes. */
  private alphaShape(shape: Shape): number[] {
    const shared = this.shared;
    const bad = shared.find((a) => a >= shape.length);
    if (bad !== undefined) throw new MasqueError('INPUT_SHAPE_MISMATCH', `PReLU '${this.name}': shared axis ${bad} is out of range for an input of shape ${formatShape(shape)}.`);
    return shape.slice(1).map((d, i) => {
      if (shared.includes(i + 1)) return 1;
      if (d === null) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `PReLU '${this.name}': axis ${i + 1} of the input ${formatShape(shape)} has no fixed size, so it needs one alpha per position it cannot know; share it (sharedAxes: [${i + 1}]) or give the input a fixed size.`);
      }
      return d;
    });
  }

  override build(inputShape: Shape | Shape[]): void {
    if (Array.isArray(inputShape[0])) throw new MasqueError('INVALID_INPUT', `PReLU '${this.name}' expects one input tensor; received a list of ${inputShape.length}.`);
    const shape = this.alphaShape(inputShape as Shape);
    const { alphaInitializer, alphaRegularizer, alphaConstraint } = this.args;
    this.alpha = this.addWeight('alpha', shape, { initializer: alphaInitializer, regularizer: alphaRegularizer, constraint: alphaConstraint });
  }

  call(x: tf.Tensor, args: CallArgs): tf.Tensor {
    return prelu(finiteAtMaskedChecked(x, firstMaskOf(args)), this.alpha);
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const x = oneSpec(inputs, `PReLU '${this.name}'`);
    if (this.built) {
      // The input must fit the alpha it was built for (Keras's input_spec).
      const want = this.alpha.shape;
      const ok = x.shape.length === want.length + 1 && want.every((d, i) => d === 1 || x.shape[i + 1] === null || x.shape[i + 1] === d);
      if (!ok) throw new MasqueError('INPUT_SHAPE_MISMATCH', `PReLU '${this.name}': the input ${formatShape(x.shape)} does not fit alpha of shape ${formatShape(want)} (built for [batch, ${want.map((d, i) => (d === 1 && this.shared.includes(i + 1) ? 'any' : d)).join(', ')}]).`);
    }
    return specLike(x, firstMask(args.mask));
  }
}
