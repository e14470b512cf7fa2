/**
 * npm run demo:tagger: trains the Brown part-of-speech tagger (demo/tagger/tagger.ts).
 *
 *   npm run demo:tagger                  full corpus (51,606 training sentences), one epoch
 *   npm run demo:tagger -- --quick       the first 8,000 training sentences
 *   options: --epochs N, --train-limit N, --seed S, --threads N (the recurrent kernel's threads),
 *            --no-relaxed-simd (the kernel's plain build: no fused multiply-adds; demo/relaxed_simd.ts)
 *
 * Exits with 1 when the full run's held-out accuracy is below 0.95.
 */
import { ready, setKernelThreads } from '../src/index.js';
import { runTaggerDemo } from '../demo/tagger/tagger.js';
import { useRelaxedSimd } from '../demo/relaxed_simd.js';

const argv = process.argv.slice(2);
const value = (name: string): number | undefined => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`demo:tagger: ${name} takes a number; received ${argv[i + 1]}`);
  return v;
};
const known = new Set(['--quick', '--epochs', '--train-limit', '--seed', '--threads', '--no-relaxed-simd']);
for (const a of argv) if (a.startsWith('--') && !known.has(a)) throw new Error(`demo:tagger: unknown option ${a} (known: ${[...known].join(', ')})`);
const quick = argv.includes('--quick');

useRelaxedSimd(!argv.includes('--no-relaxed-simd'));
await ready();
const threads = value('--threads');
if (threads !== undefined) setKernelThreads(threads);
const trainLimit = value('--train-limit') ?? (quick ? 8000 : undefined);
const r = await runTaggerDemo({
  epochs: value('--epochs') ?? 1,
  ...(trainLimit === undefined ? {} : { trainLimit }),
  seed: value('--seed') ?? 1234,
});
const full = trainLimit === undefined;
const minutes = r.trainSeconds / 60;
console.log(`Training took ${r.trainSeconds.toFixed(1)} s (${minutes < 2 ? 'under' : 'over'} 2 minutes); held-out accuracy ${r.accuracy.toFixed(4)}${full ? ` (target 0.95: ${r.accuracy >= 0.95 ? 'met' : 'NOT met'})` : ' (part of the corpus)'}.`);
if (full && r.accuracy < 0.95) process.exit(1);
