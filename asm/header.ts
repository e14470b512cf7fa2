// The call header: one i32 array in kernel memory that JS fills before each
// call (src/ops/rnn/kernel_call.ts). Its layout, the cell kinds and the
// activation ids are generated from asm/kernel_abi.json, which documents
// every entry; this file reads the header.
export * from './generated/abi';

let HDR: usize = 0;

export function setHeader(hdr: usize): void {
  HDR = hdr;
}

@inline
export function hi(i: i32): i32 {
  return load<i32>(HDR + (<usize>i << 2));
}

@inline
export function hp(i: i32): usize {
  return <usize>load<u32>(HDR + (<usize>i << 2));
}

/** dst[0..u) = src[0..u) * m[0..u) (u a multiple of 4). */
@inline
export function mulRow(dst: usize, src: usize, m: usize, u: i32): void {
  for (let q = 0; q < u; q += 4) {
    const o = <usize>q << 2;
    v128.store(dst + o, f32x4.mul(v128.load(src + o), v128.load(m + o)));
  }
}

/** dst[0..u) += src[0..u) (u a multiple of 4). */
@inline
export function addRow(dst: usize, src: usize, u: i32): void {
  for (let q = 0; q < u; q += 4) {
    const o = <usize>q << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
}
