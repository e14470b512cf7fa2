/**
 * String functions of Keras 3.15.1's text preprocessing, with TensorFlow's
 * kernel semantics (Keras runs them through tf.strings):
 * - `'lower'` is `tf.strings.lower` without an encoding: ASCII letters only
 *   (é, Ä, ... stay as they are);
 * - `'strip_punctuation'` deletes Keras's `DEFAULT_STRIP_REGEX`,
 *   ``[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']``: the 32 ASCII punctuation
 *   characters (`,-\.` is the range , - .);
 * - `'whitespace'` is `tf.strings.split` without a separator: runs of ASCII
 *   whitespace (space, \t, \n, \v, \f, \r), no empty pieces;
 * - `'character'` is `tf.strings.unicode_split(..., 'UTF-8')`: code points.
 * Plus the orders and line splitting that Keras's vocabulary code relies on.
 */
import { MasqueError, describe } from '../errors.js';

export type StandardizeSpec = 'lower_and_strip_punctuation' | 'lower' | 'strip_punctuation' | null | ((text: string) => string);
export type SplitSpec = 'whitespace' | 'character' | null | ((text: string) => string[]);

export const STANDARDIZE_NAMES = ['lower_and_strip_punctuation', 'lower', 'strip_punctuation'] as const;
export const SPLIT_NAMES = ['whitespace', 'character'] as const;

const PUNCTUATION = /[!"#$%&()*+,\-./:;<=>?@[\\\]^_`{|}~']/g;
const ASCII_WHITESPACE = /[ \t\n\v\f\r]+/;

/** Applies a standardize setting to one text. */
export function standardizeText(text: string, standardize: StandardizeSpec, where: string): string {
  if (typeof standardize === 'function') {
    const s = standardize(text);
    if (typeof s !== 'string') throw new MasqueError('INVALID_ARGUMENT', `${where}: the standardize function must return a string; it returned ${describe(s)}.`);
    return s;
  }
  let s = text;
  if (standardize === 'lower' || standardize === 'lower_and_strip_punctuation') s = s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  if (standardize === 'strip_punctuation' || standardize === 'lower_and_strip_punctuation') s = s.replace(PUNCTUATION, '');
  return s;
}

/** Applies a split setting to one standardized text (null: the whole text is one token). */
export function splitText(text: string, split: SplitSpec, where: string): string[] {
  if (split === null) return [text];
  if (split === 'character') return Array.from(text);
  if (split === 'whitespace') return text.split(ASCII_WHITESPACE).filter((t) => t !== '');
  const parts = split(text);
  if (!Array.isArray(parts) || parts.some((p) => typeof p !== 'string')) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: the split function must return an array of strings; it returned ${describe(parts)}.`);
  }
  return parts;
}

/** Compares strings by Unicode code points, which is the order of their UTF-8 bytes (numpy's order of Keras's byte tokens). */
export function compareUtf8(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/**
 * Keras's adapted vocabulary order: count descending, ties broken by the
 * token descending (`np.lexsort((tokens, counts))[::-1]`). `compare` orders
 * tokens (UTF-8 bytes for strings, numbers for integers).
 */
export function sortByCount<T>(counts: Map<T, number>, compare: (a: T, b: T) => number): T[] {
  return [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || compare(b, a));
}

/** Python's `str.splitlines()` (Keras reads vocabulary files with it): every line boundary Python knows, no line ends kept. */
export function pythonSplitlines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
