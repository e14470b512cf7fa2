// The mask table of docs/api.md ("Mask behaviour of every layer") checked
// against the code: every layer class src/index.ts exports has exactly one
// row, every row names exported layer classes, and the roles a row lists
// are exactly the roles symbolic calls of that class show
// (test/mask_roles_probes.ts). docs/keras.md points to the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as M from '../src/index.js';
import { PROBES, NOT_PROBED, ROLES, observe, type Role } from './mask_roles_probes.js';

const doc = (f: string): string => readFileSync(fileURLToPath(new URL(`../docs/${f}`, import.meta.url)), 'utf8');
const HEADING = '### Mask behaviour of every layer';

/** The table's rows: class names (backticked in the first column) -> the roles listed. */
function tableRoles(): Map<string, Role[]> {
  const text = doc('api.md');
  const start = text.indexOf(HEADING);
  assert.ok(start >= 0, `docs/api.md has a section "${HEADING}"`);
  const lines = text.slice(start).split('\n');
  const top = lines.findIndex((l) => l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > top && !l.startsWith('|'));
  const rows = lines.slice(top, end < 0 ? undefined : end).filter((l) => l.startsWith('| `'));
  const byName = new Map<string, Role[]>();
  for (const row of rows) {
    const [first, roles] = row.split('|').slice(1, 3).map((c) => c.trim()) as [string, string];
    const listed = roles.split('/').map((r) => (r.trim() === '—' ? 'none' : r.trim())) as Role[];
    for (const r of listed) assert.ok(ROLES.includes(r), `docs/api.md: unknown mask role '${r}' in the row of ${first}`);
    for (const [, name] of first.matchAll(/`([A-Za-z0-9]+)`/g)) {
      assert.ok(!byName.has(name!), `docs/api.md: ${name} has two rows in the mask table`);
      byName.set(name!, listed);
    }
  }
  return byName;
}

/** Every layer class the package exports, by exported name. */
function exportedLayers(): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, v] of Object.entries(M)) {
    if (typeof v === 'function' && (v === M.Layer || (v as { prototype?: unknown }).prototype instanceof M.Layer)) out.set(name, v);
  }
  return out;
}

test('the mask table lists every exported layer class once, and only those', () => {
  const table = tableRoles();
  const exported = exportedLayers();
  assert.deepEqual([...exported.keys()].filter((n) => !table.has(n)), [], 'exported layer classes missing from the mask table of docs/api.md');
  assert.deepEqual([...table.keys()].filter((n) => !exported.has(n)), [], 'names in the mask table that src/index.ts does not export as layer classes');
});

test('each row lists exactly the roles symbolic calls of its classes show', async () => {
  await M.ready();
  const table = tableRoles();
  const exported = exportedLayers();
  const observed = new Map<unknown, Set<Role>>();
  for (const p of PROBES) {
    const cls = exported.get(p.cls);
    assert.ok(cls !== undefined, `probe of an unexported class ${p.cls}`);
    const role = observe(p);
    const listed = table.get(p.cls)!;
    assert.ok(listed.includes(role), `${p.cls} ${p.about}: the call ${role === 'cannot' ? 'raised MASK_NOT_SUPPORTED' : role}, but docs/api.md lists ${listed.join(' / ')}`);
    observed.set(cls, new Set([...(observed.get(cls) ?? []), role]));
  }
  for (const [name, cls] of exported) {
    const listed = table.get(name)!;
    if (NOT_PROBED[name] !== undefined) {
      assert.deepEqual(listed, ['none'], `${name} is not called on masked data (${NOT_PROBED[name]}): its row says —`);
      continue;
    }
    // An alias (GroupedQueryAttention) is the class of its probes.
    const seen = observed.get(cls);
    assert.ok(seen !== undefined, `no probe calls ${name}: add one to test/mask_roles_probes.ts`);
    assert.deepEqual([...seen].sort(), [...listed].sort(), `${name}: docs/api.md lists ${listed.join(' / ')}, the probes show ${[...seen].join(' / ')}`);
  }
});

test('docs/keras.md points to the mask table', () => {
  assert.ok(doc('keras.md').includes('api.md#mask-behaviour-of-every-layer'));
});
