// attn-sparsify rewrites dense causal attention by policy; what it cannot
// rewrite stays dense with a remark.
// RUN: attn-opt %s --attn-sparsify="policy=infllm-v2 block=64 top-k=16 init=1 window=256 dense-len=4096" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=INFLLM
// RUN: attn-opt %s --attn-sparsify="policy=moba block=128 top-k=4" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=MOBA
// RUN: attn-opt %s --attn-sparsify="policy=quest block=16 top-k=8" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=QUEST
// RUN: not attn-opt %s --attn-sparsify="policy=dense" 2>&1 | FileCheck %s --check-prefix=POLICY
// POLICY: attn-sparsify: unknown policy 'dense' (use moba, quest or infllm-v2)

// INFLLM-LABEL: func @llama_layer
// INFLLM: attn.switch %arg1 dense_len(4096) : tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16> {
// INFLLM: attn.attention %arg0, %arg1, %arg2 {alignment = #attn.alignment<bottom_right>, causal}
// INFLLM: } else {
// INFLLM: %[[IDX:.*]] = attn.select_blocks %arg0, %arg1 {block = 64 : i64, compress = array<i64: 32, 16>, init = 1 : i64, local = 4 : i64, method = #attn.score<softmax_prob_max>, scale = 0.088388{{[0-9]*}} : f64, top_k = 16 : i64} : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x8x?x16xi32>
// INFLLM: attn.attention %arg0, %arg1, %arg2 blocks(%[[IDX]] : tensor<?x8x?x16xi32>) {alignment = #attn.alignment<bottom_right>, block_sizes = array<i64: 1, 64>, causal, scale = 0.088388{{[0-9]*}} : f64}
// MOBA-LABEL: func @llama_layer
// MOBA-NOT: attn.switch
// MOBA: %[[IDX:.*]] = attn.select_blocks %arg0, %arg1 {block = 128 : i64, init = 0 : i64, local = 1 : i64, method = #attn.score<mean_key>, per_query_head, scale = {{.*}}, top_k = 4 : i64} : {{.*}} -> tensor<?x32x?x4xi32>
// MOBA: attn.attention %arg0, %arg1, %arg2 blocks(%[[IDX]] : tensor<?x32x?x4xi32>) {{.*}}block_sizes = array<i64: 1, 128>
// QUEST-LABEL: func @llama_layer
// QUEST: attn.select_blocks %arg0, %arg1 {block = 16 : i64, init = 0 : i64, local = 1 : i64, method = #attn.score<key_bound>, per_query_head
func.func @llama_layer(%q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>, %v: tensor<?x8x?x128xbf16>) -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v {causal, alignment = #attn.alignment<bottom_right>} : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}

// -----

func.func @not_causal(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  // expected-remark @+1 {{attn-sparsify: left dense: it is not causal attention aligned bottom-right}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// -----

func.func @masked(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  // expected-remark @+1 {{attn-sparsify: left dense: it has masks or operands a selection would have to honour}}
  %o = attn.attention %q, %k, %v {causal, window = array<i64: 16, 0>, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// -----

// Per-batch valid lengths carry over: to the selection and, for InfLLM-V2,
// to a switch that then picks its side per batch element.
// INFLLM-LABEL: func @ragged
// INFLLM: attn.switch %arg1 kv_lengths(%arg3 : tensor<?xi32>) dense_len(4096)
// INFLLM: attn.attention %arg0, %arg1, %arg2 kv_lengths(%arg3 : tensor<?xi32>) {alignment
// INFLLM: } else {
// INFLLM: %[[IDX:.*]] = attn.select_blocks %arg0, %arg1 kv_lengths(%arg3 : tensor<?xi32>)
// INFLLM: attn.attention %arg0, %arg1, %arg2 kv_lengths(%arg3 : tensor<?xi32>) blocks(%[[IDX]]
// MOBA-LABEL: func @ragged
// MOBA: %[[IDX:.*]] = attn.select_blocks %arg0, %arg1 kv_lengths(%arg3 : tensor<?xi32>)
// MOBA: attn.attention %arg0, %arg1, %arg2 kv_lengths(%arg3 : tensor<?xi32>) blocks(%[[IDX]]
func.func @ragged(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x64xf32>, %len: tensor<?xi32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention %q, %k, %v kv_lengths(%len : tensor<?xi32>) {causal, alignment = #attn.alignment<bottom_right>} : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}
