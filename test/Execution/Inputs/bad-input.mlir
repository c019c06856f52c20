// Functions for the bad-input regression tests (bad-input.test).
func.func @plain(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>)
    -> (tensor<?x2x?x8xf32>, tensor<?x2x?xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>, tensor<?x2x?xf32>
  return %o, %l : tensor<?x2x?x8xf32>, tensor<?x2x?xf32>
}

func.func @f64_mask(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>, %m: tensor<?x?xf64>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<?x?xf64>)
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @bool_mask(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>, %m: tensor<?x?xi1>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<?x?xi1>)
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @static_lengths(%q: tensor<2x2x?x8xf32>, %k: tensor<2x2x?x8xf32>, %v: tensor<2x2x?x8xf32>, %n: tensor<2xi64>)
    -> tensor<2x2x?x8xf32> {
  %o = attn.attention %q, %k, %v kv_lengths(%n : tensor<2xi64>)
      : tensor<2x2x?x8xf32>, tensor<2x2x?x8xf32>, tensor<2x2x?x8xf32> -> tensor<2x2x?x8xf32>
  return %o : tensor<2x2x?x8xf32>
}

func.func @cast_lengths(%q: tensor<2x2x5x8xf32>, %k: tensor<2x2x6x8xf32>, %v: tensor<2x2x6x8xf32>, %n: tensor<2xi64>)
    -> tensor<2x2x5x8xf32> {
  %c = tensor.cast %n : tensor<2xi64> to tensor<?xi64>
  %o = attn.attention %q, %k, %v kv_lengths(%c : tensor<?xi64>)
      : tensor<2x2x5x8xf32>, tensor<2x2x6x8xf32>, tensor<2x2x6x8xf32> -> tensor<2x2x5x8xf32>
  return %o : tensor<2x2x5x8xf32>
}

func.func @huge_window(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 3, 9223372036854775807>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @huge_scale(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v {scale = 1.0e300 : f64}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @cast_static(%q: tensor<2x2x5x8xf32>, %k: tensor<2x2x6x8xf32>, %v: tensor<2x2x6x8xf32>, %n: tensor<?xi64>)
    -> tensor<2x2x5x8xf32> {
  %c = tensor.cast %n : tensor<?xi64> to tensor<2xi64>
  %o = attn.attention %q, %k, %v kv_lengths(%c : tensor<2xi64>)
      : tensor<2x2x5x8xf32>, tensor<2x2x6x8xf32>, tensor<2x2x6x8xf32> -> tensor<2x2x5x8xf32>
  return %o : tensor<2x2x5x8xf32>
}

func.func @block_sparse(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>, %idx: tensor<?x2x?x?xi32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x2x?x?xi32>) {block_sizes = array<i64: 1, 4>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}
