/**
 * tf.keras 2's `TFOpLambda` and `SlicingOpLambda` layers: the TensorFlow
 * functions and operators called on Keras tensors inside a functional model
 * (`x * mask`, `tf.reduce_sum(x, axis=1)`, `x[:, -1]`, `tf.concat([a, b], -1)`),
 * which tf.keras 2 records as layers named after the function
 * (`config.function: 'math.reduce_sum'`). Keras 3 reads none of them. Each is
 * translated here to the Keras 3 operation that computes the same thing
 * (`Sum` of keras.src.ops.numpy with `axis` and `keepdims`), so the model
 * loads, runs and saves as Keras 3 would record it.
 *
 * A TFOpLambda node is tf.keras 2's node data for a call that keeps its
 * argument structure: `[layer, node, tensor, kwargs]` for one tensor,
 * a list of those for a list (`tf.concat`), `['_CONSTANT_VALUE', -1, value,
 * kwargs]` for a constant first argument; the function's other arguments,
 * named, are in the kwargs, tensors among them as `[layer, node, tensor]`
 * and constants as numbers or nested lists (TensorFlow converts those to the
 * dtype of the other operand, so they are weak here: they follow it).
 * Keyword arguments that change nothing (`name`, `conjugate: false`,
 * `transpose_a: false`) are dropped; any other is refused with the function
 * named, as are the functions not listed here.
 */
import { MasqueError, describe } from '../errors.js';
import { isObj, type Obj } from './keras_training_objects.js';
import { asPyFloat, pyNumber } from '../engine/py_float.js';
import { ConstArray } from '../layers/ops/math_ops.js';

/** How one TensorFlow function becomes a Keras 3 operation. */
interface TfFunction {
  readonly module: string;
  readonly className: string;
  /** The function's other operands, by their TensorFlow names, in Keras 3's argument order after the first. */
  readonly operands?: readonly string[];
  /** TensorFlow keyword -> the Keras 3 config key it becomes. */
  readonly config?: Readonly<Record<string, string>>;
  /** Keras 3 config values when the keyword is absent (TensorFlow's defaults). */
  readonly defaults?: Readonly<Obj>;
  /** Keywords accepted only with these values (they change nothing); a list gives several such values. */
  readonly inert?: Readonly<Obj>;
  /** A keyword's value as the Keras 3 config takes it (l2_normalize's epsilon bounds the squared norm, Keras's the norm). */
  readonly convert?: Readonly<Record<string, (v: unknown, where: string) => unknown>>;
  /** The first argument is a list of tensors (tf.concat). */
  readonly listFirst?: boolean;
  /** TensorFlow keyword -> the Keras 3 call argument it becomes (tf.pad's constant_values). */
  readonly callKwargs?: Readonly<Record<string, string>>;
}

const NUMPY = 'keras.src.ops.numpy';
const NN = 'keras.src.ops.nn';
const CORE = 'keras.src.ops.core';
const MATH = 'keras.src.ops.math';

const binary = (className: string): TfFunction => ({ module: NUMPY, className, operands: ['y'] });
const unary = (className: string, module = NUMPY): TfFunction => ({ module, className });
/**
 * tf.math.l2_normalize(x, axis, epsilon): x * rsqrt(max(sum(x^2), epsilon));
 * Keras's normalize bounds the norm itself, so its epsilon is the square
 * root (TensorFlow's default 1e-12 is 1e-6).
 */
const l2Normalize: TfFunction = {
  module: 'keras.src.ops.nn',
  className: 'Normalize',
  config: { axis: 'axis', epsilon: 'epsilon' },
  defaults: { axis: null, order: 2, epsilon: 1e-6 },
  inert: { dim: null },
  convert: {
    epsilon: (v, where) => {
      const e = pyNumber(v);
      if (typeof e !== 'number' || !(e > 0)) throw new MasqueError('INVALID_CONFIG', `${where}: l2_normalize's epsilon must be a positive number; received ${describe(v)}.`);
      return Math.sqrt(e);
    },
  },
};

/** TensorFlow's axis=None where it means axis 0 (argmax, argmin, gather). */
const noneIsZero = (v: unknown): unknown => v ?? 0;

/**
 * tf.split's `num_or_size_splits` as Keras's `indices_or_sections`: a count
 * stays; a list of sizes becomes the positions where the parts after the
 * first start (the last part takes the rest, which TensorFlow checked to be
 * its size, or its -1). A -1 before the last size depends on the axis's
 * length and is refused.
 */
function splitSizes(v: unknown, where: string): unknown {
  if (!Array.isArray(v)) return v;
  const sizes = v.map((d) => pyNumber(d));
  if (!sizes.every((d) => Number.isInteger(d) && ((d as number) >= 0 || d === -1))) {
    throw new MasqueError('INVALID_CONFIG', `${where}: split's sizes must be non-negative integers (one may be -1); received ${describe(v)}.`);
  }
  if (sizes.slice(0, -1).includes(-1)) {
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: split with sizes ${JSON.stringify(sizes)} has -1 before the last part, where the positions after it depend on the axis's length; Masque reads -1 as the last size only.`);
  }
  let at = 0;
  return sizes.slice(0, -1).map((d) => (at += d as number));
}

/** tf.nn.leaky_relu's alpha, refused above 1 (where TensorFlow's x > 0 ? x : alpha * x is not Keras's max(x, alpha * x)). */
function leakyAlpha(v: unknown, where: string): unknown {
  const a = pyNumber(v);
  if (typeof a === 'number' && a > 1) {
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: tf.nn.leaky_relu with alpha=${a} is not read: above 1, TensorFlow's x > 0 ? x : alpha * x differs from Keras 3's leaky_relu, max(x, alpha * x).`);
  }
  return a;
}

const reduce = (className: string): TfFunction => ({ module: NUMPY, className, config: { axis: 'axis', keepdims: 'keepdims' }, defaults: { axis: null, keepdims: false } });

/** The TensorFlow functions read, by the name tf.keras 2 records (`config.function`). */
const FUNCTIONS = new Map<string, TfFunction>([
  ['__operators__.add', binary('Add')],
  ['math.add', binary('Add')],
  ['math.subtract', binary('Subtract')],
  ['math.multiply', binary('Multiply')],
  ['math.truediv', binary('TrueDivide')],
  ['math.divide', binary('TrueDivide')],
  ['math.maximum', binary('Maximum')],
  ['math.minimum', binary('Minimum')],
  ['math.pow', binary('Power')],
  ['math.equal', binary('Equal')],
  ['math.not_equal', binary('NotEqual')],
  ['math.greater', binary('Greater')],
  ['math.greater_equal', binary('GreaterEqual')],
  ['math.less', binary('Less')],
  ['math.less_equal', binary('LessEqual')],
  ['math.logical_and', binary('LogicalAnd')],
  ['math.logical_or', binary('LogicalOr')],
  ['math.logical_xor', binary('LogicalXor')],
  ['math.logical_not', unary('LogicalNot')],
  ['math.negative', unary('Negative')],
  ['math.abs', unary('Absolute')],
  ['math.square', unary('Square')],
  ['math.sqrt', unary('Sqrt')],
  ['math.exp', unary('Exp')],
  ['math.log', unary('Log')],
  ['math.tanh', unary('Tanh')],
  ['math.sigmoid', unary('Sigmoid', NN)],
  ['nn.relu', unary('Relu', NN)],
  ['nn.softmax', { module: NN, className: 'Softmax', config: { axis: 'axis' }, defaults: { axis: -1 } }],
  ['nn.log_softmax', { module: NN, className: 'LogSoftmax', config: { axis: 'axis' }, defaults: { axis: -1 } }],
  ['math.reduce_sum', reduce('Sum')],
  ['math.reduce_mean', reduce('Mean')],
  ['math.reduce_max', reduce('Max')],
  ['math.reduce_min', reduce('Min')],
  ['math.reduce_any', reduce('Any')],
  ['math.reduce_all', reduce('All')],
  ['expand_dims', { module: NUMPY, className: 'ExpandDims', config: { axis: 'axis' } }],
  ['squeeze', { module: NUMPY, className: 'Squeeze', config: { axis: 'axis' }, defaults: { axis: null } }],
  ['compat.v1.squeeze', { module: NUMPY, className: 'Squeeze', config: { axis: 'axis', squeeze_dims: 'axis' }, defaults: { axis: null } }],
  ['cast', { module: CORE, className: 'Cast', config: { dtype: 'dtype' } }],
  ['concat', { module: NUMPY, className: 'Concatenate', config: { axis: 'axis' }, listFirst: true }],
  ['transpose', { module: NUMPY, className: 'Transpose', config: { perm: 'axes' }, defaults: { axes: null }, inert: { conjugate: false } }],
  ['reshape', { module: NUMPY, className: 'Reshape', config: { shape: 'newshape' } }],
  // transpose_a / transpose_b (and adjoint_*, the same for real numbers) become Swapaxes operations before the Matmul.
  ['linalg.matmul', { module: NUMPY, className: 'Matmul', operands: ['b'], inert: { transpose_a: false, transpose_b: false, adjoint_a: false, adjoint_b: false, a_is_sparse: false, b_is_sparse: false, output_type: null } }],
  ['where', { module: NUMPY, className: 'Where', operands: ['x', 'y'] }],
  ['ones_like', { module: NUMPY, className: 'OnesLike', config: { dtype: 'dtype' }, defaults: { dtype: null } }],
  ['zeros_like', { module: NUMPY, className: 'ZerosLike', config: { dtype: 'dtype' }, defaults: { dtype: null } }],
  ['__operators__.getitem', { module: NUMPY, className: 'GetItem', operands: ['slice_spec'] }],
  // The second set (see docs/keras.md for where TensorFlow's edge cases differ).
  ['math.log1p', unary('Log1p')],
  ['math.expm1', unary('Expm1')],
  ['math.sin', unary('Sin')],
  ['math.cos', unary('Cos')],
  ['math.floor', unary('Floor')],
  ['math.ceil', unary('Ceil')],
  ['math.sign', unary('Sign')],
  ['math.round', unary('Round')],
  ['math.reciprocal', unary('Reciprocal')],
  ['math.erf', unary('Erf', MATH)],
  ['math.rsqrt', unary('Rsqrt', MATH)],
  ['math.floordiv', binary('FloorDivide')],
  ['math.floormod', binary('Mod')],
  ['clip_by_value', { module: NUMPY, className: 'Clip', config: { clip_value_min: 'x_min', clip_value_max: 'x_max' } }],
  ['nn.gelu', { module: NN, className: 'Gelu', config: { approximate: 'approximate' }, defaults: { approximate: false } }],
  ['nn.silu', { module: NN, className: 'Silu', inert: { beta: [1, 1.0] } }],
  ['nn.swish', { module: NN, className: 'Silu', inert: { beta: [1, 1.0] } }],
  ['math.softplus', unary('Softplus', NN)],
  ['nn.softplus', unary('Softplus', NN)],
  ['nn.softsign', unary('Softsign', NN)],
  ['math.softsign', unary('Softsign', NN)],
  ['math.log_sigmoid', unary('LogSigmoid', NN)],
  ['nn.elu', unary('Elu', NN)],
  ['nn.relu6', unary('Relu6', NN)],
  // TensorFlow's leaky_relu is x > 0 ? x : alpha * x; Keras's max(x, alpha * x) is the same for alpha <= 1 only.
  ['nn.leaky_relu', { module: NN, className: 'LeakyRelu', config: { alpha: 'negative_slope' }, defaults: { negative_slope: 0.2 }, convert: { alpha: leakyAlpha } }],
  ['math.reduce_prod', reduce('Prod')],
  ['math.reduce_variance', reduce('Var')],
  ['math.reduce_std', reduce('Std')],
  ['math.reduce_logsumexp', { ...reduce('Logsumexp'), module: MATH }],
  // TensorFlow's argmax, cumsum and gather take axis 0 when none is given, or None (Keras's null is the flattened tensor).
  ['math.argmax', { module: NUMPY, className: 'Argmax', config: { axis: 'axis' }, defaults: { axis: 0, keepdims: false }, inert: { output_type: ['int64', 'int32'] }, convert: { axis: noneIsZero } }],
  ['math.argmin', { module: NUMPY, className: 'Argmin', config: { axis: 'axis' }, defaults: { axis: 0, keepdims: false }, inert: { output_type: ['int64', 'int32'] }, convert: { axis: noneIsZero } }],
  ['math.cumsum', { module: NUMPY, className: 'Cumsum', config: { axis: 'axis' }, defaults: { axis: 0 }, inert: { exclusive: false, reverse: false } }],
  ['math.l2_normalize', l2Normalize],
  ['nn.l2_normalize', l2Normalize],
  ['stack', { module: NUMPY, className: 'Stack', config: { axis: 'axis' }, defaults: { axis: 0 }, listFirst: true }],
  ['tile', { module: NUMPY, className: 'Tile', config: { multiples: 'repeats' } }],
  ['repeat', { module: NUMPY, className: 'Repeat', config: { repeats: 'repeats', axis: 'axis' }, defaults: { axis: null } }],
  // tf.gather's axis=None is axis 0; validate_indices is ignored by TensorFlow 2.
  ['gather', { module: NUMPY, className: 'Take', operands: ['indices'], config: { axis: 'axis' }, defaults: { axis: 0 }, inert: { batch_dims: 0, validate_indices: [null, true, false] }, convert: { axis: noneIsZero } }],
  // tf.one_hot's axis=None is the last; its dtype follows an int on_value/off_value (see translateNode).
  // tf.pad(tensor, paddings, mode, constant_values): TensorFlow's modes are the same names in capitals.
  ['pad', { module: NUMPY, className: 'Pad', config: { paddings: 'pad_width', mode: 'mode' }, defaults: { mode: 'constant' }, callKwargs: { constant_values: 'constant_values' }, convert: { mode: (v) => (typeof v === 'string' ? v.toLowerCase() : v) } }],
  // The third set: tf.split's sizes become Keras's positions (see splitSizes); top_k, sort and argsort read edge values (ties, NaN) as Keras 3's numpy backend orders them.
  ['split', { module: NUMPY, className: 'Split', config: { num_or_size_splits: 'indices_or_sections', axis: 'axis', num: 'num' }, defaults: { axis: 0 }, convert: { num_or_size_splits: splitSizes } }],
  ['unstack', { module: CORE, className: 'Unstack', config: { num: 'num', axis: 'axis' }, defaults: { num: null, axis: 0 } }],
  // index_type (TensorFlow 2.13+) sets the positions' dtype, int32 here either way (Keras declares int32).
  ['math.top_k', { module: MATH, className: 'TopK', config: { k: 'k', sorted: 'sorted' }, defaults: { k: 1, sorted: true }, inert: { index_type: ['int32', 'int64'] } }],
  ['sort', { module: NUMPY, className: 'Sort', config: { axis: 'axis' }, defaults: { axis: -1 }, inert: { direction: 'ASCENDING' } }],
  ['argsort', { module: NUMPY, className: 'Argsort', config: { axis: 'axis' }, defaults: { axis: -1 }, inert: { direction: 'ASCENDING', stable: [false, true] } }],
  ['math.cumprod', { module: NUMPY, className: 'Cumprod', config: { axis: 'axis' }, defaults: { axis: 0 }, inert: { exclusive: false, reverse: false } }],
  ['one_hot', { module: NN, className: 'OneHot', config: { depth: 'num_classes', axis: 'axis', dtype: 'dtype' }, defaults: { axis: -1, dtype: null }, inert: { on_value: [null, 1, 1.0], off_value: [null, 0, 0.0] }, convert: { axis: (v) => v ?? -1 } }],
]);

/** The TensorFlow functions Masque reads in TFOpLambda layers (for docs and errors). */
export function tfOpLambdaFunctions(): string[] {
  return [...FUNCTIONS.keys()].sort();
}

const isRef = (r: unknown): r is unknown[] => Array.isArray(r) && (r.length === 3 || r.length === 4) && typeof r[0] === 'string' && r[0] !== '_CONSTANT_VALUE' && Number.isInteger(r[1]) && Number.isInteger(r[2]);
const isConstantNode = (r: unknown): r is unknown[] => Array.isArray(r) && (r.length === 3 || r.length === 4) && r[0] === '_CONSTANT_VALUE';

function tensorRef(r: unknown[]): Obj {
  return { class_name: '__keras_tensor__', config: { shape: null, dtype: null, keras_history: [r[0], r[1], r[2]] } };
}

/** A constant operand (a number, or a nested list of numbers that follows its tensor's dtype). */
function constant(v: unknown, where: string): unknown {
  // TensorFlow converted a Python float to its tensor's dtype: weak, as a plain number is here.
  const f = asPyFloat(v);
  if (f !== null) return f.value;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v)) return { class_name: '__tensor__', config: { value: v, dtype: null } };
  throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: an operand must be a tensor, a number or a list of numbers; received ${describe(v)}.`);
}

/** An operand from the kwargs or the node: a tensor reference or a constant. */
function operand(v: unknown, where: string): unknown {
  return isRef(v) ? tensorRef(v) : constant(v, where);
}

/** A SlicingOpLambda's `slice_spec` as Keras 3's GetItem key. */
function sliceKey(spec: unknown, where: string): unknown {
  const one = (v: unknown): unknown => {
    if (v === null || Number.isInteger(v)) return v;
    if (v === '...' || (isObj(v) && v['class_name'] === '__ellipsis__')) return { class_name: '__ellipsis__', config: {} };
    if (isObj(v) && 'start' in v && 'stop' in v && 'step' in v) return { class_name: '__slice__', config: { start: v['start'], stop: v['stop'], step: v['step'] } };
    if (isRef(v)) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: indexing with a tensor (${String(v[0])}) is not supported; Masque indexes with integers, slices, None and Ellipsis.`);
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: cannot read the index entry ${describe(v)}; expected an integer, a slice {start, stop, step}, None or Ellipsis.`);
  };
  return Array.isArray(spec) ? spec.map(one) : one(spec);
}

/** True when a keyword's value is one that changes nothing (`accepted`, one of a list of them, or null for false). */
function isInert(v: unknown, accepted: unknown): boolean {
  const value = pyNumber(v);
  const list = Array.isArray(accepted) ? accepted : [accepted];
  return list.some((a) => value === a) || (value === null && accepted === false);
}

/** A constant's nested list with its last two axes swapped (tf.linalg.matmul's transpose of a constant operand). */
function swapLastAxes(v: unknown, where: string): unknown {
  const depth = (x: unknown): number => (Array.isArray(x) ? 1 + depth(x[0]) : 0);
  if (depth(v) < 2) throw new MasqueError('INVALID_CONFIG', `${where}: matmul transposes an operand of rank 2 or more; received ${describe(v)}.`);
  if (depth(v) > 2) return (v as unknown[]).map((x) => swapLastAxes(x, where));
  const rows = v as unknown[][];
  return (rows[0] ?? []).map((_, j) => rows.map((r) => r[j]));
}

/** Which operands of a tf.linalg.matmul call are transposed (transpose_x or adjoint_x true); those keywords are taken out of `kwargs`. */
function matmulTransposes(kwargs: Obj): [boolean, boolean] {
  return (['a', 'b'] as const).map((x) => {
    const flags = [`transpose_${x}`, `adjoint_${x}`];
    const on = flags.some((k) => kwargs[k] === true);
    if (on) for (const k of flags) if (kwargs[k] === true || kwargs[k] === false || kwargs[k] === null) delete kwargs[k];
    return on;
  }) as [boolean, boolean];
}

/** One tf.keras 2 node of a TFOpLambda as Keras 3's `{ args, kwargs }`, the op's config from its keywords, and (matmul) which operands are transposed. */
function translateNode(node: unknown, fn: TfFunction, functionName: string, where: string): { args: unknown[]; config: Obj; transposed: [boolean, boolean]; callKwargs: Obj } {
  // The node is the call's first argument: one reference, a constant, or (tf.concat) a list of references.
  let first: unknown;
  let kwargs: Obj = {};
  const kwargsOf = (r: unknown[]): Obj => {
    if (r[3] === undefined) return {};
    if (!isObj(r[3])) throw new MasqueError('INVALID_CONFIG', `${where}: a node's fourth entry must be its keyword arguments (an object); received ${describe(r[3])}.`);
    return r[3];
  };
  if (isRef(node) || isConstantNode(node)) {
    first = isRef(node) ? tensorRef(node) : constant(node[2], where);
    kwargs = kwargsOf(node);
  } else if (Array.isArray(node) && node.length > 0 && node.every((n) => isRef(n) || isConstantNode(n))) {
    const refs = node.map((n) => (isRef(n) ? tensorRef(n) : constant((n as unknown[])[2], where)));
    first = fn.listFirst ? refs : refs.length === 1 ? refs[0] : refs;
    kwargs = kwargsOf(node[node.length - 1] as unknown[]);
    if (!fn.listFirst && refs.length !== 1) throw new MasqueError('INVALID_CONFIG', `${where}: ${functionName} takes one tensor first; the node gives ${refs.length}.`);
  } else {
    throw new MasqueError('INVALID_CONFIG', `${where}: expected a TFOpLambda node [layer name, node index, tensor index, kwargs] (or a list of them); received ${describe(node)}.`);
  }
  if (fn.listFirst && !Array.isArray(first)) first = [first];
  kwargs = { ...kwargs };
  const transposed = fn.className === 'Matmul' ? matmulTransposes(kwargs) : ([false, false] as [boolean, boolean]);
  const config: Obj = { ...(fn.defaults ?? {}) };
  const args: unknown[] = [first];
  const operands = fn.operands ?? [];
  if (fn.className === 'Where' && !('x' in kwargs) && !('y' in kwargs)) {
    throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: tf.where with only a condition (the indices of true entries) is not supported; give x and y.`);
  }
  for (const name of operands) {
    if (!(name in kwargs)) throw new MasqueError('INVALID_CONFIG', `${where}: ${functionName} needs its argument '${name}'; the node has ${JSON.stringify(Object.keys(kwargs))}.`);
    args.push(name === 'slice_spec' ? sliceKey(kwargs[name], where) : operand(kwargs[name], where));
  }
  const callKwargs: Obj = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (operands.includes(k) || k === 'name') continue;
    const callKey = fn.callKwargs?.[k];
    if (callKey !== undefined) {
      if (isRef(v)) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: ${functionName}'s '${k}' is a tensor computed in the model; Masque reads it only as a fixed value.`);
      callKwargs[callKey] = pyNumber(v);
      continue;
    }
    const key = fn.config?.[k];
    if (key !== undefined) {
      if (isRef(v) || (Array.isArray(v) && v.some(isRef))) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: ${functionName}'s '${k}' is a tensor computed in the model; Masque reads it only as a fixed value.`);
      // TensorFlow takes keepdims=None as False, and a one-element axis list as that axis.
      const value = key === 'keepdims' && v === null ? false : Array.isArray(v) && key === 'axis' && v.length === 1 && fn.className !== 'ExpandDims' ? v[0] : v;
      // A config holds plain numbers: a float written 2.0 in the node arrives marked as one.
      config[key] = fn.convert?.[k] !== undefined ? fn.convert[k]!(value, where) : (pyNumber(value));
      continue;
    }
    if (fn.inert !== undefined && k in fn.inert && isInert(v, fn.inert[k])) continue;
    throw new MasqueError(
      'UNSUPPORTED_CONFIG',
      `${where}: ${functionName} with ${k}=${JSON.stringify(v)} is not read (Masque reads ${[...operands, ...Object.keys(fn.config ?? {})].map((s) => `'${s}'`).join(', ') || 'no other argument'}${fn.inert ? `, and ${Object.entries(fn.inert).map(([a, b]) => `${a}=${JSON.stringify(b)}`).join(', ')}` : ''}).`,
    );
  }
  if ((fn.className === 'Softmax' || fn.className === 'LogSoftmax') && config['axis'] === null) config['axis'] = -1; // TensorFlow's axis=None is the last
  if (fn.className === 'OneHot' && (config['dtype'] ?? null) === null) {
    // TensorFlow takes the dtype of on_value (else off_value): a Python int makes the one-hot int32, a float float32.
    const given = kwargs['on_value'] ?? kwargs['off_value'] ?? null;
    if (typeof given === 'number') config['dtype'] = 'int32';
  }
  if (fn.className === 'Pad' && config['mode'] !== 'constant') delete callKwargs['constant_values']; // TensorFlow reads it in CONSTANT mode only
  if (fn.className === 'Split' && config['num'] !== undefined) {
    // tf.split's num is only needed when the sizes are a tensor of unknown length; given with fixed sizes it must count them.
    const parts = Array.isArray(config['indices_or_sections']) ? config['indices_or_sections'].length + 1 : config['indices_or_sections'];
    if (config['num'] !== null && config['num'] !== parts) throw new MasqueError('INVALID_CONFIG', `${where}: split's num=${JSON.stringify(config['num'])} does not count its ${String(parts)} parts.`);
    delete config['num'];
  }
  if (fn.className === 'Clip' && typeof config['x_min'] === 'number' && typeof config['x_max'] === 'number' && config['x_min'] > config['x_max']) {
    // Crossed bounds: TensorFlow takes the minimum first, so clip_value_min wins (numpy's clip lets x_max win).
    config['x_max'] = config['x_min'];
  }
  if (fn.className === 'ExpandDims' && config['axis'] === undefined) throw new MasqueError('INVALID_CONFIG', `${where}: expand_dims needs its 'axis'.`);
  if (fn.className === 'Reshape' && !Array.isArray(config['newshape'])) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: reshape needs a fixed shape (a list of sizes); received ${describe(config['newshape'])}.`);
  if (fn.className === 'Cast' && typeof config['dtype'] !== 'string') throw new MasqueError('INVALID_CONFIG', `${where}: cast needs a dtype name; received ${describe(config['dtype'])}.`);
  return { args, config, transposed, callKwargs };
}

/**
 * A tf.keras 2 `TFOpLambda` or `SlicingOpLambda` entry as the Keras 3
 * operation entries that compute the same (module, class name, config,
 * `{ args, kwargs }` nodes): one, or for a tf.linalg.matmul with
 * `transpose_a`/`transpose_b`, a `Swapaxes(-2, -1)` of each transposed
 * tensor operand (named `<layer>_transpose_a`/`_b`, one node per call) and
 * then the `Matmul` (a transposed constant is transposed in place). `where`
 * names the model in errors.
 */
export function opLambdaEntries(entry: Obj, where: string, taken: Set<string> = new Set()): Obj[] {
  const cfg = isObj(entry['config']) ? entry['config'] : {};
  const name = String(cfg['name'] ?? entry['name'] ?? 'tf_op');
  const functionName = cfg['function'];
  const here = `${where}, layer '${name}' (${String(entry['class_name'])})`;
  if (typeof functionName !== 'string') throw new MasqueError('INVALID_CONFIG', `${here}: expected the TensorFlow function's name in config.function; received ${describe(functionName)}.`);
  const fn = FUNCTIONS.get(functionName);
  if (fn === undefined) {
    throw new MasqueError(
      'UNSUPPORTED_CONFIG',
      `${here}: the TensorFlow function '${functionName}' is not read. Masque reads these TFOpLambda functions: ${tfOpLambdaFunctions().join(', ')}. ` +
        'Write the computation as a custom layer and register it with registerKerasLayers({ TFOpLambda: { create } }) to read the rest.',
    );
  }
  const nodes = Array.isArray(entry['inbound_nodes']) ? entry['inbound_nodes'] : [];
  let config: Obj | null = null;
  let transposed: string | null = null;
  const translated = nodes.map((n) => {
    const t = translateNode(n, fn, functionName, here);
    if (config !== null && (JSON.stringify(config) !== JSON.stringify(t.config) || transposed !== JSON.stringify(t.transposed))) {
      throw new MasqueError('UNSUPPORTED_CONFIG', `${here}: the layer is called with different arguments in its calls; Keras 3 records one operation per call.`);
    }
    config = t.config;
    transposed = JSON.stringify(t.transposed);
    return t;
  });
  const swaps: Obj[] = [];
  (['a', 'b'] as const).forEach((x, k) => {
    if (!translated.some((t) => t.transposed[k])) return;
    // A new name: <layer>_transpose_a, or with _1, _2, ... after it when the model has one already.
    let swapName = `${name}_transpose_${x}`;
    for (let n = 1; taken.has(swapName); n++) swapName = `${name}_transpose_${x}_${n}`;
    taken.add(swapName);
    const swapNodes: Obj[] = [];
    for (const t of translated) {
      const operand = t.args[k];
      const c = isObj(operand) && operand['class_name'] === '__tensor__' && isObj(operand['config']) ? operand['config'] : null;
      if (c !== null) {
        ConstArray.fromNested(c['value'], null, here); // rectangular numbers, checked as written
        t.args[k] = { class_name: '__tensor__', config: { ...c, value: swapLastAxes(c['value'], here) } };
        continue;
      }
      if (!isObj(operand) || operand['class_name'] !== '__keras_tensor__') throw new MasqueError('INVALID_CONFIG', `${here}: matmul transposes its operand ${x}, which is ${describe(operand)}; expected a tensor or a nested list.`);
      t.args[k] = { class_name: '__keras_tensor__', config: { shape: null, dtype: null, keras_history: [swapName, swapNodes.length, 0] } };
      swapNodes.push({ args: [operand], kwargs: {} });
    }
    if (swapNodes.length > 0) swaps.push({ module: NUMPY, class_name: 'Swapaxes', config: { name: swapName, axis1: -2, axis2: -1 }, registered_name: 'Swapaxes', name: swapName, inbound_nodes: swapNodes });
  });
  const main = { module: fn.module, class_name: fn.className, config: { name, ...(config ?? fn.defaults ?? {}) }, registered_name: fn.className, name, inbound_nodes: translated.map((t) => ({ args: t.args, kwargs: t.callKwargs })) };
  return [...swaps, main];
}
