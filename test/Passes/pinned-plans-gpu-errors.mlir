// A pinned GPU tile plan the kernel generator cannot serve is an error
// naming the limit, never a kernel that skips part of the output.
// RUN: attn-opt %s --split-input-file --verify-diagnostics --attn-plan-tiles=target=sm_90 --attn-lower-to-gpu

func.func @warps3(%q: tensor<?x4x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x4x?x64xf16> {
  // expected-error @+1 {{cannot generate its sm_90 kernel: tile_plan warps must be 1, 2, 4 or 8, got 3}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = sm_90, q_block = 96, kv_block = 32, warps = 3, stages = 2>} : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}

// -----
func.func @odd_q(%q: tensor<?x4x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x4x?x64xf16> {
  // expected-error @+1 {{cannot generate its sm_90 kernel: tile_plan q_block must be a multiple of 16 * warps = 32 up to 256, got 40}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = sm_90, q_block = 40, kv_block = 32, warps = 2, stages = 2>} : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}

// -----
func.func @smem(%q: tensor<?x4x?x256xf16>, %k: tensor<?x2x?x256xf16>, %v: tensor<?x2x?x256xf16>) -> tensor<?x4x?x256xf16> {
  // expected-error @+1 {{cannot generate its sm_80 kernel: the plan needs 540672 bytes of shared memory, more than the 166912 a block may use on sm_80; use a smaller q_block, kv_block or fewer stages}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = sm_80, q_block = 256, kv_block = 128, warps = 8, stages = 3>} : tensor<?x4x?x256xf16>, tensor<?x2x?x256xf16>, tensor<?x2x?x256xf16> -> tensor<?x4x?x256xf16>
  return %o : tensor<?x4x?x256xf16>
}

// -----
func.func @kv_odd(%q: tensor<?x4x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x4x?x64xf16> {
  // expected-error @+1 {{cannot generate its sm_90 kernel: tile_plan kv_block must be a multiple of 16 up to 128, got 24}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = sm_90, q_block = 64, kv_block = 24, warps = 4, stages = 2>} : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}

// -----
func.func @group(%q: tensor<?x64x?x64xf16>, %k: tensor<?x1x?x64xf16>, %v: tensor<?x1x?x64xf16>) -> tensor<?x64x?x64xf16> {
  // expected-error @+1 {{cannot generate its sm_90 kernel: tile_plan q_block 32 is smaller than the group of 64 query heads a tile packs}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = sm_90, q_block = 32, kv_block = 32, warps = 2, stages = 2>} : tensor<?x64x?x64xf16>, tensor<?x1x?x64xf16>, tensor<?x1x?x64xf16> -> tensor<?x64x?x64xf16>
  return %o : tensor<?x64x?x64xf16>
}
