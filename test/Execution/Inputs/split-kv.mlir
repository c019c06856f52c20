// Split-KV: attention over two key sets, merged by log-sum-exp; the same
// as one attention over the concatenated keys.
func.func @split_kv(%q: tensor<?x3x?x8xf32>, %k1: tensor<?x3x?x8xf32>, %v1: tensor<?x3x?x8xf32>,
                    %k2: tensor<?x3x?x8xf32>, %v2: tensor<?x3x?x8xf32>) -> (tensor<?x3x?x8xf32>, tensor<?x3x?xf32>) {
  %o1, %l1 = attn.attention %q, %k1, %v1 : tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32> -> tensor<?x3x?x8xf32>, tensor<?x3x?xf32>
  %o2, %l2 = attn.attention %q, %k2, %v2 : tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32> -> tensor<?x3x?x8xf32>, tensor<?x3x?xf32>
  %o, %l = attn.merge %o1, %o2 lse %l1, %l2 : (tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32>), (tensor<?x3x?xf32>, tensor<?x3x?xf32>) -> tensor<?x3x?x8xf32>, tensor<?x3x?xf32>
  return %o, %l : tensor<?x3x?x8xf32>, tensor<?x3x?xf32>
}
