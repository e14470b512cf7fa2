// Vector (f32x4) activations and their derivatives for the recurrent kernel.
// Activation ids: asm/kernel_abi.json (activations).
// Accuracy (measured against float64 on a dense grid): exp within 1.3 ulp on
// [-87, 88], sigmoid within 2 ulp, tanh within 1.1 ulp, all without a bias
// (the mean signed error is below 0.06 ulp). A biased activation shifts every
// step of a recurrence the same way, and long or chaotic sequences add those
// shifts up: an earlier rational tanh that read about 1 ulp low near 0 left
// LSTMs and GRUs 1e-5 from float64 where Keras's float32 is within 1e-6.

import { ACT_RELU, ACT_SIGMOID, ACT_TANH } from './generated/abi';

/**
 * a * b + c, and c - a * b: one fused multiply-add in the relaxed-SIMD build
 * (where the CPU has one; asm/gemm.ts), a rounded multiply and a rounded
 * add in the plain build (the operations, in the order, they always were).
 */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline
function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_nmadd(a, b, c);
  return f32x4.sub(c, f32x4.mul(a, b));
}

/**
 * x clamped to [lo, hi] with pmin/pmax (one minps/maxps each on x86, where
 * min/max need several instructions for -0 and NaN). NaN stays NaN: each
 * compare with NaN is false and keeps x.
 */
@inline
function clamp(x: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmax(f32x4.pmin(x, hi), lo);
}

// exp(x) = 2^n * e^r with n = round(x / ln 2), |r| <= ln2 / 2, and a degree-7
// Taylor polynomial for e^r (its truncation error, 5e-9, is below rounding).
@inline
export function vexp(x0: v128): v128 {
  const x = clamp(x0, f32x4.splat(-87.0), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504)));
  let r = nmadd(n, f32x4.splat(0.693145752), x);
  r = nmadd(n, f32x4.splat(1.42860677e-6), r);
  let p = f32x4.splat(1.0 / 5040.0);
  p = madd(p, r, f32x4.splat(1.0 / 720.0));
  p = madd(p, r, f32x4.splat(1.0 / 120.0));
  p = madd(p, r, f32x4.splat(1.0 / 24.0));
  p = madd(p, r, f32x4.splat(1.0 / 6.0));
  p = madd(p, r, f32x4.splat(0.5));
  p = madd(p, r, f32x4.splat(1.0));
  p = madd(p, r, f32x4.splat(1.0));
  // 2^n from the bits of n + (2^23 + 127): its low mantissa bits are n + 127
  // (n is a whole number in [-126, 127]), shifted into the exponent field.
  const biased = i32x4.sub(f32x4.add(n, f32x4.splat(8388735.0)), i32x4.splat(0x4b000000));
  const scale = i32x4.shl(biased, 23);
  return f32x4.mul(p, scale);
}

@inline
export function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

// tanh in two pieces, chosen per lane: for |x| < 0.7 the odd polynomial
// x + x^3 P(x^2), P of degree 5 fitted to tanh in float64 (relative weights);
// above, 1 - 2 / (e^(2|x|) + 1) with the sign of x put back (no cancellation
// there: the subtracted term is below 0.5). |x| is capped at 10: from 9.01 on
// tanh rounds to exactly 1 in float32 (so 1 - y^2, the derivative the
// backward pass reads, is exactly 0 there, as it is for Math.tanh), and
// e^20 is far from overflow. NaN stays NaN (pmin keeps it, and so does exp).
@inline
export function vtanh(x: v128): v128 {
  const a = f32x4.abs(x);
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(0.0018897645015757848);
  p = madd(p, x2, f32x4.splat(-0.007874556842112378));
  p = madd(p, x2, f32x4.splat(0.021566191964166967));
  p = madd(p, x2, f32x4.splat(-0.05391970935957265));
  p = madd(p, x2, f32x4.splat(0.13332969223317237));
  p = madd(p, x2, f32x4.splat(-0.3333332408346811));
  const small = ASC_FEATURE_RELAXED_SIMD ? madd(f32x4.mul(x, x2), p, x) : f32x4.add(x, f32x4.mul(f32x4.mul(x, x2), p));
  const one = f32x4.splat(1.0);
  const e = vexp(f32x4.mul(f32x4.splat(2.0), f32x4.pmin(a, f32x4.splat(10.0))));
  const big = f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(e, one)));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(a, f32x4.splat(0.7)));
}

/**
 * Flushes subnormal lanes (|x| < 2^-126) to zero. WebAssembly has no
 * flush-to-zero mode, and subnormal operands make x86 SIMD arithmetic
 * 10-100x slower; gradients that vanish through long sequences reach them.
 * (TensorFlow's CPU kernels run with flush-to-zero as well.)
 */
@inline
export function ftz(x: v128): v128 {
  return v128.and(x, f32x4.ge(f32x4.abs(x), f32x4.splat(1.17549435e-38)));
}

/** Applies activation `id` to four lanes. */
@inline
export function vact(id: i32, x: v128): v128 {
  if (id == ACT_TANH) return vtanh(x);
  if (id == ACT_SIGMOID) return vsigmoid(x);
  if (id == ACT_RELU) return f32x4.max(x, f32x4.splat(0.0));
  return x;
}

/** Derivative of activation `id`, written in terms of its output y. */
@inline
export function vdact(id: i32, y: v128): v128 {
  const one = f32x4.splat(1.0);
  if (id == ACT_TANH) return f32x4.sub(one, f32x4.mul(y, y));
  if (id == ACT_SIGMOID) return f32x4.mul(y, f32x4.sub(one, y));
  if (id == ACT_RELU) return v128.and(f32x4.gt(y, f32x4.splat(0.0)), one);
  return one;
}

/** Scalar-call entry used by the accuracy test: out[i] = act(id, x[i]) for n (multiple of 4) values. */
export function applyActivation(id: i32, x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    v128.store(out + (<usize>i << 2), vact(id, v128.load(x + (<usize>i << 2))));
  }
}
