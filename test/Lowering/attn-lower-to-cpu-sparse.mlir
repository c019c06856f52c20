// Block-sparse attention on the CPU: no dense mask is formed. A tile of one
// vector of rows, 4 positions x the group's 4 heads (Hsel = Hkv: heads share
// a list; the planner keeps tiles small when lists change every query), reads
// the lists of the query blocks it spans into two bitmaps: the blocks any of
// its positions lists (deduplicated; -1 padding and out-of-range entries
// dropped) and, per block, the positions that list it. It visits the marked
// blocks of the causal mask's key range, each as one partial key tile of
// kv_block keys, and masks per lane the positions that did not list it.
// RUN: attn-opt %s --attn-plan-tiles=target=cpu --attn-lower-to-cpu | FileCheck %s
// RUN: not attn-opt %s --attn-plan-tiles=target=sm_90 2>&1 | FileCheck %s --check-prefix=GPU
// GPU: error: 'attn.attention' op cannot be planned for sm_90: GPU kernels do not walk block-sparse selections yet; compile this attention for the CPU

// CHECK: call @[[K:attn_cpu_bf16_d64_g4_causal_bottom_sparse1x64kv_q16k64_[0-9a-z]+]](%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : ({{.*}}, memref<?x?x?x?xi32, strided<[?, ?, ?, 1], offset: ?>>, {{.*}}) -> ()
// CHECK: func.func private @[[K]]
// CHECK: scf.parallel
// CHECK: %[[VISIT:.*]] = memref.alloca(%{{.*}}) {alignment = 16 : i64} : memref<?xi8>
// CHECK: %[[MEMBER:.*]] = memref.alloca(%{{.*}}) {alignment = 16 : i64} : memref<?xi8>
// The lists of the tile's query blocks, entry by entry.
// CHECK: scf.for %[[QB:.*]] = %{{[0-9]+}} to %{{.*}} step %c1 {
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK: memref.load %arg3[%{{.*}}, %{{.*}}, %[[QB]], %[[T]]]
// CHECK: scf.if
// CHECK: memref.store %c1_i8, %[[VISIT]]
// CHECK: memref.store %c1_i8, %[[MEMBER]]
// The visit: marked blocks of the key range only.
// CHECK: memref.load %[[VISIT]]
// CHECK: arith.cmpi ne, %{{.*}}, %c0_i8 : i8
// CHECK: scf.if
// Per lane: did this position list the block?
// CHECK: vector.gather %[[MEMBER]][%c0] [%{{.*}}], %{{.*}}, %{{.*}} : memref<?xi8>, vector<16xi64>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// CHECK: vector.fma
func.func @selected(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %idx: tensor<?x2x?x?xi32>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x?xi32>) {block_sizes = array<i64: 1, 64>, causal, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}
