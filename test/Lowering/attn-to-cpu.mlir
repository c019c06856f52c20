// The whole CPU pipeline: everything ends in the LLVM dialect, with the
// parallel loop on OpenMP threads.
// RUN: attn-opt %s --attn-to-cpu | FileCheck %s

// CHECK-NOT: attn.attention
// CHECK-NOT: memref.
// CHECK-NOT: scf.
// CHECK-LABEL: llvm.func @llama_block
// CHECK: llvm.call @attn_cpu_f16_d128_g4_causal_q64k64
// CHECK-LABEL: llvm.func @attn_cpu_f16_d128_g4_causal_q64k64
// CHECK: omp.parallel
// CHECK: omp.wsloop schedule(dynamic = %{{.*}} : i64)
// CHECK: omp.loop_nest {{.*}} collapse(3)
// CHECK: llvm.intr.fmuladd{{.*}} vector<16xf32>
func.func @llama_block(%q: tensor<?x32x?x128xf16>, %k: tensor<?x8x?x128xf16>, %v: tensor<?x8x?x128xf16>) -> tensor<?x32x?x128xf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<?x32x?x128xf16>, tensor<?x8x?x128xf16>, tensor<?x8x?x128xf16> -> tensor<?x32x?x128xf16>
  return %o : tensor<?x32x?x128xf16>
}
