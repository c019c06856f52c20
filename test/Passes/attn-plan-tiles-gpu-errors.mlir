// GPU tile planning names what a GPU kernel cannot take.
// RUN: attn-opt %s --attn-plan-tiles=target=sm_90 --split-input-file --verify-diagnostics

func.func @f32_on_gpu(%q: tensor<1x2x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>) -> tensor<1x2x?x64xf32> {
  // expected-error @+1 {{cannot be planned for sm_90: GPU kernels take f16 or bf16, got f32}}
  %o = attn.attention %q, %k, %v : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32> -> tensor<1x2x?x64xf32>
  return %o : tensor<1x2x?x64xf32>
}

// -----

func.func @odd_head_dim(%q: tensor<1x2x?x72xf16>, %k: tensor<1x2x?x72xf16>, %v: tensor<1x2x?x72xf16>) -> tensor<1x2x?x72xf16> {
  // expected-error @+1 {{cannot be planned for sm_90: GPU kernels need head dims that are multiples of 16 up to 256, got Dqk = 72, Dv = 72}}
  %o = attn.attention %q, %k, %v : tensor<1x2x?x72xf16>, tensor<1x2x?x72xf16>, tensor<1x2x?x72xf16> -> tensor<1x2x?x72xf16>
  return %o : tensor<1x2x?x72xf16>
}

// -----

func.func @window_branch_on_gpu(%q: tensor<1x8x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x64xf16>, %idx: tensor<1x2x?x16xi32>) -> (tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>) {
  // expected-error @+1 {{cannot be planned for sm_90: GPU kernels have no fused window branch (a block-sparse attention with window_branch); compile the two attentions unfused (attn-compile does not run attn-fuse-branches)}}
  %o, %w = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x?x16xi32>) {block_sizes = array<i64: 1, 64>, causal, window_branch = array<i64: 511, -1>} : tensor<1x8x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16> -> tensor<1x8x?x64xf16> window tensor<1x8x?x64xf16>
  return %o, %w : tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>
}
