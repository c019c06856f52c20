// attn-raise: unfused attention in linalg becomes attn.attention; near
// misses stay and get a remark naming the step that failed.
// RUN: attn-opt %s --attn-raise --canonicalize --split-input-file --verify-diagnostics | FileCheck %s

// Scale by multiplication and a constant causal mask aligned bottom-right
// (4 queries, 6 keys): the mask disappears.
// CHECK-LABEL: func @scaled_causal
// CHECK: %[[Q:.*]] = tensor.expand_shape %arg0 {{\[\[}}0, 1], [2], [3]] output_shape [2, 1, 4, 8]
// CHECK: %[[O:.*]] = attn.attention %[[Q]], %{{.*}}, %{{.*}} {alignment = #attn.alignment<bottom_right>, causal, scale = 0.353553{{[0-9]*}} : f64}
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[O]] {{\[\[}}0, 1], [2], [3]]
// CHECK-NOT: linalg.softmax
// CHECK: return %[[R]]
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @scaled_causal(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> tensor<2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<2x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%kt0 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%s1 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %c = arith.constant 0.35355339 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %mask = arith.constant dense<[[[0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]> : tensor<2x4x6xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<2x4x6xf32>, tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p0 = tensor.empty() : tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<2x4x6xf32>) outs(%p0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%o1 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// -----

// Division by sqrt(d), a data-dependent mask (stays an explicit mask).
// CHECK-LABEL: func @divided_masked
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<3x1x5x7xf32>) {scale = 2.500000e-01 : f64}
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @divided_masked(%q: tensor<3x5x16xf32>, %k: tensor<3x7x16xf32>, %v: tensor<3x7x16xf32>, %mask: tensor<3x5x7xf32>) -> tensor<3x5x16xf32> {
  %kt0 = tensor.empty() : tensor<3x16x7xf32>
  %kt = linalg.transpose ins(%k : tensor<3x7x16xf32>) outs(%kt0 : tensor<3x16x7xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<3x5x7xf32>
  %zero = arith.constant 0.0 : f32
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<3x5x7xf32>) -> tensor<3x5x7xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<3x5x16xf32>, tensor<3x16x7xf32>) outs(%sz : tensor<3x5x7xf32>) -> tensor<3x5x7xf32>
  %c = arith.constant 4.0 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<3x5x7xf32>) outs(%s0 : tensor<3x5x7xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.divf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<3x5x7xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<3x5x7xf32>, tensor<3x5x7xf32>) outs(%s0 : tensor<3x5x7xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<3x5x7xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<3x5x7xf32>) outs(%s0 : tensor<3x5x7xf32>) -> tensor<3x5x7xf32>
  %o0 = tensor.empty() : tensor<3x5x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<3x5x16xf32>) -> tensor<3x5x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<3x5x7xf32>, tensor<3x7x16xf32>) outs(%oz : tensor<3x5x16xf32>) -> tensor<3x5x16xf32>
  return %o : tensor<3x5x16xf32>
}

// -----

// Near miss: softmax over the query axis.
// CHECK-LABEL: func @wrong_axis
// CHECK: linalg.softmax dimension(1)
// CHECK-NOT: attn.attention
func.func @wrong_axis(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<2x4x8xf32>) outs(%kt0 : tensor<2x8x4xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%sz : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<2x4x4xf32>) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  // expected-remark @+1 {{attn-raise: not raised: softmax is over axis 1, not the key axis 2}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32>) outs(%oz : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// -----

// Near miss: the probabilities are scaled after the softmax.
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @scale_after_softmax(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<2x4x8xf32>) outs(%kt0 : tensor<2x8x4xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%sz : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x4xf32>) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %c = arith.constant 0.5 : f32
  %ps = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%p : tensor<2x4x4xf32>) outs(%s0 : tensor<2x4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<2x4x4xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  // expected-remark @+1 {{attn-raise: not raised: the probabilities pass through a linalg.generic after the softmax}}
  %o = linalg.batch_matmul ins(%ps, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32>) outs(%oz : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// -----

// Near miss: the key is not transposed (Q K instead of Q K^T).
func.func @no_transpose(%q: tensor<2x4x8xf32>, %kt: tensor<2x8x4xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %s0 = tensor.empty() : tensor<2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%sz : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x4xf32>) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  // expected-remark @+1 {{attn-raise: not raised: K^T is not a linalg.transpose of K with permutation [0, 2, 1]}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32>) outs(%oz : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// -----

// Near miss: P V reads V transposed from a tensor that no transpose made
// (the graph's V^T is an input; its V is not in the graph).
func.func @value_transposed(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vt: tensor<2x8x4xf32>) -> tensor<2x4x8xf32> {
  %s0 = tensor.empty() : tensor<2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(b, i, j, d) -> (b, i, d)>, affine_map<(b, i, j, d) -> (b, j, d)>, affine_map<(b, i, j, d) -> (b, i, j)>] ins(%q, %k : tensor<2x4x8xf32>, tensor<2x4x8xf32>) outs(%sz : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x4xf32>) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  // expected-remark @+1 {{attn-raise: not raised: P V reads V transposed ([N, Dv, Skv]) from a tensor that is not a linalg.transpose of V with permutation [0, 2, 1]}}
  %o = linalg.batch_matmul indexing_maps = [affine_map<(b, i, j, k) -> (b, i, k)>, affine_map<(b, i, j, k) -> (b, j, k)>, affine_map<(b, i, j, k) -> (b, i, j)>] ins(%p, %vt : tensor<2x4x4xf32>, tensor<2x8x4xf32>) outs(%oz : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// -----

// Near miss: Q K^T accumulates into uninitialised memory.
func.func @no_zero_fill(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<2x4x8xf32>) outs(%kt0 : tensor<2x8x4xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<2x4x4xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x4xf32>) outs(%s0 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  // expected-remark @+1 {{attn-raise: not raised: Q K^T accumulates into a tensor that is not zero-filled}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32>) outs(%oz : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// -----

// Grouped-query attention written as copies of the K/V heads (broadcast and
// collapse to B*Hq): the op reads the 2 key heads natively, no copy.
// CHECK-LABEL: func @expanded_heads
// CHECK: %[[Q:.*]] = tensor.expand_shape %arg0 {{\[\[}}0, 1], [2], [3]] output_shape [1, 6, 4, 8] : tensor<6x4x8xf32> into tensor<1x6x4x8xf32>
// CHECK: %[[O:.*]] = attn.attention %[[Q]], %arg1, %arg2 {scale = 1.000000e+00 : f64} : tensor<1x6x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x6x4x8xf32>
// CHECK-NOT: linalg.broadcast
// CHECK: tensor.collapse_shape %[[O]]
func.func @expanded_heads(%q: tensor<6x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<6x4x8xf32> {
  %e0 = tensor.empty() : tensor<1x2x3x6x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}

// -----

// scaled_dot_product_attention(is_causal=True) with 6 query heads over 2 K/V
// heads, as torch-mlir lowers it to linalg: K/V heads copied, the causal
// mask materialised from linalg.index arithmetic (bottom-right: j <= i + 2
// for 4 queries and 6 keys), softmax decomposed into max, exp(x - max), sum
// and divide. One op remains, with a structured causal mask and native GQA.
// CHECK-LABEL: func @torch_sdpa
// CHECK: %[[Q:.*]] = tensor.expand_shape %arg0
// CHECK-NEXT: %[[O:.*]] = attn.attention %[[Q]], %arg1, %arg2 {alignment = #attn.alignment<bottom_right>, causal, scale = 0.353553{{[0-9]*}} : f64} : tensor<1x6x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x6x4x8xf32>
// CHECK-NEXT: %[[R:.*]] = tensor.collapse_shape %[[O]]
// CHECK-NEXT: return %[[R]]
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @torch_sdpa(%q: tensor<6x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<6x4x8xf32> {
  %e0 = tensor.empty() : tensor<1x2x3x6x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %c = arith.constant 0.35355339 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  // The causal mask, materialised from indices: key j is visible to query i
  // when j <= i + (Skv - Sq).
  %mask = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel"]} outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %limit = arith.addi %i, %c2 : index
    %ok = arith.cmpi sle, %j, %limit : index
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<6x4x6xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<6x4x6xf32>, tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  // softmax, decomposed.
  %r0 = tensor.empty() : tensor<6x4xf32>
  %mxf = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<6x4xf32>) -> tensor<6x4xf32>
  %mx = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%masked : tensor<6x4x6xf32>) outs(%mxf : tensor<6x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %m = arith.maximumf %acc, %x : f32
    linalg.yield %m : f32
  } -> tensor<6x4xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%masked, %mx : tensor<6x4x6xf32>, tensor<6x4xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %smf = linalg.fill ins(%zero : f32) outs(%r0 : tensor<6x4xf32>) -> tensor<6x4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%e : tensor<6x4x6xf32>) outs(%smf : tensor<6x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %a = arith.addf %acc, %x : f32
    linalg.yield %a : f32
  } -> tensor<6x4xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<6x4x6xf32>, tensor<6x4xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %t: f32, %o: f32):
    %y = arith.divf %x, %t : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}

// -----

// Gemma-style: scale, then softcap 50 * tanh(s / 50), then softmax.
// CHECK-LABEL: func @softcapped
// CHECK: attn.attention {{.*}} {scale = 2.500000e-01 : f64, softcap = 5.000000e+01 : f64}
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @softcapped(%q: tensor<2x4x16xf32>, %k: tensor<2x6x16xf32>, %v: tensor<2x6x16xf32>) -> tensor<2x4x16xf32> {
  %kt0 = tensor.empty() : tensor<2x16x6xf32>
  %kt = linalg.transpose ins(%k : tensor<2x6x16xf32>) outs(%kt0 : tensor<2x16x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x16xf32>, tensor<2x16x6xf32>) outs(%sz : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %c = arith.constant 0.25 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %cap = arith.constant 50.0 : f32
  %capped = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %a = arith.divf %x, %cap : f32
    %t = math.tanh %a : f32
    %y = arith.mulf %t, %cap : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%capped : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x16xf32>) outs(%oz : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %o : tensor<2x4x16xf32>
}

// -----

// A sliding-window mask built from indices: causal with a left window of 3
// keys (aligned bottom-right), the tensor gone.
// CHECK-LABEL: func @sliding_window
// CHECK: attn.attention {{.*}} {alignment = #attn.alignment<bottom_right>, causal, scale = 0.353553{{[0-9]*}} : f64, window = array<i64: 3, -1>}
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @sliding_window(%q: tensor<6x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<6x4x8xf32> {
  %e0 = tensor.empty() : tensor<1x2x3x6x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %c = arith.constant 0.35355339 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  // A sliding window of 4 keys ending at the query's own, from indices:
  // visible when i - 1 <= j <= i + (Skv - Sq).
  %mask = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel"]} outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %c1 = arith.constant 1 : index
    %limit = arith.addi %i, %c2 : index
    %first = arith.subi %i, %c1 : index
    %upto = arith.cmpi sle, %j, %limit : index
    %from = arith.cmpi sge, %j, %first : index
    %ok = arith.andi %upto, %from : i1
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<6x4x6xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<6x4x6xf32>, tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  // softmax, decomposed.
  %r0 = tensor.empty() : tensor<6x4xf32>
  %mxf = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<6x4xf32>) -> tensor<6x4xf32>
  %mx = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%masked : tensor<6x4x6xf32>) outs(%mxf : tensor<6x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %m = arith.maximumf %acc, %x : f32
    linalg.yield %m : f32
  } -> tensor<6x4xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%masked, %mx : tensor<6x4x6xf32>, tensor<6x4xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %smf = linalg.fill ins(%zero : f32) outs(%r0 : tensor<6x4xf32>) -> tensor<6x4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%e : tensor<6x4x6xf32>) outs(%smf : tensor<6x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %a = arith.addf %acc, %x : f32
    linalg.yield %a : f32
  } -> tensor<6x4xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<6x4x6xf32>, tensor<6x4xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %t: f32, %o: f32):
    %y = arith.divf %x, %t : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}


// -----

// fp16 scores widened to f32 around the softmax and narrowed back for P V:
// the casts go (the fused op computes the softmax in f32 anyway).
// CHECK-LABEL: func @half_casts
// CHECK: attn.attention {{.*}} {scale = 2.500000e-01 : f64} : tensor<2x1x4x16xf16>, tensor<2x1x6x16xf16>, tensor<2x1x6x16xf16> -> tensor<2x1x4x16xf16>
// CHECK-NOT: arith.extf
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @half_casts(%q: tensor<2x4x16xf16>, %k: tensor<2x6x16xf16>, %v: tensor<2x6x16xf16>) -> tensor<2x4x16xf16> {
  %kt0 = tensor.empty() : tensor<2x16x6xf16>
  %kt = linalg.transpose ins(%k : tensor<2x6x16xf16>) outs(%kt0 : tensor<2x16x6xf16>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f16
  %s0 = tensor.empty() : tensor<2x4x6xf16>
  %sz = linalg.fill ins(%zero : f16) outs(%s0 : tensor<2x4x6xf16>) -> tensor<2x4x6xf16>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x16xf16>, tensor<2x16x6xf16>) outs(%sz : tensor<2x4x6xf16>) -> tensor<2x4x6xf16>
  %f0 = tensor.empty() : tensor<2x4x6xf32>
  %wide = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x4x6xf16>) outs(%f0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f16, %o: f32):
    %y = arith.extf %x : f16 to f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %c = arith.constant 0.25 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%wide : tensor<2x4x6xf32>) outs(%f0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%scaled : tensor<2x4x6xf32>) outs(%f0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %narrow = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%p : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf16>) {
  ^bb0(%x: f32, %o: f16):
    %y = arith.truncf %x : f32 to f16
    linalg.yield %y : f16
  } -> tensor<2x4x6xf16>
  %o0 = tensor.empty() : tensor<2x4x16xf16>
  %oz = linalg.fill ins(%zero : f16) outs(%o0 : tensor<2x4x16xf16>) -> tensor<2x4x16xf16>
  %o = linalg.batch_matmul ins(%narrow, %v : tensor<2x4x6xf16>, tensor<2x6x16xf16>) outs(%oz : tensor<2x4x16xf16>) -> tensor<2x4x16xf16>
  return %o : tensor<2x4x16xf16>
}

// -----

// Padding from per-batch lengths, compared with the query index (not the
// key index): not key padding, so the mask stays an explicit mask.
// CHECK-LABEL: func @padded_queries
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<2x1x4x6xf32>) {scale = 1.000000e+00 : f64}
// CHECK-NOT: kv_lengths
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @padded_queries(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>, %len: tensor<2xi64>) -> tensor<2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<2x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%kt0 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%s1 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0)>, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%len : tensor<2xi64>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%l: i64, %o: f32):
    %i = linalg.index 1 : index
    %i64 = arith.index_cast %i : index to i64
    %pad = arith.cmpi sge, %i64, %l : i64
    %m = arith.select %pad, %ninf, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x4x6xf32>
  %masked = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x4x6xf32>, tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%o1 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// -----

// Key padding over copied K/V heads: the scores are [B*Hq, Sq, Skv], so the
// lengths [B] are read at d0 floordiv Hq (6 query heads, batch 1). They
// become kv_lengths of the op over the 2 key heads.
// CHECK-LABEL: func @padded_expanded_heads
// CHECK: attn.attention %{{.*}}, %arg1, %arg2 kv_lengths(%arg3 : tensor<1xi32>) {scale = 1.000000e+00 : f64} : tensor<1x6x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>
// CHECK-NOT: linalg.generic
func.func @padded_expanded_heads(%q: tensor<6x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %len: tensor<1xi32>) -> tensor<6x4x8xf32> {
  %e0 = tensor.empty() : tensor<1x2x3x6x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0 floordiv 6)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%len : tensor<1xi32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%l: i32, %o: f32):
    %j = linalg.index 2 : index
    %li = arith.index_cast %l : i32 to index
    %keep = arith.cmpi sgt, %li, %j : index
    %m = arith.select %keep, %zero, %lowest : f32
    linalg.yield %m : f32
  } -> tensor<6x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<6x4x6xf32>, tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}

// -----

// Heads folded into the batch ([B, H, S, D] collapsed to [B*H, S, D]) with a
// padding mask over per-batch lengths: B = 2 and H = 3 come back, the
// lengths are per batch element.
// CHECK-LABEL: func @split_heads_padded
// CHECK: attn.attention %arg0, %arg1, %arg2 kv_lengths(%arg3 : tensor<2xi32>) {scale = 1.000000e+00 : f64} : tensor<2x3x4x8xf32>, tensor<2x3x6x8xf32>, tensor<2x3x6x8xf32>
// CHECK-NOT: linalg.generic
func.func @split_heads_padded(%q: tensor<2x3x4x8xf32>, %k: tensor<2x3x6x8xf32>, %v: tensor<2x3x6x8xf32>, %len: tensor<2xi32>) -> tensor<6x4x8xf32> {
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x3x4x8xf32> into tensor<6x4x8xf32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0 floordiv 3)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%len : tensor<2xi32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%l: i32, %o: f32):
    %j = linalg.index 2 : index
    %li = arith.index_cast %l : i32 to index
    %keep = arith.cmpi sgt, %li, %j : index
    %m = arith.select %keep, %zero, %lowest : f32
    linalg.yield %m : f32
  } -> tensor<6x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<6x4x6xf32>, tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}

// -----

// The same, with lengths per [B*H] entry: the heads stay in the batch.
// CHECK-LABEL: func @split_heads_lengths_per_head
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} kv_lengths(%arg3 : tensor<6xi32>) {scale = 1.000000e+00 : f64} : tensor<6x1x4x8xf32>, tensor<6x1x6x8xf32>, tensor<6x1x6x8xf32>
// CHECK-NOT: linalg.generic
func.func @split_heads_lengths_per_head(%q: tensor<2x3x4x8xf32>, %k: tensor<2x3x6x8xf32>, %v: tensor<2x3x6x8xf32>, %len: tensor<6xi32>) -> tensor<6x4x8xf32> {
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x3x4x8xf32> into tensor<6x4x8xf32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%len : tensor<6xi32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%l: i32, %o: f32):
    %j = linalg.index 2 : index
    %li = arith.index_cast %l : i32 to index
    %keep = arith.cmpi sgt, %li, %j : index
    %m = arith.select %keep, %zero, %lowest : f32
    linalg.yield %m : f32
  } -> tensor<6x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<6x4x6xf32>, tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}

// -----

// Masks read off their values: a constant sliding window (bottom-right,
// one key back) becomes causal + window.
// CHECK-LABEL: func @window_constant
// CHECK-NOT: arith.constant dense
// CHECK: attn.attention {{.*}} {alignment = #attn.alignment<bottom_right>, causal, scale = 1.000000e+00 : f64, window = array<i64: 1, -1>}
func.func @window_constant(%q: tensor<1x4x8xf32>, %k: tensor<1x6x8xf32>, %v: tensor<1x6x8xf32>) -> tensor<1x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %kt0 = tensor.empty() : tensor<1x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<1x6x8xf32>) outs(%kt0 : tensor<1x8x6xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<1x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x4x8xf32>, tensor<1x8x6xf32>) outs(%sz : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %mask = arith.constant dense<[[[0xFF800000, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0xFF800000, 0xFF800000, 0.0, 0.0, 0xFF800000, 0xFF800000], [0xFF800000, 0xFF800000, 0xFF800000, 0.0, 0.0, 0xFF800000], [0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0.0, 0.0]]]> : tensor<1x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %o0 = tensor.empty() : tensor<1x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x4x6xf32>, tensor<1x6x8xf32>) outs(%oz : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// -----

// A constant causal mask at offset 1 (neither alignment): query_offset.
// CHECK-LABEL: func @offset_constant
// CHECK: attn.attention {{.*}} {causal, query_offset = 1 : i64, scale = 1.000000e+00 : f64}
func.func @offset_constant(%q: tensor<1x4x8xf32>, %k: tensor<1x6x8xf32>, %v: tensor<1x6x8xf32>) -> tensor<1x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %kt0 = tensor.empty() : tensor<1x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<1x6x8xf32>) outs(%kt0 : tensor<1x8x6xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<1x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x4x8xf32>, tensor<1x8x6xf32>) outs(%sz : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %mask = arith.constant dense<[[[0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000]]]> : tensor<1x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %o0 = tensor.empty() : tensor<1x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x4x6xf32>, tensor<1x6x8xf32>) outs(%oz : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// -----

// Constant parallel branches after a 2-key prefix, two branches.
// CHECK-LABEL: func @branches_constant
// CHECK: attn.attention {{.*}} {alignment = #attn.alignment<bottom_right>, branches = array<i64: 2, 2>, causal, scale = 1.000000e+00 : f64}
func.func @branches_constant(%q: tensor<1x4x8xf32>, %k: tensor<1x6x8xf32>, %v: tensor<1x6x8xf32>) -> tensor<1x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %kt0 = tensor.empty() : tensor<1x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<1x6x8xf32>) outs(%kt0 : tensor<1x8x6xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<1x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x4x8xf32>, tensor<1x8x6xf32>) outs(%sz : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %mask = arith.constant dense<[[[0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0.0, 0xFF800000], [0.0, 0.0, 0xFF800000, 0.0, 0xFF800000, 0.0]]]> : tensor<1x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %o0 = tensor.empty() : tensor<1x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x4x6xf32>, tensor<1x6x8xf32>) outs(%oz : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// -----

// Near-miss: causal but for one hidden key. The mask stays.
// CHECK-LABEL: func @almost_causal_constant
// CHECK: attn.attention {{.*}} mask(%{{.*}} : tensor<1x1x4x6xf32>)
func.func @almost_causal_constant(%q: tensor<1x4x8xf32>, %k: tensor<1x6x8xf32>, %v: tensor<1x6x8xf32>) -> tensor<1x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %kt0 = tensor.empty() : tensor<1x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<1x6x8xf32>) outs(%kt0 : tensor<1x8x6xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<1x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x4x8xf32>, tensor<1x8x6xf32>) outs(%sz : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %mask = arith.constant dense<[[[0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0xFF800000, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]> : tensor<1x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %o0 = tensor.empty() : tensor<1x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x4x6xf32>, tensor<1x6x8xf32>) outs(%oz : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// -----

// Near-miss: an index-built mask that reads the batch index (a mask per
// batch element or head is no structure). The mask stays.
// CHECK-LABEL: func @per_batch_index_mask
// CHECK: arith.select
// CHECK: attn.attention {{.*}} mask(
func.func @per_batch_index_mask(%q: tensor<1x4x8xf32>, %k: tensor<1x6x8xf32>, %v: tensor<1x6x8xf32>) -> tensor<1x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %kt0 = tensor.empty() : tensor<1x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<1x6x8xf32>) outs(%kt0 : tensor<1x8x6xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<1x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x4x8xf32>, tensor<1x8x6xf32>) outs(%sz : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%s0 : tensor<1x4x6xf32>) {
  ^bb0(%o: f32):
    %b = linalg.index 0 : index
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %ib = arith.addi %i, %b : index
    %ok = arith.cmpi sle, %j, %ib : index
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %o0 = tensor.empty() : tensor<1x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x4x6xf32>, tensor<1x6x8xf32>) outs(%oz : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// -----

// Near-miss: a mask that depends on the scores. The mask stays.
// CHECK-LABEL: func @data_mask
// CHECK: arith.cmpf
// CHECK: attn.attention {{.*}} mask(
func.func @data_mask(%q: tensor<1x4x8xf32>, %k: tensor<1x6x8xf32>, %v: tensor<1x6x8xf32>) -> tensor<1x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %kt0 = tensor.empty() : tensor<1x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<1x6x8xf32>) outs(%kt0 : tensor<1x8x6xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<1x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x4x8xf32>, tensor<1x8x6xf32>) outs(%sz : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %ok = arith.cmpf olt, %x, %zero : f32
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x4x6xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<1x4x6xf32>) outs(%s0 : tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %o0 = tensor.empty() : tensor<1x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x4x6xf32>, tensor<1x6x8xf32>) outs(%oz : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}
