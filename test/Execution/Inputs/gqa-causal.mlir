// Shapes of the ONNX case test_attention_4d_gqa_causal, dynamic in batch and
// sequence lengths.
func.func @gqa_causal(%q: tensor<?x9x?x8xf32>, %k: tensor<?x3x?x8xf32>, %v: tensor<?x3x?x8xf32>)
    -> (tensor<?x9x?x8xf32>, tensor<?x9x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal}
      : tensor<?x9x?x8xf32>, tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32> -> tensor<?x9x?x8xf32>, tensor<?x9x?xf32>
  return %o, %lse : tensor<?x9x?x8xf32>, tensor<?x9x?xf32>
}

// Anything goes until the inputs arrive.
func.func @generic(%q: tensor<?x?x?x8xf32>, %k: tensor<?x?x?x8xf32>, %v: tensor<?x?x?x8xf32>,
                   %len: tensor<?xi64>) -> tensor<?x?x?x8xf32> {
  %o = attn.attention %q, %k, %v kv_lengths(%len : tensor<?xi64>) {causal, alignment = #attn.alignment<bottom_right>}
      : tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32> -> tensor<?x?x?x8xf32>
  return %o : tensor<?x?x?x8xf32>
}
