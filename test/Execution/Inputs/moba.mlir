// MoBA as one op (sparsify.test): the fused pipeline decomposes it, the
// reference evaluates it directly.
func.func @moba(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>) -> (tensor<?x4x?x16xf32>, tensor<?x4x?x2xi32>) {
  %o, %idx = attn.moba %q, %k, %v {block = 8, top_k = 2} : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32> -> tensor<?x4x?x16xf32>, tensor<?x4x?x2xi32>
  return %o, %idx : tensor<?x4x?x16xf32>, tensor<?x4x?x2xi32>
}
