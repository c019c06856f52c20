// NSA on the CPU pools K and V once each: V for the compressed branch
// (values of the selection), K by the selection's lowering with the same
// block, stride and pool. Compression loops run (b, h, t, u, x): the head
// dim innermost, so they vectorise.
// RUN: attn-opt %s --attn-decompose --attn-plan-tiles=target=cpu --attn-lower-to-cpu --canonicalize --cse | FileCheck %s
// CHECK-LABEL: func.func @nsa
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%arg2,
// CHECK-NOT: "reduction", "parallel"]
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%arg1,
// CHECK-NOT: "reduction", "parallel"]
// CHECK: return
func.func @nsa(%q: tensor<1x8x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>, %g: tensor<1x8x?x3xf32>) -> tensor<1x8x?x64xf32> {
  %o, %i = attn.nsa %q, %k, %v, %g : tensor<1x8x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x8x?x3xf32> -> tensor<1x8x?x64xf32>, tensor<1x2x?x16xi32>
  return %o : tensor<1x8x?x64xf32>
}
