// Block-sparse attention on GPUs: plans whose tiles hold positions of one
// query block of the selection, and kernels that sort their tile's list in
// shared memory before walking it.
// RUN: attn-opt %s --attn-plan-tiles=target=sm_90 | FileCheck %s --check-prefix=PLAN
// RUN: attn-opt %s --attn-plan-tiles=target=sm_90 --attn-lower-to-gpu | FileCheck %s

// Lists per key head and query (NSA's selection), group 4: one 16-row MMA
// tile holds the group's 4 heads of one position.
// PLAN-LABEL: func.func @per_key_head
// PLAN: tile_plan = #attn.tile_plan<target = sm_90, q_block = 16, kv_block = 32, warps = 1, stages = 3>
func.func @per_key_head(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %idx: tensor<?x2x?x?xi32>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x?xi32>) {block_sizes = array<i64: 1, 64>, causal, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}

// Lists per query head: a tile holds one head (grid y = query heads, the
// key head is y / 4) and the 64 positions of a query block; 48-key blocks
// walked as three 16-key tiles.
// PLAN-LABEL: func.func @per_query_head
// PLAN: tile_plan = #attn.tile_plan<target = sm_90, q_block = 64, kv_block = 16, warps = 4, stages = 3>
func.func @per_query_head(%q: tensor<?x8x?x128xf16>, %k: tensor<?x2x?x128xf16>, %v: tensor<?x2x?x128xf16>, %idx: tensor<?x8x?x?xi32>) -> tensor<?x8x?x128xf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x8x?x?xi32>) {block_sizes = array<i64: 64, 48>, causal} : tensor<?x8x?x128xf16>, tensor<?x2x?x128xf16>, tensor<?x2x?x128xf16> -> tensor<?x8x?x128xf16>
  return %o : tensor<?x8x?x128xf16>
}

// Shared lists of large blocks keep the dense tile.
// PLAN-LABEL: func.func @shared
// PLAN: tile_plan = #attn.tile_plan<target = sm_90, q_block = 128, kv_block = 32, warps = 4, stages = 3>
func.func @shared(%q: tensor<?x4x?x64xf16>, %k: tensor<?x4x?x64xf16>, %v: tensor<?x4x?x64xf16>, %idx: tensor<?x1x?x?xi32>) -> tensor<?x4x?x64xf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x1x?x?xi32>) {block_sizes = array<i64: 256, 128>} : tensor<?x4x?x64xf16>, tensor<?x4x?x64xf16>, tensor<?x4x?x64xf16> -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}

// gpu.modules come out in reverse order of the functions.
// CHECK-LABEL: gpu.func @attn_sm_90_f16_d64_g1_sparse256x128shared_q128k32s3_

// CHECK-LABEL: gpu.func @attn_sm_90_f16_d128_g4_causal_sparse64x48q_q64k16s3_
// CHECK: %[[Y:.*]] = nvvm.read.ptx.sreg.ctaid.y
// CHECK-NEXT: arith.constant 4
// CHECK-NEXT: arith.divui %[[Y]], %c4_i32
// 48-key blocks, 16-key tiles: three per block.
// CHECK: arith.muli %{{.*}}, %c3_i32

// Parameters: q, k, v, block_idx, out, batch, seq_q, seq_kv, block_k, then
// the strides (block_idx's are %arg18..20).
// CHECK-LABEL: gpu.func @attn_sm_90_bf16_d64_g4_causal_bottom_sparse1x64kv_q16k32w1s3_
// CHECK-SAME: (%{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %[[IDX:.*]]: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %[[K:.*]]: i32, %{{.*}}: i64,
// The Q tile is in flight while the list is read: one entry per thread
// and step into shared memory (blocks outside the dense range become -1) ...
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for %{{.*}} = %[[TID:.*]] to %[[K]] step %c32_i32
// CHECK: llvm.getelementptr %[[IDX]]
// CHECK: llvm.load %{{.*}} : !llvm.ptr<1> -> i32
// CHECK: arith.select %{{.*}}, %{{.*}}, %c-1_i32
// CHECK: llvm.store %{{.*}} : i32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// ... duplicates after their first occurrence become -1 ...
// CHECK: scf.for %{{.*}} = %[[TID]] to %[[K]]
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.cmpi eq
// CHECK: nvvm.barrier0
// ... each distinct block goes to its rank, and every thread counts them.
// CHECK: scf.for %{{.*}} = %[[TID]] to %[[K]]
// CHECK: scf.if
// CHECK: scf.for {{.*}} to %[[K]] {{.*}} iter_args
// CHECK: %[[BLOCKS:.*]] = scf.for {{.*}} to %[[K]] {{.*}} iter_args
// CHECK: nvvm.barrier0
// 64-key blocks, 32-key tiles: two tiles per listed block.
// CHECK: %[[TILES:.*]] = arith.muli %[[BLOCKS]], %c2_i32
// CHECK: scf.if
// CHECK: nvvm.cp.async.shared.global
// CHECK: scf.for {{.*}} to %[[TILES]] {{.*}} iter_args
// Each tile is full (no per-element test) or partial, decided at run time.
// CHECK: %[[FULL:.*]] = arith.cmpi slt
// CHECK-NEXT: scf.if %[[FULL]] -> (f32
// CHECK: } else {

