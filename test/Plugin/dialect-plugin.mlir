// The upstream mlir-opt loads the dialect as a plugin (both link the one
// libMLIR.so), parses and prints it, and runs its canonicalization patterns.
// RUN: upstream-mlir-opt %s --load-dialect-plugin=%attn_lib/AttnPlugin.so --canonicalize | FileCheck %s
// RUN: not upstream-mlir-opt %s 2>&1 | FileCheck %s --check-prefix=NOPLUGIN

// NOPLUGIN: Dialect `attn' not found

// CHECK-LABEL: func @plugin
// CHECK: attn.attention %arg0, %arg1, %arg2 {causal, window = array<i64: 15, -1>} : tensor<1x4x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16> -> tensor<1x4x?x64xf16>
func.func @plugin(%q: tensor<1x4x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x64xf16>) -> tensor<1x4x?x64xf16> {
  %o, %lse = attn.attention %q, %k, %v {causal, window = array<i64: 15, 3>} : tensor<1x4x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16> -> tensor<1x4x?x64xf16>, tensor<1x4x?xf32>
  return %o : tensor<1x4x?x64xf16>
}
