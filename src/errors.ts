/**
 * Every error Masque raises on purpose is a `MasqueError` with a stable `code`.
 * Messages name the argument or layer, what was expected and what was received.
 */
export type MasqueErrorCode =
  | 'MASK_NOT_SUPPORTED'
  | 'MASK_SHAPE_MISMATCH'
  | 'MASK_INVALID'
  | 'INVALID_ARGUMENT'
  | 'INVALID_SEQUENCES'
  | 'INVALID_INPUT'
  | 'INPUT_SHAPE_MISMATCH'
  | 'NOT_BUILT'
  | 'GRAPH_DISCONNECTED'
  | 'UNKNOWN_LAYER_CLASS'
  | 'UNSUPPORTED_CONFIG'
  | 'INVALID_CONFIG'
  | 'WEIGHT_COUNT_MISMATCH'
  | 'WEIGHT_SHAPE_MISMATCH'
  | 'WEIGHT_MISSING'
  | 'CORRUPT_FILE'
  | 'SAVE_FAILED'
  | 'UNSUPPORTED_FILE'
  | 'NOT_COMPILED'
  | 'MODEL_BUSY'
  | 'LAYER_CALL_FAILED'
  | 'UNKNOWN_NAME'
  | 'BACKEND_UNAVAILABLE'
  | 'NODE_ONLY';

export class MasqueError extends Error {
  readonly code: MasqueErrorCode;

  constructor(code: MasqueErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MasqueError';
    this.code = code;
  }
}

/** Formats a value for an error message: short, unambiguous (nested lists are cut at depth 3, so a list that contains itself is fine). */
export function describe(value: unknown, depth = 0): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) {
    if (depth >= 3) return `[… (${value.length} items)]`;
    const inner = value.slice(0, 6).map((v) => describe(v, depth + 1)).join(', ');
    return `[${inner}${value.length > 6 ? `, … (${value.length} items)` : ''}]`;
  }
  if (typeof value === 'object' && 'shape' in value && 'dtype' in value) {
    const t = value as { shape: unknown; dtype: unknown };
    return Array.isArray(t.shape) ? `a ${String(t.dtype)} tensor of shape ${formatShape(t.shape as (number | null)[])}` : 'an object with shape and dtype fields';
  }
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  return `a value of type ${typeof value}`;
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}
