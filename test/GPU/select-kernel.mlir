// RUN: attn-opt %s --attn-lower-to-gpu=chip=sm_90 | FileCheck %s
// RUN: not attn-opt %s --attn-lower-to-gpu 2>&1 | FileCheck %s --check-prefix=NOCHIP

// attn.select_blocks gets a selection kernel (docs/sparse.md): the
// attention over the compressed keys (its output: NSA's compressed
// branch), then a second pass over the same key tiles that turns scores
// into probabilities, scores the blocks each tile completes and merges
// them into each position's top k in shared memory, then writes the lists.

// (Each gpu.module goes first in the module: the last op's comes first.)
// mean_key: no attention and no exponentials; block means scored raw.
// CHECK-LABEL: gpu.func @attn_sm_90_bf16_d64v0_g4_leni32_select128k8i0l1meanq_q128k32_
// CHECK-NOT: ex2.approx
// CHECK: nvvm.mma.sync
// CHECK-NOT: ex2.approx
// CHECK: gpu.return

// Parameters: q, k (compressed keys), v (compressed values), kv_lengths
// (the original lengths), out, select_idx.
// CHECK-LABEL: gpu.func @attn_sm_90_bf16_d64_g8_causal_bottom_leni32_cmp32x16_select64k16i1l2kv_q128k32s3_{{[0-9a-z]+}}(%{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: i32,
// The compressed attention first, its output stored.
// CHECK: nvvm.mma.sync
// CHECK: llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : vector<2xbf16>, !llvm.ptr<1>
// The second pass: lists start empty, then key tiles one at a time.
// CHECK: nvvm.barrier0
// CHECK: scf.for
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.barrier0
// Scores again, as probabilities into shared memory.
// CHECK: nvvm.mma.sync
// CHECK: ex2.approx.ftz.f32
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// Block scores: one thread per (position, block), summed over the 8 heads
// that share the list.
// CHECK: scf.for %{{.*}} = %c0_i32{{.*}} to %c8_i32{{.*}} step %c1_i32{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (f32)
// CHECK: nvvm.barrier0
// Merged into the top 16: a block enters above the 16th score, then moves
// up past lower scores (earlier blocks keep ties).
// CHECK: arith.cmpf ogt
// CHECK: scf.for %{{.*}} = %c0_i32{{.*}} to %c15_i32{{.*}} step %c1_i32{{.*}} iter_args(%{{.*}} = %false{{.*}}) -> (i1)
// CHECK: arith.cmpf olt
// CHECK: nvvm.barrier0
// The lists, ascending: each entry at its rank.
// CHECK: scf.for %{{.*}} = %c0_i32{{.*}} to %c16_i32{{.*}} step %c1_i32{{.*}} iter_args
// CHECK: llvm.store %{{.*}}, %{{.*}} : i32, !llvm.ptr<1>
// CHECK: gpu.return

// The ops name their kernels; key_bound has no GPU kernel and stays.
// CHECK: attn.select_blocks {{.*}}attn.gpu_kernel = @attn_sm_90_bf16_d64_g8_{{.*}}select64k16i1l2kv
// CHECK: attn.select_blocks {{.*}}attn.gpu_kernel = @attn_sm_90_bf16_d64v0_g4_{{.*}}select128k8i0l1meanq
// CHECK: attn.select_blocks
// CHECK-NOT: attn.gpu_kernel
// CHECK-SAME: key_bound

// NOCHIP: error: 'attn.select_blocks' op attn-lower-to-gpu plans selection kernels for one chip: pass chip=sm_80 or chip=sm_90

func.func @nsa(%q: tensor<?x16x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %kc: tensor<?x2x?x64xbf16>, %vc: tensor<?x2x?x64xbf16>) -> (tensor<?x2x?x16xi32>, tensor<?x16x?x64xbf16>) {
  %idx, %o = attn.select_blocks %q, %k compressed(%kc : tensor<?x2x?x64xbf16>) values(%vc : tensor<?x2x?x64xbf16>) {method = #attn.score<softmax_prob>, block = 64, top_k = 16, init = 1, local = 2, compress = array<i64: 32, 16>} : tensor<?x16x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x2x?x16xi32>, tensor<?x16x?x64xbf16>
  return %idx, %o : tensor<?x2x?x16xi32>, tensor<?x16x?x64xbf16>
}
func.func @moba(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>) -> tensor<?x8x?x8xi32> {
  %idx = attn.select_blocks %q, %k {method = #attn.score<mean_key>, block = 128, top_k = 8, init = 0, local = 1, per_query_head} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x8xi32>
  return %idx : tensor<?x8x?x8xi32>
}
func.func @quest(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>) -> tensor<?x8x?x8xi32> {
  %idx = attn.select_blocks %q, %k {method = #attn.score<key_bound>, block = 16, top_k = 8, init = 0, local = 1, per_query_head} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x8xi32>
  return %idx : tensor<?x8x?x8xi32>
}
