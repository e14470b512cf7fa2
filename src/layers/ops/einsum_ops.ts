/**
 * `ops.einsum(subscripts, *operands)` (Keras's `Einsum`): numpy's Einstein
 * summation, as attention written by hand uses it (`'bqd,bkd->bqk'`).
 *
 * Each operand's subscripts name its axes; `...` stands for the axes not
 * named (aligned on the right and broadcast, as numpy does); without `->`
 * the output is the letters named once, in alphabetical order, after the
 * broadcast axes. Operands are contracted two at a time, left to right:
 * letters of neither the output nor a later operand are summed, the ones
 * both operands share and keep are batch axes, and the product is a
 * transposed, reshaped matrix product (tfjs's matMul, so it trains); a
 * letter that one operand alone names and nothing keeps is summed first.
 * A letter named twice in one operand takes that operand's diagonal first
 * (`'bii->bi'`; without `->`, `'ii'` is the trace, as numpy's). Integers
 * are multiplied exactly (math_ops.ts's int matmul), bools as numpy's
 * (any of the products), and the dtype is numpy's result type.
 */
import { tf } from '../../runtime/tfjs.js';
import { opt, type Filled, type OptionTable, type OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError } from '../../errors.js';
import { opSpec, promoteDtypes } from './keras_op.js';
import { DataOp, intMatmul } from './math_ops.js';
import { truthy } from './logical.js';
import { stridedOffsets } from './gather_ops.js';

export interface EinsumArgs extends BaseLayerArgs {
  /** numpy's subscripts: `'bqd,bkd->bqk'`, `'ij,jk'`, `'...d,d->...'`. */
  subscripts: string;
}

/** The subscripts parsed for operands of these ranks: one list of letters per operand, and the output's. */
interface Plan {
  inputs: string[][];
  output: string[];
}

/** Letters that stand for the axes under `...` (upper-case Greek: never a subscript). */
const ELLIPSIS_LETTERS = 'ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ';

export class Einsum extends DataOp {
  static override readonly className = 'Einsum';
  static override readonly options: OptionTable = { subscripts: opt.string() } satisfies OptionsOf<Omit<EinsumArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<EinsumArgs, keyof BaseLayerArgs>>;

  constructor(args: EinsumArgs) {
    super(args);
  }

  private where(): string {
    return `Einsum '${this.name}' ('${this.args.subscripts}')`;
  }

  /** The letters of each operand and of the output, `...` expanded for operands of `ranks`. */
  private plan(ranks: number[]): Plan {
    const where = this.where();
    const text = this.args.subscripts.replace(/\s+/g, '');
    const [lhs, rhs, extra] = text.split('->');
    if (extra !== undefined || lhs === undefined || !/^[a-zA-Z.,]*$/.test(lhs) || (rhs !== undefined && !/^[a-zA-Z.]*$/.test(rhs))) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: subscripts must be letters, commas, '...' and at most one '->'.`);
    }
    const terms = lhs.split(',');
    if (terms.length !== ranks.length) throw new MasqueError('INVALID_INPUT', `${where}: the subscripts name ${terms.length} operand(s); received ${ranks.length}.`);
    let ellipsisRank = 0;
    const parsed = terms.map((t, i) => {
      const parts = t.split('...');
      if (parts.length > 2) throw new MasqueError('INVALID_ARGUMENT', `${where}: operand ${i} has more than one '...'.`);
      if (/\./.test(parts.join(''))) throw new MasqueError('INVALID_ARGUMENT', `${where}: a '.' outside '...' in operand ${i}.`);
      const named = parts.join('').length;
      const under = parts.length === 2 ? ranks[i]! - named : 0;
      if (under < 0 || (parts.length === 1 && named !== ranks[i])) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: operand ${i} has rank ${ranks[i]}, but its subscripts '${t}' name ${named} axes.`);
      }
      ellipsisRank = Math.max(ellipsisRank, under);
      return { parts, under };
    });
    if (ellipsisRank > ELLIPSIS_LETTERS.length) throw new MasqueError('INVALID_INPUT', `${where}: too many axes under '...'.`);
    const ell = (n: number) => ELLIPSIS_LETTERS.slice(ellipsisRank - n, ellipsisRank).split('');
    const inputs = parsed.map(({ parts, under }) => (parts.length === 2 ? [...parts[0]!.split(''), ...ell(under), ...parts[1]!.split('')] : parts[0]!.split('')));
    let output: string[];
    if (rhs === undefined) {
      const counts = new Map<string, number>();
      for (const l of inputs.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
      const once = [...counts].filter(([l, c]) => c === 1 && !ELLIPSIS_LETTERS.includes(l)).map(([l]) => l).sort();
      output = [...ell(ellipsisRank), ...once];
    } else {
      const parts = rhs.split('...');
      if (parts.length > 2) throw new MasqueError('INVALID_ARGUMENT', `${where}: the output has more than one '...'.`);
      output = parts.length === 2 ? [...parts[0]!.split(''), ...ell(ellipsisRank), ...parts[1]!.split('')] : parts[0]!.split('');
      if (parts.length === 1 && ellipsisRank > 0) throw new MasqueError('INVALID_ARGUMENT', `${where}: the output must keep the axes under '...' ('...' on the right too).`);
      const known = new Set(inputs.flat());
      for (const l of output) if (!known.has(l)) throw new MasqueError('INVALID_ARGUMENT', `${where}: the output letter '${l}' names no operand's axis.`);
      if (new Set(output).size !== output.length) throw new MasqueError('INVALID_ARGUMENT', `${where}: the output names a letter twice.`);
    }
    return { inputs, output };
  }

  /** Each letter's size (null: unknown), broadcasting 1 against a size, checked. */
  private sizes(plan: Plan, shapes: Shape[]): Map<string, number | null> {
    const sizes = new Map<string, number | null>();
    plan.inputs.forEach((letters, i) => {
      // Within one operand, a diagonal's axes have one size: a known one (1 too) decides, with no broadcasting.
      const own = new Map<string, number | null>();
      letters.forEach((l, a) => {
        const d = shapes[i]![a]!;
        const seen = own.get(l) ?? null;
        if (d !== null && seen !== null && d !== seen) {
          throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where()}: the axes named '${l}' in operand ${i} must have one size (a diagonal); received sizes ${seen} and ${d}.`);
        }
        own.set(l, seen ?? d);
      });
      for (const [l, d] of own) {
        if (!sizes.has(l)) {
          sizes.set(l, d);
          continue;
        }
        const s = sizes.get(l)!;
        // Between operands, 1 against an unknown size is unknown (it broadcasts to whatever comes); a size against 1 or unknown stays.
        if (s === 1) sizes.set(l, d);
        else if (s === null) sizes.set(l, d === null || d === 1 ? null : d);
        else if (d !== null && d !== 1 && d !== s) {
          throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where()}: the axis '${ELLIPSIS_LETTERS.includes(l) ? '...' : l}' has size ${s} in one operand and ${d} in another.`);
        }
      }
    });
    return sizes;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const xs = this.operands(inputs, null);
    const plan = this.plan(xs.map((x) => x.rank));
    const sizes = this.sizes(plan, xs.map((x) => x.shape)) as Map<string, number>;
    const dtype = promoteDtypes(xs.map((x) => x.dtype));
    // Integers (and bools, as integers) are multiplied exactly; floats by tfjs's matMul.
    const work = dtype === 'float32' ? 'float32' : 'int32';
    if ([...sizes.values()].some((d) => d === 0)) {
      // An empty axis anywhere: the products are empty and the sums over it 0 (tfjs's broadcastTo cannot make a size-1 axis empty).
      return tf.zeros(plan.output.map((l) => sizes.get(l)!), dtype);
    }
    const terms = xs.map((x, i) => diagonal({ t: x.dtype === work ? x : tf.cast(x, work), letters: plan.inputs[i]! }));
    let acc = terms[0]!;
    for (let i = 1; i <= terms.length; i++) {
      // Letters still needed: the output's and those of the operands after this step.
      const later = new Set([...plan.output, ...terms.slice(i + 1).flatMap((x) => x.letters)]);
      acc = i < terms.length ? contract(acc, terms[i]!, later, sizes) : { t: sumOut(acc, new Set(plan.output)), letters: acc.letters.filter((l) => plan.output.includes(l)) };
    }
    const perm = plan.output.map((l) => acc.letters.indexOf(l));
    const out = tf.transpose(acc.t, perm);
    return dtype === 'bool' ? truthy(out) : out;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const xs = this.operands(inputs, null);
    const plan = this.plan(xs.map((x) => x.shape.length));
    const sizes = this.sizes(plan, xs.map((x) => x.shape));
    return opSpec(plan.output.map((l) => sizes.get(l)!), promoteDtypes(xs.map((x) => x.dtype)));
  }
}

interface Term {
  t: tf.Tensor;
  letters: string[];
}

/**
 * A term whose letters are each named once: for a letter named several
 * times, the diagonal of those axes (of one size and not empty, as `sizes`
 * and `call` checked), as a gather of the flattened tensor, so the gradient
 * goes back to the diagonal.
 */
function diagonal(x: Term): Term {
  const unique = [...new Set(x.letters)];
  if (unique.length === x.letters.length) return x;
  const shape = x.t.shape;
  const sizes = unique.map((l) => shape[x.letters.indexOf(l)]!);
  // Each unique letter's stride in the flattened tensor: the sum of the strides of the axes it names.
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, d) => p * d, 1));
  const step = unique.map((l) => x.letters.reduce((p, m, a) => (m === l ? p + strides[a]! : p), 0));
  const idx = stridedOffsets(sizes, step);
  return { t: tf.reshape(tf.gather(tf.reshape(x.t, [-1]), tf.tensor1d(idx, 'int32')), sizes), letters: unique };
}

/** `x` summed over its letters not in `keep` (its letters then in their order). */
function sumOut(x: Term, keep: Set<string>): tf.Tensor {
  const axes = x.letters.flatMap((l, a) => (keep.has(l) ? [] : [a]));
  return axes.length === 0 ? x.t : tf.sum(x.t, axes);
}

/** The product of two terms, summed over their shared letters that `later` does not need; letters of one alone that nothing needs are summed first. */
function contract(a: Term, b: Term, later: Set<string>, sizes: Map<string, number>): Term {
  const inB = new Set(b.letters);
  const inA = new Set(a.letters);
  const a1: Term = { t: sumOut(a, new Set([...later, ...b.letters])), letters: a.letters.filter((l) => later.has(l) || inB.has(l)) };
  const b1: Term = { t: sumOut(b, new Set([...later, ...a.letters])), letters: b.letters.filter((l) => later.has(l) || inA.has(l)) };
  const batch = a1.letters.filter((l) => inB.has(l) && later.has(l));
  const summed = a1.letters.filter((l) => inB.has(l) && !later.has(l));
  const aOnly = a1.letters.filter((l) => !inB.has(l));
  const bOnly = b1.letters.filter((l) => !inA.has(l));
  const size = (ls: string[]) => ls.reduce((p, l) => p * sizes.get(l)!, 1);
  // Each operand laid out [batch, own, summed] / [batch, summed, own], broadcast over the batch letters it has as 1.
  const lay = (x: Term, order: string[]): tf.Tensor => {
    const moved = tf.transpose(x.t, order.map((l) => x.letters.indexOf(l)));
    return moved.shape.every((d, i) => d === sizes.get(order[i]!)) ? moved : tf.broadcastTo(moved, order.map((l) => sizes.get(l)!));
  };
  const A = tf.reshape(lay(a1, [...batch, ...aOnly, ...summed]), [size(batch), size(aOnly), size(summed)]);
  const B = tf.reshape(lay(b1, [...batch, ...summed, ...bOnly]), [size(batch), size(summed), size(bOnly)]);
  const product = A.dtype === 'int32' ? intMatmul(A, B) : tf.matMul(A, B);
  const letters = [...batch, ...aOnly, ...bOnly];
  return { t: tf.reshape(product, letters.map((l) => sizes.get(l)!)), letters };
}
