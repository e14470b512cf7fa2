/**
 * Checks that demo/tagger/brown.ts and bench/tagger_data.py prepare the Brown
 * tagging task identically: the same word and tag tables, counts, id and
 * label sequences (compared by sha256 digest) and baseline counts, on the
 * full training split and with --train-limit 8000.
 *
 *   npx tsx bench/tagger_check.ts
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { loadTagger, mostFrequentTagBaseline, type TaggerData } from '../demo/tagger/brown.js';

const script = fileURLToPath(new URL('./tagger_data.py', import.meta.url));

/** sha256 of the rows written as 'a,b,c;' per row (as digest() in tagger_data.py). */
function digest(rows: number[][]): string {
  const h = createHash('sha256');
  for (const r of rows) h.update(`${r.join(',')};`);
  return h.digest('hex');
}

function summary(d: TaggerData) {
  return {
    counts: d.counts,
    words: d.words,
    tags: d.tags,
    digests: { trainIds: digest(d.train.ids), trainLabels: digest(d.train.labels), testIds: digest(d.test.ids), testLabels: digest(d.test.labels) },
    baseline: mostFrequentTagBaseline(d),
  };
}

let failed = false;
for (const limit of [undefined, 8000]) {
  const ts = summary(loadTagger(limit === undefined ? {} : { trainLimit: limit }));
  const py = JSON.parse(execFileSync('python3', [script, '--json', ...(limit === undefined ? [] : ['--train-limit', String(limit)])], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  const label = limit === undefined ? 'full training split' : `--train-limit ${limit}`;
  for (const key of Object.keys(ts) as (keyof typeof ts)[]) {
    const same = isDeepStrictEqual(ts[key], py[key]);
    if (!same) {
      failed = true;
      console.log(`${label}: ${key} DIFFERS\n  ts: ${JSON.stringify(ts[key]).slice(0, 400)}\n  py: ${JSON.stringify(py[key]).slice(0, 400)}`);
    }
  }
  const b = ts.baseline;
  console.log(
    `${label}: ${ts.words.length} word ids, ${ts.tags.length} tags, counts ${JSON.stringify(ts.counts)}; ` +
      `baseline by word ${b.byWord.accuracy.toFixed(4)} (${b.byWord.correct}/${b.byWord.total}), by id ${b.byId.accuracy.toFixed(4)} (${b.byId.correct}/${b.byId.total})`,
  );
}
console.log(failed ? 'tagger data check: FAILED' : 'tagger data check: TypeScript and Python agree (tables, counts, id digests, baselines)');
process.exit(failed ? 1 : 0);
