// RUN: attn-opt %s --canonicalize --split-input-file | FileCheck %s

// A constant factor on Q folds into the scale (1/sqrt(16) * 0.5).
// CHECK-LABEL: func @fold_query_scale
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<1x2x5x16xf32>
// CHECK-NOT: arith.mulf
// CHECK: attn.attention %[[Q]], %{{.*}}, %{{.*}} {scale = 1.250000e-01 : f64}
func.func @fold_query_scale(%q: tensor<1x2x5x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>) -> tensor<1x2x5x16xf32> {
  %c = arith.constant dense<0.5> : tensor<1x2x5x16xf32>
  %qs = arith.mulf %q, %c : tensor<1x2x5x16xf32>
  %o = attn.attention %qs, %k, %v : tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> -> tensor<1x2x5x16xf32>
  return %o : tensor<1x2x5x16xf32>
}

// -----

// The constant may be on either side, and the explicit scale multiplies.
// CHECK-LABEL: func @fold_query_scale_lhs
// CHECK: attn.attention %arg0, %arg1, %arg2 {scale = 6.000000e+00 : f64}
func.func @fold_query_scale_lhs(%q: tensor<1x2x5x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>) -> tensor<1x2x5x16xf32> {
  %c = arith.constant dense<3.0> : tensor<1x2x5x16xf32>
  %qs = arith.mulf %c, %q : tensor<1x2x5x16xf32>
  %o = attn.attention %qs, %k, %v {scale = 2.0 : f64} : tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> -> tensor<1x2x5x16xf32>
  return %o : tensor<1x2x5x16xf32>
}

// -----

// Division by a constant folds as its reciprocal.
// CHECK-LABEL: func @fold_query_division
// CHECK-NOT: arith.divf
// CHECK: attn.attention %arg0, %arg1, %arg2 {scale = 2.500000e-01 : f64}
func.func @fold_query_division(%q: tensor<1x2x5x4xf16>, %k: tensor<1x2x5x4xf16>, %v: tensor<1x2x5x4xf16>) -> tensor<1x2x5x4xf16> {
  %c = arith.constant dense<2.0> : tensor<1x2x5x4xf16>
  %qs = arith.divf %q, %c : tensor<1x2x5x4xf16>
  %o = attn.attention %qs, %k, %v : tensor<1x2x5x4xf16>, tensor<1x2x5x4xf16>, tensor<1x2x5x4xf16> -> tensor<1x2x5x4xf16>
  return %o : tensor<1x2x5x4xf16>
}

// -----

// A constant divided by Q is not a scale.
// CHECK-LABEL: func @keep_reciprocal_query
// CHECK: %[[D:.*]] = arith.divf
// CHECK: attn.attention %[[D]], %arg1, %arg2 :
func.func @keep_reciprocal_query(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32> {
  %c = arith.constant dense<2.0> : tensor<1x2x5x4xf32>
  %qs = arith.divf %c, %q : tensor<1x2x5x4xf32>
  %o = attn.attention %qs, %k, %v : tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// Factors on both Q and K fold; the multiplies die.
// CHECK-LABEL: func @fold_query_and_key_scale
// CHECK-NOT: arith.mulf
// CHECK: attn.attention %arg0, %arg1, %arg2 {scale = 1.000000e+00 : f64}
func.func @fold_query_and_key_scale(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %cq = arith.constant dense<0.5> : tensor<1x2x5x4xf32>
  %ck = arith.constant dense<4.0> : tensor<1x2x7x4xf32>
  %qs = arith.mulf %q, %cq : tensor<1x2x5x4xf32>
  %ks = arith.mulf %k, %ck : tensor<1x2x7x4xf32>
  %o = attn.attention %qs, %ks, %v : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// A non-uniform factor is not a scale.
// CHECK-LABEL: func @keep_non_splat_factor
// CHECK: %[[M:.*]] = arith.mulf
// CHECK: attn.attention %[[M]]
// CHECK-NOT: scale
func.func @keep_non_splat_factor(%q: tensor<1x1x2x2xf32>, %k: tensor<1x1x2x2xf32>, %v: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %c = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0]]]]> : tensor<1x1x2x2xf32>
  %qs = arith.mulf %q, %c : tensor<1x1x2x2xf32>
  %o = attn.attention %qs, %k, %v : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32> -> tensor<1x1x2x2xf32>
  return %o : tensor<1x1x2x2xf32>
}

// -----

// CHECK-LABEL: func @drop_zero_float_mask
// CHECK: attn.attention %arg0, %arg1, %arg2 {causal} :
func.func @drop_zero_float_mask(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %m = arith.constant dense<0.0> : tensor<5x7xf32>
  %o = attn.attention %q, %k, %v mask(%m : tensor<5x7xf32>) {causal} : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// CHECK-LABEL: func @drop_all_true_mask
// CHECK: attn.attention %arg0, %arg1, %arg2 :
func.func @drop_all_true_mask(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %m = arith.constant dense<true> : tensor<1x1x1x7xi1>
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x1x7xi1>) : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// A zero mask shorter than the keys still masks the keys it does not cover.
// CHECK-LABEL: func @keep_short_zero_mask
// CHECK: attn.attention %arg0, %arg1, %arg2 mask(%{{.*}} : tensor<5x6xf32>)
func.func @keep_short_zero_mask(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %m = arith.constant dense<0.0> : tensor<5x6xf32>
  %o = attn.attention %q, %k, %v mask(%m : tensor<5x6xf32>) : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// CHECK-LABEL: func @keep_all_false_mask
// CHECK: mask(%{{.*}} : tensor<5x7xi1>)
func.func @keep_all_false_mask(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %m = arith.constant dense<false> : tensor<5x7xi1>
  %o = attn.attention %q, %k, %v mask(%m : tensor<5x7xi1>) : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// A window wider than the sequence masks nothing (top-left: left >= Sq - 1,
// right >= Skv - 1).
// CHECK-LABEL: func @drop_wide_window
// CHECK: attn.attention %arg0, %arg1, %arg2 :
func.func @drop_wide_window(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 4, 6>} : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// One key short on the right: the right side still masks.
// CHECK-LABEL: func @keep_window_right
// CHECK: {window = array<i64: -1, 5>}
func.func @keep_window_right(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 4, 5>} : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// Bottom-right: the left side needs left >= Skv - 1 to be vacuous.
// CHECK-LABEL: func @bottom_right_window
// CHECK: {alignment = #attn.alignment<bottom_right>, window = array<i64: 5, -1>}
func.func @bottom_right_window(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 5, 4>, alignment = #attn.alignment<bottom_right>} : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// CHECK-LABEL: func @drop_wide_bottom_right_window
// CHECK: attn.attention %arg0, %arg1, %arg2 :
func.func @drop_wide_bottom_right_window(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 6, 4>, alignment = #attn.alignment<bottom_right>} : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// Unknown lengths keep the window.
// CHECK-LABEL: func @keep_window_dynamic
// CHECK: {window = array<i64: 100, 100>}
func.func @keep_window_dynamic(%q: tensor<1x2x?x4xf32>, %k: tensor<1x2x?x4xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 100, 100>} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// -----

// window (-1, 0) is causal.
// CHECK-LABEL: func @window_is_causal
// CHECK: attn.attention %arg0, %arg1, %arg2 {causal} :
func.func @window_is_causal(%q: tensor<1x2x?x4xf32>, %k: tensor<1x2x?x4xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: -1, 0>} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// -----

// Causality bounds the keys on the right; the window keeps its left side.
// CHECK-LABEL: func @causal_window
// CHECK: {causal, window = array<i64: 31, -1>}
func.func @causal_window(%q: tensor<1x2x?x4xf32>, %k: tensor<1x2x?x4xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %o = attn.attention %q, %k, %v {causal, window = array<i64: 31, 8>} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// -----

// CHECK-LABEL: func @drop_unbounded_window
// CHECK: attn.attention %arg0, %arg1, %arg2 :
func.func @drop_unbounded_window(%q: tensor<1x2x?x4xf32>, %k: tensor<1x2x?x4xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: -1, -1>} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// -----

// CHECK-LABEL: func @drop_zero_softcap
// CHECK: attn.attention %arg0, %arg1, %arg2 {scale = 5.000000e-01 : f64} :
func.func @drop_zero_softcap(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %o = attn.attention %q, %k, %v {softcap = 0.0 : f64, scale = 0.5 : f64} : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// CHECK-LABEL: func @drop_alignment_without_mask
// CHECK: attn.attention %arg0, %arg1, %arg2 :
func.func @drop_alignment_without_mask(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %o = attn.attention %q, %k, %v {alignment = #attn.alignment<bottom_right>} : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// CHECK-LABEL: func @remove_unused_lse
// CHECK: %[[O:.*]] = attn.attention {{.*}} -> tensor<1x2x5x4xf32>{{$}}
// CHECK: return %[[O]]
func.func @remove_unused_lse(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5x4xf32> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>, tensor<1x2x5xf32>
  return %o : tensor<1x2x5x4xf32>
}

// -----

// CHECK-LABEL: func @keep_used_lse
// CHECK: %{{.*}}, %[[L:.*]] = attn.attention {{.*}} -> tensor<1x2x5x4xf32>, tensor<1x2x5xf32>
// CHECK: return %[[L]]
func.func @keep_used_lse(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) -> tensor<1x2x5xf32> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>, tensor<1x2x5xf32>
  return %lse : tensor<1x2x5xf32>
}

// -----

// Dead attention disappears (it is Pure).
// CHECK-LABEL: func @dead_attention
// CHECK-NOT: attn.attention
func.func @dead_attention(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>) {
  %o = attn.attention %q, %k, %v : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32> -> tensor<1x2x5x4xf32>
  return
}

// -----

// A single partial of the output's type is the merge.
// CHECK-LABEL: func @merge_single
// CHECK-NOT: attn.merge
// CHECK: return %arg0, %arg1
func.func @merge_single(%o0: tensor<1x2x3x4xf32>, %l0: tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) {
  %o, %l = attn.merge %o0 lse %l0 : (tensor<1x2x3x4xf32>), (tensor<1x2x3xf32>) -> tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return %o, %l : tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
}

// -----

// ... but not when the merge also narrows the type.
// CHECK-LABEL: func @merge_single_narrowing
// CHECK: attn.merge
func.func @merge_single_narrowing(%o0: tensor<1x2x3x4xf32>, %l0: tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf16>, tensor<1x2x3xf32>) {
  %o, %l = attn.merge %o0 lse %l0 : (tensor<1x2x3x4xf32>), (tensor<1x2x3xf32>) -> tensor<1x2x3x4xf16>, tensor<1x2x3xf32>
  return %o, %l : tensor<1x2x3x4xf16>, tensor<1x2x3xf32>
}

// Rewrites keep a block-sparse selection (it was dropped before).
// CHECK-LABEL: func @scale_fold_keeps_blocks
// CHECK: attn.attention %arg0, %arg1, %arg2 blocks(%arg3 : tensor<1x2x4x3xi32>) {block_sizes = array<i64: 1, 4>, causal, scale = 2.500000e-01 : f64}
func.func @scale_fold_keeps_blocks(%q: tensor<1x4x4x16xf32>, %k: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x16xf32>, %idx: tensor<1x2x4x3xi32>) -> tensor<1x4x4x16xf32> {
  %c = arith.constant dense<0.5> : tensor<1x4x4x16xf32>
  %qs = arith.mulf %q, %c : tensor<1x4x4x16xf32>
  %o = attn.attention %qs, %k, %v blocks(%idx : tensor<1x2x4x3xi32>) {block_sizes = array<i64: 1, 4>, causal, scale = 0.5 : f64} : tensor<1x4x4x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x4x16xf32>
  return %o : tensor<1x4x4x16xf32>
}

// -----

// [B, S, H, D] operands transposed to [B, H, S, D] and the result transposed
// back: the op reads them in place (layout bshd) and no transpose remains.
// CHECK-LABEL: func @fold_layout_transposes
// CHECK-NOT: linalg.transpose
// CHECK: %[[O:.*]] = attn.attention %arg0, %arg1, %arg2 {causal, layout = #attn.layout<bshd>} : tensor<?x7x4x16xf32>, tensor<?x9x2x16xf32>, tensor<?x9x2x16xf32> -> tensor<?x7x4x16xf32>
// CHECK-NOT: linalg.transpose
// CHECK: return %[[O]]
func.func @fold_layout_transposes(%q: tensor<?x7x4x16xf32>, %k: tensor<?x9x2x16xf32>, %v: tensor<?x9x2x16xf32>) -> tensor<?x7x4x16xf32> {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %q, %c0 : tensor<?x7x4x16xf32>
  %eq = tensor.empty(%b) : tensor<?x4x7x16xf32>
  %ek = tensor.empty(%b) : tensor<?x2x9x16xf32>
  %qt = linalg.transpose ins(%q : tensor<?x7x4x16xf32>) outs(%eq : tensor<?x4x7x16xf32>) permutation = [0, 2, 1, 3]
  %kt = linalg.transpose ins(%k : tensor<?x9x2x16xf32>) outs(%ek : tensor<?x2x9x16xf32>) permutation = [0, 2, 1, 3]
  %vt = linalg.transpose ins(%v : tensor<?x9x2x16xf32>) outs(%ek : tensor<?x2x9x16xf32>) permutation = [0, 2, 1, 3]
  %o = attn.attention %qt, %kt, %vt {causal} : tensor<?x4x7x16xf32>, tensor<?x2x9x16xf32>, tensor<?x2x9x16xf32> -> tensor<?x4x7x16xf32>
  %eo = tensor.empty(%b) : tensor<?x7x4x16xf32>
  %ot = linalg.transpose ins(%o : tensor<?x4x7x16xf32>) outs(%eo : tensor<?x7x4x16xf32>) permutation = [0, 2, 1, 3]
  return %ot : tensor<?x7x4x16xf32>
}
