// Huge CPU tile plans and head dims are errors with the limit, not kernels
// whose buffers exhaust memory.
// RUN: attn-opt %s --split-input-file --verify-diagnostics --attn-plan-tiles=target=cpu --attn-lower-to-cpu

func.func @cpu_huge(%q: tensor<?x4x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>) -> tensor<?x4x?x64xf32> {
  // expected-error @+1 {{cannot generate its cpu kernel: CPU kernels take group, head dims and tile sizes up to 65536, got group 2, Dqk 64, Dv 64, q_block 1000000000, kv_block 64}}
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = cpu, q_block = 1000000000, kv_block = 64, warps = 1, stages = 1>} : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

// -----
func.func @cpu_huge_d(%q: tensor<?x4x?x100000xf32>, %k: tensor<?x2x?x100000xf32>, %v: tensor<?x2x?x100000xf32>) -> tensor<?x4x?x100000xf32> {
  // expected-error @+1 {{cannot generate its cpu kernel: CPU kernels take group, head dims and tile sizes up to 65536, got group 2, Dqk 100000, Dv 100000, q_block 64, kv_block 64}}
  %o = attn.attention %q, %k, %v : tensor<?x4x?x100000xf32>, tensor<?x2x?x100000xf32>, tensor<?x2x?x100000xf32> -> tensor<?x4x?x100000xf32>
  return %o : tensor<?x4x?x100000xf32>
}
