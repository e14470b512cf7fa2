import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasqueError } from '../src/errors.js';
import { loadSentimentSentences } from '../demo/sentiment_data.js';

test('loads the 3,000 UCI sentences, 1,500 positive, 1,000 per source', () => {
  const rows = loadSentimentSentences();
  assert.equal(rows.length, 3000);
  assert.equal(rows.filter((r) => r.label === 1).length, 1500);
  for (const source of ['amazon', 'imdb', 'yelp'] as const) {
    const own = rows.filter((r) => r.source === source);
    assert.equal(own.length, 1000);
    assert.equal(own.filter((r) => r.label === 1).length, 500);
  }
  assert.ok(rows.every((r) => r.text.trim().length > 0 && (r.label === 0 || r.label === 1)));
  assert.deepEqual(rows[1], { text: 'Good case, Excellent value.', label: 1, source: 'amazon' });
});

test('a missing or malformed folder gives a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'masque-sentiment-'));
  try {
    assert.throws(() => loadSentimentSentences(dir), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && e.message.includes('amazon.json'));
    writeFileSync(join(dir, 'amazon.json'), JSON.stringify([{ text: 'ok', class: 2 }]));
    assert.throws(() => loadSentimentSentences(dir), (e: unknown) => e instanceof MasqueError && e.code === 'CORRUPT_FILE' && e.message.includes('entry 0'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
