/**
 * Keras configs read as Python's `json.loads` reads them, in the one respect
 * that JSON.parse cannot: a number written with a decimal point or an
 * exponent whose value is integral (`2.0`, `1e9`) is a Python float. Keras
 * passes such numbers to operations (`ids * 2.0` is float32 where `ids * 2`
 * is int32), so inside `inbound_nodes` (the calls' arguments) they are read
 * as float marks (engine/py_float.ts: plain objects, which the config's
 * walks keep), which the operations take as PyFloat and write back as
 * `2.0`; everywhere else they are plain numbers, as JSON.parse gives them.
 * The tokenizer is lossless-json's.
 */
import { parse } from 'lossless-json';
import { PyFloat, asPyFloat, floatMark, pyNumber } from '../engine/py_float.js';

/** What Python's json writes for non-finite floats, and the string each is read through. */
const NON_FINITE = ['-Infinity', 'Infinity', 'NaN'];
const NON_FINITE_MARK = '__masque_non_finite__:';

/** The text with Python's bare NaN, Infinity and -Infinity (outside strings) quoted, for a JSON parser. */
function quoteNonFinite(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    const token = NON_FINITE.find((t) => text.startsWith(t, i));
    if (token !== undefined) {
      out += `${text.slice(from, i)}"${NON_FINITE_MARK}${token}"`;
      i += token.length - 1;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

/**
 * Parses Keras JSON text (throws the parser's SyntaxError on invalid text).
 * Python's `NaN`, `Infinity` and `-Infinity` are read as those numbers, as
 * json.loads reads them (`ops.where(mask, scores, float('-inf'))`).
 */
export function parseKerasJson(text: string): unknown {
  const tree = parse(quoteNonFinite(text), null, (s: string) => {
    const v = Number(s);
    return Number.isInteger(v) && /[.eE]/.test(s) ? new PyFloat(v) : v;
  });
  return floatsInNodesOnly(tree, false);
}

function floatsInNodesOnly(v: unknown, inNodes: boolean): unknown {
  if (v instanceof PyFloat) return inNodes ? floatMark(v.value) : v.value;
  if (typeof v === 'string' && v.startsWith(NON_FINITE_MARK)) return Number(v.slice(NON_FINITE_MARK.length));
  if (Array.isArray(v)) return v.map((x) => floatsInNodesOnly(x, inNodes));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // defineProperty: a key named "__proto__" stays a key, as JSON.parse keeps it.
      Object.defineProperty(out, k, { value: floatsInNodesOnly(x, inNodes || k === 'inbound_nodes'), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}

/** `v` with every float mark as its plain number (for layers, which take call arguments as numbers); other objects pass unchanged. */
export function plainNumbers(v: unknown): unknown {
  if (asPyFloat(v) !== null) return pyNumber(v);
  if (Array.isArray(v)) return v.map(plainNumbers);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: plainNumbers(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}
