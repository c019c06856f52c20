// RUN: attn-opt %s --split-input-file --attn-plan-tiles --attn-lower-to-cpu | FileCheck %s

// Causal MHA: the caller passes canonical strided views to a kernel; the
// kernel loops over (batch, key head, query tile) in parallel, bounds the key
// tiles by causality (no tile beyond the diagonal is visited), tests per
// element only in tiles that are not full, and multiplies with vector FMAs.
// CHECK-LABEL: func.func @causal
// CHECK: %[[Q:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK: memref.cast %[[Q]] : memref<?x8x?x64xf32> to memref<?x?x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x8x?x64xf32>
// CHECK: call @[[KERNEL:attn_cpu_f32_d64_g1_causal_q64k64_[0-9a-z_]+]](
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: func.func private @[[KERNEL]](%{{.*}}: memref<?x?x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>, {{.*}}) attributes {attn.kernel}
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
// Key range: hi = min(Skv, end of the query tile).
// CHECK: %[[END:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: arith.minsi %{{.*}}, %[[END]] : index
// The key-tile schedule splits the key tiles into partial, full and partial
// loops; only the two partial ones test per element (causal: j <= p).
// CHECK: arith.floordivsi
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<64x64xf32>
// CHECK: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: arith.cmpi sle, %{{.*}}, %{{.*}} : vector<16xi64>
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK: math.floor
// CHECK: vector.fma
// CHECK: arith.cmpi sle, %{{.*}}, %{{.*}} : vector<16xi64>
// CHECK-NOT: arith.cmpi sle, %{{.*}}, %{{.*}} : vector<16xi64>
// CHECK: return
func.func @causal(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention %q, %k, %v {causal} : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// -----

// Equal attentions share one kernel; the bshd layout is a strided view of
// the same kernel arguments.
// CHECK-LABEL: func.func @shared_kernel
// CHECK: call @[[K:attn_cpu_f16_d32_g4_q64k64_[0-9a-z_]+]](
// CHECK: memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [%{{.*}}, %{{.*}}, %{{.*}}, 32], strides: [%{{.*}}, %{{.*}}, %{{.*}}, 1] : memref<?x?x16x32xf16> to memref<?x?x?x32xf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK: call @[[K]](
// CHECK-COUNT-1: func.func private @attn_cpu
// CHECK-NOT: func.func private @attn_cpu
func.func @shared_kernel(%q: tensor<?x16x?x32xf16>, %k: tensor<?x4x?x32xf16>, %v: tensor<?x4x?x32xf16>,
                         %q2: tensor<?x?x16x32xf16>, %k2: tensor<?x?x4x32xf16>, %v2: tensor<?x?x4x32xf16>)
    -> (tensor<?x16x?x32xf16>, tensor<?x?x16x32xf16>) {
  %o = attn.attention %q, %k, %v : tensor<?x16x?x32xf16>, tensor<?x4x?x32xf16>, tensor<?x4x?x32xf16> -> tensor<?x16x?x32xf16>
  %o2 = attn.attention %q2, %k2, %v2 {layout = #attn.layout<bshd>} : tensor<?x?x16x32xf16>, tensor<?x?x4x32xf16>, tensor<?x?x4x32xf16> -> tensor<?x?x16x32xf16>
  return %o, %o2 : tensor<?x16x?x32xf16>, tensor<?x?x16x32xf16>
}

// -----

// A broadcast mask becomes a stride-0 view; every tile is tested per element
// with a gather of 16 lanes; valid lengths bound the keys; lse is written.
// CHECK-LABEL: func.func @mask_lengths_lse
// CHECK: %[[ONE:.*]] = arith.cmpi eq, %{{.*}}, %c1
// CHECK: arith.select %[[ONE]], %c0
// CHECK: memref.reinterpret_cast
// CHECK: memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x2x?xf32>
// CHECK: func.func private @attn_cpu_bf16_d64v32_g1_maski1_leni32_lse_q64k64
// CHECK: memref.extract_strided_metadata
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<?xi32>
// CHECK: vector.gather
// CHECK: math.log2
func.func @mask_lengths_lse(%q: tensor<?x2x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x32xbf16>,
                            %m: tensor<?x1x?x?xi1>, %l: tensor<?xi32>) -> (tensor<?x2x?x32xbf16>, tensor<?x2x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<?x1x?x?xi1>) kv_lengths(%l : tensor<?xi32>) : tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16> -> tensor<?x2x?x32xbf16>, tensor<?x2x?xf32>
  return %o, %lse : tensor<?x2x?x32xbf16>, tensor<?x2x?xf32>
}

// -----

// Softcap: tanh as a polynomial (no libm call), before masking.
// CHECK-LABEL: func.func private @attn_cpu_f32_d16_g1_win8xm1_cap
// CHECK-NOT: math.tanh
// CHECK: arith.maxsi
func.func @softcap_window(%q: tensor<1x1x?x16xf32>, %k: tensor<1x1x?x16xf32>, %v: tensor<1x1x?x16xf32>) -> tensor<1x1x?x16xf32> {
  %o = attn.attention %q, %k, %v {softcap = 30.0 : f64, window = array<i64: 8, -1>} : tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32> -> tensor<1x1x?x16xf32>
  return %o : tensor<1x1x?x16xf32>
}
