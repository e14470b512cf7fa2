/**
 * A number that Python must read as a float: written with a decimal point
 * when it is integral (`0.0`, not `0`). Keras checks `isinstance(x, float)`
 * for some options (SGD's momentum, an optimizer's learning rate), and
 * json.loads reads `0` as an int; an operation's `2.0` makes float32 where
 * `2` keeps an integer tensor's dtype. In JSON.stringify it is the plain
 * number.
 */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

/**
 * How a Python float written `2.0` travels inside a parsed config (as a plain
 * object, so that the config's walks and copies keep it): src/io/keras_json.ts
 * writes it in call arguments, the operations read it back as PyFloat.
 */
export const FLOAT_MARK = '__masque_float__';

export function floatMark(value: number): { class_name: string; config: { value: number } } {
  return { class_name: FLOAT_MARK, config: { value } };
}

/** The PyFloat a mark stands for, a PyFloat itself, or null for anything else. */
export function asPyFloat(v: unknown): PyFloat | null {
  if (v instanceof PyFloat) return v;
  if (v !== null && typeof v === 'object' && (v as { class_name?: unknown }).class_name === FLOAT_MARK) {
    const value = ((v as { config?: { value?: unknown } }).config ?? {}).value;
    if (typeof value === 'number') return new PyFloat(value);
  }
  return null;
}

/** A Python float (a PyFloat or its mark) as its plain number; anything else as it is. */
export function pyNumber(v: unknown): unknown {
  return asPyFloat(v)?.value ?? v;
}
