// NSA on the CPU pools K once: the selection's scoring compresses K with the
// compressed branch's block, stride and pool, so after attn-lower-to-cpu the
// two poolings are identical ops on tensors and CSE (in attn-to-cpu) keeps
// one. Compression loops run (b, h, t, u, x): the head dim innermost, so
// they vectorise.
// RUN: attn-opt %s --attn-decompose --attn-plan-tiles=target=cpu --attn-lower-to-cpu --canonicalize --cse | FileCheck %s
// CHECK-LABEL: func.func @nsa
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%arg1,
// CHECK-NOT: iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%arg1,
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%arg2,
// CHECK-NOT: "reduction", "parallel"]
// CHECK: return
func.func @nsa(%q: tensor<1x8x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>, %g: tensor<1x8x?x3xf32>) -> tensor<1x8x?x64xf32> {
  %o, %i = attn.nsa %q, %k, %v, %g : tensor<1x8x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x8x?x3xf32> -> tensor<1x8x?x64xf32>, tensor<1x2x?x16xi32>
  return %o : tensor<1x8x?x64xf32>
}
