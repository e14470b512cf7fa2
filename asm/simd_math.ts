// Vector (f32x4) activations and their derivatives for the recurrent kernel.
// Activation ids: asm/kernel_abi.json (activations).
// Accuracy: exp has a relative error of about 2e-7 on [-87, 88]; tanh (a
// rational approximation) an absolute error below 4e-7.

import { ACT_RELU, ACT_SIGMOID, ACT_TANH } from './generated/abi';

/**
 * x clamped to [lo, hi] with pmin/pmax (one minps/maxps each on x86, where
 * min/max need several instructions for -0 and NaN). NaN stays NaN: each
 * compare with NaN is false and keeps x.
 */
@inline
function clamp(x: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmax(f32x4.pmin(x, hi), lo);
}

// exp(x) = 2^n * e^r with n = round(x / ln 2), |r| <= ln2 / 2, and a degree-6
// Taylor polynomial for e^r.
@inline
export function vexp(x0: v128): v128 {
  const x = clamp(x0, f32x4.splat(-87.0), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693145752)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(1.42860677e-6)));
  let p = f32x4.splat(1.0 / 720.0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
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

// tanh as an odd rational function of degree 13/12 on [-7.905, 7.905]
// (saturated outside; the coefficients are the well-known minimax fit used by
// Eigen and XNNPACK-style kernels).
@inline
export function vtanh(x0: v128): v128 {
  const c = f32x4.splat(7.90531110763549805);
  const x = clamp(x0, f32x4.neg(c), c);
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(p, x);
  let q = f32x4.splat(1.19825839466702e-6);
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1.18534705686654e-4));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(2.26843463243900e-3));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(4.89352518554385e-3));
  return f32x4.div(p, q);
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
