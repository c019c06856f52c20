// Compressed keys and values given (a decode loop's cache) instead of
// pooled on every call; see ../compressed-cache.test.
!q = tensor<?x4x?x8xf32>
!k = tensor<?x2x?x8xf32>
!c = tensor<?x2x?x8xf32>
!l = tensor<?xi64>
!i = tensor<?x2x?x3xi32>
!g = tensor<?x4x?x3xf32>

// The selection scores through the given keys and returns the attention
// over the given values.
func.func @select(%q: !q, %k: !k, %kc: !c, %vc: !c, %n: !l) -> (!i, !q) {
  %idx, %o = attn.select_blocks %q, %k compressed(%kc : !c) values(%vc : !c) kv_lengths(%n : !l) {method = #attn.score<softmax_prob>, block = 8, top_k = 3, init = 1, local = 1, compress = array<i64: 4, 2>} : !q, !k -> !i, !q
  return %idx, %o : !i, !q
}

// NSA with a cache, any cache.
func.func @nsa_cached(%q: !q, %k: !k, %v: !k, %g: !g, %kc: !c, %vc: !c, %n: !l) -> (!q, !i) {
  %o, %idx = attn.nsa %q, %k, %v, %g compressed(%kc, %vc : !c, !c) kv_lengths(%n : !l) {compress_block = 4, compress_stride = 2, select_block = 8, top_k = 3, init_blocks = 1, local_blocks = 1, window = 5} : !q, !k, !k, !g -> !q, !i
  return %o, %idx : !q, !i
}

// NSA with the cache that pooling would give, and NSA pooling itself:
// the same results.
func.func @nsa_pooled(%q: !q, %k: !k, %v: !k, %g: !g, %n: !l) -> (!q, !i) {
  %kc = attn.compress %k kv_lengths(%n : !l) {block = 4, stride = 2, pool = #attn.pool<mean>} : !k -> !c
  %vc = attn.compress %v kv_lengths(%n : !l) {block = 4, stride = 2, pool = #attn.pool<mean>} : !k -> !c
  %o, %idx = attn.nsa %q, %k, %v, %g compressed(%kc, %vc : !c, !c) kv_lengths(%n : !l) {compress_block = 4, compress_stride = 2, select_block = 8, top_k = 3, init_blocks = 1, local_blocks = 1, window = 5} : !q, !k, !k, !g -> !q, !i
  return %o, %idx : !q, !i
}
func.func @nsa(%q: !q, %k: !k, %v: !k, %g: !g, %n: !l) -> (!q, !i) {
  %o, %idx = attn.nsa %q, %k, %v, %g kv_lengths(%n : !l) {compress_block = 4, compress_stride = 2, select_block = 8, top_k = 3, init_blocks = 1, local_blocks = 1, window = 5} : !q, !k, !k, !g -> !q, !i
  return %o, %idx : !q, !i
}
