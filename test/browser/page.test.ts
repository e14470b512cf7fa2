// The mask-visualizer page (web/) in headless Chromium: build it as
// `npm run web` does, type sentences, switch the padding, take a screenshot
// (test/.browser_tmp/page.png), and check every number the page shows
// against the same computation in Node on the same .keras file: the ids
// against padSequences, the mask grids and layer roles against the model,
// the predictions within 1e-5. Also checks that web/bundled/ holds what
// web/bundled_model.ts builds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import * as index from '../../src/index.js';
import { maskRole } from '../../src/models/summary.js';
import { BUNDLED_FILES, DEMO_FILES, demoFromBytes, disposeDemo, encode, parseVocabulary, run, type Demo, type Masque, type ModelFiles, type Side } from '../../web/demo.js';
import { BUNDLED_VOCABULARY, buildBundledModel } from '../../web/bundled_model.js';
import { ARTIFACTS, launchChromium, serveStatic, type StaticServer } from './harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const m: Masque = { ...index, maskRole };
const { padSequences } = index;

interface Shown {
  ids: number[][];
  mask: number[][];
  layers: { name: string; role: string; mask: number[][] | null }[];
  preds: { values: (number | null)[]; maskOff: number[]; same: boolean }[];
  model: string;
  /** Milliseconds since navigation: backend ready, model loaded, first render done. */
  backendMs: number;
  modelMs: number;
  loadMs: number;
  numTensors: number;
}

// Read in the page. A string, not a function: tsx's transform would add
// helpers (__name) that do not exist in the page.
const READ_PAGE = `(() => {
  const grid = (t) => t === null ? null : [...t.querySelectorAll('tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.dataset.value)));
  return {
    ids: grid(document.querySelector('[data-grid=ids]')),
    mask: grid(document.querySelector('[data-grid=mask]')),
    layers: [...document.querySelectorAll('#layers .layer')].map((l) => ({ name: l.dataset.layer, role: l.dataset.role, mask: grid(l.querySelector('[data-grid=layer-mask]')) })),
    preds: [...document.querySelectorAll('#predictions tr[data-pred]')].map((tr) => ({
      values: [...tr.querySelectorAll('td.num:not(.maskoff)')].map((td) => (td.dataset.value === '' ? null : Number(td.dataset.value))),
      maskOff: [...tr.querySelectorAll('td.maskoff')].map((td) => Number(td.dataset.value)),
      same: tr.dataset.same === 'true',
    })),
    model: document.body.dataset.model,
    numTensors: Number(document.body.dataset.numTensors),
    backendMs: Number(document.body.dataset.backendMs),
    modelMs: Number(document.body.dataset.modelMs),
    loadMs: Number(document.body.dataset.loadMs),
  };
})()`;

async function shown(page: Page): Promise<Shown> {
  return (await page.evaluate(READ_PAGE)) as Shown;
}

/** Waits until the page has rendered exactly these options (its input handler is debounced). */
async function settled(page: Page, o: { text: string; maxlen: number; padding: Side }): Promise<void> {
  await page.waitForFunction((want) => {
    const r = (window as unknown as { masqueLastRun?: { text: string; maxlen: number; padding: string } }).masqueLastRun;
    return r !== undefined && r.text === want.text && r.maxlen === want.maxlen && r.padding === want.padding;
  }, o, { timeout: 10_000 });
}

/** Where the page's files are in the repository (dist/web/bundled/ is a copy of web/bundled/; /models/ is models/). */
function localPath(url: string): string {
  return url.startsWith('models/') ? join(root, url) : join(root, 'web', url);
}

/** The same model and vocabulary as the page, loaded in Node from the same files. */
async function nodeDemo(files: ModelFiles): Promise<Demo> {
  return demoFromBytes(m, readFileSync(localPath(files.keras)), readFileSync(localPath(files.vocab)), files.label);
}

/** Whether the demo (`npm run demo`) has saved its model; the page then shows it by default. */
const demoSaved = existsSync(localPath(DEMO_FILES.keras)) && existsSync(localPath(DEMO_FILES.vocab));

test('web/bundled/ holds the model and vocabulary that web/bundled_model.ts builds (run it to refresh them)', async () => {
  const file = await index.loadModel(localPath(BUNDLED_FILES.keras));
  const built = buildBundledModel(index);
  assert.deepEqual(file.weights.map((w) => w.path), built.weights.map((w) => w.path));
  file.getWeights().forEach((w, k) => assert.deepEqual(Array.from(w.dataSync()), Array.from(built.getWeights()[k]!.dataSync()), `weight ${built.weights[k]!.path}`));
  assert.deepEqual(JSON.parse(readFileSync(localPath(BUNDLED_FILES.vocab), 'utf8')), BUNDLED_VOCABULARY);
  assert.deepEqual(file.graphNodes.filter((n) => n.layer.className !== 'InputLayer').map((n) => [n.layer.className, maskRole(n)]), [
    ['Embedding', 'makes'],
    ['Dropout', 'passes'],
    ['LSTM', 'consumes'],
    ['Dense', '-'],
  ]);
  file.dispose();
  built.dispose();
});

test("the page reads the vocabulary JSON as a token list, as the demo's { vocabulary, config }, or as { token: id }", () => {
  const tokens = ['', '[UNK]', 'good', 'bad'];
  const asList = parseVocabulary(m, tokens);
  assert.deepEqual(asList.tokens, tokens);
  assert.deepEqual(encode(asList, 'Good, BAD film!'), [2, 3, 1]);
  // The demo saves the vectorizer's config beside the tokens; the page tokenises with it.
  const demo = parseVocabulary(m, { vocabulary: tokens, config: { standardize: null }, maxlen: 9 });
  assert.deepEqual(encode(demo, 'Good good'), [1, 2], 'standardize: null keeps the case');
  assert.deepEqual(parseVocabulary(m, { '': 0, '[UNK]': 1, good: 2, bad: 3 }).tokens, tokens);
  assert.throws(() => parseVocabulary(m, 'good bad'), /expected a list of tokens/);
});

/** Checks the predictions shown against Node's `run` on the same model, and that padding changed none. */
function checkPredictions(shown: Shown, want: ReturnType<typeof run>): void {
  assert.equal(shown.preds.length, want.predictions.length);
  shown.preds.forEach((p, i) => {
    const w = want.predictions[i]!;
    [w.value, w.otherSide, w.longer, w.alone].forEach((v, k) => {
      assert.ok(v === null ? p.values[k] === null : Math.abs(p.values[k]! - v) <= 1e-5, `prediction ${i}, column ${k}: page ${p.values[k]} vs Node ${v}`);
    });
    assert.ok(w.maxDiff <= 1e-5, `sentence ${i}: in Node, padding changed the prediction by ${w.maxDiff}`);
    assert.equal(p.maskOff.length, w.maskOff === null ? 0 : 2, `sentence ${i}: mask-off columns`);
    p.maskOff.forEach((v, k) => assert.ok(Math.abs(v - w.maskOff![k]!) <= 1e-5, `sentence ${i}, mask off ${k}: page ${v} vs Node ${w.maskOff![k]}`));
    assert.equal(p.same, true, `sentence ${i}: the page says padding changed the prediction`);
  });
}

/** Largest |page - Node| over every prediction shown. */
function maxPredictionDiff(shown: Shown, want: ReturnType<typeof run>): number {
  let d = 0;
  shown.preds.forEach((p, i) => {
    const w = want.predictions[i]!;
    [w.value, w.otherSide, w.longer, w.alone].forEach((v, k) => {
      if (v !== null) d = Math.max(d, Math.abs(p.values[k]! - v));
    });
  });
  return d;
}

// The timeout guards against a hung browser. It covers the whole suite: the
// build, the first run's unpacking of the npm Chromium (5-20 s) and, on a
// busy 2-core machine, WebGL on SwiftShader (30-85 s for the bundle's cases).
describe('mask visualizer page in Chromium', { timeout: 300_000 }, () => {
  let server: StaticServer;
  let browser: Browser | undefined;
  // Launched by the first test (not in `before`), so a missing Chromium
  // counts as failed tests with the harness's message.
  const chrome = async (): Promise<Browser> => (browser ??= await launchChromium());
  const measured: Record<string, unknown> = {};

  before(async () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build_browser.mjs'), '--web'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, `building the page failed:\n${r.stdout}${r.stderr}`);
    server = await serveStatic({ '/models/': join(root, 'models'), '/': join(root, 'dist', 'web') });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'page.json'), JSON.stringify(measured, null, 2));
  });

  /** Opens the page at `query` and waits until it has loaded its model and rendered. */
  async function open(query: string): Promise<{ page: Page; errors: string[] }> {
    const page = await (await chrome()).newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/${query}`);
    await page.waitForSelector('footer[data-state=ready], footer[data-state=error]', { timeout: 30_000 });
    assert.equal(await page.getAttribute('footer', 'data-state'), 'ready', `the page failed: ${await page.textContent('footer')}\n${errors.join('\n')}`);
    return { page, errors };
  }

  test('typing sentences shows the ids, masks and predictions that Node computes, and padding changes no prediction', async () => {
    const { page, errors } = await open('?model=bundled');
    const text = 'What a wonderful film\nthe worst plot, so boring';
    await page.fill('#text', '');
    await page.locator('#text').pressSequentially(text);
    await page.check('input[name=padding][value=pre]');
    await page.fill('#maxlen', '8');
    await settled(page, { text, maxlen: 8, padding: 'pre' });
    mkdirSync(ARTIFACTS, { recursive: true });
    const screenshot = join(ARTIFACTS, 'page.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    const pre = await shown(page);
    assert.equal(pre.model, 'bundled_sentiment');

    const demo = await nodeDemo(BUNDLED_FILES);
    run(m, demo, text, 8, 'pre', 'pre'); // builds the cached tracing model
    const tensors = index.tf.memory().numTensors;
    const want = run(m, demo, text, 8, 'pre', 'pre');
    assert.equal(index.tf.memory().numTensors, tensors, 'run() leaks tensors in Node');
    // The ids are padSequences' rows of the sentences' ids, in Node.
    const padded = padSequences(text.split('\n').map((line) => encode(demo.vocab, line)), { maxlen: 8, padding: 'pre' });
    assert.deepEqual(pre.ids, padded.arraySync());
    padded.dispose();
    assert.deepEqual(pre.ids[0]!.slice(0, 4), [0, 0, 0, 0], 'pre-padding puts the zeros first');
    assert.deepEqual(pre.mask, pre.ids.map((r) => r.map((v) => (v === 0 ? 0 : 1))));
    // Roles and masks after each layer: what Node's model says, and what the bundled model is built to do.
    assert.deepEqual(pre.layers.map((l) => [l.name, l.role]), want.layers.map((l) => [l.name, l.role]));
    assert.deepEqual(pre.layers.map((l) => l.role), ['makes', 'passes', 'consumes', '-']);
    pre.layers.forEach((l, k) => assert.deepEqual(l.mask, want.layers[k]!.mask, `mask after ${l.name}`));
    assert.deepEqual(pre.layers[0]!.mask, pre.mask, 'the Embedding makes the mask of the ids');
    assert.equal(pre.layers[2]!.mask, null, 'no mask after the LSTM');
    checkPredictions(pre, want);
    // The bundled model reads the words: positive first sentence, negative second.
    assert.ok(pre.preds[0]!.values[0]! > 0.5 && pre.preds[1]!.values[0]! < 0.5, `predictions ${pre.preds.map((p) => p.values[0])}`);
    // With the Embedding's mask off, the padding row (not zero in this model) is read as a word:
    // the predictions move away from the masked ones and depend on the padding side.
    pre.preds.forEach((p, i) => {
      const [shown, other] = p.maskOff;
      assert.ok(Math.abs(shown! - other!) > 1e-3, `sentence ${i}: mask off, pre ${shown} vs post ${other} should differ`);
      assert.ok(Math.abs(shown! - p.values[0]!) > 1e-3, `sentence ${i}: mask off ${shown} vs masked ${p.values[0]} should differ`);
    });

    // Switch to post-padding: the grids move, the predictions do not.
    await page.check('input[name=padding][value=post]');
    await settled(page, { text, maxlen: 8, padding: 'post' });
    const post = await shown(page);
    assert.deepEqual(post.ids[0]!.slice(-4), [0, 0, 0, 0], 'post-padding puts the zeros last');
    assert.equal(post.numTensors, pre.numTensors, 'the page leaks tensors between renders');
    post.preds.forEach((p, i) => assert.ok(Math.abs(p.values[0]! - pre.preds[i]!.values[0]!) <= 1e-5, `sentence ${i}: pre ${pre.preds[i]!.values[0]} vs post ${p.values[0]}`));
    checkPredictions(post, run(m, demo, text, 8, 'post', 'pre'));

    assert.ok(pre.loadMs > 0);
    measured['bundled'] = { backendMs: pre.backendMs, modelMs: pre.modelMs, loadMs: pre.loadMs, maxDiffVsNode: maxPredictionDiff(pre, want), ids: pre.ids, predictions: pre.preds };
    console.log(`visualizer: model ${pre.model}, page ready ${pre.loadMs} ms after navigation (backend ${pre.backendMs} ms, model ${pre.modelMs} ms), page vs Node max |diff| ${maxPredictionDiff(pre, want)}, screenshot ${screenshot.slice(root.length)}`);
    assert.deepEqual(errors, []);
    assert.ok(existsSync(screenshot));
    disposeDemo(demo);
    await page.close();
  });

  test(`by default the page shows ${demoSaved ? "the demo's saved model (models/sentiment.keras)" : 'the bundled model (the demo has not saved models/sentiment.keras)'}, with Node's predictions`, async () => {
    const { page, errors } = await open('');
    const files = demoSaved ? DEMO_FILES : BUNDLED_FILES;
    const demo = await nodeDemo(files);
    const got = await shown(page);
    assert.equal(got.model, demo.model.name);
    const o = (await page.evaluate('window.masqueLastRun')) as { text: string; maxlen: number; padding: Side; truncating: Side };
    const want = run(m, demo, o.text, o.maxlen, o.padding, o.truncating);
    assert.deepEqual(got.layers.map((l) => [l.name, l.role]), want.layers.map((l) => [l.name, l.role]));
    checkPredictions(got, want);
    measured['default'] = { model: got.model, backendMs: got.backendMs, modelMs: got.modelMs, loadMs: got.loadMs, maxDiffVsNode: maxPredictionDiff(got, want) };
    console.log(`visualizer default: model ${got.model}, page ready ${got.loadMs} ms after navigation, page vs Node max |diff| ${maxPredictionDiff(got, want)}`);
    assert.deepEqual(errors, []);
    disposeDemo(demo);
    await page.close();
  });
});
