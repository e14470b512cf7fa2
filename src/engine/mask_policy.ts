/**
 * What a layer that cannot use a mask does when it receives one:
 * 'error' (default) raises MASK_NOT_SUPPORTED, 'warn' drops the mask with a
 * warning once per layer (what Keras 3 does), 'ignore' drops it silently.
 * Models can set their own policy; the innermost model's policy wins.
 */
import { MasqueError, describe } from '../errors.js';

export type MaskPolicy = 'error' | 'warn' | 'ignore';

const POLICIES: readonly MaskPolicy[] = ['error', 'warn', 'ignore'];
let globalPolicy: MaskPolicy = 'error';
const stack: MaskPolicy[] = [];

export function checkPolicy(p: unknown, where: string): MaskPolicy {
  if (!POLICIES.includes(p as MaskPolicy)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: maskPolicy must be one of 'error', 'warn', 'ignore'; received ${describe(p)}.`);
  }
  return p as MaskPolicy;
}

/** Sets the global mask policy; returns the previous one. */
export function setMaskPolicy(policy: MaskPolicy): MaskPolicy {
  const prev = globalPolicy;
  globalPolicy = checkPolicy(policy, 'setMaskPolicy');
  return prev;
}

export function getMaskPolicy(): MaskPolicy {
  return stack.length > 0 ? stack[stack.length - 1]! : globalPolicy;
}

/** Runs `fn` with `policy` in force (used by models with a maskPolicy option). */
export function withMaskPolicy<T>(policy: MaskPolicy | undefined, fn: () => T): T {
  if (policy === undefined) return fn();
  stack.push(policy);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}

/** Warning sink; tests replace it to capture warnings. */
export let warn: (message: string) => void = (m) => console.warn(`masque: ${m}`);
export function setWarningHandler(fn: (message: string) => void): (message: string) => void {
  if (typeof fn !== 'function') throw new MasqueError('INVALID_ARGUMENT', `setWarningHandler: expected a function (message: string) => void; received ${describe(fn)}.`);
  const prev = warn;
  warn = fn;
  return prev;
}
