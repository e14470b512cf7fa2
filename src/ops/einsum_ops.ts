/**
 * Two-operand einsum as EinsumDense uses it (`'btf,fu->btu'`, with `...`
 * for elided axes), and Keras's analysis of an EinsumDense equation
 * (keras/src/layers/core/einsum_dense.py, `_analyze_einsum_string`): the
 * kernel and bias shapes and the full output shape. The product is one
 * batched matMul between transposes and reshapes, so it runs (and
 * differentiates) on every backend.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError } from '../errors.js';

type Dim = number | null;

/** An equation split into its three label lists; `...` becomes the label '.' (at most once, at the start or end of the input and output). */
export interface EinsumParts {
  input: string;
  weight: string;
  output: string;
  /** Where the elided axes are: before the input's labels ('left'), after them ('right'), or nowhere. */
  elided: 'left' | 'right' | null;
}

const FORMS: [RegExp, EinsumParts['elided']][] = [
  [/^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$/, null],
  [/^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$/, 'left'],
  [/^([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$/, 'right'],
];

/** Splits an EinsumDense equation (Keras's three accepted forms), or throws naming `where`. */
export function parseEinsum(equation: string, where: string): EinsumParts {
  for (const [re, elided] of FORMS) {
    const m = re.exec(equation);
    if (m) return { input: m[1]!, weight: m[2]!, output: m[3]!, elided };
  }
  throw new MasqueError('INVALID_ARGUMENT', `${where}: invalid einsum equation '${equation}'. Equations must be in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....`);
}

export interface EinsumDenseShapes {
  kernel: number[];
  /** null without bias axes. */
  bias: number[] | null;
  output: Dim[];
}

const fail = (where: string, msg: string): never => {
  throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: ${msg}`);
};

/** Keras's `_analyze_split_string`: the kernel, bias and output shapes for an input shape and the partial `outputShape` (without batch). */
export function einsumDenseShapes(p: EinsumParts, biasAxes: string | null, inputShape: Dim[], outputShape: Dim[], where: string): EinsumDenseShapes {
  const elided = inputShape.length - p.input.length;
  if (elided < 0 || (p.elided === null && elided !== 0)) fail(where, `the equation's input '${p.input}' needs an input of rank ${p.input.length}${p.elided ? ' or more' : ''}; received rank ${inputShape.length}.`);
  const out: Dim[] = [inputShape[0] ?? null, ...outputShape];
  if (elided > 0 && p.elided === 'left') for (let i = 1; i < elided; i++) out.splice(1, 0, inputShape[i]!);
  else if (elided > 0) for (let i = inputShape.length - elided; i < inputShape.length; i++) out.push(inputShape[i]!);
  const left = p.elided === 'left';
  const inAt = new Map([...p.input].map((d, i) => [d, left ? i + elided : i]));
  const outAt = new Map([...p.output].map((d, i) => [d, left ? i + elided : i]));
  if (out.length !== p.output.length + (p.elided ? elided : 0) || new Set(p.input).size !== p.input.length || new Set(p.output).size !== p.output.length) {
    fail(where, `outputShape ${JSON.stringify(outputShape)} does not fit the equation's output '${p.output}' (input of rank ${inputShape.length}).`);
  }
  for (const d of p.input) {
    const o = outAt.get(d);
    const want = out[o ?? -1];
    if (o !== undefined && want !== null && want !== undefined && want !== inputShape[inAt.get(d)!]) {
      fail(where, `input shape and output shape do not match at shared dimension '${d}': input ${inputShape[inAt.get(d)!]}, output ${want}.`);
    }
  }
  for (const d of p.output) if (!p.input.includes(d) && !p.weight.includes(d)) fail(where, `dimension '${d}' of the output '${p.output}' is in neither the input '${p.input}' nor the weight '${p.weight}'.`);
  const kernel = [...p.weight].map((d) => {
    const size = outAt.has(d) ? out[outAt.get(d)!] : inAt.has(d) ? inputShape[inAt.get(d)!] : fail(where, `weight dimension '${d}' matches neither the input '${p.input}' nor the output '${p.output}'; the weight must be fully specified.`);
    return typeof size === 'number' ? size : fail(where, `the size of weight dimension '${d}' must be known; it is unknown in the input ${JSON.stringify(inputShape)} and outputShape ${JSON.stringify(outputShape)}.`);
  });
  let bias: number[] | null = null;
  if (biasAxes !== null) {
    const shift = left ? elided : 0;
    for (const c of biasAxes) if (!p.output.includes(c)) fail(where, `bias dimension '${c}' is not part of the output spec '${p.output}'.`);
    const first = Math.min(...[...biasAxes].map((c) => p.output.indexOf(c)));
    bias = [...p.output.slice(first)].map((c, i) => {
      if (!biasAxes.includes(c)) return 1;
      const size = out[first + i + shift];
      return typeof size === 'number' ? size : fail(where, `the size of bias dimension '${c}' must be known.`);
    });
    if (!left) for (let i = 0; i < elided; i++) bias.push(1);
  }
  // An output axis of unknown size that comes from the input has the input's size (Keras leaves it unknown).
  for (const [d, o] of outAt) if (out[o] === null && inAt.has(d)) out[o] = inputShape[inAt.get(d)!] ?? null;
  return { kernel, bias, output: out };
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * `einsum(equation, x, w)` for an EinsumDense equation: labels in both
 * operands and the output are batch axes, in both operands only are
 * contracted, in one operand and the output are kept, in the input only are
 * summed out. Computed as one batched matMul.
 */
export function einsumDense(p: EinsumParts, x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // Give the elided axes their own labels ('0', '1', ...).
    const elided = x.rank - p.input.length;
    const extra = Array.from({ length: elided }, (_, i) => String(i));
    const xl = p.elided === 'left' ? [...extra, ...p.input] : [...p.input, ...extra];
    const zl = p.elided === 'left' ? [...extra, ...p.output] : [...p.output, ...extra];
    const wl = [...p.weight];
    let xx = x;
    let xlabels = xl;
    const summed = xl.filter((d) => !wl.includes(d) && !zl.includes(d));
    if (summed.length > 0) {
      xx = tf.sum(xx, summed.map((d) => xl.indexOf(d)));
      xlabels = xl.filter((d) => !summed.includes(d));
    }
    const batch = xlabels.filter((d) => wl.includes(d) && zl.includes(d));
    const contracted = xlabels.filter((d) => wl.includes(d) && !zl.includes(d));
    const xFree = xlabels.filter((d) => !wl.includes(d));
    const wFree = wl.filter((d) => !xlabels.includes(d));
    const size = (d: string) => (xlabels.includes(d) ? xx.shape[xlabels.indexOf(d)]! : w.shape[wl.indexOf(d)]!);
    const xt = tf.transpose(xx, [...batch, ...xFree, ...contracted].map((d) => xlabels.indexOf(d)));
    const wt = tf.transpose(w, [...batch, ...contracted, ...wFree].map((d) => wl.indexOf(d)));
    const [nb, nx, nk, nw] = [batch, xFree, contracted, wFree].map((ls) => prod(ls.map(size))) as [number, number, number, number];
    const y = tf.matMul(tf.reshape(xt, [nb, nx, nk]), tf.reshape(wt, [nb, nk, nw]));
    const ylabels = [...batch, ...xFree, ...wFree];
    const shaped = tf.reshape(y, ylabels.map(size));
    const perm = zl.map((d) => ylabels.indexOf(d));
    return perm.every((v, i) => v === i) ? shaped : tf.transpose(shaped, perm);
  });
}
