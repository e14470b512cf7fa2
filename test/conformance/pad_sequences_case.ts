/**
 * Checks one `kind: "pad_sequences"` conformance case (schema in the
 * conformance README) against `padSequences`. Used by the conformance runner
 * and by pad_sequences.test.ts; works on any folder of such cases.
 *
 * - Outputs must match exactly (float32 compared after rounding the case's
 *   value to float32; NaN equals NaN; strings and bools exactly).
 * - `error_raised_by: "keras"`: Masque must raise a MasqueError with code
 *   INVALID_SEQUENCES or INVALID_ARGUMENT whose message covers the same
 *   problem (the values Keras's message names appear in Masque's).
 * - `error_raised_by: "numpy"` (departure 6): Masque either returns the
 *   sensible result (shape `[n, maxlen ?? longest, ...]`) or raises such a
 *   MasqueError of its own, without numpy's wording.
 *
 * Argument mapping: `args.dtype == "object"` is Masque's `'string'` when
 * `call_python` passes the Python type (`dtype=object`) and stays the string
 * `'object'` (which Masque rejects, as Keras rejects it with a string value)
 * when it passes the string `dtype='object'`. Non-finite values written as
 * "NaN" / "Infinity" / "-Infinity" are numbers unless `call_python` quotes them.
 */
import { tf } from '../../src/runtime/tfjs.js';
import { MasqueError } from '../../src/errors.js';
import { padSequences, type PadSequencesOptions } from '../../src/data/pad_sequences.js';

export interface PadCaseResult {
  pass: boolean;
  maxDiff: number;
  message: string;
}

// Case files are JSON data documented in the conformance README.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CaseJson = Record<string, any>;

const OPTION_KEYS = ['maxlen', 'dtype', 'padding', 'truncating', 'value'] as const;
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** The `padSequences` arguments that correspond to a case's Python call. */
export function padSequencesArgsFromCase(c: CaseJson): { sequences: unknown; options: PadSequencesOptions } {
  const args = (c['args'] ?? {}) as Record<string, unknown>;
  const py = String(c['call_python'] ?? '');
  const decode = (v: unknown): unknown => {
    if (typeof v === 'string' && v in NON_FINITE && !py.includes(`'${v}'`) && !py.includes(`"${v}"`)) return NON_FINITE[v];
    return Array.isArray(v) ? v.map(decode) : v;
  };
  const extra = Object.keys(args).filter((k) => k !== 'sequences' && !(OPTION_KEYS as readonly string[]).includes(k));
  if (extra.length > 0) throw new Error(`case passes arguments Masque does not know: ${extra.join(', ')}`);
  const options: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) if (k in args) options[k] = decode(args[k]);
  if (args['dtype'] === 'object' && /dtype\s*=\s*object\b/.test(py)) options['dtype'] = 'string';
  if (args['dtype'] === 'str' && /dtype\s*=\s*str\b/.test(py)) options['dtype'] = 'string';
  return { sequences: decode(args['sequences']), options: options as PadSequencesOptions };
}

/** Runs one pad_sequences case; never throws. */
export function checkPadSequencesCase(c: CaseJson): PadCaseResult {
  try {
    const { sequences, options } = padSequencesArgsFromCase(c);
    const wantsError = typeof c['error_type'] === 'string';
    let got: tf.Tensor | null = null;
    let err: unknown = null;
    try {
      got = padSequences(sequences as never, { ...options, returnLengths: false });
    } catch (e) {
      err = e;
    }
    try {
      if (!wantsError) {
        if (err !== null) return fail(`Keras returned a result but Masque raised: ${String((err as Error).message ?? err)}`);
        return compareOutput(got!, (c['outputs'] as CaseJson[])[0]!);
      }
      return c['error_raised_by'] === 'numpy' ? checkDeparture(c, sequences, options, got, err) : checkKerasError(c, got, err);
    } finally {
      got?.dispose();
    }
  } catch (e) {
    return fail(`checker error: ${(e as Error).message}`);
  }
}

const fail = (message: string, maxDiff = Infinity): PadCaseResult => ({ pass: false, maxDiff, message });

function compareOutput(got: tf.Tensor, want: CaseJson): PadCaseResult {
  const shape = want['shape'] as number[];
  if (got.shape.length !== shape.length || got.shape.some((d, i) => d !== shape[i])) {
    return fail(`shape: expected [${shape}] but got [${got.shape}]`);
  }
  const wantData = want['data'] as unknown[];
  const gotData = got.dataSync() as ArrayLike<unknown>;
  const wantDtype = String(want['dtype']);
  let maxDiff = 0;
  for (let i = 0; i < wantData.length; i++) {
    const w = wantData[i];
    const g = gotData[i];
    if (got.dtype === 'string' || typeof w === 'string' && !(w in NON_FINITE)) {
      if (g !== w) return fail(`value ${i}: expected ${JSON.stringify(w)} but got ${JSON.stringify(g)}`);
      continue;
    }
    let wn = typeof w === 'boolean' ? Number(w) : typeof w === 'string' ? NON_FINITE[w]! : Number(w);
    if (wantDtype.startsWith('float')) wn = Math.fround(wn);
    const gn = Number(g);
    if (Number.isNaN(wn) && Number.isNaN(gn)) continue;
    if (gn !== wn) {
      const d = Math.abs(gn - wn);
      return fail(`value ${i}: expected ${wn} but got ${gn} (dtype ${wantDtype})`, Number.isNaN(d) ? Infinity : d);
    }
    maxDiff = Math.max(maxDiff, Math.abs(gn - wn));
  }
  return { pass: true, maxDiff, message: '' };
}

function isMasqueArgError(err: unknown): err is MasqueError {
  return err instanceof MasqueError && (err.code === 'INVALID_SEQUENCES' || err.code === 'INVALID_ARGUMENT');
}

/** The words a Masque message must contain to cover the problem Keras's message names. */
export function requiredWords(kerasMessage: string): string[] {
  const words: string[] = [];
  let m: RegExpMatchArray | null;
  if ((m = kerasMessage.match(/^(Padding|Truncating) type "(.*)" not understood/))) words.push(m[1]!.toLowerCase(), JSON.stringify(m[2]));
  else if ((m = kerasMessage.match(/Shape of sample \(([^)]*)\) of sequence at position (\d+) is different from expected shape \(([^)]*)\)/))) {
    const tuple = (t: string) => `[${t.split(',').map((x) => x.trim()).filter((x) => x !== '').join(', ')}]`;
    words.push(tuple(m[1]!), `position ${m[2]}`, tuple(m[3]!));
  } else if ((m = kerasMessage.match(/^`dtype` (\S+) is not compatible with `value`'s type/))) words.push('dtype', m[1]!, 'value');
  else if ((m = kerasMessage.match(/Found non-iterable: (.*)$/))) words.push('sequences', m[1]!);
  else if (/must be iterable/.test(kerasMessage)) words.push('sequences', 'iterable');
  else for (const q of kerasMessage.matchAll(/"([^"]*)"/g)) words.push(q[1]!);
  return words;
}

function checkKerasError(c: CaseJson, got: tf.Tensor | null, err: unknown): PadCaseResult {
  const kerasMessage = String(c['error_message'] ?? '');
  if (err === null) return fail(`Keras raised ${c['error_type']}: ${kerasMessage}; Masque returned shape [${got!.shape}]`);
  if (!isMasqueArgError(err)) return fail(`expected a MasqueError (INVALID_SEQUENCES or INVALID_ARGUMENT) but got: ${String(err)}`);
  const missing = requiredWords(kerasMessage).filter((w) => !err.message.toLowerCase().includes(w.toLowerCase()));
  if (missing.length > 0) return fail(`Masque's message does not name ${missing.map((w) => JSON.stringify(w)).join(', ')} (Keras: ${kerasMessage}; Masque: ${err.message})`);
  return { pass: true, maxDiff: 0, message: `raised ${err.code}: ${err.message}` };
}

function checkDeparture(c: CaseJson, sequences: unknown, options: PadSequencesOptions, got: tf.Tensor | null, err: unknown): PadCaseResult {
  const numpyMessage = String(c['error_message'] ?? '');
  if (err !== null) {
    if (!isMasqueArgError(err)) return fail(`departure 6: expected Masque's own MasqueError but got: ${String(err)}`);
    if (numpyMessage !== '' && err.message.includes(numpyMessage)) return fail(`departure 6: Masque repeats numpy's wording: ${err.message}`);
    return { pass: true, maxDiff: 0, message: `departure 6 (numpy error in Keras): raised ${err.code}: ${err.message}` };
  }
  if (!Array.isArray(sequences)) return fail(`departure 6: Masque accepted a non-array sequences argument`);
  const longest = sequences.reduce((a: number, s: { length?: number }) => Math.max(a, s?.length ?? 0), 0);
  const want = [sequences.length, options.maxlen ?? longest];
  if (got!.shape[0] !== want[0] || got!.shape[1] !== want[1]) {
    return fail(`departure 6: expected a result of shape [${want}, ...] but got [${got!.shape}]`);
  }
  return { pass: true, maxDiff: 0, message: `departure 6 (numpy error in Keras): returned shape [${got!.shape}]` };
}
