// NSA's selected and window branches fused (attn-fuse-branches) on the CPU:
// one kernel with two outputs, one position per task, keys along the lanes.
// K is transposed for the listed blocks and for every query's window; each
// task flags its blocks (1 listed, 2 in its window) and scores each flagged
// block once, feeding the window's softmax state (masked to the window on
// the way) and then the list's.
// RUN: attn-opt %s --attn-plan-tiles=target=cpu --attn-lower-to-cpu | FileCheck %s

// CHECK: func.func @branches
// CHECK: call @[[K:attn_cpu_f32_d64_g4_causal_bottom_sparse1x64kv_andwin511xm1_q4k64_[0-9a-z]+]](%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[OUT:.*]], %[[WIN:.*]]) :
// CHECK: %[[O:.*]] = bufferization.to_tensor
// CHECK: %[[W:.*]] = bufferization.to_tensor
// CHECK: return %[[O]], %[[W]]

// CHECK: func.func private @[[K]]
// The window blocks of each (batch, key head) are transposed too.
// CHECK: scf.parallel
// CHECK: memref.store %c1_i8
// CHECK: memref.store %c1_i8
// The tasks: a block in the window gets flag 2 on top of the list's 1.
// CHECK: scf.parallel
// CHECK: arith.ori %{{.*}}, %c2_i8
// Scored once, then the window's state if flagged 2, the list's if 1.
// CHECK: arith.andi %{{.*}}, %c2_i8
// CHECK: scf.if
// CHECK: arith.andi %{{.*}}, %c1_i8
// CHECK: scf.if
func.func @branches(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>, %idx: tensor<?x2x?x16xi32>) -> (tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>) {
  %o, %w = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x16xi32>) {block_sizes = array<i64: 1, 64>, causal, alignment = #attn.alignment<bottom_right>, window_branch = array<i64: 511, -1>} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32> window tensor<?x8x?x64xf32>
  return %o, %w : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>
}
