// Sparse ops over ragged batches (per-batch valid key lengths); see
// ../sparse-lengths.test.
!q = tensor<?x4x?x8xf32>
!k = tensor<?x2x?x8xf32>
!l = tensor<?xi64>

// InfLLM-V2 as a switch chosen per batch element.
func.func @switch(%q: !q, %k: !k, %v: !k, %n: !l) -> !q {
  %o = attn.switch %k kv_lengths(%n : !l) dense_len(30) : !k -> !q {
    %o = attn.attention %q, %k, %v kv_lengths(%n : !l) {causal, alignment = #attn.alignment<bottom_right>} : !q, !k, !k -> !q
    attn.yield %o : !q
  } else {
    %idx = attn.select_blocks %q, %k kv_lengths(%n : !l) {method = #attn.score<softmax_prob_max>, block = 8, top_k = 2, init = 1, local = 1, compress = array<i64: 4, 2>} : !q, !k -> tensor<?x2x?x2xi32>
    %o = attn.attention %q, %k, %v kv_lengths(%n : !l) blocks(%idx : tensor<?x2x?x2xi32>) {block_sizes = array<i64: 1, 8>, causal, alignment = #attn.alignment<bottom_right>} : !q, !k, !k -> !q
    attn.yield %o : !q
  }
  return %o : !q
}

// Quest's pages over each element's valid keys.
func.func @pages(%q: !q, %k: !k, %n: !l) -> tensor<?x4x?x2xi32> {
  %idx = attn.select_blocks %q, %k kv_lengths(%n : !l) {method = #attn.score<key_bound>, block = 8, top_k = 2, init = 0, local = 1, per_query_head} : !q, !k -> tensor<?x4x?x2xi32>
  return %idx : tensor<?x4x?x2xi32>
}

// NSA: all three branches and the selection honour the lengths.
func.func @nsa(%q: !q, %k: !k, %v: !k, %g: tensor<?x4x?x3xf32>, %n: !l) -> (!q, tensor<?x2x?x3xi32>) {
  %o, %idx = attn.nsa %q, %k, %v, %g kv_lengths(%n : !l) {compress_block = 4, compress_stride = 2, select_block = 8, top_k = 3, init_blocks = 1, local_blocks = 1, window = 5} : !q, !k, !k, tensor<?x4x?x3xf32> -> !q, tensor<?x2x?x3xi32>
  return %o, %idx : !q, tensor<?x2x?x3xi32>
}

// MoBA likewise.
func.func @moba(%q: !q, %k: !k, %v: !k, %n: !l) -> (!q, tensor<?x4x?x2xi32>) {
  %o, %idx = attn.moba %q, %k, %v kv_lengths(%n : !l) {block = 8, top_k = 2} : !q, !k, !k -> !q, tensor<?x4x?x2xi32>
  return %o, %idx : !q, tensor<?x4x?x2xi32>
}

// A selection that also returns the attention over the compressed tokens
// it scores with, written with the primitives: max-pooled values, lists
// per query head by softmax_prob_max (NSA's form, softmax_prob per key
// head, runs in @nsa above).
func.func @select_values(%q: !q, %k: !k, %v: !k, %n: !l) -> (tensor<?x4x?x2xi32>, !q) {
  %vc = attn.compress %v {block = 4, stride = 2, pool = #attn.pool<max>} : !k -> !k
  %idx, %o = attn.select_blocks %q, %k values(%vc : !k) kv_lengths(%n : !l) {method = #attn.score<softmax_prob_max>, block = 8, top_k = 2, init = 0, local = 1, per_query_head, compress = array<i64: 4, 2>, scale = 0.5 : f64} : !q, !k -> tensor<?x4x?x2xi32>, !q
  return %idx, %o : tensor<?x4x?x2xi32>, !q
}
// Compression of a ragged batch: tokens past an element's valid keys are 0.
func.func @compress(%k: !k, %w: tensor<4xf32>, %n: !l) -> (!k, !k) {
  %mean = attn.compress %k kv_lengths(%n : !l) {block = 4, stride = 2, pool = #attn.pool<mean>} : !k -> !k
  %weighted = attn.compress %k weights(%w : tensor<4xf32>) kv_lengths(%n : !l) {block = 4, stride = 2, pool = #attn.pool<weighted>} : !k -> !k
  return %mean, %weighted : !k, !k
}
