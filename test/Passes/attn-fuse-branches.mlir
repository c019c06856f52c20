// attn-fuse-branches: a block-sparse and a windowed attention of the same
// operands and attributes become one attention with a window branch; pairs
// that differ in anything else, or whose fusion would break dominance, stay.
// RUN: attn-opt %s --attn-fuse-branches --split-input-file | FileCheck %s
// Idempotent: a second run finds nothing more to fuse.
// RUN: attn-opt %s --attn-fuse-branches --attn-fuse-branches --split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-fuse-branches=max-queries=100 --split-input-file | FileCheck %s --check-prefix=MAX100

// NSA's selected and window branches (as attn-decompose leaves them), with
// a dynamic query length: fused below 16 queries (decode), the pair from
// there (prefill), chosen at run time.
// CHECK-LABEL: func.func @nsa_branches
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[FEW:.*]] = arith.cmpi ult, %[[N]], %c16
// CHECK: %[[R:.*]]:2 = scf.if %[[FEW]]
// CHECK: %[[S:.*]], %[[W:.*]] = attn.attention %arg0, %arg1, %arg2 kv_lengths(%arg4 : tensor<?xi64>) blocks(%arg3 : tensor<?x2x?x16xi32>) {alignment = #attn.alignment<bottom_right>, block_sizes = array<i64: 1, 64>, causal, scale = 1.250000e-01 : f64, window_branch = array<i64: 511, -1>} : {{.*}} -> tensor<?x8x?x64xf32> window tensor<?x8x?x64xf32>
// CHECK: scf.yield %[[S]], %[[W]]
// CHECK: } else {
// CHECK: %[[S2:.*]] = attn.attention {{.*}} blocks(
// CHECK: %[[W2:.*]] = attn.attention {{.*}} window = array<i64: 511, -1>
// CHECK: scf.yield %[[S2]], %[[W2]]
// CHECK-NOT: attn.attention
// CHECK: arith.addf %[[R]]#0, %[[R]]#1
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

// Prefill with a static length (77 queries): the pair stays, unless
// max-queries is above it.
// CHECK-LABEL: func.func @static_prefill
// CHECK-NOT: window_branch
// MAX100-LABEL: func.func @static_prefill
// MAX100: window_branch = array<i64: 63, -1>
func.func @static_prefill(%q: tensor<2x4x77x16xf32>, %k: tensor<2x2x77x16xf32>, %v: tensor<2x2x77x16xf32>, %idx: tensor<2x2x77x3xi32>) -> (tensor<2x4x77x16xf32>, tensor<2x4x77x16xf32>) {
  %s = attn.attention %q, %k, %v blocks(%idx : tensor<2x2x77x3xi32>) {block_sizes = array<i64: 1, 16>, causal} : tensor<2x4x77x16xf32>, tensor<2x2x77x16xf32>, tensor<2x2x77x16xf32> -> tensor<2x4x77x16xf32>
  %w = attn.attention %q, %k, %v {causal, window = array<i64: 63, -1>} : tensor<2x4x77x16xf32>, tensor<2x2x77x16xf32>, tensor<2x2x77x16xf32> -> tensor<2x4x77x16xf32>
  return %s, %w : tensor<2x4x77x16xf32>, tensor<2x4x77x16xf32>
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
