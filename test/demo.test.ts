import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../src/index.js';
import { runSentimentDemo } from '../demo/sentiment.js';

test('the main job: the sentiment demo reaches 0.75 held-out accuracy, is padding-invariant, and reloads from .keras', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'masque-demo-'));
  const lines: string[] = [];
  const before = tf.memory().numTensors;
  try {
    const r = await runSentimentDemo({ outDir: dir, verbose: 0, log: (l) => lines.push(l) });
    assert.equal(r.trainSize + r.testSize, 3000);
    assert.ok(r.accuracy >= 0.75, `held-out accuracy ${r.accuracy}`);
    assert.ok(r.paddingDiff <= 1e-5, `padding changed a prediction by ${r.paddingDiff}`);
    assert.ok(r.reloadDiff <= 1e-5, `reloaded model differs by ${r.reloadDiff}`);
    assert.ok(existsSync(r.modelPath) && existsSync(r.vocabPath));
    const vocab = JSON.parse(readFileSync(r.vocabPath, 'utf8')) as { vocabulary: string[] };
    assert.deepEqual(vocab.vocabulary.slice(0, 2), ['', '[UNK]']);
    const text = lines.join('\n');
    assert.match(text, /Held-out accuracy: 0\.\d{4}/);
    assert.match(text, /embedding \(Embedding\).*makes/);
    assert.match(text, /bidirectional \(Bidirectional\).*consumes/);
    assert.equal(tf.memory().numTensors, before, 'the demo leaves no tensors behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
