// The kernel's call ABI (asm/kernel_abi.json) reaches both sides of the call
// the same way: the AssemblyScript constants that asm/ reads and the
// TypeScript objects that kernel_call.ts writes are generated from the one
// table (scripts/build.mjs), and this test holds them to it and to each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ACT, H, HEADER_SIZE, KIND, P } from '../../generated/rnn_kernel_abi.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(root + path, 'utf8');

interface Table {
  headerSize: number;
  kinds: Record<string, number>;
  activations: Record<string, number>;
  header: { name: string; index: number; kind: 'scalar' | 'pointer'; doc: string }[];
}
const table = JSON.parse(read('asm/kernel_abi.json')) as Table;

/** The `export const NAME: i32 = value;` lines of the generated AssemblyScript module. */
function asConstants(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of read('asm/generated/abi.ts').matchAll(/^export const (\w+): i32 = (-?\d+);/gm)) {
    assert.ok(!out.has(m[1]!), `${m[1]} is defined twice in asm/generated/abi.ts`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** What each generated module must hold: the table's entries under their names on that side. */
function expected(): { as: Map<string, number>; ts: Map<string, number> } {
  const as = new Map<string, number>([['HEADER_SIZE', table.headerSize]]);
  const ts = new Map<string, number>([['HEADER_SIZE', table.headerSize]]);
  for (const [k, v] of Object.entries(table.kinds)) (as.set(`KIND_${k.toUpperCase()}`, v), ts.set(`KIND.${k}`, v));
  for (const [k, v] of Object.entries(table.activations)) (as.set(`ACT_${k.toUpperCase()}`, v), ts.set(`ACT.${k}`, v));
  for (const e of table.header) {
    const side = e.kind === 'scalar' ? 'H' : 'P';
    as.set(`${side}_${e.name}`, e.index);
    ts.set(`${side}.${e.name}`, e.index);
  }
  return { as, ts };
}

function tsConstants(): Map<string, number> {
  const out = new Map<string, number>([['HEADER_SIZE', HEADER_SIZE]]);
  for (const [side, obj] of Object.entries({ H, P, KIND, ACT })) for (const [k, v] of Object.entries(obj)) out.set(`${side}.${k}`, v);
  return out;
}

test('the header table: every entry a scalar or a pointer with a unique index inside the header, every id unique', () => {
  assert.ok(Number.isInteger(table.headerSize) && table.headerSize > 0);
  const seen = new Map<number, string>();
  const names = new Set<string>();
  for (const e of table.header) {
    assert.ok(e.kind === 'scalar' || e.kind === 'pointer', `${e.name}: kind ${e.kind}`);
    assert.ok(Number.isInteger(e.index) && e.index >= 0 && e.index < table.headerSize, `${e.name}: index ${e.index} outside [0, ${table.headerSize})`);
    assert.ok(!seen.has(e.index), `index ${e.index} is used by ${seen.get(e.index)} and ${e.name}`);
    seen.set(e.index, e.name);
    assert.ok(!names.has(`${e.kind} ${e.name}`), `${e.kind} ${e.name} is listed twice`);
    names.add(`${e.kind} ${e.name}`);
    assert.ok(e.doc.length > 0, `${e.name} has no doc`);
  }
  for (const ids of [table.kinds, table.activations]) assert.equal(new Set(Object.values(ids)).size, Object.keys(ids).length, `ids repeat in ${JSON.stringify(ids)}`);
});

test('the generated AssemblyScript constants and TypeScript objects hold exactly the table, and agree with each other', () => {
  const want = expected();
  const as = asConstants();
  const ts = tsConstants();
  const rebuild = ' (run `node scripts/build.mjs` after editing asm/kernel_abi.json)';
  assert.deepEqual([...as].sort(), [...want.as].sort(), `asm/generated/abi.ts differs from asm/kernel_abi.json${rebuild}`);
  assert.deepEqual([...ts].sort(), [...want.ts].sort(), `src/generated/rnn_kernel_abi.js differs from asm/kernel_abi.json${rebuild}`);
  // Side by side: each AssemblyScript constant against its TypeScript twin.
  for (const [name, v] of ts) {
    const asName = name.replace('.', '_').toUpperCase();
    assert.equal(as.get(asName), v, `${name} = ${v} in TypeScript but ${asName} = ${as.get(asName)} in AssemblyScript`);
  }
  for (const obj of [H, P, KIND, ACT]) assert.ok(Object.isFrozen(obj));
});

test('no hand-written file of asm/ defines header indices, kinds or activation ids of its own', () => {
  for (const name of readdirSync(root + 'asm')) {
    if (!name.endsWith('.ts')) continue;
    const own = [...read(`asm/${name}`).matchAll(/\bconst\s+((?:H|P|KIND|ACT)_\w+)\s*[:=]/g)].map((m) => m[1]);
    assert.deepEqual(own, [], `asm/${name} defines ${own.join(', ')}; they belong in asm/kernel_abi.json`);
  }
});
