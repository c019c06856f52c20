// RUN: attn-opt %s --attn-plan-tiles=target=cpu --split-input-file | FileCheck %s --check-prefix=CPU
// RUN: attn-opt %s --attn-plan-tiles=target=sm_80 --split-input-file | FileCheck %s --check-prefix=SM80
// RUN: not attn-opt %s --attn-plan-tiles=target=tpu 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: attn-plan-tiles: unknown target 'tpu' (use cpu, sm_80 or sm_90)

// MHA: 64 query rows of one head against 64 keys per step on the CPU; 128
// rows (32 per warp) on the GPU.
// CPU-LABEL: func @mha
// CPU: tile_plan = #attn.tile_plan<target = cpu, q_block = 64, kv_block = 64, warps = 1, stages = 1>
// SM80-LABEL: func @mha
// SM80: tile_plan = #attn.tile_plan<target = sm_80, q_block = 128, kv_block = 32, warps = 4, stages = 3>
func.func @mha(%q: tensor<?x8x?x64xf16>, %k: tensor<?x8x?x64xf16>, %v: tensor<?x8x?x64xf16>) -> tensor<?x8x?x64xf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16> -> tensor<?x8x?x64xf16>
  return %o : tensor<?x8x?x64xf16>
}

// -----

// GQA with groups of 6: whole groups and whole 16-lane vectors, lcm(6, 16).
// CPU-LABEL: func @gqa6
// CPU: q_block = 48, kv_block = 64
func.func @gqa6(%q: tensor<1x12x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x64xf16>) -> tensor<1x12x?x64xf16> {
  %o = attn.attention %q, %k, %v : tensor<1x12x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16> -> tensor<1x12x?x64xf16>
  return %o : tensor<1x12x?x64xf16>
}

// -----

// Head dim 256 halves the query tile on the GPU.
// SM80-LABEL: func @d256
// SM80: q_block = 64, kv_block = 32, warps = 4
func.func @d256(%q: tensor<1x2x?x256xbf16>, %k: tensor<1x2x?x256xbf16>, %v: tensor<1x2x?x256xbf16>) -> tensor<1x2x?x256xbf16> {
  %o = attn.attention %q, %k, %v : tensor<1x2x?x256xbf16>, tensor<1x2x?x256xbf16>, tensor<1x2x?x256xbf16> -> tensor<1x2x?x256xbf16>
  return %o : tensor<1x2x?x256xbf16>
}

// -----

// A plan given by hand is kept.
// CPU-LABEL: func @pinned
// CPU: q_block = 32, kv_block = 16
func.func @pinned(%q: tensor<1x2x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>) -> tensor<1x2x?x64xf32> {
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = cpu, q_block = 32, kv_block = 16, warps = 1, stages = 1>} : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32> -> tensor<1x2x?x64xf32>
  return %o : tensor<1x2x?x64xf32>
}
