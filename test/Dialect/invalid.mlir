// Every inconsistent combination ends in a diagnostic naming the operand,
// the expected and the actual shape or value.
// RUN: attn-opt %s --split-input-file --verify-diagnostics

func.func @query_rank(%q: tensor<4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'query' must have rank 4 [B, H, S, D] for layout bhsd, got rank 3 [4, 7, 8]}}
  %o = attn.attention %q, %k, %v : tensor<4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @key_rank(%q: tensor<1x4x7x8xf32>, %k: tensor<1x1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'key' must have rank 4 [B, H, S, D] for layout bhsd, got rank 5}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @value_rank(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'value' must have rank 4}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @output_rank(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<4x7x8xf32>) {
  // expected-error @+1 {{'result 'output'' must have rank 4}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<4x7x8xf32>
  return %o : tensor<4x7x8xf32>
}

// -----

func.func @bshd_rank(%q: tensor<7x4x8xf32>, %k: tensor<9x2x8xf32>, %v: tensor<9x2x8xf32>) -> (tensor<7x4x8xf32>) {
  // expected-error @+1 {{'query' must have rank 4 [B, S, H, D] for layout bshd}}
  %o = attn.attention %q, %k, %v {layout = #attn.layout<bshd>} : tensor<7x4x8xf32>, tensor<9x2x8xf32>, tensor<9x2x8xf32> -> tensor<7x4x8xf32>
  return %o : tensor<7x4x8xf32>
}

// -----

func.func @packed_rank(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'query' must have rank 3 [B, S, H*D] for layout packed, got rank 4}}
  %o = attn.attention %q, %k, %v {layout = #attn.layout<packed>, num_heads = array<i64: 4, 2>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @packed_no_heads(%q: tensor<1x7x32xf32>, %k: tensor<1x9x16xf32>, %v: tensor<1x9x16xf32>) -> (tensor<1x7x32xf32>) {
  // expected-error @+1 {{layout packed needs num_heads = array<i64: Hq, Hkv>}}
  %o = attn.attention %q, %k, %v {layout = #attn.layout<packed>} : tensor<1x7x32xf32>, tensor<1x9x16xf32>, tensor<1x9x16xf32> -> tensor<1x7x32xf32>
  return %o : tensor<1x7x32xf32>
}

// -----

func.func @packed_bad_heads(%q: tensor<1x7x32xf32>, %k: tensor<1x9x16xf32>, %v: tensor<1x9x16xf32>) -> (tensor<1x7x32xf32>) {
  // expected-error @+1 {{num_heads must be two positive sizes [Hq, Hkv], got [4, 0]}}
  %o = attn.attention %q, %k, %v {layout = #attn.layout<packed>, num_heads = array<i64: 4, 0>} : tensor<1x7x32xf32>, tensor<1x9x16xf32>, tensor<1x9x16xf32> -> tensor<1x7x32xf32>
  return %o : tensor<1x7x32xf32>
}

// -----

func.func @packed_indivisible(%q: tensor<1x7x32xf32>, %k: tensor<1x9x15xf32>, %v: tensor<1x9x16xf32>) -> (tensor<1x7x32xf32>) {
  // expected-error @+1 {{'key' last dimension 15 is not a multiple of its 2 heads (num_heads)}}
  %o = attn.attention %q, %k, %v {layout = #attn.layout<packed>, num_heads = array<i64: 4, 2>} : tensor<1x7x32xf32>, tensor<1x9x15xf32>, tensor<1x9x16xf32> -> tensor<1x7x32xf32>
  return %o : tensor<1x7x32xf32>
}

// -----

func.func @heads_without_packed(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{num_heads is only meaningful with layout packed, got layout bhsd}}
  %o = attn.attention %q, %k, %v {num_heads = array<i64: 4, 2>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @element_types(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf16>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'query', 'key' and 'value' must share one element type, got 'f32', 'f16', 'f32'}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf16>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @output_type(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf16>) {
  // expected-error @+1 {{result 'output' must have the element type of 'value' ('f32'), got 'f16'}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf16>
  return %o : tensor<1x4x7x8xf16>
}

// -----

func.func @key_batch(%q: tensor<1x4x7x8xf32>, %k: tensor<2x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'key' batch size 2 differs from the batch size 1 of 'query'}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<2x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @value_batch(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<3x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'value' batch size 3 differs from the batch size 1 of 'query'}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<3x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @gqa_ratio(%q: tensor<1x4x7x8xf32>, %k: tensor<1x3x9x8xf32>, %v: tensor<1x3x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{query heads (4) must be a multiple of key/value heads (3) for grouped-query attention}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x3x9x8xf32>, tensor<1x3x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @value_heads(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x1x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'value' has 1 heads but 'key' has 2}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x1x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @value_length(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x10x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'value' sequence length 10 differs from the sequence length 9 of 'key'}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x10x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @head_dim(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'key' head dim 16 differs from the head dim 8 of 'query'}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @zero_head_dim(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x0xf32>) -> (tensor<1x4x7x0xf32>) {
  // expected-error @+1 {{head dims must be positive, got Dqk = 8, Dv = 0}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x0xf32> -> tensor<1x4x7x0xf32>
  return %o : tensor<1x4x7x0xf32>
}

// -----

func.func @zero_heads(%q: tensor<1x4x7x8xf32>, %k: tensor<1x0x9x8xf32>, %v: tensor<1x0x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{head counts must be positive, got 4 query heads and 0 key heads}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x0x9x8xf32>, tensor<1x0x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @output_shape(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x16xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{result 'output': expected shape [1, 4, 7, 16] (the query's layout with value head dim Dv), got [1, 4, 7, 8]}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @output_bshd(%q: tensor<1x7x4x8xf32>, %k: tensor<1x9x2x8xf32>, %v: tensor<1x9x2x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{result 'output': expected shape [1, 7, 4, 8] (the query's layout with value head dim Dv), got [1, 4, 7, 8]}}
  %o = attn.attention %q, %k, %v {layout = #attn.layout<bshd>} : tensor<1x7x4x8xf32>, tensor<1x9x2x8xf32>, tensor<1x9x2x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @lse_shape(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>, tensor<1x4x8xf32>) {
  // expected-error @+1 {{result 'lse': expected shape [1, 4, 7] ([B, Hq, Sq]), got [1, 4, 8]}}
  %o, %l = attn.attention %q, %k, %v : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>, tensor<1x4x8xf32>
  return %o, %l : tensor<1x4x7x8xf32>, tensor<1x4x8xf32>
}

// -----

func.func @mask_rank(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %m: tensor<i1>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'mask' must have rank 1 to 4 (broadcast to [B, Hq, Sq, Skv]), got rank 0 []}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<i1>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @mask_rank5(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %m: tensor<1x1x1x7x9xi1>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'mask' must have rank 1 to 4}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x1x7x9xi1>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @mask_query_dim(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %m: tensor<5x9xi1>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'mask' [5, 9] does not broadcast to [1, 4, 7, 9]: its query length dimension is 5, expected 1 or 7}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<5x9xi1>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @mask_heads_dim(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %m: tensor<2x7x9xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'mask' [2, 7, 9] does not broadcast to [1, 4, 7, 9]: its query heads dimension is 2, expected 1 or 4}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<2x7x9xf32>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @mask_batch_dim(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %m: tensor<3x1x7x9xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'mask' [3, 1, 7, 9] does not broadcast to [1, 4, 7, 9]: its batch dimension is 3, expected 1 or 1}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<3x1x7x9xf32>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @mask_too_long(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %m: tensor<7x10xi1>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'mask' covers 10 keys but 'key' has only 9}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<7x10xi1>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @lengths_rank(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %l: tensor<1x1xi64>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'kv_lengths' must have shape [B] = [1], got [1, 1]}}
  %o = attn.attention %q, %k, %v kv_lengths(%l : tensor<1x1xi64>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @lengths_size(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %l: tensor<2xi32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'kv_lengths' must have shape [B] = [1], got [2]}}
  %o = attn.attention %q, %k, %v kv_lengths(%l : tensor<2xi32>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @scale_nan(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{scale must be finite, got nan}}
  %o = attn.attention %q, %k, %v {scale = 0x7FF8000000000000 : f64} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @softcap_negative(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{softcap must be 0 (off) or positive and finite, got -5}}
  %o = attn.attention %q, %k, %v {softcap = -5.0 : f64} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @softcap_inf(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{softcap must be 0 (off) or positive and finite, got inf}}
  %o = attn.attention %q, %k, %v {softcap = 0x7FF0000000000000 : f64} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @window_size(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{window must be [left, right], got 3 values}}
  %o = attn.attention %q, %k, %v {window = array<i64: 1, 2, 3>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @window_negative(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{window sides must be >= 0 or -1 (unbounded), got (-2, 0)}}
  %o = attn.attention %q, %k, %v {window = array<i64: -2, 0>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @branches_size(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{branches must be [P, N], got 1 values}}
  %o = attn.attention %q, %k, %v {branches = array<i64: 4>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @branches_zero(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{branches need a prefix P >= 0 and N >= 1 branches, got (4, 0)}}
  %o = attn.attention %q, %k, %v {branches = array<i64: 4, 0>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @dynamic_output_mismatch(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>) -> (tensor<?x4x?x16xf32>) {
  // expected-error @+1 {{result 'output': expected shape [?, 4, ?, 8] (the query's layout with value head dim Dv), got [?, 4, ?, 16]}}
  %o = attn.attention %q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

func.func @bool_type_error(%q: tensor<1x4x7x8xi32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %o = attn.attention %q, %k, %v : tensor<1x4x7x8xi32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

// expected-error @+1 {{tile_plan: q_block and kv_block must be positive, got q_block = 0, kv_block = 64}}
func.func @tile_plan_zero() attributes {p = #attn.tile_plan<target = cpu, q_block = 0, kv_block = 64, warps = 1, stages = 1>} {
  return
}

// -----

// expected-error @+1 {{tile_plan: warps and stages must be positive, got warps = 0, stages = 1}}
func.func @tile_plan_warps() attributes {p = #attn.tile_plan<target = sm_80, q_block = 64, kv_block = 64, warps = 0, stages = 1>} {
  return
}

// -----

func.func @merge_empty() -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) {
  // expected-error @+1 {{needs at least one partial result}}
  %o, %l = "attn.merge"() <{operandSegmentSizes = array<i32: 0, 0>}> : () -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>)
  return %o, %l : tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
}

// -----

func.func @merge_count(%o0: tensor<1x2x3x4xf32>, %o1: tensor<1x2x3x4xf32>, %l0: tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) {
  // expected-error @+1 {{has 2 partial results but 1 partial log-sum-exps}}
  %o, %l = attn.merge %o0, %o1 lse %l0 : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>), (tensor<1x2x3xf32>) -> tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return %o, %l : tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
}

// -----

func.func @merge_partial_shape(%o0: tensor<1x2x3x4xf32>, %o1: tensor<1x2x5x4xf32>, %l0: tensor<1x2x3xf32>, %l1: tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) {
  // expected-error @+1 {{partial #1: expected shape [1, 2, 3, 4] (that of the output), got [1, 2, 5, 4]}}
  %o, %l = attn.merge %o0, %o1 lse %l0, %l1 : (tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>), (tensor<1x2x3xf32>, tensor<1x2x3xf32>) -> tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return %o, %l : tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
}

// -----

func.func @merge_lse_shape(%o0: tensor<1x2x3x4xf32>, %l0: tensor<1x2x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) {
  // expected-error @+1 {{partial lse #0: expected shape [1, 2, 3] ([B, H, S] of the output), got [1, 2, 4]}}
  %o, %l = attn.merge %o0 lse %l0 : (tensor<1x2x3x4xf32>), (tensor<1x2x4xf32>) -> tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return %o, %l : tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
}

// -----

func.func @merge_output_rank(%o0: tensor<2x3x4xf32>, %l0: tensor<2x3xf32>) -> (tensor<2x3x4xf32>, tensor<2x3xf32>) {
  // expected-error @+1 {{result 'output' must be [B, H, S, D], got [2, 3, 4]}}
  %o, %l = attn.merge %o0 lse %l0 : (tensor<2x3x4xf32>), (tensor<2x3xf32>) -> tensor<2x3x4xf32>, tensor<2x3xf32>
  return %o, %l : tensor<2x3x4xf32>, tensor<2x3xf32>
}

// -----

func.func @merge_result_lse(%o0: tensor<1x2x3x4xf32>, %l0: tensor<1x2x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2xf32>) {
  // expected-error @+1 {{result 'lse': expected shape [1, 2, 3] ([B, H, S] of the output), got [1, 2]}}
  %o, %l = attn.merge %o0 lse %l0 : (tensor<1x2x3x4xf32>), (tensor<1x2x3xf32>) -> tensor<1x2x3x4xf32>, tensor<1x2xf32>
  return %o, %l : tensor<1x2x3x4xf32>, tensor<1x2xf32>
}

// -----

func.func @two_placements(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %off: tensor<1xi64>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{takes one of 'alignment', 'query_offset' and 'query_offsets' (they all place the queries)}}
  %o = attn.attention %q, %k, %v query_offsets(%off : tensor<1xi64>) {causal, query_offset = 3} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @offsets_batch(%q: tensor<2x4x7x8xf32>, %k: tensor<2x2x9x8xf32>, %v: tensor<2x2x9x8xf32>, %off: tensor<3xi64>) -> tensor<2x4x7x8xf32> {
  // expected-error @+1 {{'query_offsets' must have shape [B] = [2], got [3]}}
  %o = attn.attention %q, %k, %v query_offsets(%off : tensor<3xi64>) {causal} : tensor<2x4x7x8xf32>, tensor<2x2x9x8xf32>, tensor<2x2x9x8xf32> -> tensor<2x4x7x8xf32>
  return %o : tensor<2x4x7x8xf32>
}

// -----

func.func @offset_overflow(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{query_offset 9223372036854775807 is beyond +-2^62}}
  %o = attn.attention %q, %k, %v {causal, query_offset = 9223372036854775807} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @blocks_without_sizes(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{'blocks' needs block_sizes = array<i64: q_block, kv_block>}}
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x7x2xi32>) : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @sizes_without_blocks(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{block_sizes needs a 'blocks' operand}}
  %o = attn.attention %q, %k, %v {block_sizes = array<i64: 1, 4>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @blocks_query_blocks(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x3x2xi32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{'blocks' [1, 2, 3, 2] must be [1, Hsel, 4 (ceil(Sq / q_block)), K]}}
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x3x2xi32>) {block_sizes = array<i64: 2, 4>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @blocks_heads(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x3x7x2xi32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{'blocks' has 3 heads; expected Hkv = 2, Hq = 4 or 1 (lists per key head, query head or shared)}}
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<1x3x7x2xi32>) {block_sizes = array<i64: 1, 4>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @block_sizes_positive(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{block sizes [q_block, kv_block] must be positive, got (1, 0)}}
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x7x2xi32>) {block_sizes = array<i64: 1, 0>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @compress_stride(%k: tensor<1x2x9x8xf32>) -> tensor<1x2x1x8xf32> {
  // expected-error @+1 {{compression needs a block l >= 1 and a stride d >= 1 that divides it, got l = 8, d = 3}}
  %c = attn.compress %k {block = 8, stride = 3, pool = #attn.pool<mean>} : tensor<1x2x9x8xf32> -> tensor<1x2x1x8xf32>
  return %c : tensor<1x2x1x8xf32>
}

// -----

func.func @compress_lengths(%k: tensor<1x2x9x8xf32>, %n: tensor<2xi32>) -> tensor<1x2x1x8xf32> {
  // expected-error @+1 {{'kv_lengths' must have shape [B] = [1], got [2]}}
  %c = attn.compress %k kv_lengths(%n : tensor<2xi32>) {block = 8, stride = 4, pool = #attn.pool<mean>} : tensor<1x2x9x8xf32> -> tensor<1x2x1x8xf32>
  return %c : tensor<1x2x1x8xf32>
}

// -----

func.func @compress_tokens(%k: tensor<1x2x9x8xf32>) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{result 'output': expected shape [1, 2, 1, 8] ([B, H, (S - l) / d + 1 or 0, D]), got [1, 2, 3, 8]}}
  %c = attn.compress %k {block = 8, stride = 4, pool = #attn.pool<mean>} : tensor<1x2x9x8xf32> -> tensor<1x2x3x8xf32>
  return %c : tensor<1x2x3x8xf32>
}

// -----

func.func @select_forced(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>) -> tensor<1x2x7x2xi32> {
  // expected-error @+1 {{top_k 2 must be at least init + local = 3 (forced blocks count toward it)}}
  %i = attn.select_blocks %q, %k {method = #attn.score<mean_key>, block = 4, top_k = 2, init = 1, local = 2} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x2x7x2xi32>
  return %i : tensor<1x2x7x2xi32>
}

// -----

func.func @select_needs_compress(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>) -> tensor<1x2x7x3xi32> {
  // expected-error @+1 {{softmax_prob and softmax_prob_max score through compressed keys: they, and only they, need compress = array<i64: l, d>}}
  %i = attn.select_blocks %q, %k {method = #attn.score<softmax_prob>, block = 4, top_k = 3, init = 1, local = 2} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x2x7x3xi32>
  return %i : tensor<1x2x7x3xi32>
}

// -----

func.func @select_values_method(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x40x8xf32>, %vc: tensor<1x2x4x8xf32>) -> (tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'values' needs softmax_prob or softmax_prob_max (the output is the attention over the compressed tokens)}}
  %i, %o = attn.select_blocks %q, %k values(%vc : tensor<1x2x4x8xf32>) {method = #attn.score<mean_key>, block = 8, top_k = 3, init = 1, local = 2} : tensor<1x4x7x8xf32>, tensor<1x2x40x8xf32> -> tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>
  return %i, %o : tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>
}

// -----

func.func @select_values_tokens(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x40x8xf32>, %vc: tensor<1x2x5x8xf32>) -> (tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'values': expected shape [1, 2, 4, 8] ([B, Hkv, Sc, Dv], Sc the compressed key count), got [1, 2, 5, 8]}}
  %i, %o = attn.select_blocks %q, %k values(%vc : tensor<1x2x5x8xf32>) {method = #attn.score<softmax_prob>, block = 8, top_k = 3, init = 1, local = 2, compress = array<i64: 16, 8>} : tensor<1x4x7x8xf32>, tensor<1x2x40x8xf32> -> tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>
  return %i, %o : tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>
}

// -----

func.func @select_values_output(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x40x8xf32>, %vc: tensor<1x2x4x16xf32>) -> (tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{result 'output': expected shape [1, 4, 7, 16] ([B, Hq, Sq, Dv]), got [1, 4, 7, 8]}}
  %i, %o = attn.select_blocks %q, %k values(%vc : tensor<1x2x4x16xf32>) {method = #attn.score<softmax_prob>, block = 8, top_k = 3, init = 1, local = 2, compress = array<i64: 16, 8>} : tensor<1x4x7x8xf32>, tensor<1x2x40x8xf32> -> tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>
  return %i, %o : tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>
}

// -----

func.func @select_output_without_values(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x40x8xf32>) -> (tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{'values' and result 'output' go together}}
  %i, %o = attn.select_blocks %q, %k {method = #attn.score<softmax_prob>, block = 8, top_k = 3, init = 1, local = 2, compress = array<i64: 16, 8>} : tensor<1x4x7x8xf32>, tensor<1x2x40x8xf32> -> tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>
  return %i, %o : tensor<1x2x7x3xi32>, tensor<1x4x7x8xf32>
}

// -----

func.func @select_pool_method(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x40x8xf32>) -> tensor<1x2x7x3xi32> {
  // expected-error @+1 {{'pool' pools the compressed keys of softmax_prob and softmax_prob_max only}}
  %i = attn.select_blocks %q, %k {method = #attn.score<key_bound>, block = 8, top_k = 3, init = 1, local = 2, pool = #attn.pool<max>} : tensor<1x4x7x8xf32>, tensor<1x2x40x8xf32> -> tensor<1x2x7x3xi32>
  return %i : tensor<1x2x7x3xi32>
}

// -----

func.func @select_heads(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>) -> tensor<1x2x7x3xi32> {
  // expected-error @+1 {{result 'indices': expected shape [1, 4, 7, 3] ([B, Hq, Sq, top_k]), got [1, 2, 7, 3]}}
  %i = attn.select_blocks %q, %k {method = #attn.score<mean_key>, block = 4, top_k = 3, init = 1, local = 2, per_query_head} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x2x7x3xi32>
  return %i : tensor<1x2x7x3xi32>
}

// -----

func.func @nsa_gates(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %g: tensor<1x4x7x2xf32>) -> (tensor<1x4x7x8xf32>, tensor<1x2x7x16xi32>) {
  // expected-error @+1 {{'gates': expected shape [1, 4, 7, 3] ([B, Hq, Sq, 3]: compressed, selected, window), got [1, 4, 7, 2]}}
  %o, %i = attn.nsa %q, %k, %v, %g : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32>, tensor<1x4x7x2xf32> -> tensor<1x4x7x8xf32>, tensor<1x2x7x16xi32>
  return %o, %i : tensor<1x4x7x8xf32>, tensor<1x2x7x16xi32>
}

// -----

func.func @compressed_bottom_right(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{compressed_keys place queries at original positions}}
  %o = attn.attention %q, %k, %v {causal, compressed_keys = array<i64: 8, 4>, alignment = #attn.alignment<bottom_right>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @moba_indices(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> (tensor<1x4x7x8xf32>, tensor<1x2x7x3xi32>) {
  // expected-error @+1 {{result 'indices': expected shape [1, 4, 7, 3] ([B, Hq, Sq, top_k]), got [1, 2, 7, 3]}}
  %o, %i = attn.moba %q, %k, %v {block = 4, top_k = 3} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>, tensor<1x2x7x3xi32>
  return %o, %i : tensor<1x4x7x8xf32>, tensor<1x2x7x3xi32>
}

// -----

func.func @switch_yield(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{the sparse region yields 0 values whose types differ from the results}}
  %o = attn.switch %k dense_len(4) : tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32> {
    %d = attn.attention %q, %k, %v {causal} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
    attn.yield %d : tensor<1x4x7x8xf32>
  } else {
    attn.yield
  }
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @select_lengths(%q: tensor<2x4x7x8xf32>, %k: tensor<2x2x9x8xf32>, %n: tensor<3xi32>) -> tensor<2x2x7x3xi32> {
  // expected-error @+1 {{'kv_lengths' must have shape [B] = [2], got [3]}}
  %i = attn.select_blocks %q, %k kv_lengths(%n : tensor<3xi32>) {method = #attn.score<mean_key>, block = 4, top_k = 3, init = 1, local = 2} : tensor<2x4x7x8xf32>, tensor<2x2x9x8xf32> -> tensor<2x2x7x3xi32>
  return %i : tensor<2x2x7x3xi32>
}

// -----

func.func @nsa_lengths(%q: tensor<2x4x7x8xf32>, %k: tensor<2x2x9x8xf32>, %v: tensor<2x2x9x8xf32>, %g: tensor<2x4x7x3xf32>, %n: tensor<2x1xi64>) -> tensor<2x4x7x8xf32> {
  // expected-error @+1 {{'kv_lengths' must have shape [B] = [2], got [2, 1]}}
  %o, %i = attn.nsa %q, %k, %v, %g kv_lengths(%n : tensor<2x1xi64>) : tensor<2x4x7x8xf32>, tensor<2x2x9x8xf32>, tensor<2x2x9x8xf32>, tensor<2x4x7x3xf32> -> tensor<2x4x7x8xf32>, tensor<2x2x7x16xi32>
  return %o : tensor<2x4x7x8xf32>
}

// -----

func.func @switch_per_element_result(%k: tensor<2x2x9x8xf32>, %n: tensor<2xi32>, %x: f32) -> f32 {
  // expected-error @+1 {{with 'kv_lengths' the side is chosen per batch element, so result #0 must be a tensor [B, ...] with B = 2, got 'f32'}}
  %o = attn.switch %k kv_lengths(%n : tensor<2xi32>) dense_len(4) : tensor<2x2x9x8xf32> -> f32 {
    attn.yield %x : f32
  } else {
    attn.yield %x : f32
  }
  return %o : f32
}

// -----

func.func @window_branch_needs_blocks(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> (tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{a window branch is the block-sparse attention's second output: it needs block sizes and no window, branches or compressed keys of its own}}
  %o, %w = attn.attention %q, %k, %v {causal, window_branch = array<i64: 3, 0>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32> window tensor<1x4x7x8xf32>
  return %o, %w : tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>
}

// -----

func.func @window_branch_and_window(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> (tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{a window branch is the block-sparse attention's second output: it needs block sizes and no window, branches or compressed keys of its own}}
  %o, %w = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x7x2xi32>) {block_sizes = array<i64: 1, 4>, window = array<i64: 2, 0>, window_branch = array<i64: 3, 0>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32> window tensor<1x4x7x8xf32>
  return %o, %w : tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>
}

// -----

func.func @window_branch_sides(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> (tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{window branch sides must be >= 0 or -1 (unbounded), got (-2, 0)}}
  %o, %w = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x7x2xi32>) {block_sizes = array<i64: 1, 4>, window_branch = array<i64: -2, 0>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32> window tensor<1x4x7x8xf32>
  return %o, %w : tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>
}

// -----

func.func @window_branch_size(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> (tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{window_branch must be [left, right], got 1 values}}
  %o, %w = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x7x2xi32>) {block_sizes = array<i64: 1, 4>, window_branch = array<i64: 3>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32> window tensor<1x4x7x8xf32>
  return %o, %w : tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>
}

// -----

func.func @window_branch_without_result(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> tensor<1x4x7x8xf32> {
  // expected-error @+1 {{window_branch needs a 'window' result}}
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x7x2xi32>) {block_sizes = array<i64: 1, 4>, window_branch = array<i64: 3, 0>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

func.func @window_result_without_branch(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> (tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>) {
  // expected-error @+1 {{a 'window' result needs window_branch = array<i64: left, right>}}
  %o, %w = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x7x2xi32>) {block_sizes = array<i64: 1, 4>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32> window tensor<1x4x7x8xf32>
  return %o, %w : tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>
}

// -----

func.func @window_result_type(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %idx: tensor<1x2x7x2xi32>) -> (tensor<1x4x7x8xf32>, tensor<1x4x7x8xf16>) {
  // expected-error @+1 {{result 'window' has type 'tensor<1x4x7x8xf16>', expected that of 'output', 'tensor<1x4x7x8xf32>'}}
  %o, %w = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x7x2xi32>) {block_sizes = array<i64: 1, 4>, window_branch = array<i64: 3, 0>} : tensor<1x4x7x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x4x7x8xf32> window tensor<1x4x7x8xf16>
  return %o, %w : tensor<1x4x7x8xf32>, tensor<1x4x7x8xf16>
}

// -----

func.func @compressed_for_mean_key(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x40x8xf32>, %kc: tensor<1x2x19x8xf32>) -> tensor<1x4x7x2xi32> {
  // expected-error @+1 {{'compressed' needs softmax_prob or softmax_prob_max (the other methods score from block summaries)}}
  %idx = attn.select_blocks %q, %k compressed(%kc : tensor<1x2x19x8xf32>) {method = #attn.score<mean_key>, block = 8, top_k = 2, init = 0, local = 1, per_query_head} : tensor<1x4x7x8xf32>, tensor<1x2x40x8xf32> -> tensor<1x4x7x2xi32>
  return %idx : tensor<1x4x7x2xi32>
}

// -----

func.func @compressed_tokens(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x40x8xf32>, %kc: tensor<1x2x20x8xf32>) -> tensor<1x2x7x2xi32> {
  // expected-error @+1 {{'compressed': expected shape [1, 2, 19, 8] ([B, Hkv, Sc, D], Sc the compressed key count), got [1, 2, 20, 8]}}
  %idx = attn.select_blocks %q, %k compressed(%kc : tensor<1x2x20x8xf32>) {method = #attn.score<softmax_prob>, block = 8, top_k = 2, init = 0, local = 1, compress = array<i64: 4, 2>} : tensor<1x4x7x8xf32>, tensor<1x2x40x8xf32> -> tensor<1x2x7x2xi32>
  return %idx : tensor<1x2x7x2xi32>
}

// -----

func.func @nsa_compressed_values(%q: tensor<1x4x7x8xf32>, %k: tensor<1x2x40x8xf32>, %v: tensor<1x2x40x16xf32>, %g: tensor<1x4x7x3xf32>, %kc: tensor<1x2x19x8xf32>, %vc: tensor<1x2x19x8xf32>) -> (tensor<1x4x7x16xf32>, tensor<1x2x7x3xi32>) {
  // expected-error @+1 {{compressed values: expected shape [1, 2, 19, 16] ([B, Hkv, Sc, Dv]), got [1, 2, 19, 8]}}
  %o, %idx = attn.nsa %q, %k, %v, %g compressed(%kc, %vc : tensor<1x2x19x8xf32>, tensor<1x2x19x8xf32>) {compress_block = 4, compress_stride = 2, select_block = 8, top_k = 3, init_blocks = 1, local_blocks = 1, window = 5} : tensor<1x4x7x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x16xf32>, tensor<1x4x7x3xf32> -> tensor<1x4x7x16xf32>, tensor<1x2x7x3xi32>
  return %o, %idx : tensor<1x4x7x16xf32>, tensor<1x2x7x3xi32>
}
