/**
 * Checks a whole `SequenceDataset` before the first training step, so a bad
 * sample fails at once, by its index, instead of several steps in as a
 * position inside some batch (or, for `null` labels, never: tfjs reads
 * `null` as 0).
 *
 * - token ids (dtype int32, the default for scalar steps) are integers >= 0;
 *   float32 steps and feature vectors hold finite numbers; every step of
 *   every sample has one shape (a number, or a vector of one width);
 * - labels are finite numbers, or vectors of one width (one label per
 *   sample), or per-step labels: each label a list as long as its sequence,
 *   of such values. Per-step labels are recognised without a flag: when
 *   every label is a list as long as its sequence, they are per step
 *   (`labelsPerStep: true` forces that reading and `false` forbids it). When
 *   every sequence has one length L and the labels are lists of L numbers,
 *   both readings give the same [batch, L] targets;
 * - the options (`padding`, `value`, `dtype`, `labelsPerStep`, `bucketing`)
 *   have their documented types.
 */
import { MasqueError, describe } from '../errors.js';
import type { SequenceDataset } from './data_adapter.js';

/** The shape of one value: a number (-1) or a vector of this width. */
type Width = number;
const SCALAR: Width = -1;

function fail(where: string, message: string): never {
  throw new MasqueError('INVALID_SEQUENCES', `${where}: ${message}`);
}

function shapeName(w: Width): string {
  return w === SCALAR ? 'a number' : `a vector of ${w} numbers`;
}

/** Why `v` is not a valid number here, or null. */
function badNumber(v: unknown, ids: boolean): string | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return `expected a finite number, received ${describe(v)}`;
  if (ids && !(Number.isInteger(v) && v >= 0)) return `expected a token id (an integer >= 0), received ${describe(v)}`;
  return null;
}

/**
 * Checks one value (a number or a vector of numbers) against the shape seen
 * so far; returns the shape. `at` names the value ("sample 5, step 2").
 */
function checkValue(where: string, v: unknown, ids: boolean, seen: Width | null, at: string, firstAt: string): Width {
  let width: Width;
  if (Array.isArray(v)) {
    width = v.length;
    v.forEach((e, j) => {
      const why = badNumber(e, ids);
      if (why !== null) fail(where, `${at}, entry ${j}: ${why}.`);
    });
  } else {
    const why = badNumber(v, ids);
    if (why !== null) fail(where, `${at}: ${why}.`);
    width = SCALAR;
  }
  if (seen !== null && width !== seen) {
    fail(where, `${at} is ${shapeName(width)} but ${firstAt} is ${shapeName(seen)}; every one must have the same shape.`);
  }
  return width;
}

function checkOptions(ds: SequenceDataset, where: string): void {
  const bad = (key: string, expected: string, v: unknown) => fail(where, `the dataset's ${key} must be ${expected}; received ${describe(v)}.`);
  if (ds.padding !== undefined && ds.padding !== 'pre' && ds.padding !== 'post') bad('padding', "'pre' or 'post'", ds.padding);
  if (ds.value !== undefined && (typeof ds.value !== 'number' || !Number.isFinite(ds.value))) bad('value', 'a finite number', ds.value);
  if (ds.dtype !== undefined && ds.dtype !== 'int32' && ds.dtype !== 'float32') bad('dtype', "'int32' or 'float32'", ds.dtype);
  for (const key of ['labelsPerStep', 'bucketing'] as const) {
    if (ds[key] !== undefined && typeof ds[key] !== 'boolean') bad(key, 'true or false', ds[key]);
  }
}

/** What `checkDataset` found: the sequence lengths and whether the labels are per step. */
export interface DatasetInfo {
  lengths: number[];
  perStep: boolean;
}

/** Per-step labels unless the dataset says otherwise: every label a list as long as its sequence. */
function looksPerStep(sequences: unknown[], labels: unknown[]): boolean {
  return sequences.length > 0 && labels.every((l, i) => Array.isArray(l) && Array.isArray(sequences[i]) && l.length === (sequences[i] as unknown[]).length);
}

/**
 * Checks every sample of `ds` (see the file comment); returns the sequence
 * lengths and whether the labels are per step. With `withLabels` false
 * (predict) the labels are not needed and not read.
 */
export function checkDataset(ds: SequenceDataset, where: string, withLabels = true): DatasetInfo {
  const { sequences } = ds;
  const labels: unknown[] = withLabels ? ds.labels : Array.isArray(sequences) ? sequences.map(() => 0) : [];
  if (!Array.isArray(sequences) || !Array.isArray(labels)) {
    throw new MasqueError('INVALID_INPUT', `${where}: a dataset needs arrays 'sequences' and 'labels'; received ${describe(sequences)} and ${describe(labels)}.`);
  }
  if (sequences.length !== labels.length) {
    throw new MasqueError('INVALID_INPUT', `${where}: the dataset has ${sequences.length} sequences but ${labels.length} labels.`);
  }
  checkOptions(ds, where);
  const perStep = withLabels && (ds.labelsPerStep ?? looksPerStep(sequences, labels));
  // Labels of several lengths that are not all per step: name the first one whose length is not its sequence's.
  const lengthsDiffer = !perStep && labels.every((l) => Array.isArray(l)) && new Set(labels.map((l) => (Array.isArray(l) ? l.length : -1))).size > 1;
  if (withLabels && lengthsDiffer && ds.labelsPerStep === undefined) {
    const i = labels.findIndex((l, k) => !Array.isArray(l) || !Array.isArray(sequences[k]) || l.length !== (sequences[k] as unknown[]).length);
    const seq: unknown = sequences[i];
    fail(
      where,
      `the labels are lists of different lengths, so they read as per-step labels, but label ${i} has ${Array.isArray(labels[i]) ? `${(labels[i] as unknown[]).length} entries` : describe(labels[i])} while sequence ${i} has ${Array.isArray(seq) ? `${seq.length} steps` : describe(seq)}; give each sequence one label per step, or one label (a number or a vector of one width) per sequence.`,
    );
  }
  // Scalar steps are token ids unless the dataset says float32; feature vectors are float32 unless it says int32.
  const idsFor = (w: Width) => (ds.dtype ?? (w === SCALAR ? 'int32' : 'float32')) === 'int32';
  let step: Width | null = null;
  let stepAt = '';
  let label: Width | null = null;
  let labelAt = '';
  const lengths = sequences.map((s: unknown, i) => {
    if (!Array.isArray(s)) fail(where, `sequence ${i} is ${describe(s)}, expected an array.`);
    s.forEach((v: unknown, t) => {
      const at = `sequence ${i}, step ${t}`;
      const w = checkValue(where, v, idsFor(Array.isArray(v) ? v.length : SCALAR), step, at, stepAt);
      if (step === null) [step, stepAt] = [w, at];
    });
    const l: unknown = labels[i];
    if (perStep) {
      if (!Array.isArray(l) || l.length !== s.length) {
        fail(where, `with per-step labels (labelsPerStep), label ${i} must be an array as long as sequence ${i} (${s.length} steps); received ${describe(l)}${Array.isArray(l) ? ` of length ${l.length}` : ''}.`);
      }
      l.forEach((v: unknown, t) => {
        const at = `label ${i}, step ${t}`;
        const w = checkValue(where, v, false, label, at, labelAt);
        if (label === null) [label, labelAt] = [w, at];
      });
    } else {
      const at = `label ${i}`;
      const w = checkValue(where, l, false, label, at, labelAt);
      if (label === null) [label, labelAt] = [w, at];
    }
    return s.length;
  });
  return { lengths, perStep };
}
