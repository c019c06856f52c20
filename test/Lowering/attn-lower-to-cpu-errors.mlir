// RUN: attn-opt %s --split-input-file --attn-lower-to-cpu --verify-diagnostics

func.func @no_plan(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{has no tile plan: run attn-plan-tiles first}}
  %o = attn.attention %q, %k, %v : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

func.func @gpu_plan(%q: tensor<1x1x4x64xf16>, %k: tensor<1x1x4x64xf16>, %v: tensor<1x1x4x64xf16>) -> tensor<1x1x4x64xf16> {
  // expected-error @+1 {{attn-lower-to-cpu needs a CPU tile plan, got sm_80}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = sm_80, q_block = 64, kv_block = 64, warps = 4, stages = 2>} : tensor<1x1x4x64xf16>, tensor<1x1x4x64xf16>, tensor<1x1x4x64xf16> -> tensor<1x1x4x64xf16>
  return %o : tensor<1x1x4x64xf16>
}

// -----

func.func @f64(%q: tensor<1x1x4x8xf64>, %k: tensor<1x1x4x8xf64>, %v: tensor<1x1x4x8xf64>) -> tensor<1x1x4x8xf64> {
  // expected-error @+1 {{fused kernels take f16, bf16 or f32 (they accumulate in f32), got 'f64'; f64 attention runs on the reference}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = cpu, q_block = 64, kv_block = 64, warps = 1, stages = 1>} : tensor<1x1x4x8xf64>, tensor<1x1x4x8xf64>, tensor<1x1x4x8xf64> -> tensor<1x1x4x8xf64>
  return %o : tensor<1x1x4x8xf64>
}

// -----

func.func @dynamic_head_dim(%q: tensor<1x1x4x?xf32>, %k: tensor<1x1x4x?xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{kernels are specialised on head counts and head dims, which must be static}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = cpu, q_block = 64, kv_block = 64, warps = 1, stages = 1>} : tensor<1x1x4x?xf32>, tensor<1x1x4x?xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

// A pinned plan of several positions per tile: each position has its own
// window, so the fused kernel takes one.
func.func @window_branch_positions(%q: tensor<1x8x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>, %idx: tensor<1x2x?x16xi32>) -> (tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>) {
  // expected-error @+1 {{cannot generate its cpu kernel: a fused window branch takes one position per tile: q_block must be the 4 heads of a tile, got 16}}
  %o, %w = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x?x16xi32>) {block_sizes = array<i64: 1, 64>, causal, window_branch = array<i64: 511, -1>, tile_plan = #attn.tile_plan<target = cpu, q_block = 16, kv_block = 64, warps = 1, stages = 1>} : tensor<1x8x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32> -> tensor<1x8x?x64xf32> window tensor<1x8x?x64xf32>
  return %o, %w : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>
}
