/**
 * The mask visualizer page: reads the sentences and options, runs `run()`
 * from demo.ts on the browser bundle, and draws the grids. Plain DOM, no
 * framework. The numbers are also in `data-*` attributes (full precision)
 * for the Chromium test.
 */
import * as masque from '../src/browser.js';
import { BUNDLED_FILES, DEMO_FILES, demoFromBytes, disposeDemo, loadDemo, run, type Demo, type LayerTrace, type ModelFiles, type Result, type Row, type Side } from './demo.js';

const $ = <T extends HTMLElement>(sel: string): T => document.querySelector(sel) as T;
const status = $<HTMLElement>('#status');

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** A grid of rows: one table row per sentence, one cell per time step. */
function grid(kind: string, title: string, rows: number[][], cell: (v: number, i: number, t: number) => { text: string; cls: string; tip?: string; word?: string }, labels: string[]): HTMLElement {
  const table = el('table', { className: 'grid' });
  table.dataset['grid'] = kind;
  rows.forEach((r, i) => {
    const tr = el('tr');
    tr.append(el('th', { textContent: labels[i] ?? `row ${i}`, title: labels[i] ?? '' }));
    r.forEach((v, t) => {
      const c = cell(v, i, t);
      const td = el('td', { textContent: c.text, className: c.cls, title: c.tip ?? '' });
      if (c.word !== undefined) td.append(el('small', { textContent: c.word }));
      td.dataset['value'] = String(v);
      tr.append(td);
    });
    table.append(tr);
  });
  return el('div', { className: 'grid-box' }, el('h3', { textContent: title }), table);
}

function shortLabel(r: Row, i: number): string {
  const s = r.sentence.length > 28 ? `${r.sentence.slice(0, 27)}…` : r.sentence;
  return `${i + 1}. ${s}`;
}

function renderTokens(res: Result, demo: Demo): void {
  const labels = res.rows.map(shortLabel);
  const box = $<HTMLElement>('#tokens');
  const words = res.rows.map((r) => r.ids.map((id) => (id === 0 ? '·' : demo.vocab.tokens[id] ?? '?')));
  box.replaceChildren(
    grid('ids', `token ids and words (padded to ${res.maxlen})`, res.rows.map((r) => r.ids), (v, i, t) => ({ text: String(v), cls: v === 0 ? 'pad' : '', tip: words[i]![t], word: words[i]![t] }), labels),
    grid('mask', 'mask (1 = real token, 0 = padding)', res.rows.map((r) => r.mask), (v) => ({ text: String(v), cls: v ? '' : 'off' }), labels),
  );
}

function renderLayers(res: Result): void {
  const labels = res.rows.map(shortLabel);
  const box = $<HTMLElement>('#layers');
  box.replaceChildren(
    ...res.layers.map((l: LayerTrace) => {
      const role = l.role === '-' ? 'none' : l.role;
      const head = el(
        'div',
        {},
        el('div', { className: 'name', textContent: l.name }),
        el('div', { className: 'cls', textContent: l.className }),
        el('span', { className: `role ${role}`, textContent: l.role === '-' ? 'no mask' : l.role }),
        el('div', { className: 'shape', textContent: `output [${l.shape.join(', ')}]` }),
      );
      const body = l.mask === null ? el('p', { className: 'nomask', textContent: 'no mask after this layer' }) : grid('layer-mask', 'mask after this layer', l.mask, (v) => ({ text: String(v), cls: v ? '' : 'off' }), labels);
      const div = el('div', { className: 'layer' }, head, body);
      div.dataset['layer'] = l.name;
      div.dataset['role'] = l.role;
      return div;
    }),
  );
}

function renderPredictions(res: Result, padding: Side, demo: Demo): void {
  const other = padding === 'pre' ? 'post' : 'pre';
  const table = $<HTMLTableElement>('#predictions');
  const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(5));
  const num = (v: number | null, cls: string) => {
    const td = el('td', { className: cls, textContent: fmt(v) });
    td.dataset['value'] = v === null ? '' : String(v);
    return td;
  };
  const heads = ['sentence', `padded ${padding} (shown)`, `padded ${other}`, `padded to ${2 * res.maxlen}`, 'alone, no padding', 'same?'];
  if (demo.unmasked !== null) heads.push(`mask off: ${padding}`, `mask off: ${other}`);
  const head = el('tr', {}, ...heads.map((h) => el('th', { textContent: h })));
  const rows = res.predictions.map((p, i) => {
    const same = p.maxDiff <= 1e-5;
    const tr = el(
      'tr',
      {},
      el('td', { textContent: res.rows[i]!.sentence }),
      ...[p.value, p.otherSide, p.longer, p.alone].map((v) => num(v, 'num')),
      el('td', { className: same ? 'ok' : 'bad', textContent: same ? '✓ same' : `✗ changed by ${p.maxDiff.toExponential(1)}` }),
      ...(p.maskOff === null ? [] : p.maskOff.map((v) => num(v, 'num maskoff'))),
    );
    tr.dataset['pred'] = String(i);
    tr.dataset['same'] = String(same);
    return tr;
  });
  table.replaceChildren(head, ...rows);
  $<HTMLElement>('#maskoff-note').hidden = demo.unmasked === null;
}

function options(): { text: string; maxlen: number; padding: Side; truncating: Side } {
  const checked = (name: string) => (document.querySelector(`input[name=${name}]:checked`) as HTMLInputElement).value as Side;
  const n = Math.round(Number($<HTMLInputElement>('#maxlen').value));
  return { text: $<HTMLTextAreaElement>('#text').value, maxlen: Number.isFinite(n) && n >= 1 ? Math.min(n, 64) : 1, padding: checked('padding'), truncating: checked('truncating') };
}

let renders = 0;

function render(demo: Demo): void {
  const o = options();
  const t0 = performance.now();
  const res = run(masque, demo, o.text, o.maxlen, o.padding, o.truncating);
  renderTokens(res, demo);
  renderLayers(res);
  renderPredictions(res, o.padding, demo);
  renders++;
  document.body.dataset['renders'] = String(renders);
  (window as unknown as { masqueLastRun: unknown }).masqueLastRun = { ...o, renders };
  document.body.dataset['renderMs'] = (performance.now() - t0).toFixed(1);
  document.body.dataset['numTensors'] = String(masque.tf.memory().numTensors);
}

async function fetchBytes(url: string): Promise<Uint8Array | null> {
  try {
    const res = await fetch(url);
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

/**
 * Which model files to try: `?model=bundled` forces the bundled model,
 * `?keras=URL&vocab=URL` loads any other; by default the demo's, then the bundled one.
 */
function candidates(): ModelFiles[] {
  const q = new URL(location.href).searchParams;
  const keras = q.get('keras');
  const vocab = q.get('vocab');
  if (keras !== null && vocab !== null) return [{ keras, vocab, label: keras }];
  return q.get('model') === 'bundled' ? [BUNDLED_FILES] : [DEMO_FILES, BUNDLED_FILES];
}

let demo: Demo | null = null;

/** Shows a newly loaded model and renders with it. */
function useDemo(next: Demo): void {
  const previous = demo;
  demo = next;
  $<HTMLElement>('#model-source').textContent = `Model: ${next.source}.${next.fixedLength !== null ? ` Its input has a fixed length of ${next.fixedLength}.` : ''}`;
  document.body.dataset['model'] = next.model.name;
  const maxlen = $<HTMLInputElement>('#maxlen');
  maxlen.disabled = next.fixedLength !== null;
  if (next.fixedLength !== null) maxlen.value = String(next.fixedLength);
  render(next);
  if (previous !== null && previous !== next) disposeDemo(previous);
}

/** "Your own model": a .keras file and its vocabulary JSON picked from disk. */
async function loadPicked(): Promise<void> {
  const keras = $<HTMLInputElement>('#pick-keras').files?.[0];
  const vocab = $<HTMLInputElement>('#pick-vocab').files?.[0];
  if (keras === undefined || vocab === undefined) return;
  const bytes = async (f: File) => new Uint8Array(await f.arrayBuffer());
  useDemo(await demoFromBytes(masque, await bytes(keras), await bytes(vocab), `${keras.name} with ${vocab.name}`));
}

async function main(): Promise<void> {
  // Fetch the first model's files while the backend starts.
  const files = candidates();
  const early = new Map([files[0]!.keras, files[0]!.vocab].map((url) => [url, fetchBytes(url)]));
  const backend = await masque.ready();
  const backendMs = performance.now();
  const loaded = await loadDemo(masque, (url) => early.get(url) ?? fetchBytes(url), files);
  const modelMs = performance.now();
  useDemo(loaded);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => safely(() => {
      if (demo !== null) render(demo);
    }), 120);
  };
  document.querySelectorAll('textarea, #controls .options input').forEach((e) => e.addEventListener('input', schedule));
  document.querySelectorAll('#pick input').forEach((e) => e.addEventListener('change', () => safely(loadPicked)));
  // Milliseconds since navigation: backend ready, model loaded, first render done.
  const loadMs = performance.now();
  Object.assign(document.body.dataset, { backendMs: backendMs.toFixed(0), modelMs: modelMs.toFixed(0), loadMs: loadMs.toFixed(0) });
  status.dataset['state'] = 'ready';
  status.textContent = `Masque on the ${backend} backend · page ready in ${loadMs.toFixed(0)} ms (backend ${backendMs.toFixed(0)} ms, model loaded ${modelMs.toFixed(0)} ms)`;
}

function safely(fn: () => void | Promise<void>): void {
  Promise.resolve()
    .then(fn)
    .catch((err: unknown) => {
      status.dataset['state'] = 'error';
      status.textContent = `Error: ${err instanceof Error ? err.message : String(err)}`;
      console.error(err);
    });
}

safely(main);
