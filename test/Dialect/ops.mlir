// Every form of the ops prints, parses and prints again identically, in the
// custom and the generic form.
// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s
// RUN: attn-opt %s --verify-roundtrip | FileCheck %s

// CHECK-LABEL: func @mha
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8x77x64xf32>, tensor<2x8x130x64xf32>, tensor<2x8x130x64xf32> -> tensor<2x8x77x64xf32>
func.func @mha(%q: tensor<2x8x77x64xf32>, %k: tensor<2x8x130x64xf32>, %v: tensor<2x8x130x64xf32>) -> tensor<2x8x77x64xf32> {
  %o = attn.attention %q, %k, %v : tensor<2x8x77x64xf32>, tensor<2x8x130x64xf32>, tensor<2x8x130x64xf32> -> tensor<2x8x77x64xf32>
  return %o : tensor<2x8x77x64xf32>
}

// CHECK-LABEL: func @gqa_dynamic
// CHECK: attn.attention {{.*}} {causal} : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
func.func @gqa_dynamic(%q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>, %v: tensor<?x8x?x128xbf16>) -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}

// CHECK-LABEL: func @mqa_lse
// CHECK: %[[O:.*]], %[[LSE:.*]] = attn.attention {{.*}} -> tensor<1x16x1x64xf16>, tensor<1x16x1xf32>
// CHECK: return %[[O]], %[[LSE]]
func.func @mqa_lse(%q: tensor<1x16x1x64xf16>, %k: tensor<1x1x8192x64xf16>, %v: tensor<1x1x8192x64xf16>) -> (tensor<1x16x1x64xf16>, tensor<1x16x1xf32>) {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x16x1x64xf16>, tensor<1x1x8192x64xf16>, tensor<1x1x8192x64xf16> -> tensor<1x16x1x64xf16>, tensor<1x16x1xf32>
  return %o, %lse : tensor<1x16x1x64xf16>, tensor<1x16x1xf32>
}

// CHECK-LABEL: func @different_value_dim
// CHECK: attn.attention {{.*}} -> tensor<1x4x17x32xf32>
func.func @different_value_dim(%q: tensor<1x4x17x96xf32>, %k: tensor<1x2x33x96xf32>, %v: tensor<1x2x33x32xf32>) -> tensor<1x4x17x32xf32> {
  %o = attn.attention %q, %k, %v : tensor<1x4x17x96xf32>, tensor<1x2x33x96xf32>, tensor<1x2x33x32xf32> -> tensor<1x4x17x32xf32>
  return %o : tensor<1x4x17x32xf32>
}

// CHECK-LABEL: func @scale_softcap
// CHECK: attn.attention {{.*}} {scale = 1.250000e-01 : f64, softcap = 3.000000e+01 : f64}
func.func @scale_softcap(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32> {
  %o = attn.attention %q, %k, %v {scale = 0.125 : f64, softcap = 30.0 : f64} : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32> -> tensor<1x2x5x8xf32>
  return %o : tensor<1x2x5x8xf32>
}

// CHECK-LABEL: func @bool_mask_2d
// CHECK: attn.attention {{.*}} mask(%{{.*}} : tensor<7x9xi1>)
func.func @bool_mask_2d(%q: tensor<1x2x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %m: tensor<7x9xi1>) -> tensor<1x2x7x8xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<7x9xi1>) : tensor<1x2x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x2x7x8xf32>
  return %o : tensor<1x2x7x8xf32>
}

// A float mask shorter than the keys: the keys it does not cover are masked.
// CHECK-LABEL: func @short_float_mask_3d
// CHECK: attn.attention {{.*}} mask(%{{.*}} : tensor<2x7x5xf16>)
func.func @short_float_mask_3d(%q: tensor<1x2x7x8xf16>, %k: tensor<1x2x9x8xf16>, %v: tensor<1x2x9x8xf16>, %m: tensor<2x7x5xf16>) -> tensor<1x2x7x8xf16> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<2x7x5xf16>) : tensor<1x2x7x8xf16>, tensor<1x2x9x8xf16>, tensor<1x2x9x8xf16> -> tensor<1x2x7x8xf16>
  return %o : tensor<1x2x7x8xf16>
}

// CHECK-LABEL: func @broadcast_mask_4d
// CHECK: mask(%{{.*}} : tensor<3x1x1x9xf32>)
func.func @broadcast_mask_4d(%q: tensor<3x2x7x8xf32>, %k: tensor<3x2x9x8xf32>, %v: tensor<3x2x9x8xf32>, %m: tensor<3x1x1x9xf32>) -> tensor<3x2x7x8xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<3x1x1x9xf32>) : tensor<3x2x7x8xf32>, tensor<3x2x9x8xf32>, tensor<3x2x9x8xf32> -> tensor<3x2x7x8xf32>
  return %o : tensor<3x2x7x8xf32>
}

// CHECK-LABEL: func @kv_lengths_bottom_right
// CHECK: kv_lengths(%{{.*}} : tensor<?xi64>) {alignment = #attn.alignment<bottom_right>, causal}
func.func @kv_lengths_bottom_right(%q: tensor<?x4x1x64xf16>, %k: tensor<?x4x?x64xf16>, %v: tensor<?x4x?x64xf16>, %l: tensor<?xi64>) -> tensor<?x4x1x64xf16> {
  %o = attn.attention %q, %k, %v kv_lengths(%l : tensor<?xi64>) {causal, alignment = #attn.alignment<bottom_right>} : tensor<?x4x1x64xf16>, tensor<?x4x?x64xf16>, tensor<?x4x?x64xf16> -> tensor<?x4x1x64xf16>
  return %o : tensor<?x4x1x64xf16>
}

// CHECK-LABEL: func @mask_and_lengths
// CHECK: attn.attention {{.*}} mask(%{{.*}} : tensor<?x1x?x?xf32>) kv_lengths(%{{.*}} : tensor<?xi32>)
func.func @mask_and_lengths(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>, %v: tensor<?x4x?x64xf32>, %m: tensor<?x1x?x?xf32>, %l: tensor<?xi32>) -> tensor<?x4x?x64xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<?x1x?x?xf32>) kv_lengths(%l : tensor<?xi32>) : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32> -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

// CHECK-LABEL: func @sliding_window
// CHECK: {window = array<i64: 4095, 0>}
func.func @sliding_window(%q: tensor<1x8x?x256xbf16>, %k: tensor<1x4x?x256xbf16>, %v: tensor<1x4x?x256xbf16>) -> tensor<1x8x?x256xbf16> {
  %o = attn.attention %q, %k, %v {window = array<i64: 4095, 0>} : tensor<1x8x?x256xbf16>, tensor<1x4x?x256xbf16>, tensor<1x4x?x256xbf16> -> tensor<1x8x?x256xbf16>
  return %o : tensor<1x8x?x256xbf16>
}

// CHECK-LABEL: func @two_sided_window
// CHECK: {window = array<i64: 3, 2>}
func.func @two_sided_window(%q: tensor<1x1x16x8xf32>, %k: tensor<1x1x16x8xf32>, %v: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 3, 2>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// CHECK-LABEL: func @parallel_branches
// CHECK: {alignment = #attn.alignment<bottom_right>, branches = array<i64: 100, 4>}
func.func @parallel_branches(%q: tensor<1x2x40x16xf32>, %k: tensor<1x2x140x16xf32>, %v: tensor<1x2x140x16xf32>) -> tensor<1x2x40x16xf32> {
  %o = attn.attention %q, %k, %v {branches = array<i64: 100, 4>, alignment = #attn.alignment<bottom_right>} : tensor<1x2x40x16xf32>, tensor<1x2x140x16xf32>, tensor<1x2x140x16xf32> -> tensor<1x2x40x16xf32>
  return %o : tensor<1x2x40x16xf32>
}

// CHECK-LABEL: func @layout_bshd
// CHECK: {causal, layout = #attn.layout<bshd>} : tensor<2x77x8x64xf16>, tensor<2x130x2x64xf16>, tensor<2x130x2x64xf16> -> tensor<2x77x8x64xf16>
func.func @layout_bshd(%q: tensor<2x77x8x64xf16>, %k: tensor<2x130x2x64xf16>, %v: tensor<2x130x2x64xf16>) -> tensor<2x77x8x64xf16> {
  %o = attn.attention %q, %k, %v {causal, layout = #attn.layout<bshd>} : tensor<2x77x8x64xf16>, tensor<2x130x2x64xf16>, tensor<2x130x2x64xf16> -> tensor<2x77x8x64xf16>
  return %o : tensor<2x77x8x64xf16>
}

// CHECK-LABEL: func @layout_packed
// CHECK: {layout = #attn.layout<packed>, num_heads = array<i64: 8, 2>} : tensor<2x77x512xf32>, tensor<2x130x128xf32>, tensor<2x130x64xf32> -> tensor<2x77x256xf32>
func.func @layout_packed(%q: tensor<2x77x512xf32>, %k: tensor<2x130x128xf32>, %v: tensor<2x130x64xf32>) -> tensor<2x77x256xf32> {
  %o = attn.attention %q, %k, %v {layout = #attn.layout<packed>, num_heads = array<i64: 8, 2>} : tensor<2x77x512xf32>, tensor<2x130x128xf32>, tensor<2x130x64xf32> -> tensor<2x77x256xf32>
  return %o : tensor<2x77x256xf32>
}

// CHECK-LABEL: func @tile_plan
// CHECK: tile_plan = #attn.tile_plan<target = sm_90, q_block = 128, kv_block = 64, warps = 8, stages = 3>
func.func @tile_plan(%q: tensor<1x8x?x128xf16>, %k: tensor<1x8x?x128xf16>, %v: tensor<1x8x?x128xf16>) -> tensor<1x8x?x128xf16> {
  %o = attn.attention %q, %k, %v {tile_plan = #attn.tile_plan<target = sm_90, q_block = 128, kv_block = 64, warps = 8, stages = 3>} : tensor<1x8x?x128xf16>, tensor<1x8x?x128xf16>, tensor<1x8x?x128xf16> -> tensor<1x8x?x128xf16>
  return %o : tensor<1x8x?x128xf16>
}

// CHECK-LABEL: func @merge
// CHECK: %{{.*}}, %{{.*}} = attn.merge %{{.*}}, %{{.*}}, %{{.*}} lse %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x8x1x64xf32>, tensor<2x8x1x64xf32>, tensor<2x8x1x64xf32>), (tensor<2x8x1xf32>, tensor<2x8x1xf32>, tensor<2x8x1xf32>) -> tensor<2x8x1x64xf16>, tensor<2x8x1xf32>
func.func @merge(%o0: tensor<2x8x1x64xf32>, %o1: tensor<2x8x1x64xf32>, %o2: tensor<2x8x1x64xf32>, %l0: tensor<2x8x1xf32>, %l1: tensor<2x8x1xf32>, %l2: tensor<2x8x1xf32>) -> (tensor<2x8x1x64xf16>, tensor<2x8x1xf32>) {
  %o, %l = attn.merge %o0, %o1, %o2 lse %l0, %l1, %l2 : (tensor<2x8x1x64xf32>, tensor<2x8x1x64xf32>, tensor<2x8x1x64xf32>), (tensor<2x8x1xf32>, tensor<2x8x1xf32>, tensor<2x8x1xf32>) -> tensor<2x8x1x64xf16>, tensor<2x8x1xf32>
  return %o, %l : tensor<2x8x1x64xf16>, tensor<2x8x1xf32>
}

// CHECK-LABEL: func @merge_dynamic
// CHECK: attn.merge {{.*}} -> tensor<?x8x?x64xf32>, tensor<?x8x?xf32>
func.func @merge_dynamic(%o0: tensor<?x8x?x64xf32>, %o1: tensor<?x8x?x64xf32>, %l0: tensor<?x8x?xf32>, %l1: tensor<?x8x?xf32>) -> (tensor<?x8x?x64xf32>, tensor<?x8x?xf32>) {
  %o, %l = attn.merge %o0, %o1 lse %l0, %l1 : (tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>), (tensor<?x8x?xf32>, tensor<?x8x?xf32>) -> tensor<?x8x?x64xf32>, tensor<?x8x?xf32>
  return %o, %l : tensor<?x8x?x64xf32>, tensor<?x8x?xf32>
}

// CHECK-LABEL: func @kv_cache_offsets
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} query_offsets(%{{.*}} : tensor<?xi32>) {causal} :
func.func @kv_cache_offsets(%q: tensor<?x8x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>, %off: tensor<?xi32>) -> tensor<?x8x?x64xf16> {
  %o = attn.attention %q, %k, %v query_offsets(%off : tensor<?xi32>) {causal} : tensor<?x8x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x8x?x64xf16>
  return %o : tensor<?x8x?x64xf16>
}

// CHECK-LABEL: func @kv_cache_offset
// CHECK: attn.attention {{.*}} {causal, query_offset = 12 : i64}
func.func @kv_cache_offset(%q: tensor<1x8x4x64xf16>, %k: tensor<1x2x18x64xf16>, %v: tensor<1x2x18x64xf16>) -> tensor<1x8x4x64xf16> {
  %o = attn.attention %q, %k, %v {causal, query_offset = 12} : tensor<1x8x4x64xf16>, tensor<1x2x18x64xf16>, tensor<1x2x18x64xf16> -> tensor<1x8x4x64xf16>
  return %o : tensor<1x8x4x64xf16>
}

// CHECK-LABEL: func @block_sparse
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} blocks(%{{.*}} : tensor<?x2x?x16xi32>) {block_sizes = array<i64: 64, 64>, causal} :
func.func @block_sparse(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %idx: tensor<?x2x?x16xi32>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x16xi32>) {block_sizes = array<i64: 64, 64>, causal} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}

// CHECK-LABEL: func @compress_select_nsa
// CHECK: attn.compress %{{.*}} {block = 32 : i64, pool = #attn.pool<max>, stride = 16 : i64}
// CHECK: attn.compress %{{.*}} weights(%{{.*}} : tensor<32xf32>) {block = 32 : i64, pool = #attn.pool<weighted>, stride = 16 : i64}
// CHECK: attn.compress %{{.*}} weights(%{{.*}} : tensor<32xf32>) kv_lengths(%{{.*}} : tensor<?xi64>) {block = 32 : i64, pool = #attn.pool<weighted>, stride = 16 : i64}
// CHECK: attn.select_blocks %{{.*}}, %{{.*}} {block = 64 : i64, init = 0 : i64, local = 1 : i64, method = #attn.score<key_bound>, per_query_head, top_k = 8 : i64}
// CHECK: attn.nsa
// CHECK: attn.moba %{{.*}}, %{{.*}}, %{{.*}} {block = 512 : i64, top_k = 3 : i64}
func.func @compress_select_nsa(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %g: tensor<?x8x?x3xbf16>, %w: tensor<32xf32>, %n: tensor<?xi64>)
    -> (tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x8x?x8xi32>, tensor<?x8x?x64xbf16>, tensor<?x2x?x16xi32>) {
  %kc = attn.compress %k {block = 32, stride = 16, pool = #attn.pool<max>} : tensor<?x2x?x64xbf16> -> tensor<?x2x?x64xbf16>
  %kw = attn.compress %k weights(%w : tensor<32xf32>) {block = 32, stride = 16, pool = #attn.pool<weighted>} : tensor<?x2x?x64xbf16> -> tensor<?x2x?x64xbf16>
  %kl = attn.compress %k weights(%w : tensor<32xf32>) kv_lengths(%n : tensor<?xi64>) {block = 32, stride = 16, pool = #attn.pool<weighted>} : tensor<?x2x?x64xbf16> -> tensor<?x2x?x64xbf16>
  %pages = attn.select_blocks %q, %k {method = #attn.score<key_bound>, block = 64, top_k = 8, init = 0, local = 1, per_query_head} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x8xi32>
  %o, %idx = attn.nsa %q, %k, %v, %g : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x8x?x3xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x2x?x16xi32>
  %mo, %midx = attn.moba %q, %k, %v {block = 512, top_k = 3} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x8x?x3xi32>
  return %kc, %kw, %kl, %pages, %o, %idx : tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x8x?x8xi32>, tensor<?x8x?x64xbf16>, tensor<?x2x?x16xi32>
}

// CHECK-LABEL: func @switch
// CHECK: attn.switch %arg1 dense_len(8192) : tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32> {
// CHECK: attn.yield %{{.*}} : tensor<?x8x?x64xf32>
// CHECK: } else {
func.func @switch(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.switch %k dense_len(8192) : tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32> {
    %d = attn.attention %q, %k, %v {causal, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
    attn.yield %d : tensor<?x8x?x64xf32>
  } else {
    %idx = attn.select_blocks %q, %k {method = #attn.score<softmax_prob_max>, block = 64, top_k = 16, init = 1, local = 4, compress = array<i64: 32, 16>} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x2x?x16xi32>
    %s = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x16xi32>) {block_sizes = array<i64: 1, 64>, causal, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
    attn.yield %s : tensor<?x8x?x64xf32>
  }
  return %o : tensor<?x8x?x64xf32>
}

// A selection with compressed values also returns the attention over the
// compressed tokens (NSA's compressed branch); max-pooled scoring keys.
// CHECK-LABEL: func @select_values
// CHECK: %{{.*}}, %{{.*}} = attn.select_blocks %arg0, %arg1 values(%arg2 : tensor<?x2x?x48xbf16>) kv_lengths(%arg3 : tensor<?xi64>) {block = 64 : i64, compress = array<i64: 32, 16>, init = 1 : i64, local = 2 : i64, method = #attn.score<softmax_prob>, pool = #attn.pool<max>, top_k = 16 : i64} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x2x?x16xi32>, tensor<?x8x?x48xbf16>
func.func @select_values(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %vc: tensor<?x2x?x48xbf16>, %n: tensor<?xi64>)
    -> (tensor<?x2x?x16xi32>, tensor<?x8x?x48xbf16>) {
  %idx, %cmp = attn.select_blocks %q, %k values(%vc : tensor<?x2x?x48xbf16>) kv_lengths(%n : tensor<?xi64>) {method = #attn.score<softmax_prob>, block = 64, top_k = 16, init = 1, local = 2, compress = array<i64: 32, 16>, pool = #attn.pool<max>} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x2x?x16xi32>, tensor<?x8x?x48xbf16>
  return %idx, %cmp : tensor<?x2x?x16xi32>, tensor<?x8x?x48xbf16>
}

// Per-batch valid key lengths on the sparse ops and the switch.
// CHECK-LABEL: func @ragged
// CHECK: attn.select_blocks %arg0, %arg1 kv_lengths(%arg4 : tensor<?xi32>) {block = 64 : i64
// CHECK: attn.nsa %arg0, %arg1, %arg2, %arg3 kv_lengths(%arg4 : tensor<?xi32>) :
// CHECK: attn.moba %arg0, %arg1, %arg2 kv_lengths(%arg4 : tensor<?xi32>) {block = 512 : i64, top_k = 3 : i64}
// CHECK: attn.switch %arg1 kv_lengths(%arg4 : tensor<?xi32>) dense_len(8192) : tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16> {
func.func @ragged(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %g: tensor<?x8x?x3xbf16>, %n: tensor<?xi32>)
    -> (tensor<?x8x?x8xi32>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>) {
  %pages = attn.select_blocks %q, %k kv_lengths(%n : tensor<?xi32>) {method = #attn.score<key_bound>, block = 64, top_k = 8, init = 0, local = 1, per_query_head} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x8xi32>
  %o, %idx = attn.nsa %q, %k, %v, %g kv_lengths(%n : tensor<?xi32>) : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x8x?x3xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x2x?x16xi32>
  %mo, %midx = attn.moba %q, %k, %v kv_lengths(%n : tensor<?xi32>) {block = 512, top_k = 3} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x8x?x3xi32>
  %s = attn.switch %k kv_lengths(%n : tensor<?xi32>) dense_len(8192) : tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16> {
    attn.yield %o : tensor<?x8x?x64xbf16>
  } else {
    attn.yield %mo : tensor<?x8x?x64xbf16>
  }
  return %pages, %o, %mo, %s : tensor<?x8x?x8xi32>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>
}

// NSA's selected and window branches in one op (attn-fuse-branches).
// CHECK-LABEL: func.func @window_branch
// CHECK: %{{.*}}, %{{.*}} = attn.attention %{{.*}}, %{{.*}}, %{{.*}} blocks(%{{.*}} : tensor<?x2x?x16xi32>) {alignment = #attn.alignment<bottom_right>, block_sizes = array<i64: 1, 64>, causal, window_branch = array<i64: 511, -1>} : tensor<?x8x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x8x?x64xf16> window tensor<?x8x?x64xf16>
func.func @window_branch(%q: tensor<?x8x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>, %idx: tensor<?x2x?x16xi32>) -> (tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16>) {
  %s, %w = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x16xi32>) {block_sizes = array<i64: 1, 64>, causal, alignment = #attn.alignment<bottom_right>, window_branch = array<i64: 511, -1>} : tensor<?x8x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x8x?x64xf16> window tensor<?x8x?x64xf16>
  return %s, %w : tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16>
}

// A decode step's compressed keys and values from a cache.
// CHECK-LABEL: func.func @compressed_cache
// CHECK: attn.select_blocks %arg0, %arg1 compressed(%arg3 : tensor<?x2x?x64xbf16>) values(%arg4 : tensor<?x2x?x64xbf16>) {block = 64 : i64, compress = array<i64: 32, 16>, init = 1 : i64, local = 2 : i64, method = #attn.score<softmax_prob>, top_k = 16 : i64}
// CHECK: attn.nsa %arg0, %arg1, %arg2, %arg5 compressed(%arg3, %arg4 : tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>) :
func.func @compressed_cache(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %kc: tensor<?x2x?x64xbf16>, %vc: tensor<?x2x?x64xbf16>, %g: tensor<?x8x?x3xbf16>) -> (tensor<?x2x?x16xi32>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x2x?x16xi32>) {
  %idx, %c = attn.select_blocks %q, %k compressed(%kc : tensor<?x2x?x64xbf16>) values(%vc : tensor<?x2x?x64xbf16>) {method = #attn.score<softmax_prob>, block = 64, top_k = 16, init = 1, local = 2, compress = array<i64: 32, 16>} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x2x?x16xi32>, tensor<?x8x?x64xbf16>
  %o, %i2 = attn.nsa %q, %k, %v, %g compressed(%kc, %vc : tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>) : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x8x?x3xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x2x?x16xi32>
  return %idx, %c, %o, %i2 : tensor<?x2x?x16xi32>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x2x?x16xi32>
}
