// Block-sparse attention on the CPU: no dense mask is formed.
// RUN: attn-opt %s --attn-plan-tiles=target=cpu --attn-lower-to-cpu | FileCheck %s

// Lists per position (q_block 1) and key head, group 4: query-lane tiles
// of several positions would run the union of unrelated lists, so the
// kernel puts keys along the lanes and runs each position on its own list;
// the planner gives a tile 128 positions (512 rows) so that each block is
// read once for all the positions that list it. First the blocks any list
// names are marked, numbered (slots) and transposed once (Kt[slot, d, key]:
// listed blocks only); then each task marks its positions' lists in two
// bitmaps (deduplicated; -1 padding and out-of-range entries dropped): the
// blocks to visit and, per block, the positions that list it. It visits the
// marked blocks of the causal key range and, for each position that lists
// the block, computes scores as Q[h, d] x Kt[d, 16 keys], a per-head row
// max and sum across the lanes, P x V with value columns along the lanes.
// CHECK: func.func @selected
// CHECK: call @[[K:attn_cpu_bf16_d64_g4_causal_bottom_sparse1x64kv_q512k64_[0-9a-z]+]](%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : ({{.*}}, memref<?x?x?x?xi32, strided<[?, ?, ?, 1], offset: ?>>, {{.*}}) -> ()

// CHECK: func.func @query_blocks
// CHECK: call @[[Q:attn_cpu_bf16_d64_g4_causal_bottom_sparse4x64kv_q16k64_[0-9a-z]+]](

// CHECK: func.func private @[[K]]
// CHECK: %[[FLAGS:.*]] = memref.alloc(%{{.*}}, %{{.*}}, %{{.*}}) : memref<?x?x?xi8>
// CHECK: scf.parallel
// CHECK: memref.load %arg3
// CHECK: memref.store %c1_i8, %[[FLAGS]]
// CHECK: %[[SLOTS:.*]] = memref.alloc(%{{.*}}, %{{.*}}, %{{.*}}) : memref<?x?x?xindex>
// CHECK: %[[COUNT:.*]] = scf.for
// CHECK: memref.load %[[FLAGS]]
// CHECK: memref.store %{{.*}}, %[[SLOTS]]
// CHECK: %[[KT:.*]] = memref.alloc(%[[COUNT]]) {alignment = 64 : i64} : memref<?x64x64xf32>
// CHECK: scf.parallel
// CHECK: memref.load %[[SLOTS]]
// CHECK: memref.store %{{.*}}, %[[KT]]
// The tasks: 128 positions each.
// CHECK: scf.parallel
// CHECK: %[[VISIT:.*]] = memref.alloca(%{{.*}}) {alignment = 16 : i64} : memref<?xi8>
// CHECK: %[[OWNERS:.*]] = memref.alloc(%{{.*}}) {alignment = 16 : i64} : memref<?xi8>
// CHECK: memref.store %c1_i8, %[[VISIT]]
// CHECK: memref.store %c1_i8, %[[OWNERS]]
// CHECK: memref.load %[[VISIT]]
// CHECK: memref.load %[[SLOTS]]
// CHECK: memref.load %[[OWNERS]]
// CHECK: memref.subview
// CHECK: vector.load %[[KT]]
// CHECK: vector.fma
// CHECK: vector.reduction <maximumf>
// CHECK: vector.reduction <add>
// CHECK: vector.transfer_read %arg2
// CHECK: vector.fma

// Lists per 4 positions, group 4: a tile of one vector of rows (4 positions x
// 4 heads) lies in one query block. Its lists go into two bitmaps: the blocks
// any of its positions lists and, per block, the positions that list it,
// tested per lane in the partial-tile path.
// CHECK: func.func private @[[Q]]
// CHECK: scf.parallel
// CHECK: %[[V2:.*]] = memref.alloca(%{{.*}}) {alignment = 16 : i64} : memref<?xi8>
// CHECK: %[[MEMBER:.*]] = memref.alloc(%{{.*}}) {alignment = 16 : i64} : memref<?xi8>
// CHECK: scf.for %[[QB:.*]] = %{{[0-9]+}} to %{{.*}} step %c1 {
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK: memref.load %arg3[%{{.*}}, %{{.*}}, %[[QB]], %[[T]]]
// CHECK: scf.if
// CHECK: memref.store %c1_i8, %[[V2]]
// CHECK: memref.store %c1_i8, %[[MEMBER]]
// CHECK: memref.load %[[V2]]
// CHECK: arith.cmpi ne, %{{.*}}, %c0_i8 : i8
// CHECK: scf.if
// CHECK: vector.gather %[[MEMBER]][%c0] [%{{.*}}], %{{.*}}, %{{.*}} : memref<?xi8>, vector<16xi64>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// CHECK: vector.fma
func.func @selected(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %idx: tensor<?x2x?x?xi32>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x?xi32>) {block_sizes = array<i64: 1, 64>, causal, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}
func.func @query_blocks(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %idx: tensor<?x2x?x?xi32>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x?xi32>) {block_sizes = array<i64: 4, 64>, causal, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}
