// attn-fuse-branches: a block-sparse and a windowed attention of the same
// operands and attributes become one attention with a window branch; pairs
// that differ in anything else, or whose fusion would break dominance, stay.
// RUN: attn-opt %s --attn-fuse-branches --split-input-file | FileCheck %s

// NSA's selected and window branches (as attn-decompose leaves them).
// CHECK-LABEL: func.func @nsa_branches
// CHECK: %[[S:.*]], %[[W:.*]] = attn.attention %arg0, %arg1, %arg2 kv_lengths(%arg4 : tensor<?xi64>) blocks(%arg3 : tensor<?x2x?x16xi32>) {alignment = #attn.alignment<bottom_right>, block_sizes = array<i64: 1, 64>, causal, scale = 1.250000e-01 : f64, window_branch = array<i64: 511, -1>} : {{.*}} -> tensor<?x8x?x64xf32> window tensor<?x8x?x64xf32>
// CHECK-NOT: attn.attention
// CHECK: arith.addf %[[S]], %[[W]]
func.func @nsa_branches(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>, %idx: tensor<?x2x?x16xi32>, %len: tensor<?xi64>) -> tensor<?x8x?x64xf32> {
  %s = attn.attention %q, %k, %v kv_lengths(%len : tensor<?xi64>) blocks(%idx : tensor<?x2x?x16xi32>) {block_sizes = array<i64: 1, 64>, causal, alignment = #attn.alignment<bottom_right>, scale = 0.125 : f64} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  %w = attn.attention %q, %k, %v kv_lengths(%len : tensor<?xi64>) {window = array<i64: 511, -1>, causal, alignment = #attn.alignment<bottom_right>, scale = 0.125 : f64} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  %sum = arith.addf %s, %w : tensor<?x8x?x64xf32>
  return %sum : tensor<?x8x?x64xf32>
}

// -----

// The window first, its lse-free output used after the block-sparse one:
// the fused op takes the later position. The block-sparse lse is kept.
// CHECK-LABEL: func.func @window_first
// CHECK: %{{.*}}, %{{.*}}, %{{.*}} = attn.attention {{.*}} window_branch = array<i64: 7, 0>{{.*}} -> tensor<1x4x9x16xf16>, tensor<1x4x9xf32> window tensor<1x4x9x16xf16>
func.func @window_first(%q: tensor<1x4x9x16xf16>, %k: tensor<1x2x9x16xf16>, %v: tensor<1x2x9x16xf16>, %idx: tensor<1x2x9x3xi32>) -> (tensor<1x4x9x16xf16>, tensor<1x4x9xf32>, tensor<1x4x9x16xf16>) {
  %w = attn.attention %q, %k, %v {window = array<i64: 7, 0>} : tensor<1x4x9x16xf16>, tensor<1x2x9x16xf16>, tensor<1x2x9x16xf16> -> tensor<1x4x9x16xf16>
  %s, %l = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x9x3xi32>) {block_sizes = array<i64: 1, 4>} : tensor<1x4x9x16xf16>, tensor<1x2x9x16xf16>, tensor<1x2x9x16xf16> -> tensor<1x4x9x16xf16>, tensor<1x4x9xf32>
  return %s, %l, %w : tensor<1x4x9x16xf16>, tensor<1x4x9xf32>, tensor<1x4x9x16xf16>
}

// -----

// Left alone: a different scale, a different key, a window with an lse and
// a tile plan.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: window_branch
func.func @not_fused(%q: tensor<1x4x9x16xf32>, %k: tensor<1x2x9x16xf32>, %k2: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x16xf32>, %idx: tensor<1x2x9x3xi32>) -> (tensor<1x4x9x16xf32>, tensor<1x4x9x16xf32>, tensor<1x4x9x16xf32>, tensor<1x4x9x16xf32>, tensor<1x4x9xf32>, tensor<1x4x9x16xf32>) {
  %s = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x9x3xi32>) {block_sizes = array<i64: 1, 4>, causal} : tensor<1x4x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x9x16xf32>
  %w1 = attn.attention %q, %k, %v {causal, window = array<i64: 3, -1>, scale = 0.5 : f64} : tensor<1x4x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x9x16xf32>
  %w2 = attn.attention %q, %k2, %v {causal, window = array<i64: 3, -1>} : tensor<1x4x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x9x16xf32>
  %w3, %l3 = attn.attention %q, %k, %v {causal, window = array<i64: 3, -1>} : tensor<1x4x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x9x16xf32>, tensor<1x4x9xf32>
  %w4 = attn.attention %q, %k, %v {causal, window = array<i64: 3, -1>, tile_plan = #attn.tile_plan<target = cpu, q_block = 64, kv_block = 64, warps = 1, stages = 1>} : tensor<1x4x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x9x16xf32>
  return %s, %w1, %w2, %w3, %l3, %w4 : tensor<1x4x9x16xf32>, tensor<1x4x9x16xf32>, tensor<1x4x9x16xf32>, tensor<1x4x9x16xf32>, tensor<1x4x9xf32>, tensor<1x4x9x16xf32>
}

// -----

// Left alone: the window's result is used before the block-sparse op, where
// the fused op would have to go.
// CHECK-LABEL: func.func @used_between
// CHECK-NOT: window_branch
func.func @used_between(%q: tensor<1x4x9x16xf32>, %k: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x16xf32>, %idx: tensor<1x2x9x3xi32>) -> (tensor<1x4x9x16xf32>, tensor<1x4x9x16xf32>) {
  %w = attn.attention %q, %k, %v {causal, window = array<i64: 2, -1>} : tensor<1x4x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x9x16xf32>
  %use = arith.negf %w : tensor<1x4x9x16xf32>
  %s = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x9x3xi32>) {block_sizes = array<i64: 1, 4>, causal} : tensor<1x4x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x9x16xf32>
  return %s, %use : tensor<1x4x9x16xf32>, tensor<1x4x9x16xf32>
}
