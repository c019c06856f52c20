// attn-sparsify reuse=2: the selection of layer 0 serves layer 1, layer 2
// computes its own (DELTA / LessIsMore-style reuse across layers).
// RUN: attn-opt %s --attn-sparsify="policy=quest block=16 top-k=4 reuse=2" | FileCheck %s
// CHECK-LABEL: func @three_layers
// CHECK: %[[S0:.*]] = attn.select_blocks %arg0, %arg1
// CHECK: %[[O0:.*]] = attn.attention %arg0, %arg1, %arg2 blocks(%[[S0]]
// CHECK-NOT: attn.select_blocks %[[O0]]
// CHECK: %[[O1:.*]] = attn.attention %[[O0]], %arg1, %arg2 blocks(%[[S0]]
// CHECK: %[[S2:.*]] = attn.select_blocks %[[O1]], %arg1
// CHECK: attn.attention %[[O1]], %arg1, %arg2 blocks(%[[S2]]
func.func @three_layers(%q: tensor<1x4x1x64xf32>, %k: tensor<1x4x512x64xf32>, %v: tensor<1x4x512x64xf32>) -> tensor<1x4x1x64xf32> {
  %o0 = attn.attention %q, %k, %v {causal, alignment = #attn.alignment<bottom_right>} : tensor<1x4x1x64xf32>, tensor<1x4x512x64xf32>, tensor<1x4x512x64xf32> -> tensor<1x4x1x64xf32>
  %o1 = attn.attention %o0, %k, %v {causal, alignment = #attn.alignment<bottom_right>} : tensor<1x4x1x64xf32>, tensor<1x4x512x64xf32>, tensor<1x4x512x64xf32> -> tensor<1x4x1x64xf32>
  %o2 = attn.attention %o1, %k, %v {causal, alignment = #attn.alignment<bottom_right>} : tensor<1x4x1x64xf32>, tensor<1x4x512x64xf32>, tensor<1x4x512x64xf32> -> tensor<1x4x1x64xf32>
  return %o2 : tensor<1x4x1x64xf32>
}
