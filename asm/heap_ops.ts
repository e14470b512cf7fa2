// Kernels that run directly on the tfjs wasm backend's heap: the module
// imports that backend's memory (src/ops/heap_ops.ts instantiates it with
// it), so tensors are read and written in place, without copies. It must
// never write memory it was not given: no static data, no allocation
// (scripts/build.mjs checks that the module has no data segments and no
// start function).

/**
 * The maskValue-0 step mask: out[s] = 1 when one of the f floats of step s
 * (at x + 4 f s) has a nonzero magnitude (its bits without the sign; NaN
 * and Inf count as nonzero), else 0. A step stops at its first nonzero
 * block of 16 floats, so valid steps cost one block and padding is read
 * whole, 16 floats at a time.
 */
export function nonzeroSteps(x: usize, steps: i32, f: i32, out: usize): void {
  const magnitude = i32x4.splat(0x7fffffff);
  const fb = <usize>f << 2;
  for (let s = 0; s < steps; s++) {
    const p = x + <usize>s * fb;
    let any = false;
    let j = 0;
    for (; j + 16 <= f; j += 16) {
      const q = p + (<usize>j << 2);
      const v = v128.or(v128.or(v128.load(q), v128.load(q, 16)), v128.or(v128.load(q, 32), v128.load(q, 48)));
      if (v128.any_true(v128.and(v, magnitude))) {
        any = true;
        break;
      }
    }
    if (!any) {
      for (; j + 4 <= f; j += 4) {
        if (v128.any_true(v128.and(v128.load(p + (<usize>j << 2)), magnitude))) {
          any = true;
          break;
        }
      }
    }
    if (!any) {
      for (; j < f; j++) {
        if ((load<u32>(p + (<usize>j << 2)) & 0x7fffffff) != 0) {
          any = true;
          break;
        }
      }
    }
    store<u8>(out + <usize>s, any ? 1 : 0);
  }
}
