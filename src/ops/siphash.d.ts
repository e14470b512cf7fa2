// Types for the `siphash` package (SipHash-2-4, pure JavaScript, CommonJS, no types of its own).
declare module 'siphash' {
  const SipHash: {
    /** SipHash-2-4 of `message` under a 128-bit key given as four little-endian 32-bit words; the 64-bit result as halves. */
    hash(key: ArrayLike<number>, message: Uint8Array | string): { h: number; l: number };
  };
  export default SipHash;
}
