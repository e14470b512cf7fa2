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
  | 'UNKNOWN_NAME'
  | 'BACKEND_UNAVAILABLE'
  | 'NODE_ONLY';

export class MasqueError extends Error {
  readonly code: MasqueErrorCode;

  constructor(code: MasqueErrorCode, message: string) {
    super(message);
    this.name = 'MasqueError';
    this.code = code;
  }
}

/** Formats a value for an error message: short, unambiguous. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const inner = value.slice(0, 6).map(describe).join(', ');
    return `[${inner}${value.length > 6 ? `, … (${value.length} items)` : ''}]`;
  }
  if (typeof value === 'object' && value !== null && 'shape' in value && 'dtype' in value) {
    const t = value as { shape: unknown; dtype: unknown };
    return `a ${String(t.dtype)} tensor of shape ${formatShape(t.shape as (number | null)[])}`;
  }
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  return `a value of type ${typeof value}`;
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}
