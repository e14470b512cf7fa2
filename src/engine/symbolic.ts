/**
 * Symbolic tensors: the placeholders a functional model is built from. They
 * carry a shape (null = unknown), a dtype, the spec of their mask, and the
 * node that produced them.
 */
import type { tf } from '../runtime/tfjs.js';
import type { MaskSpec, Shape, TensorSpec } from './types.js';
import type { Layer } from './layer.js';
import { MasqueError } from '../errors.js';

export type { MaskSpec } from './types.js';

/** One call of a layer on symbolic inputs. */
export interface Node {
  layer: Layer;
  /** The call's inputs as given: one tensor or a list. */
  inputs: SymbolicTensor | SymbolicTensor[];
  /** Extra call arguments; may contain symbolic tensors (explicit masks, initial states). */
  args: Record<string, unknown>;
  outputs: SymbolicTensor[];
  multiOutput: boolean;
  /** Set when the layer cannot use masks and received one: a description of that mask. */
  dropsMask: string | null;
}

let counter = 0;

export class SymbolicTensor {
  readonly id = ++counter;
  constructor(
    readonly shape: Shape,
    readonly dtype: tf.DataType,
    readonly node: Node | null,
    readonly outputIndex: number,
    readonly mask: MaskSpec | null,
    readonly name: string,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** Shape, dtype and mask spec, as `computeOutputSpec` sees them. */
  get spec(): TensorSpec {
    return { shape: this.shape, dtype: this.dtype, mask: this.mask };
  }

  toString(): string {
    return `SymbolicTensor(${this.name}, shape=[${this.shape.map((d) => (d === null ? 'null' : d)).join(', ')}], ${this.dtype}${this.mask ? ', masked' : ''})`;
  }
}

export function isSymbolic(x: unknown): x is SymbolicTensor {
  return x instanceof SymbolicTensor;
}

/**
 * True if `x` (a value, list or plain object) contains a symbolic tensor.
 * Walks all of `x`: a list or object that contains itself is INVALID_ARGUMENT
 * (`what` names it), since the engine's other walks over inputs and call
 * arguments would not end.
 */
export function containsSymbolic(x: unknown, what: string, path: Set<unknown> = new Set()): boolean {
  if (isSymbolic(x)) return true;
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  if (!Array.isArray(x) && proto !== Object.prototype && proto !== null) return false;
  if (path.has(x)) throw new MasqueError('INVALID_ARGUMENT', `${what} contain a list or object that contains itself.`);
  path.add(x);
  let found = false;
  for (const v of Array.isArray(x) ? x : Object.values(x as Record<string, unknown>)) found = containsSymbolic(v, what, path) || found;
  path.delete(x);
  return found;
}

/** Replaces every symbolic tensor inside `x` (lists and plain objects) with `f(s)`. */
export function mapSymbolic<T>(x: unknown, f: (s: SymbolicTensor) => T): unknown {
  if (isSymbolic(x)) return f(x);
  if (Array.isArray(x)) return x.map((v) => mapSymbolic(v, f));
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) out[k] = mapSymbolic(v, f);
    return out;
  }
  return x;
}

/** Every symbolic tensor inside `x`, in order. */
export function collectSymbolic(x: unknown, out: SymbolicTensor[] = []): SymbolicTensor[] {
  mapSymbolic(x, (s) => {
    out.push(s);
    return s;
  });
  return out;
}
