// Block-sparse attention on the CPU: the kernel walks the selection's list
// for its query block (no dense mask is formed), visiting a listed block
// only when it is a block number (not -1 padding), was not listed earlier
// (the list is a set) and meets the dense range of the causal mask; each
// visit is one partial key tile of kv_block keys. A tile covers one query
// position times the group's 4 heads, which share the list (Hsel = Hkv).
// RUN: attn-opt %s --attn-plan-tiles=target=cpu --attn-lower-to-cpu | FileCheck %s
// RUN: not attn-opt %s --attn-plan-tiles=target=sm_90 2>&1 | FileCheck %s --check-prefix=GPU
// GPU: error: 'attn.attention' op cannot be planned for sm_90: GPU kernels do not walk block-sparse selections yet; compile this attention for the CPU

// CHECK: call @[[K:attn_cpu_bf16_d64_g4_causal_bottom_sparse1x64kv_q64k64_[0-9a-z]+]](%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : ({{.*}}, memref<?x?x?x?xi32, strided<[?, ?, ?, 1], offset: ?>>, {{.*}}) -> ()
// CHECK: func.func private @[[K]]
// CHECK: scf.parallel
// The list of this tile's query block: entry t.
// CHECK: scf.for %[[T:.*]] = %c0 to %[[LEN:.*]] step %c1 {
// CHECK: %[[E:.*]] = memref.load %arg3[%{{.*}}, %{{.*}}, %{{.*}}, %[[T]]]
// CHECK: arith.cmpi sge
// Earlier entries: a duplicate is skipped.
// CHECK: scf.for %{{.*}} = %c0 to %[[T]] step %c1 iter_args(%{{.*}} = %false) -> (i1)
// CHECK: arith.cmpi eq
// CHECK: scf.if
// CHECK: arith.muli %{{.*}}, %c64
// CHECK-NOT: scf.for {{.*}} to %{{.*}} step %c64
// CHECK: vector.fma
func.func @selected(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %idx: tensor<?x2x?x?xi32>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x?xi32>) {block_sizes = array<i64: 1, 64>, causal, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}
