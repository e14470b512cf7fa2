/**
 * Rescaling (Keras 3.15.1): `x · scale + offset`, with `scale` and `offset`
 * numbers or arrays that broadcast against the input from the right. The
 * mask passes through; padded steps are rescaled like the rest, so zeros
 * become `offset` (as in Keras).
 */
import { tf } from '../../runtime/tfjs.js';
import { Elementwise } from '../core/activation.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec, specLike } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, SpecArgs, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import type { NestedNumbers } from '../../ops/normalization_stats.js';

export interface RescalingArgs extends BaseLayerArgs {
  scale: NestedNumbers;
  offset?: NestedNumbers;
}

type Own = Omit<RescalingArgs, keyof BaseLayerArgs>;

/** A number or nested array of numbers; Keras's serialized tensors (`{ class_name: '__tensor__' | '__numpy__', config: { value } }`) are read as their value. */
const numbers = (c: { default?: NestedNumbers } = {}) =>
  opt.custom<NestedNumbers>((v, w, n) => {
    const raw = v !== null && typeof v === 'object' && !Array.isArray(v) && ['__tensor__', '__numpy__'].includes(String((v as { class_name?: unknown }).class_name))
      ? (v as { config?: { value?: unknown } }).config?.value
      : v;
    const ok = (x: unknown, depth: number): boolean => (typeof x === 'number' && !Number.isNaN(x)) || (Array.isArray(x) && x.length > 0 && depth < 8 && x.every((y) => ok(y, depth + 1)));
    if (ok(raw, 0) && shapeOf(raw as NestedNumbers) !== null) return raw as NestedNumbers;
    throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a number or a regular nested array of numbers; received ${describe(v)}.`);
  }, c);

/** The shape of a regular nested array (a number: []), or null when ragged. */
function shapeOf(v: NestedNumbers): number[] | null {
  if (!Array.isArray(v)) return [];
  const inner = v.map(shapeOf);
  const first = inner[0]!;
  return first !== null && inner.every((s) => s !== null && s.length === first.length && s.every((d, i) => d === first[i])) ? [v.length, ...first] : null;
}

export class Rescaling extends Elementwise {
  static override readonly className = 'Rescaling';
  static override readonly options = {
    scale: numbers(),
    offset: numbers({ default: 0 }),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own>;

  constructor(args: RescalingArgs) {
    super(args);
    this.supportsMasking = true;
  }

  /** scale and offset must broadcast against the input (numpy's rule, from the right). */
  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec {
    const where = `Rescaling '${this.name}'`;
    const x = oneSpec(inputs, where);
    for (const [name, v] of [['scale', this.args.scale], ['offset', this.args.offset]] as const) {
      const s = shapeOf(v)!;
      const fits = s.length <= x.shape.length && s.every((d, i) => d === 1 || x.shape[x.shape.length - s.length + i] === null || x.shape[x.shape.length - s.length + i] === d);
      if (!fits) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: ${name} of shape ${formatShape(s)} does not broadcast against the input shape ${formatShape(x.shape)}.`);
    }
    return specLike(x, firstMask(args.mask), x.shape, 'float32');
  }

  call(x: tf.Tensor): tf.Tensor {
    const t = (v: NestedNumbers) => (typeof v === 'number' ? tf.scalar(v) : tf.tensor((v as unknown[]).flat(Infinity) as number[], shapeOf(v)!));
    return tf.add(tf.mul(x, t(this.args.scale)), t(this.args.offset));
  }
}
