/** Printing helpers for the examples: tensors as nested arrays, rounded like numpy's repr. */
import { tf } from '../src/index.js';

function round(v: number | boolean): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e4) / 1e4);
}

export function show(t: tf.Tensor): string {
  const nest = (x: unknown): string => (Array.isArray(x) ? `[${x.map(nest).join(', ')}]` : round(x as number));
  const arr = t.dtype === 'bool' ? (t.arraySync() as unknown as number[]).toString() : '';
  void arr;
  const data = t.arraySync() as unknown;
  return t.dtype === 'bool' ? nest(mapBool(data)) : nest(data);
}

function mapBool(x: unknown): unknown {
  return Array.isArray(x) ? x.map(mapBool) : x === 1 || x === true;
}

/** True when this module is the program being run (not imported by a test). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url === new URL(`file://${process.argv[1]}`).href;
}
