// attn-decompose rewrites NSA into the primitive ops of section 5: the
// selection (softmax_prob over compressed keys, one list per key head) with
// the compressed values, so that it also returns the compressed branch (the
// attention its probabilities come from: one pass over the compressed keys
// for both), block-sparse and sliding-window attention, and the gated sum.
// RUN: attn-opt %s --attn-decompose | FileCheck %s

// CHECK-LABEL: func @nsa
// CHECK: %[[VC:.*]] = attn.compress %arg2 {block = 8 : i64, pool = #attn.pool<mean>, stride = 4 : i64} : tensor<?x2x?x48xf32> -> tensor<?x2x?x48xf32>
// CHECK: %[[IDX:.*]], %[[CMP:.*]] = attn.select_blocks %arg0, %arg1 values(%[[VC]] : tensor<?x2x?x48xf32>) {block = 16 : i64, compress = array<i64: 8, 4>, init = 1 : i64, local = 2 : i64, method = #attn.score<softmax_prob>, scale = 1.250000e-01 : f64, top_k = 4 : i64} : tensor<?x6x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x2x?x4xi32>, tensor<?x6x?x48xf32>
// CHECK: %[[SLC:.*]] = attn.attention %arg0, %arg1, %arg2 blocks(%[[IDX]] : tensor<?x2x?x4xi32>) {alignment = #attn.alignment<bottom_right>, block_sizes = array<i64: 1, 16>, causal, scale = 1.250000e-01 : f64}
// CHECK: %[[WIN:.*]] = attn.attention %arg0, %arg1, %arg2 {alignment = #attn.alignment<bottom_right>, causal, scale = 1.250000e-01 : f64, window = array<i64: 23, 0>}
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%arg3, %arg3, %arg3, %[[CMP]], %[[SLC]], %[[WIN]] :
// CHECK: return %[[SUM]], %[[IDX]]
func.func @nsa(%q: tensor<?x6x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x48xf32>, %g: tensor<?x6x?x3xf32>) -> (tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>) {
  %o, %idx = attn.nsa %q, %k, %v, %g {compress_block = 8, compress_stride = 4, select_block = 16, top_k = 4, init_blocks = 1, local_blocks = 2, window = 24, scale = 0.125 : f64} : tensor<?x6x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x48xf32>, tensor<?x6x?x3xf32> -> tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>
  return %o, %idx : tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>
}

// MoBA: mean_key selection per query head, the query's own block forced,
// then block-sparse causal attention.
// CHECK-LABEL: func @moba
// CHECK: %[[IDX:.*]] = attn.select_blocks %arg0, %arg1 {block = 32 : i64, init = 0 : i64, local = 1 : i64, method = #attn.score<mean_key>, per_query_head, top_k = 3 : i64} : tensor<?x4x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x4x?x3xi32>
// CHECK: %[[O:.*]] = attn.attention %arg0, %arg1, %arg2 blocks(%[[IDX]] : tensor<?x4x?x3xi32>) {alignment = #attn.alignment<bottom_right>, block_sizes = array<i64: 1, 32>, causal}
// CHECK: return %[[O]], %[[IDX]]
func.func @moba(%q: tensor<?x4x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>) -> (tensor<?x4x?x32xf32>, tensor<?x4x?x3xi32>) {
  %o, %idx = attn.moba %q, %k, %v {block = 32, top_k = 3} : tensor<?x4x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32>, tensor<?x4x?x3xi32>
  return %o, %idx : tensor<?x4x?x32xf32>, tensor<?x4x?x3xi32>
}

// The switch: an scf.if on the key length, the regions as its branches.
// CHECK-LABEL: func @switch
// CHECK: %[[KEYS:.*]] = tensor.dim %arg1, %c2
// CHECK: %[[DENSE:.*]] = arith.cmpi slt, %[[KEYS]], %c100
// CHECK: scf.if %[[DENSE]] -> (tensor<?x4x?x32xf32>) {
// CHECK: attn.attention %arg0, %arg1, %arg2 {causal}
// CHECK: scf.yield
// CHECK: } else {
// CHECK: attn.attention %arg0, %arg1, %arg2 {alignment = #attn.alignment<bottom_right>, causal}
// CHECK-NOT: attn.switch
func.func @switch(%q: tensor<?x4x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>) -> tensor<?x4x?x32xf32> {
  %o = attn.switch %k dense_len(100) : tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32> {
    %d = attn.attention %q, %k, %v {causal} : tensor<?x4x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32>
    attn.yield %d : tensor<?x4x?x32xf32>
  } else {
    %s = attn.attention %q, %k, %v {causal, alignment = #attn.alignment<bottom_right>} : tensor<?x4x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32>
    attn.yield %s : tensor<?x4x?x32xf32>
  }
  return %o : tensor<?x4x?x32xf32>
}

// NSA over a ragged batch: the compression of the values (which pools
// valid keys only), the selection (and with it the compressed branch) and
// the other two branches take the valid lengths as they are. With max
// pooling, the selection scores through max-pooled keys too.
// CHECK-LABEL: func @nsa_lengths
// CHECK: %[[VC:.*]] = attn.compress %arg2 kv_lengths(%arg4 : tensor<?xi32>) {block = 8 : i64, pool = #attn.pool<max>, stride = 4 : i64}
// CHECK: attn.select_blocks %arg0, %arg1 values(%[[VC]] : tensor<?x2x?x48xf32>) kv_lengths(%arg4 : tensor<?xi32>) {{.*}}pool = #attn.pool<max>
// CHECK: attn.attention %arg0, %arg1, %arg2 kv_lengths(%arg4 : tensor<?xi32>) blocks(
// CHECK: attn.attention %arg0, %arg1, %arg2 kv_lengths(%arg4 : tensor<?xi32>) {{.*}}window = array<i64: 23, 0>
func.func @nsa_lengths(%q: tensor<?x6x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x48xf32>, %g: tensor<?x6x?x3xf32>, %n: tensor<?xi32>) -> (tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>) {
  %o, %idx = attn.nsa %q, %k, %v, %g kv_lengths(%n : tensor<?xi32>) {compress_block = 8, compress_stride = 4, pool = #attn.pool<max>, select_block = 16, top_k = 4, init_blocks = 1, local_blocks = 2, window = 24} : tensor<?x6x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x48xf32>, tensor<?x6x?x3xf32> -> tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>
  return %o, %idx : tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>
}

// The switch per batch element: L < dense_len picks dense. The sparse side
// runs when any element is sparse, with the dense elements' lengths 0; the
// dense side then runs with the sparse elements' lengths 0 only when some
// element is dense, and a select per element merges the two.
// CHECK-LABEL: func @switch_per_element
// CHECK: %[[SPLIT:.*]]:3 = linalg.generic {{.*}} ins(%arg3 : tensor<?xi64>)
// CHECK: %[[IS_DENSE:.*]] = arith.cmpi slt, %{{.*}}, %c100_i64
// CHECK: arith.select %[[IS_DENSE]], %{{.*}}, %c0_i64
// CHECK: arith.select %[[IS_DENSE]], %c0_i64, %{{.*}}
// CHECK: %[[ANY:.*]]:2 = scf.for
// CHECK: scf.if %[[ANY]]#1
// CHECK-NEXT: %[[SPARSE:.*]] = attn.attention %arg0, %arg1, %arg2 kv_lengths(%[[SPLIT]]#2 : tensor<?xi64>) {{.*}}window
// CHECK-NEXT: scf.if %[[ANY]]#0
// CHECK-NEXT: %[[DENSE:.*]] = attn.attention %arg0, %arg1, %arg2 kv_lengths(%[[SPLIT]]#1 : tensor<?xi64>) {alignment = #attn.alignment<bottom_right>, causal}
// CHECK: linalg.generic {{.*}} ins(%[[SPLIT]]#0, %[[DENSE]], %[[SPARSE]] : tensor<?xi1>,
// CHECK: arith.select
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[SPARSE]]
// CHECK: } else {
// CHECK-NEXT: attn.attention %arg0, %arg1, %arg2 kv_lengths(%[[SPLIT]]#1 : tensor<?xi64>) {alignment = #attn.alignment<bottom_right>, causal}
// CHECK-NOT: attn.switch
func.func @switch_per_element(%q: tensor<?x4x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>, %n: tensor<?xi64>) -> tensor<?x4x?x32xf32> {
  %o = attn.switch %k kv_lengths(%n : tensor<?xi64>) dense_len(100) : tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32> {
    %d = attn.attention %q, %k, %v kv_lengths(%n : tensor<?xi64>) {causal, alignment = #attn.alignment<bottom_right>} : tensor<?x4x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32>
    attn.yield %d : tensor<?x4x?x32xf32>
  } else {
    %s = attn.attention %q, %k, %v kv_lengths(%n : tensor<?xi64>) {causal, window = array<i64: 63, 0>, alignment = #attn.alignment<bottom_right>} : tensor<?x4x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32>
    attn.yield %s : tensor<?x4x?x32xf32>
  }
  return %o : tensor<?x4x?x32xf32>
}
