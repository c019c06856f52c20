// NSA on the CPU pools K and V once each: V for the compressed branch
// (values of the selection), K by the selection's lowering with the same
// block, stride and pool. Each pooling is a parallel loop over (head,
// token) (batch 1 folds away) whose body sums the span's keys 16 head-dim
// columns at a time.
// RUN: attn-opt %s --attn-decompose --attn-plan-tiles=target=cpu --attn-lower-to-cpu --canonicalize --cse | FileCheck %s
// CHECK-LABEL: func.func @nsa
// CHECK: %[[V:.*]] = bufferization.to_buffer %arg2
// CHECK: %[[VC:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<1x2x?x64xf32>
// CHECK: scf.parallel
// CHECK: vector.load %[[V]]
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: vector.store %{{.*}}, %[[VC]]
// CHECK: %[[K:.*]] = bufferization.to_buffer %arg1
// CHECK: %[[KC:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<1x2x?x64xf32>
// CHECK: scf.parallel
// CHECK: vector.load %[[K]]
// CHECK: vector.store %{{.*}}, %[[KC]]
// CHECK-NOT: bufferization.to_buffer %arg1
// CHECK: return
func.func @nsa(%q: tensor<1x8x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>, %g: tensor<1x8x?x3xf32>) -> tensor<1x8x?x64xf32> {
  %o, %i = attn.nsa %q, %k, %v, %g : tensor<1x8x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x8x?x3xf32> -> tensor<1x8x?x64xf32>, tensor<1x2x?x16xi32>
  return %o : tensor<1x8x?x64xf32>
}
