// Seed 002's MyLayer (examples/seed_my_layer.ts): Embedding + LSTM with the
// mask passed by hand gives [32, 32], unchanged by extra padding.
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('seed 002: MyLayer passes embedding.computeMask(inputs) to the LSTM; output [32, 32], padding-invariant', async () => {
  const lines: string[] = [];
  const mod = (await import('../examples/seed_my_layer.js')) as { main: (log: (s: string) => void) => Promise<void> };
  await mod.main((s) => lines.push(s));
  assert.deepEqual(lines, [
    'output shape: [32, 32]',
    'padded post to length 17: max |difference| = < 1e-6',
    'padded pre to length 17: max |difference| = < 1e-6',
  ]);
});
