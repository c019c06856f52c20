// RUN: attn-opt %s --attn-plan-tiles=target=sm_90 --attn-lower-to-gpu | FileCheck %s

// One gpu.module per kernel; the op names the kernel it launches.
// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @[[$K:attn_sm_90_bf16_d128_g4_causal_bottom_lse_q128k32s3_[0-9a-z_]+]] {
// Dynamic shared memory, sized at launch.
// CHECK: llvm.mlir.global external @__attn_shared() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// Raw pointers, sizes and strides: one kernel for every batch, length and layout.
// CHECK: gpu.func @[[$K]](%{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i64
// CHECK-SAME: kernel attributes {known_block_size = array<i32: 128, 1, 1>, nvvm.minctasm = 2 : i32}
// Causal query tiles are taken heaviest first.
// CHECK: nvvm.read.ptx.sreg.nctaid.x
// Q, then the first K/V tile, copied asynchronously in two groups.
// CHECK: nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache = cg, %{{.*}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: nvvm.barrier0
// Three loops over key tiles: partial (masked), full, partial.
// CHECK: scf.for
// The next tile is in flight while this one is computed (double buffering).
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: nvvm.barrier0
// S = Q K^T on tensor cores, Q and K through ldmatrix.
// CHECK: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// CHECK: nvvm.mma.sync A[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}]  B[%{{.*}}, %{{.*}}]  C[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// Per-element causal test in the partial tiles only.
// CHECK: arith.cmpi sle
// CHECK: arith.select %{{.*}}, %{{.*}}, %cst
// Row statistics across the quad, exponent in base 2, lazy rescale.
// CHECK: nvvm.shfl.sync  bfly
// CHECK: nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// CHECK: nvvm.vote.sync any
// O += P V with V through ldmatrix.trans.
// CHECK: layout = #nvvm.mma_layout<col>, num = 4 : i32
// CHECK: nvvm.mma.sync
// Three K/V buffers: the barrier before each tile is the only one.
// CHECK-NOT: nvvm.barrier0
// CHECK: scf.yield
// The full tiles' loop carries no per-element test.
// CHECK: scf.for
// CHECK-NOT: arith.cmpi sle
// CHECK: nvvm.vote.sync any
// CHECK: scf.yield
// CHECK: scf.for
// Results: out / l, lse = (m + log2 l) * ln 2 in the quad's first thread.
// CHECK: nvvm.inline_ptx "lg2.approx.ftz.f32 $0, $1;"
// CHECK: llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : vector<2xbf16>, !llvm.ptr<1>
// CHECK-LABEL: func.func @llama_decode_and_prefill
// CHECK: attn.attention %arg0, %arg1, %arg2 {alignment = #attn.alignment<bottom_right>, attn.gpu_kernel = @[[$K]]::@[[$K]], causal,
func.func @llama_decode_and_prefill(%q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>, %v: tensor<?x8x?x128xbf16>) -> (tensor<?x32x?x128xbf16>, tensor<?x32x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal, alignment = #attn.alignment<bottom_right>} : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>, tensor<?x32x?xf32>
  return %o, %lse : tensor<?x32x?x128xbf16>, tensor<?x32x?xf32>
}
