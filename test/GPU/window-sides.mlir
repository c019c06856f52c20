// Window sides are i64 in the op but positions are i32 in GPU kernels: a
// side too large to exclude any key (beyond 2^30, GpuTileLayout) becomes
// unbounded (-1) in the kernel, never truncated to 32 bits (2^32 + 1 read as
// 1 before, 2^31 as a negative side).
// RUN: attn-opt %s --attn-plan-tiles=target=sm_90 --attn-lower-to-gpu | FileCheck %s

// CHECK-DAG: gpu.module @attn_sm_90_f16_d64_g2_winm1xm1_q
// CHECK-DAG: gpu.module @attn_sm_90_f16_d64_g2_winm1x5_q
// CHECK-DAG: gpu.module @attn_sm_90_f16_d64_g2_win1073741824x5_q
func.func @beyond_i32(%q: tensor<?x4x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x4x?x64xf16> {
  %o = attn.attention %q, %k, %v {window = array<i64: 4294967297, 2147483648>} : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}
func.func @beyond_positions(%q: tensor<?x4x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x4x?x64xf16> {
  %o = attn.attention %q, %k, %v {window = array<i64: 1073741825, 5>} : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}
func.func @at_limit(%q: tensor<?x4x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x4x?x64xf16> {
  %o = attn.attention %q, %k, %v {window = array<i64: 1073741824, 5>} : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}
