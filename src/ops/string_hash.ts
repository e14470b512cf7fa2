/**
 * TensorFlow's string hash buckets, which Keras's `Hashing` layer and the
 * OOV ids of its lookup layers use:
 *
 * - `tf.strings.to_hash_bucket_fast(s, n)`: FarmHash's `Fingerprint64` of
 *   the string's UTF-8 bytes, modulo n (unsigned 64-bit);
 * - `tf.strings.to_hash_bucket_strong(s, n, key)`: SipHash-2-4 under the
 *   128-bit key [k0, k1] (Keras's `salt`), modulo n.
 *
 * The hashes come from `farmhashjs` and `siphash` (pure JavaScript, so they
 * run in browsers too); test/fixtures/hashing checks both against Google's
 * own C++ libraries, which TensorFlow compiles in. `farmhashjs` reads Node's
 * global `Buffer`: where there is none (a browser, whatever the bundler),
 * the `buffer` package's stands in for the duration of each hash.
 */
/// <reference path="./siphash.d.ts" />
import { fingerprint64BigInt } from 'farmhashjs';
import SipHash from 'siphash';
import { Buffer as BufferPackage } from 'buffer';
import { MasqueError, describe } from '../errors.js';

const encoder = new TextEncoder();

/** FarmHash's Fingerprint64 of the UTF-8 bytes of `s`. */
export function fingerprint64(s: string): bigint {
  const bytes = encoder.encode(s) as unknown as string;
  const g = globalThis as { Buffer?: unknown };
  if (g.Buffer !== undefined) return fingerprint64BigInt(bytes);
  // Lent for this call only: a lasting global Buffer would tell other code it runs in Node.
  g.Buffer = BufferPackage;
  try {
    return fingerprint64BigInt(bytes);
  } finally {
    delete g.Buffer;
  }
}

/** SipHash-2-4 of the UTF-8 bytes of `s` under the key [k0, k1] (each an unsigned 64-bit integer). */
export function sipHash(key: readonly [bigint, bigint], s: string): bigint {
  const words = key.flatMap((k) => [Number(k & 0xffffffffn), Number(k >> 32n)]);
  const r = SipHash.hash(words, encoder.encode(s));
  return (BigInt(r.h >>> 0) << 32n) | BigInt(r.l >>> 0);
}

/**
 * Keras's `salt`: an integer s (the key [s, s]) or a pair; the pair, or null
 * for none. TensorFlow reads each as an unsigned 64-bit key word, so a
 * negative value wraps around (-1 is 2^64 - 1), as there. Values are limited
 * to JavaScript's exact integers: a larger one (from a Keras config, where
 * JSON reading has already rounded it) is refused rather than hashed with
 * another key.
 */
export function readSalt(v: unknown, where: string, name: string): [number, number] | null {
  if (v === null || v === undefined) return null;
  const ok = (x: unknown): x is number => Number.isSafeInteger(x);
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[1]];
  throw new MasqueError('INVALID_ARGUMENT', `${where}: ${name} must be null, an integer s (the key [s, s]) or a pair of integers, each within +-(2^53 - 1) (JavaScript's exact integers; a larger salt cannot be read exactly from a Keras config); received ${describe(v)}.`);
}

/** The largest bucket count: buckets are int32 ids. */
export const MAX_BUCKETS = 2 ** 31 - 1;

/**
 * A function giving the bucket in [0, buckets) of a string: FarmHash
 * without a salt, SipHash keyed by it with one (TensorFlow's
 * `to_hash_bucket_fast` and `to_hash_bucket_strong`).
 */
export function bucketHasher(buckets: number, salt: readonly [number, number] | null): (s: string) => number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) throw new Error(`internal: bucket count ${buckets} outside [1, 2^31 - 1]`);
  const n = BigInt(buckets);
  if (salt === null) return (s) => Number(fingerprint64(s) % n);
  const key = [BigInt.asUintN(64, BigInt(salt[0])), BigInt.asUintN(64, BigInt(salt[1]))] as const;
  return (s) => Number(sipHash(key, s) % n);
}

/** The bucket of each string (see `bucketHasher`), each distinct string hashed once. */
export function hashBuckets(strings: readonly string[], buckets: number, salt: readonly [number, number] | null): Int32Array {
  const hash = bucketHasher(buckets, salt);
  const cache = new Map<string, number>();
  return Int32Array.from(strings, (s) => {
    let b = cache.get(s);
    if (b === undefined) {
      b = hash(s);
      cache.set(s, b);
    }
    return b;
  });
}

/**
 * The string TensorFlow hashes for a number (`tf.as_string` of an int64;
 * floats are first cut toward zero, as Keras casts them): its decimal
 * digits. A number that is not finite or outside int64 has none.
 */
export function integerString(v: number, where: string): string {
  if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 63) {
    throw new MasqueError('INVALID_INPUT', `${where}: cannot hash ${v}: numbers are hashed as int64 (floats cut toward zero), so each must be finite and within +-2^63.`);
  }
  return BigInt(Math.trunc(v)).toString();
}
