/** npm run examples: runs every example program in examples/ (the seed examples first). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'examples');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !['format.ts', 'seed_layers.ts'].includes(f))
  .sort((a, b) => Number(b.startsWith('seed_')) - Number(a.startsWith('seed_')) || a.localeCompare(b));
for (const f of files) {
  console.log(`\n=== examples/${f}`);
  const mod = (await import(join(dir, f))) as { main?: (log: (s: string) => void) => Promise<void> };
  if (mod.main) await mod.main(console.log);
}
