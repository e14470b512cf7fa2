// The two builds of the recurrent kernel (asm/gemm.ts, scripts/build.mjs):
// relaxed SIMD (fused multiply-adds in its products) where the engine has it,
// plain SIMD otherwise or after setRelaxedSimd(false). Node 20 compiles
// relaxed SIMD only with --experimental-wasm-relaxed-simd, so the relaxed
// build is tested in child processes started with that flag (Node 22 and
// later have relaxed SIMD on, and may not know the flag).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ready, relaxedSimd, setRelaxedSimd, MasqueError } from '../src/index.js';
import { base64Bytes } from '../src/runtime/wasm_module.js';
import { rnnKernelRelaxedWasmBase64 } from '../src/generated/rnn_kernel_wasm.js';

const program = fileURLToPath(new URL('./fixtures/programs/relaxed_simd.ts', import.meta.url));
const FLAG = '--experimental-wasm-relaxed-simd';
const FUSED = -(2 ** -46);

interface Report {
  relaxed: boolean;
  calling: number;
  perRow: number[];
  split: number;
  out: number[];
  worstCell: number;
  worstCellCase: string;
  activations: { errors: Record<string, { worst: number; meanSigned: number }>; tanhSpecial: number[]; sigmoidSpecial: number[] };
  switchError: string | null;
}

function run(mode: 'auto' | 'off'): Report {
  let r = spawnSync(process.execPath, [FLAG, '--import', 'tsx', program, mode], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 && /bad option|unrecognized/i.test(r.stderr)) {
    r = spawnSync(process.execPath, ['--import', 'tsx', program, mode], { encoding: 'utf8', timeout: 120_000 });
  }
  assert.equal(r.status, 0, r.stderr.slice(0, 2000));
  return JSON.parse(r.stdout) as Report;
}

test('setRelaxedSimd: a non-boolean is INVALID_ARGUMENT; in this process relaxedSimd() follows what the engine validates', async () => {
  await ready();
  for (const bad of ['yes', 1, null]) {
    assert.throws(() => setRelaxedSimd(bad as unknown as boolean), (e: unknown) => e instanceof MasqueError && e.code === 'INVALID_ARGUMENT' && /expected true, false or nothing/.test(e.message));
  }
  const supported = WebAssembly.validate(base64Bytes(rnnKernelRelaxedWasmBase64) as BufferSource);
  assert.equal(relaxedSimd(), supported);
  // Asking for the build already in use does not throw.
  assert.equal(setRelaxedSimd(supported), supported);
});

test('the relaxed build: fused products on the calling thread and on helpers, the same outputs as the plain build within 1e-5, every recurrent cell against tfjs\'s ops, activations within 2 ulp, fixed once loaded', () => {
  const on = run('auto');
  const off = run('off');
  assert.equal(on.relaxed, true, 'with the flag (or on Node 22+), the relaxed build is used by default');
  assert.equal(off.relaxed, false, 'setRelaxedSimd(false) before loading keeps the plain build');
  // Plain SIMD rounds the product first: exactly 0, on every thread.
  assert.equal(off.calling, 0);
  assert.ok(off.split >= 1 && on.split >= 1, 'the Dense-shaped product was split with a helper thread');
  // Relaxed SIMD gives the fused -2^-46 where the CPU has a fused multiply-add, else 0;
  // helpers use the calling thread's build in both cases.
  assert.ok(on.calling === FUSED || on.calling === 0, `relaxed build gave ${on.calling}`);
  assert.deepEqual([...new Set(on.perRow)], [on.calling], 'every row of the split product (calling thread and helper) used the relaxed build');
  assert.deepEqual([...new Set(off.perRow)], [0], 'every row of the split product (calling thread and helper) used the plain build');
  if (on.calling !== FUSED) console.log('# this CPU has no fused multiply-add: relaxed and plain builds round alike');
  // A BiLSTM tagger's softmax outputs agree to float rounding.
  assert.equal(on.out.length, off.out.length);
  let worst = 0;
  for (let i = 0; i < on.out.length; i++) worst = Math.max(worst, Math.abs(on.out[i]! - off.out[i]!));
  assert.ok(worst <= 1e-5, `relaxed and plain builds differ by ${worst}`);
  // Every cell kind and activation pair against tfjs's ops, gradients included,
  // relative to each tensor's scale (value by value: src/ops/rnn/fused.test.ts, plain build).
  assert.ok(on.worstCell <= 1e-5, `relaxed build against tfjs's ops: ${on.worstCell} (${on.worstCellCase})`);
  assert.ok(off.worstCell <= 1e-5, `plain build against tfjs's ops: ${off.worstCell} (${off.worstCellCase})`);
  // Sigmoid and tanh (their exp and polynomials use fused multiply-adds in the relaxed build):
  // within 2 ulp of float64 and unbiased, special values as in the plain build.
  for (const r of [on, off]) {
    for (const [name, a] of Object.entries(r.activations.errors)) {
      assert.ok(a.worst <= 2, `${r.relaxed ? 'relaxed' : 'plain'} ${name}: ${a.worst.toFixed(2)} ulp`);
      assert.ok(Math.abs(a.meanSigned) <= 0.1, `${r.relaxed ? 'relaxed' : 'plain'} ${name}: mean signed error ${a.meanSigned.toFixed(3)} ulp`);
    }
  }
  assert.deepEqual(on.activations.tanhSpecial, off.activations.tanhSpecial);
  assert.deepEqual(on.activations.sigmoidSpecial, off.activations.sigmoidSpecial);
  // Once loaded, the build cannot change.
  assert.equal(on.switchError, 'INVALID_ARGUMENT');
  assert.equal(off.switchError, 'INVALID_ARGUMENT');
});
